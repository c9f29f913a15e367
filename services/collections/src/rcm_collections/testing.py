"""Collections running in process for its tests, with a clock a test moves (the upstream events a visit's money
comes from are `rcm_common.sample_events`)."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from rcm_collections.bootstrap import Collections, bootstrap
from rcm_collections.config import CollectionsSettings
from rcm_collections.entrypoints.app import create_app
from rcm_collections.service_layer.handlers import Posting
from rcm_common.audit import consumer_audit
from rcm_common.envelope import new_envelope
from rcm_common.events.base import IntegrationEvent
from rcm_common.sample_events import MovableClock
from rcm_common.testing import InProcessApp, in_process_settings, serving


class CollectionsApi(InProcessApp[Collections]):
    """Collections running in process; a collector's token unless a test names other roles."""

    @property
    def collections(self) -> Collections:
        return self.kernel

    async def feed(self, *events: IntegrationEvent) -> None:
        """Apply upstream events as the consumers do, each in a unit of work of its own."""
        posting = Posting(self.collections.clock)
        for event in events:
            async with self.collections.uow(audit=consumer_audit("collections")()) as uow:
                await posting.apply(event, f"event:{new_envelope(event, 'test').event_id}", uow)
                await uow.commit()

    async def account_of(self, patient_id: uuid.UUID) -> dict[str, Any]:
        rows = await self.rows("SELECT account_id FROM patient_account WHERE patient_id = :p", p=str(patient_id))
        response = await self.client.get(f"/accounts/{rows[0]['account_id']}", headers=self.auth())
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found

    async def published(self, event_type: str) -> list[dict[str, Any]]:
        """The payloads of the outbox's events of this type (`rcm.collections.refund_issued`), in order."""
        rows = await self.rows("SELECT payload FROM outbox WHERE event_type = :t ORDER BY id", t=event_type)
        return [json.loads(row["payload"]) for row in rows]


@contextlib.asynccontextmanager
async def running_collections(
    state_dir: Path,
    signing_keys: tuple[str, str],
    database_url: str = "",
    *,
    clock: MovableClock | None = None,
    **settings: Any,
) -> AsyncIterator[CollectionsApi]:
    """Collections serving in process; its cycle does not run by itself (a test runs it)."""
    private_pem, public_pem = signing_keys
    settings.setdefault("run_cycle", False)
    config = in_process_settings(CollectionsSettings, state_dir, public_pem, database_url, **settings)
    app = create_app(service=bootstrap(config, clock=clock or MovableClock()))
    async with serving(app, "http://collections.test") as client:
        yield CollectionsApi(app, client, private_pem, app.state.collections, default_roles=("collector",))
