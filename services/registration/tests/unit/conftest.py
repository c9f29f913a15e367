"""Registration's handler tests run over the in-memory fakes of its ports (`rcm_registration.testing`)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from rcm_registration.testing import FakeDatabase, FakeUnitOfWork


@pytest.fixture
def database() -> FakeDatabase:
    return FakeDatabase()


@pytest.fixture
def new_uow(database: FakeDatabase) -> Callable[[], FakeUnitOfWork]:
    """A fresh unit of work over the test's database; one per handler call, as the API does."""
    return lambda: FakeUnitOfWork(database)
