"""Fixtures for rcm_common's own tests: a tiny consuming "service" whose effect is one row per event,
so "applied twice" is something a test can count."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import Field, SQLModel, col

from rcm_common.envelope import Envelope
from rcm_common.events.registration import PatientRegistered
from rcm_common.testing import announcing, create_database
from rcm_common.uow import SqlUnitOfWork


class AppliedEffect(SQLModel, table=True):
    __tablename__ = "test_applied_effect"

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(max_length=36)
    patient_id: str = Field(max_length=36)


@dataclass
class Effects:
    """A consumer's datastore in a test: its unit of work, its effect, and a count of what was applied."""

    session_factory: async_sessionmaker[AsyncSession]

    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.session_factory, producer="test-consumer", publication=announcing("rcm.test.events"))

    async def record(self, event: PatientRegistered, envelope: Envelope, uow: SqlUnitOfWork) -> None:
        uow.session.add(AppliedEffect(event_id=str(envelope.event_id), patient_id=str(event.patient_id)))

    async def counts(self) -> dict[str, int]:
        """Applied effects per event id."""
        async with self.session_factory() as session:
            query = select(col(AppliedEffect.event_id), func.count()).group_by(col(AppliedEffect.event_id))
            return {event_id: count for event_id, count in (await session.execute(query)).all()}


@pytest.fixture
async def effects(tmp_path: Path) -> AsyncIterator[Effects]:
    engine, factory = await create_database(
        f"sqlite+aiosqlite:///{tmp_path / 'consumer.db'}",
        [AppliedEffect.__table__],  # type: ignore[attr-defined]
    )
    yield Effects(factory)
    await engine.dispose()
