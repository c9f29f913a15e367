"""Claim's storage on SQLite and PostgreSQL: copies, eligibility answers, authorisations, claims and the
directories read back as they were stored, PHI is ciphertext at rest, a stale save is refused, and the
work queues come oldest first."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text

from rcm_claim.adapters.payer_defaults import default_payers
from rcm_claim.bootstrap import Claim as ClaimService
from rcm_claim.bootstrap import bootstrap
from rcm_claim.config import ClaimSettings
from rcm_claim.domain.adjudication import Adjudication, Denial
from rcm_claim.domain.batches import INTERCHANGES, Batch
from rcm_claim.domain.copies import Authorization, CoverageCopy, EligibilityAnswer, PatientCopy, Person
from rcm_claim.domain.directories import Address, BillingProvider, Provider, ProviderDirectory
from rcm_claim.domain.findings import Finding, Override, RuleRun, ScrubRecord
from rcm_claim.domain.model import Claim, EncounterLine, EncounterVersion
from rcm_claim.entrypoints.app import CLAIM_APP
from rcm_common.errors import ConcurrentUpdate
from rcm_common.migrations import upgrade_to_head
from rcm_common.testing import in_process_settings

NOW = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
DAY = date(2026, 11, 2)


@pytest.fixture
async def service(database_url: str, signing_keys: tuple[str, str], tmp_path: Path) -> AsyncIterator[ClaimService]:
    settings = in_process_settings(ClaimSettings, tmp_path, signing_keys[1], database_url)
    await asyncio.to_thread(upgrade_to_head, CLAIM_APP.migrations, settings.resolved_database_url)
    claim_service = bootstrap(settings)
    try:
        yield claim_service
    finally:
        await claim_service.engine.dispose()


def a_claim(patient_id: uuid.UUID, *, payer: str = "ACME01", at: datetime = NOW) -> Claim:
    encounter = EncounterVersion(
        encounter_id=uuid.uuid4(),
        version=1,
        patient_id=patient_id,
        coverage_id=uuid.uuid4(),
        payer_id=payer,
        date_of_service=DAY,
        place_of_service="11",
        diagnoses=("E11.9", "I10"),
        lines=(
            EncounterLine("99214", ("25",), Decimal(1), DAY, Decimal("185.00"), (1, 2), Decimal("131.20")),
            EncounterLine("J3301", (), Decimal(2), DAY, Decimal("12.50"), (1,), None, "00003029305"),
        ),
        billing_provider_npi="1234567893",
        rendering_provider_npi="1497758544",
    )
    claim = Claim.build(claim_id=uuid.uuid4(), encounter=encounter, coverage_order="primary", now=at, cause="event:e")
    claim.events.clear()  # storage only: no contract maps these events yet
    return claim


async def test_copies_read_back_as_stored_and_their_phi_is_ciphertext(service: ClaimService) -> None:
    patient = PatientCopy(uuid.uuid4(), Person("Doe", "Jane", date(1960, 4, 1), "F"),
                          Address("1 Elm St", "Springfield", "IL", "62701"))  # fmt: skip
    coverage = CoverageCopy(uuid.uuid4(), patient.patient_id, "ACME01", "W123456789", "primary", "spouse",
                            date(2026, 1, 1), subscriber=Person("Doe", "John", date(1958, 2, 2), "M"))  # fmt: skip
    async with service.uow() as uow:
        await uow.patients.save(patient, NOW)
        await uow.coverages.save(coverage, NOW)
        await uow.commit()

    async with service.uow() as uow:
        assert await uow.patients.get(patient.patient_id) == patient
        assert await uow.coverages.get(coverage.coverage_id) == coverage
        rows = [
            *(await uow.session.execute(text("SELECT * FROM patient_demographics"))).all(),
            *(await uow.session.execute(text("SELECT * FROM coverage_membership"))).all(),
        ]
    stored = " ".join(str(value) for row in rows for value in row)
    # A value standing on its own, as plaintext would: inside base64 ciphertext "Doe" turns up by chance.
    standing = [rf"(?<![A-Za-z0-9+/=]){re.escape(secret)}(?![A-Za-z0-9+/=])" for secret in
                ("Doe", "Jane", "John", "W123456789", "1960-04-01", "Elm")]  # fmt: skip
    assert not [pattern for pattern in standing if re.search(pattern, stored)]


async def test_the_latest_eligibility_answer_is_kept_and_an_older_one_read_late_is_ignored(
    service: ClaimService,
) -> None:
    coverage_id = uuid.uuid4()
    newer = EligibilityAnswer(coverage_id, "inactive", NOW, DAY, plan_end=date(2026, 10, 31))
    older = EligibilityAnswer(coverage_id, "active", NOW - timedelta(days=1), DAY)
    async with service.uow() as uow:
        assert await uow.eligibility.record(newer)
        assert not await uow.eligibility.record(older)
        await uow.commit()

    async with service.uow() as uow:
        assert await uow.eligibility.latest(coverage_id) == newer
        assert await uow.eligibility.latest(uuid.uuid4()) is None


async def test_authorisations_are_kept_per_coverage_with_their_number_encrypted(service: ClaimService) -> None:
    coverage_id = uuid.uuid4()
    first = Authorization(uuid.uuid4(), coverage_id, "AUTH-778", frozenset({"72148", "72149"}), date(2026, 10, 1),
                          date(2026, 12, 31), 2)  # fmt: skip
    other = dataclasses.replace(first, authorization_id=uuid.uuid4(), coverage_id=uuid.uuid4())
    async with service.uow() as uow:
        await uow.authorizations.save(first)
        await uow.authorizations.save(other)
        await uow.commit()

    async with service.uow() as uow:
        assert await uow.authorizations.for_coverage(coverage_id) == [first]
        numbers = (await uow.session.execute(text("SELECT number_encrypted FROM authorization_on_file"))).scalars()
        assert all("AUTH-778" not in number for number in numbers)


async def test_a_claim_reads_back_with_its_lines_scrub_and_timeline_and_a_stale_save_is_refused(
    service: ClaimService,
) -> None:
    claim = a_claim(uuid.uuid4())
    finding = Finding("PRIOR_AUTH", 1, "blocking", "72148 needs a prior authorisation on file", 1)
    override = Override("COVERAGE_UNVERIFIED", "verified by phone", "biller-1", NOW, frozenset({(None, "stale")}))
    claim.scrubbed(ScrubRecord((RuleRun("PRIOR_AUTH", 1),), (finding,), (override,), "AUTH-1"), NOW, "scrub:1")
    claim.events.clear()
    async with service.uow() as uow:
        await uow.claims.add(claim)
        await uow.commit()

    async with service.uow() as uow:
        stored = await uow.claims.get(claim.id)
        content = (await uow.session.execute(text("SELECT content_encrypted FROM claim"))).scalar_one()
    assert stored == claim
    assert stored is not None
    assert stored.revision == 1
    assert "E11.9" not in content
    assert "99214" not in content

    async with service.uow() as uow:
        first = await uow.claims.get(claim.id)
        second = await uow.claims.get(claim.id)
        assert first is not None
        assert second is not None
        first.void("withdrawn", NOW, "api:biller-1")
        first.events.clear()
        await uow.claims.save(first)
        second.void("withdrawn", NOW, "api:biller-2")
        second.events.clear()
        with pytest.raises(ConcurrentUpdate):
            await uow.claims.save(second)


async def test_a_work_queue_is_oldest_first_and_filters_by_rule_and_payer(service: ClaimService) -> None:
    patient_id = uuid.uuid4()
    held = {}
    for minutes, payer, rule in [
        (3, "ACME01", "PRIOR_AUTH"),
        (1, "ACME01", "DUPLICATE_CLAIM"),
        (2, "MCARE1", "PRIOR_AUTH"),
    ]:
        claim = a_claim(patient_id, payer=payer, at=NOW + timedelta(minutes=minutes))
        finding = Finding(rule, 1, "blocking", "held")
        claim.scrubbed(ScrubRecord((), (finding,)), NOW + timedelta(minutes=minutes), "scrub:1")
        claim.events.clear()
        held[minutes] = claim
    ready = a_claim(patient_id)
    async with service.uow() as uow:
        for claim in [*held.values(), ready]:
            await uow.claims.add(claim)
        await uow.commit()

    async with service.uow() as uow:
        queue = [claim.id for claim in await uow.claims.search(state="scrub_failed")]
        by_rule = [claim.id for claim in await uow.claims.search(state="scrub_failed", rule="PRIOR_AUTH")]
        by_both = [
            claim.id for claim in await uow.claims.search(state="scrub_failed", rule="PRIOR_AUTH", payer_id="ACME01")
        ]
        drafts = [claim.id for claim in await uow.claims.search(state="draft")]
        for_patient = await uow.claims.for_patient(patient_id)
        for_encounter = await uow.claims.for_encounter(ready.encounter_id)
    assert queue == [held[1].id, held[2].id, held[3].id]
    assert by_rule == [held[2].id, held[3].id]
    assert by_both == [held[3].id]
    assert drafts == [ready.id]
    assert len(for_patient) == 4
    assert [claim.id for claim in for_encounter] == [ready.id]


async def test_a_merge_moves_the_merged_patients_claims_to_the_survivor(service: ClaimService) -> None:
    merged, survivor = uuid.uuid4(), uuid.uuid4()
    claim = a_claim(merged)
    async with service.uow() as uow:
        await uow.claims.add(claim)
        await uow.commit()

    async with service.uow() as uow:
        assert await uow.claims.repoint(merged, survivor) == [claim.id]
        await uow.commit()

    async with service.uow() as uow:
        assert [moved.id for moved in await uow.claims.for_patient(survivor)] == [claim.id]
        assert await uow.claims.for_patient(merged) == []


async def test_the_directories_are_replaced_whole(service: ClaimService) -> None:
    directory = ProviderDirectory(
        BillingProvider("Springfield Family Medicine", "1234567893", "371234567", "207Q00000X",
                        Address("100 Main St", "Springfield", "IL", "627011234"),
                        pay_to=Address("PO Box 9", "Springfield", "IL", "62705")),
        (Provider("Osler", "William", "1497758544", "207R00000X"),),
    )  # fmt: skip
    payers = default_payers()
    async with service.uow() as uow:
        assert await uow.directories.providers() is None
        await uow.directories.replace_providers(directory, "admin-1", NOW)
        await uow.directories.replace_payers(payers, NOW)
        await uow.directories.replace_payers(payers[2:], NOW)
        await uow.commit()

    async with service.uow() as uow:
        assert await uow.directories.providers() == directory
        assert await uow.directories.payers() == sorted(payers[2:], key=lambda payer: payer.payer_id)
        assert await uow.directories.payer("ACME01") == payers[2]
        assert await uow.directories.payer("MCARE1") is None


async def test_the_directories_are_kept_in_the_process_until_anything_changes_them(
    service: ClaimService, database_url: str, signing_keys: tuple[str, str], tmp_path: Path
) -> None:
    payers = default_payers()
    async with service.uow() as uow:
        await uow.directories.replace_payers(payers, NOW)
        await uow.commit()
    async with service.uow() as uow:
        assert await uow.directories.payer(payers[0].payer_id) == payers[0]

    other_replica = bootstrap(in_process_settings(ClaimSettings, tmp_path, signing_keys[1], database_url))
    renamed = dataclasses.replace(payers[0], name="Renamed by a replica")
    async with other_replica.uow() as uow:
        await uow.directories.replace_payers([renamed, *payers[1:]], NOW)
        await uow.commit()
    await other_replica.engine.dispose()
    async with service.uow() as uow:
        assert await uow.directories.payer(payers[0].payer_id) == renamed

    async with service.session_factory() as session, session.begin():  # by hand, not through the service
        await session.execute(text("UPDATE payer_profile SET name = 'Renamed in SQL'"))
    async with service.uow() as uow:
        assert await uow.directories.payer(payers[0].payer_id) == dataclasses.replace(renamed, name="Renamed in SQL")


async def test_a_batch_is_kept_with_its_x12_encrypted_and_its_interchange_control_number(service: ClaimService) -> None:
    first = Batch(uuid.uuid4(), "ACME01", 416, (uuid.uuid4(),), "ISA*00*...~NM1*IL*1*DOE*JANE~", NOW)
    second = Batch(uuid.uuid4(), "ACME01", 417, (uuid.uuid4(), uuid.uuid4()), "ISA*00*...~", NOW + timedelta(minutes=1))
    async with service.uow() as uow:
        assert [await uow.control_numbers.next(INTERCHANGES) for _ in range(2)] == [1, 2]
        await uow.batches.add(first)
        await uow.batches.add(second)
        first.state, first.sent_at, first.attempts = "acknowledged", NOW, 1
        await uow.batches.save(first)
        await uow.commit()

    async with service.uow() as uow:
        assert await uow.batches.get(first.id) == first
        assert await uow.batches.unanswered() == [second]
        assert await uow.control_numbers.next(INTERCHANGES) == 3  # the numbers given live on
        await uow.commit()
    async with service.uow() as uow:
        assert await uow.control_numbers.next(INTERCHANGES) == 4
        stored = (await uow.session.execute(text("SELECT x12_encrypted FROM claim_batch"))).scalars().all()
    assert not [x12 for x12 in stored if "DOE" in x12]


async def test_a_unit_of_work_reads_a_copy_once_and_again_after_taking_the_patients_lock(
    service: ClaimService, database_url: str
) -> None:
    patient = PatientCopy(uuid.uuid4(), Person("Doe", "Jane", date(1980, 1, 2), "F"),
                          Address("1 Elm St", "Springfield", "IL", "62704"))  # fmt: skip
    async with service.uow() as uow:
        await uow.patients.save(patient, NOW)
        await uow.commit()

    async with service.uow() as uow:
        first = await uow.patients.get(patient.patient_id)
        await uow.session.execute(
            text("UPDATE patient_demographics SET merged_into_id = :other WHERE patient_id = :id"),
            {"other": str(uuid.uuid4()), "id": str(patient.patient_id)},
        )
        again = await uow.patients.get(patient.patient_id)
        await uow.lock_patient(patient.patient_id)
        under_lock = await uow.patients.get(patient.patient_id)

    assert first is again  # read once
    assert first is not None
    assert first.merged_into is None
    assert under_lock is not None
    if database_url:  # PostgreSQL: the lock may follow another transaction's commit, so copies are read again
        assert under_lock.merged_into is not None
    else:  # SQLite: the transaction was the only writer from its start, so what it read stands
        assert under_lock is first


async def test_a_batch_reads_its_patients_survivors_and_coverages_at_once_and_answers_alike(
    service: ClaimService,
) -> None:
    survivor = PatientCopy(uuid.uuid4(), Person("Roe", "Ann", date(1970, 5, 6), "F"),
                           Address("2 Oak St", "Springfield", "IL", "62704"))  # fmt: skip
    merged = dataclasses.replace(survivor, patient_id=uuid.uuid4(), merged_into=survivor.patient_id)
    coverage = CoverageCopy(uuid.uuid4(), survivor.patient_id, "ACME01", "W1", "primary", "self", date(2026, 1, 1))
    bare = uuid.uuid4()
    authorization = Authorization(uuid.uuid4(), coverage.coverage_id, "PA-1", frozenset({"72148"}),
                                  date(2026, 1, 1), date(2026, 12, 31), 2)  # fmt: skip
    async with service.uow() as uow:
        for patient in (survivor, merged):
            await uow.patients.save(patient, NOW)
        await uow.coverages.save(coverage, NOW)
        await uow.authorizations.save(authorization)
        await uow.commit()

    async with service.uow() as uow:
        await uow.read_for_batch({merged.patient_id, uuid.uuid4()}, {coverage.coverage_id, bare}, set())
        read = (
            await uow.patients.get(merged.patient_id),
            await uow.patients.get(survivor.patient_id),
            await uow.coverages.get(coverage.coverage_id),
            await uow.coverages.get(bare),
            await uow.eligibility.latest(coverage.coverage_id),
            await uow.authorizations.for_coverage(coverage.coverage_id),
            await uow.authorizations.for_coverage(bare),
        )

    assert read == (merged, survivor, coverage, None, None, [authorization], [])


async def test_a_patients_claims_read_once_follow_what_the_unit_of_work_stores_and_are_handed_out_detached(
    service: ClaimService,
) -> None:
    patient_id, survivor_id = uuid.uuid4(), uuid.uuid4()
    first = a_claim(patient_id)
    async with service.uow() as uow:
        await uow.claims.add(first)
        await uow.commit()

    async with service.uow() as uow:
        [read] = await uow.claims.for_patient(patient_id)
        second = a_claim(patient_id, at=NOW + timedelta(minutes=1))
        await uow.claims.add(second)
        read.hold("checking", NOW, "api:biller-1")
        untouched = await uow.claims.for_patient(patient_id)
        await uow.claims.save(read)
        after_save = await uow.claims.for_patient(patient_id)
        await uow.claims.repoint(patient_id, survivor_id)
        moved = await uow.claims.for_patient(survivor_id)
        left = await uow.claims.for_patient(patient_id)
        by_encounter = await uow.claims.for_encounter(second.encounter_id)
        await uow.commit()

    assert [(c.id, c.held) for c in untouched] == [(first.id, None), (second.id, None)]  # detached copies
    assert [(c.id, c.held, c.revision) for c in after_save] == [(first.id, "checking", 2), (second.id, None, 1)]
    assert ([c.id for c in moved], left) == ([first.id, second.id], [])
    assert [(c.id, c.patient_id) for c in by_encounter] == [(second.id, survivor_id)]
    async with service.uow() as uow:
        assert [c.id for c in await uow.claims.for_patient(survivor_id)] == [first.id, second.id]


async def test_claims_saved_together_are_all_saved_or_none_when_one_changed_meanwhile(service: ClaimService) -> None:
    first, second = a_claim(uuid.uuid4()), a_claim(uuid.uuid4())
    async with service.uow() as uow:
        await uow.claims.add(first)
        await uow.claims.add(second)
        await uow.commit()
    async with service.uow() as uow:
        read = [await uow.claims.get(first.id), await uow.claims.get(second.id)]
    async with service.uow() as uow:
        meanwhile = await uow.claims.get(second.id)
        assert meanwhile is not None
        meanwhile.hold("someone else", NOW, "api:biller-2")
        await uow.claims.save(meanwhile)
        await uow.commit()

    stale = [claim for claim in read if claim is not None]
    for claim in stale:
        claim.hold("batching", NOW, "api:biller-1")
    async with service.uow() as uow:
        with pytest.raises(ConcurrentUpdate):
            await uow.claims.save_many(stale)
    fresh = [claim for claim in [await _read(service, first.id)] if claim is not None]
    fresh[0].hold("batching", NOW, "api:biller-1")
    async with service.uow() as uow:
        await uow.claims.save_many(fresh)
        await uow.commit()

    assert [(c.held, c.revision) for c in [await _read(service, first.id), await _read(service, second.id)] if c] == [
        ("batching", 2),
        ("someone else", 2),
    ]


async def _read(service: ClaimService, claim_id: uuid.UUID) -> Claim | None:
    async with service.uow() as uow:
        return await uow.claims.get(claim_id)


async def test_a_claim_added_is_there_for_a_save_and_for_a_read_after_another_patients_lock(
    service: ClaimService,
) -> None:
    patient_id = uuid.uuid4()
    added, also_added = a_claim(patient_id), a_claim(patient_id, at=NOW + timedelta(minutes=1))
    async with service.uow() as uow:
        await uow.read_for_batch({patient_id}, set(), {added.encounter_id})
        await uow.claims.add(added)
        await uow.claims.add(also_added)
        added.hold("charge holds it", NOW, "event:held")
        await uow.claims.save(added)
        also_added.hold("charge holds it", NOW, "event:held")
        await uow.claims.save_many([also_added, also_added])
        await uow.lock_patient(uuid.uuid4())  # on PostgreSQL: what was read is forgotten, and read again
        by_encounter = await uow.claims.for_encounter(added.encounter_id)
        by_patient = await uow.claims.for_patient(patient_id)
        await uow.commit()

    assert [(c.id, c.held, c.revision) for c in by_encounter] == [(added.id, "charge holds it", 2)]
    assert [(c.id, c.revision) for c in by_patient] == [(added.id, 2), (also_added.id, 2)]


async def test_a_claims_payments_denial_and_underpayment_read_back_as_stored(service: ClaimService) -> None:
    claim = a_claim(uuid.uuid4())
    claim.scrubbed(ScrubRecord((), ()), NOW, "scrub:1")
    claim.batch(uuid.uuid4(), NOW, "batch")
    claim.submit("000000001", NOW, "batch")
    claim.accept("ACME1", NOW, "277ca")
    posted = Adjudication(uuid.uuid4(), "TRACE1", "ACME1", "1", Decimal("185.00"), Decimal("0.00"),
                          Decimal("131.20"), Decimal("131.20"), (), ("C1-01",), Decimal("3.10"), NOW)  # fmt: skip
    claim.adjudicated(posted, NOW, "event:p1")
    claim.denied(Denial(posted.payment_id, False, "coding", "Check the codes.", Decimal("54.00"), ("CO-4",)),
                 NOW, "event:d1")  # fmt: skip
    claim.events.clear()
    async with service.uow() as uow:
        await uow.claims.add(claim)
        await uow.commit()
    async with service.uow() as uow:
        stored = await uow.claims.get(claim.id)
    assert stored == claim
