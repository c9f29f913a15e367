"""The merge ledger of the registration replica: every merge a service has read, kept so that what
registration said about the merged patient before the merge can arrive after it.

Registration keys a merge by the surviving patient, and the merged patient's own events (its registration,
its coverages) by the merged patient: they travel on different partitions, so a consumer catching up can
read the merge first. The ledger lets the replica apply a late registration or coverage as the merge left
it: the merged patient points at its survivor, and a moved coverage belongs to the survivor.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import Column, DateTime
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from rcm_common.events.registration import PatientsMerged


class MergeRecord(SQLModel, table=True):
    """A merged patient and the survivor it was folded into."""

    __tablename__ = "replica_merge"

    merged_patient_id: str = Field(primary_key=True, max_length=36)
    surviving_patient_id: str = Field(max_length=36)
    recorded_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class MovedCoverage(SQLModel, table=True):
    """A coverage a merge moved to the survivor."""

    __tablename__ = "replica_moved_coverage"

    coverage_id: str = Field(primary_key=True, max_length=36)
    surviving_patient_id: str = Field(max_length=36)


class SqlMerges:
    """The merge ledger in the service's own database (the platform's `replica_*` tables)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def record(self, merge: PatientsMerged, now: datetime) -> None:
        survivor = str(merge.surviving_patient_id)
        merged = str(merge.merged_patient_id)
        await self._session.merge(MergeRecord(merged_patient_id=merged, surviving_patient_id=survivor, recorded_at=now))
        for coverage_id in merge.moved_coverage_ids:
            await self._session.merge(MovedCoverage(coverage_id=str(coverage_id), surviving_patient_id=survivor))
        await self._session.flush()

    async def survivor_of(self, patient_id: UUID) -> UUID | None:
        found = await self._session.get(MergeRecord, str(patient_id))
        return UUID(found.surviving_patient_id) if found else None

    async def moved_to(self, coverage_id: UUID) -> UUID | None:
        found = await self._session.get(MovedCoverage, str(coverage_id))
        return UUID(found.surviving_patient_id) if found else None
