"""The unit of work: one database transaction that carries a change, its outgoing events, its audit
records and, for an idempotent create, the response to replay; it rolls back unless committed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol, Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rcm_common.audit import AuditContext, append_audit
from rcm_common.crypto import BlindIndex, FieldCipher
from rcm_common.envelope import Envelope, new_envelope
from rcm_common.events.base import IntegrationEvent
from rcm_common.http import IdempotentRequest, remember_response
from rcm_common.outbox import outbox_row


class UnitOfWork(Protocol):
    """The port every service's handlers depend on: one transaction, its events, audit records and
    idempotent response. A service's own protocol adds its repositories; SQL adapters and in-memory fakes
    implement it."""

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def publish(self, event: IntegrationEvent) -> Envelope: ...

    def record_access(
        self, action: str, resource_type: str, resource_id: object | None, patient_id: object | None
    ) -> None: ...

    def respond(self, status_code: int, resource_id: object) -> None: ...

    async def commit(self) -> None: ...


@dataclass(frozen=True, slots=True)
class _AccessRecord:
    action: str
    resource_type: str
    resource_id: str | None
    patient_id: str | None


class SqlUnitOfWork:
    """Base for a service's unit of work; subclasses attach their repositories in `_start`."""

    session: AsyncSession

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        *,
        producer: str,
        topic: str | None,
        audit: AuditContext | None = None,
        idempotency: IdempotentRequest | None = None,
        on_commit: Callable[[], None] | None = None,
        cipher: FieldCipher | None = None,
        blind_index: BlindIndex | None = None,
    ) -> None:
        self._session_factory = session_factory
        self._producer = producer
        self._topic = topic
        self._audit = audit
        self._idempotency = idempotency
        self._on_commit = on_commit
        self._cipher = cipher
        self._blind_index = blind_index

    @property
    def cipher(self) -> FieldCipher:
        """The service's field cipher, for repositories that keep PHI encrypted at rest."""
        if self._cipher is None:
            raise RuntimeError("this unit of work was built without the service's field keys")
        return self._cipher

    @property
    def blind_index(self) -> BlindIndex:
        """The service's HMAC index, for repositories that look PHI up without decrypting it."""
        if self._blind_index is None:
            raise RuntimeError("this unit of work was built without the service's field keys")
        return self._blind_index

    async def __aenter__(self) -> Self:
        self.session = self._session_factory()
        self._events: list[tuple[IntegrationEvent, Envelope]] = []
        self._accesses: list[_AccessRecord] = []
        self._response: tuple[int, str] | None = None
        self._committed = False
        self._start()
        return self

    def _start(self) -> None:
        """Hook for subclasses: build repositories over `self.session`."""

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if not self._committed:
                await self.session.rollback()
        finally:
            await self.session.close()

    def publish(self, event: IntegrationEvent) -> Envelope:
        """Queue an integration event; it is written to the outbox when (and only if) the work commits."""
        if self._topic is None:
            raise RuntimeError(f"{self._producer} publishes no events, yet a handler published {event.event_type}")
        envelope = new_envelope(event, self._producer)
        self._events.append((event, envelope))
        return envelope

    def record_access(
        self, action: str, resource_type: str, resource_id: object | None, patient_id: object | None
    ) -> None:
        """Queue an audit record of a PHI read or change; written in this transaction at commit."""
        self._accesses.append(
            _AccessRecord(
                action,
                resource_type,
                None if resource_id is None else str(resource_id),
                None if patient_id is None else str(patient_id),
            )
        )

    def respond(self, status_code: int, resource_id: object) -> None:
        """Remember what an idempotent create made, committed together with it (a replay reads it again)."""
        self._response = (status_code, str(resource_id))

    async def commit(self) -> None:
        if self._accesses:
            if self._audit is None:
                raise RuntimeError("PHI access recorded without an audit context")
            for access in self._accesses:
                await append_audit(
                    self.session,
                    self._audit,
                    action=access.action,
                    resource_type=access.resource_type,
                    resource_id=access.resource_id,
                    patient_id=access.patient_id,
                )
        if self._topic is not None:
            self.session.add_all([outbox_row(self._topic, event, envelope) for event, envelope in self._events])
        if self._idempotency is not None and self._response is not None:
            status_code, resource_id = self._response
            remember_response(
                self.session,
                scope=self._idempotency.scope,
                key=self._idempotency.key,
                fingerprint=self._idempotency.fingerprint,
                status_code=status_code,
                resource_id=resource_id,
            )
        await self.session.commit()
        self._committed = True
        wrote_events = bool(self._events)
        self._events, self._accesses, self._response = [], [], None
        if wrote_events and self._on_commit is not None:
            self._on_commit()
