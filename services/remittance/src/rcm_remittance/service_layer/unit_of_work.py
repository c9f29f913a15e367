"""The ports the handlers depend on; the SQL adapters implement them."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol
from uuid import UUID

from rcm_common.uow import UnitOfWork
from rcm_remittance.domain.copies import ClaimCopy
from rcm_remittance.domain.deposits import Deposit
from rcm_remittance.domain.model import ClaimPayment, PaymentKey, PaymentState, Remittance, RemittanceState


class ClaimCopies(Protocol):
    async def get(self, claim_id: UUID) -> ClaimCopy | None: ...

    async def save(self, copy: ClaimCopy, now: datetime) -> None: ...

    async def for_matching(
        self, control_numbers: Collection[str], payer_claim_numbers: Collection[str]
    ) -> list[ClaimCopy]: ...

    async def with_charge(self, payer_id: str, charge: Decimal) -> list[ClaimCopy]: ...


class Files(Protocol):
    async def with_digest(self, digest: str) -> tuple[UUID, list[UUID]] | None: ...

    async def add(
        self, file_id: UUID, digest: str, source: str, content: bytes, remittance_ids: list[UUID], now: datetime
    ) -> None: ...

    async def content(self, file_id: UUID) -> bytes: ...


class Remittances(Protocol):
    async def add(self, remittance: Remittance) -> None: ...

    async def with_keys(
        self, keys: Collection[tuple[str, str, str]]
    ) -> dict[tuple[str, str, str], dict[str, UUID]]: ...

    async def first_with_traces(self, traces: Collection[tuple[str, str]]) -> dict[tuple[str, str], UUID]: ...

    async def adjustments_kept_before(self, remittance: Remittance) -> list[tuple[str, str, Decimal]]: ...

    async def get(self, remittance_id: UUID, *, for_update: bool = False) -> Remittance | None: ...

    async def save(self, remittance: Remittance) -> None: ...

    async def postable(self) -> list[UUID]: ...

    async def with_traces(self, traces: Collection[str]) -> list[Remittance]: ...

    async def search(
        self,
        *,
        payer_id: str | None = None,
        state: RemittanceState | None = None,
        date_from: date | None = None,
        date_to: date | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Remittance]: ...


class ClaimPayments(Protocol):
    async def posted_keys(self, keys: Collection[PaymentKey]) -> set[PaymentKey]: ...

    async def add_many(self, payments: Sequence[ClaimPayment], positions: Sequence[int]) -> None: ...

    async def save(self, payment: ClaimPayment) -> None: ...

    async def get(self, payment_id: UUID, *, for_update: bool = False) -> ClaimPayment | None: ...

    async def reversible(self, keys: Collection[tuple[str, str, str]]) -> list[ClaimPayment]: ...

    async def mark_reversed(self, payment: ClaimPayment) -> None: ...

    async def rematchable(self, limit: int) -> list[UUID]: ...

    async def patients_of_file(self, file_id: UUID) -> list[UUID]: ...

    async def search(
        self,
        *,
        claim_id: UUID | None = None,
        remittance_id: UUID | None = None,
        state: PaymentState | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[ClaimPayment]: ...


class Deposits(Protocol):
    async def add(self, deposit: Deposit) -> None: ...

    async def get(self, deposit_id: UUID) -> Deposit | None: ...

    async def between(self, date_from: date, date_to: date) -> list[Deposit]: ...

    async def with_traces(self, traces: Collection[str]) -> list[Deposit]: ...


class RemittanceUnitOfWork(UnitOfWork, Protocol):
    @property
    def copies(self) -> ClaimCopies: ...

    @property
    def files(self) -> Files: ...

    @property
    def remittances(self) -> Remittances: ...

    @property
    def payments(self) -> ClaimPayments: ...

    @property
    def deposits(self) -> Deposits: ...
