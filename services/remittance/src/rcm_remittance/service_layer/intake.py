"""Taking an 835 file in: idempotent by the file's bytes and by each transaction set's natural key.

The file is read whole before anything is kept: one that is cut short, unreadable or holds no 835 is refused
and changes nothing. Then, in one transaction, the file is stored encrypted and each of its transaction sets
not known already (by payer, TRN02 and ISA13) becomes a remittance, received or, when its figures do not add
up, held. A set whose payer and TRN02 came before under another ISA13 (a payer sending a file again, or a
portal export of one received through the clearinghouse) is kept as a repeat of the first: its claim payments
and PLB adjustments that were posted already are not posted or announced again, and no deposit is expected
for it. Posting its claim payments is the poster's work, in batches (`posting.py`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy.exc import IntegrityError

from rcm_common.errors import ValidationFailed
from rcm_common.types import Clock
from rcm_remittance.domain.advice import RemittanceAdvice, UnreadableFile
from rcm_remittance.domain.model import Remittance
from rcm_remittance.service_layer.unit_of_work import RemittanceUnitOfWork

Reader = Callable[[bytes], Awaitable[list[RemittanceAdvice]]]
"""Reads an 835 file into its transaction sets (UnreadableFile when it cannot); awaited, as a large file is
read off the event loop (`adapters.remittance_835.RecentReads`)."""
_CONFLICT = (
    "a remittance with this payer, trace (TRN02) and interchange number (ISA13) came before with other figures: "
    "check with the payer which is right before releasing this one"
)


@dataclass(frozen=True, slots=True)
class Intake:
    """What became of a file: its remittances (new or known before) and whether the file itself was known."""

    file_id: UUID
    remittance_ids: tuple[UUID, ...]
    new: tuple[UUID, ...]
    known_file: bool


def refused(detail: str) -> ValidationFailed:
    return ValidationFailed([{"field": "body", "message": detail}], detail=f"The file is refused: {detail}.")


async def take_in(uow: RemittanceUnitOfWork, content: bytes, source: str, read: Reader, clock: Clock) -> Intake:
    """Keep the file and its new remittances, or answer with what the same bytes made before."""
    digest = hashlib.sha256(content).hexdigest()
    known_file = await _known_file(uow, digest)
    if known_file is not None:
        return known_file
    try:
        advices = await read(content)
    except UnreadableFile as error:
        raise refused(str(error)) from None
    if not advices:
        raise refused("it holds no 835 transaction set")
    try:
        return await _keep(uow, digest, content, source, advices, clock())
    except IntegrityError:  # the same file, or one of its sets, kept at this moment by another request
        known_file = await _known_file(uow, digest)
        if known_file is not None:
            return known_file
        return await _keep(uow, digest, content, source, advices, clock())  # its sets are known now


async def _known_file(uow: RemittanceUnitOfWork, digest: str) -> Intake | None:
    async with uow:
        found = await uow.files.with_digest(digest)
    if found is None:
        return None
    file_id, remittance_ids = found
    return Intake(file_id, tuple(remittance_ids), (), known_file=True)


async def _keep(
    uow: RemittanceUnitOfWork, digest: str, content: bytes, source: str, advices: list[RemittanceAdvice], now: datetime
) -> Intake:
    file_id = uuid.uuid4()
    async with uow:
        known = await uow.remittances.with_keys([_key(advice) for advice in advices])
        traces = await uow.remittances.first_with_traces([(a.payer_id, a.trace_number) for a in advices])
        ids, new = [], []
        for advice in advices:
            same_key = known.setdefault(_key(advice), {})
            existing = same_key.get(advice.figures)
            if existing is not None:
                ids.append(existing)
                continue
            if same_key:  # a payer, TRN02 and ISA13 seen before, paying otherwise: kept, and held for a person
                advice = dataclasses.replace(advice, balance_problems=(*advice.balance_problems, _CONFLICT))
            repeats = traces.get((advice.payer_id, advice.trace_number))
            remittance = Remittance.receive(uuid.uuid4(), file_id, advice, now, repeats=repeats)
            await uow.remittances.add(remittance)
            same_key[advice.figures] = remittance.remittance_id
            traces.setdefault((advice.payer_id, advice.trace_number), remittance.remittance_id)
            ids.append(remittance.remittance_id)
            new.append(remittance.remittance_id)
        await uow.files.add(file_id, digest, source, content, ids, now)
        uow.record_access("create", "remittance_file", file_id, None)
        await uow.commit()
    return Intake(file_id, tuple(ids), tuple(new), known_file=False)


def _key(advice: RemittanceAdvice) -> tuple[str, str, str]:
    return (advice.payer_id, advice.trace_number, advice.interchange_control_number)  # DESIGN §4
