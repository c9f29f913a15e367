"""Reporting running in process for its tests: events fed as its consumers apply them, at the moments a test
names, and its facts read back table by table (a replay must rebuild them identically)."""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, select

from rcm_common.envelope import Envelope
from rcm_common.events.base import IntegrationEvent
from rcm_common.sample_events import MovableClock
from rcm_common.testing import InProcessApp, in_process_settings, serving
from rcm_common.topics import events_topic
from rcm_reporting.adapters.repository import FACT_TABLES
from rcm_reporting.bootstrap import Reporting, bootstrap
from rcm_reporting.config import ReportingSettings
from rcm_reporting.entrypoints.app import create_app
from rcm_reporting.service_layer.projection import subscriptions

HANDLERS = {model: handler for handlers in subscriptions().values() for model, handler in handlers.items()}


def envelope_at(event: IntegrationEvent, at: datetime, event_id: uuid.UUID | None = None) -> Envelope:
    """The envelope the event's producer would have sent it in, at `at`."""
    return Envelope(
        event_id=event_id or uuid.uuid4(),
        event_type=event.event_type,
        event_version=event.event_version,
        occurred_at=at,
        producer=event.event_type.split(".")[1],
        subject=event.subject,
        correlation_id=uuid.uuid4().hex,
    )


@dataclasses.dataclass(frozen=True)
class Fed:
    """An event as it was published: with its envelope, so the same record can be fed again (a replay)."""

    event: IntegrationEvent
    envelope: Envelope

    @property
    def topic(self) -> str:
        return events_topic(self.envelope.producer)


class ReportingApi(InProcessApp[Reporting]):
    """Reporting running in process; a biller's token (it has `reports:read`) unless a test names other roles."""

    async def feed(self, *published: Fed) -> None:
        """Apply events as the consumers do: each run of one topic's events in one unit of work, as a batch."""
        for _topic, batch in itertools.groupby(published, key=lambda item: item.topic):
            async with self.kernel.uow() as uow:
                for item in batch:
                    await HANDLERS[type(item.event)](item.event, item.envelope, uow)
                await uow.commit()

    async def get(self, path: str, **params: Any) -> Any:
        response = await self.client.get(path, params=params, headers=self.auth())
        assert response.status_code == 200, response.text
        return response.json()

    async def facts(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of reporting's own tables, in key order: what a replay must rebuild."""
        dump: dict[str, list[tuple[Any, ...]]] = {}
        async with self.kernel.session_factory() as session:
            for table in FACT_TABLES:
                columns = list(inspect(table).columns)
                keys = [c for c in columns if c.primary_key]
                rows = await session.execute(select(*columns).order_by(*keys))
                dump[str(table.__tablename__)] = [tuple(row) for row in rows]
        return dump


@contextlib.asynccontextmanager
async def running_reporting(
    state_dir: Path, signing_keys: tuple[str, str], database_url: str = "", *, clock: MovableClock | None = None
) -> AsyncIterator[ReportingApi]:
    private_pem, public_pem = signing_keys
    config = in_process_settings(ReportingSettings, state_dir, public_pem, database_url)
    app = create_app(service=bootstrap(config, clock=clock or MovableClock()))
    async with serving(app, "http://reporting.test") as client:
        yield ReportingApi(app, client, private_pem, app.state.reporting, default_roles=("biller",))


def screenshot(page: Path, picture: Path, *, width: int = 1440, height: int = 2400) -> Path:
    """A headless Chromium screenshot of a saved page (Debian's `chromium`; `make test` installs it where it can)."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        raise FileNotFoundError("chromium is not installed: install Debian's chromium package (make test does)")
    subprocess.run(  # noqa: S603 - a fixed program on a file this test wrote
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", f"--window-size={width},{height}",
         f"--screenshot={picture}", page.as_uri()],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return picture
