"""The unit of work: one database transaction that carries a change, its outgoing events, its audit
records and, for an idempotent create, the response to replay; it rolls back unless committed.

Handlers never publish: the aggregates they change record domain events, and the unit of work collects
them from each aggregate its tracked repositories store, and writes them to the outbox at commit (see
`rcm_common.aggregates`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol, Self, TypeVar

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rcm_common.aggregates import EventCollector, EventMapper, tracked
from rcm_common.audit import AccessRecord, AuditContext, append_audits
from rcm_common.crypto import BlindIndex, FieldCipher
from rcm_common.http import IdempotentRequest, remember_response
from rcm_common.outbox import OutboxMessage, outbox_values
from rcm_common.reference import ReferenceReads, copies_for
from rcm_common.types import Clock, utcnow

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Publication:
    """What a service publishes: the topic its events go to and the mapper from its domain events to them."""

    topic: str
    mapper: EventMapper


class UnitOfWork(Protocol):
    """The port every service's handlers depend on: one transaction, its audit records and idempotent
    response, and the events of the aggregates it saw. A service's own protocol adds its repositories; SQL
    adapters and in-memory fakes implement it."""

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def record_access(
        self, action: str, resource_type: str, resource_id: object | None, patient_id: object | None
    ) -> None: ...

    def respond(self, status_code: int, resource_id: object) -> None: ...

    async def commit(self) -> None: ...


class SqlUnitOfWork:
    """Base for a service's unit of work; subclasses attach their repositories in `_start`, wrapping those
    that hold aggregates in `self.tracked(...)` so the events they record are collected as they are stored."""

    session: AsyncSession

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        *,
        producer: str,
        publication: Publication | None,
        audit: AuditContext | None = None,
        idempotency: IdempotentRequest | None = None,
        on_commit: Callable[[], None] | None = None,
        cipher: FieldCipher | None = None,
        blind_index: BlindIndex | None = None,
        clock: Clock = utcnow,
    ) -> None:
        self._session_factory = session_factory
        self._producer = producer
        self._publication = publication
        self._audit = audit
        self._idempotency = idempotency
        self._on_commit = on_commit
        self._cipher = cipher
        self._blind_index = blind_index
        self.clock = clock
        """The service's clock, for repositories that stamp the rows they write."""

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
        self.reference = ReferenceReads(self.session, copies_for(self._session_factory))
        self.events = EventCollector(self._producer, self._publication.mapper if self._publication else None)
        self._accesses: list[AccessRecord] = []
        self._response: tuple[int, str] | None = None
        self._committed = False
        self._start()
        return self

    def _start(self) -> None:
        """Hook for subclasses: build repositories over `self.session`."""

    def tracked(self, repository: R) -> R:
        """`repository`, with the aggregates it loads and stores remembered for their events."""
        return tracked(repository, self.events)

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if not self._committed:
                await self.session.rollback()
        finally:
            await self.session.close()

    def record_access(
        self, action: str, resource_type: str, resource_id: object | None, patient_id: object | None
    ) -> None:
        """Queue an audit record of a PHI read or change; written in this transaction at commit."""
        self._accesses.append(AccessRecord.of(action, resource_type, resource_id, patient_id))

    def respond(self, status_code: int, resource_id: object) -> None:
        """Remember what an idempotent create made, committed together with it (a replay reads it again)."""
        self._response = (status_code, str(resource_id))

    async def commit(self) -> None:
        if self._accesses:
            if self._audit is None:
                raise RuntimeError("PHI access recorded without an audit context")
            await append_audits(self.session, self._audit, self._accesses)
        events = self.events.collect()
        if self._publication is not None:
            topic = self._publication.topic
            if events:
                await self.session.execute(
                    insert(OutboxMessage.__table__),  # type: ignore[attr-defined]
                    [outbox_values(topic, event, envelope) for event, envelope in events],
                )
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
        self._accesses, self._response = [], None
        if events and self._on_commit is not None:
            self._on_commit()
