"""Importing an 837P file: its claims become encounters in one transaction, a file is imported once, and a
claim taken before in another file is reported as a duplicate.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from sqlalchemy.exc import IntegrityError

from rcm_charge.domain.copies import CoverageCopy
from rcm_charge.domain.imports import ClaimPosition, ImportedClaim, ImportResult
from rcm_charge.domain.model import ImportedPatient, Source
from rcm_charge.domain.pricing import PriceList
from rcm_charge.service_layer.evaluation import EncounterEvaluator, price_list
from rcm_charge.service_layer.unit_of_work import ChargeUnitOfWork, ImportRecord
from rcm_charge.service_layer.views import ImportedClaimResult, ImportReport
from rcm_common.errors import ConcurrentUpdate


async def import_claims(
    data: bytes, read: ImportResult, uow: ChargeUnitOfWork, evaluator: EncounterEvaluator, *, by: str
) -> ImportReport:
    """Read an 837P's claims into encounters, all in one transaction. The same file imported again answers with
    its first report and creates nothing; a claim taken before in another file (its natural key) is reported
    as a duplicate and not taken again."""
    digest = hashlib.sha256(data).hexdigest()
    now = evaluator.clock()
    try:
        async with uow:
            existing = await uow.imports.find(digest)
            if existing is not None:
                await uow.commit()
                return _replayed(existing)
            import_id = uuid.uuid4()
            # The file's price lists, read once for all its claims.
            codes = {line.code for claim in read.claims for line in claim.details.lines}
            prices = await price_list(uow, codes, None, every_payer=True)
            results = [await _import_claim(uow, claim, import_id, evaluator, now, prices) for claim in read.claims]
            results.extend(
                ImportedClaimResult(
                    **_position(skipped.position),
                    encounter_id=None,
                    status="skipped",
                    lines=0,
                    issue_codes=[],
                    findings=[skipped.reason],
                )
                for skipped in read.skipped
            )
            results.sort(key=lambda result: (result.batch, result.claim))
            report = _report(import_id, now, results, list(read.findings))
            await uow.imports.add(
                ImportRecord(import_id, digest, report.model_dump(mode="json"), imported_by=by, imported_at=now)
            )
            await uow.commit()
    except IntegrityError:  # the same file, or one of its claims, imported at the same moment by another request
        async with uow:
            existing = await uow.imports.find(digest)
            await uow.commit()
        if existing is None:
            raise ConcurrentUpdate(
                "Another import took some of these claims meanwhile; import the file again."
            ) from None
        return _replayed(existing)
    return report


def _replayed(record: ImportRecord) -> ImportReport:
    return ImportReport.model_validate(record.report | {"replayed": True})


def _position(position: ClaimPosition) -> dict[str, int]:
    return {"batch": position.batch, "claim": position.claim, "segment": position.segment}


async def _import_claim(
    uow: ChargeUnitOfWork,
    claim: ImportedClaim,
    import_id: UUID,
    evaluator: EncounterEvaluator,
    now: datetime,
    prices: PriceList,
) -> ImportedClaimResult:
    details = claim.details
    position = _position(claim.position)
    key = natural_key(claim)
    taken = await uow.encounters.find_imported(key)
    if taken is not None:
        return ImportedClaimResult(
            **position, encounter_id=taken, status="duplicate", lines=0, issue_codes=[],
            findings=["the same claim was imported before (billing NPI, claim number, dates, lines and charges)"],
        )  # fmt: skip
    coverage = await _matching_coverage(uow, claim.payer_id, claim.source_patient, details.date_of_service)
    if coverage is not None:
        details = replace(details, patient_id=coverage.patient_id, coverage_id=coverage.coverage_id)
    source = Source("837p", import_id, claim.reference, claim.source_patient, claim.findings, claim.icd9_diagnoses, key)
    encounter = await evaluator.open_encounter(uow, details, source, now=now, prices=prices)
    return ImportedClaimResult(
        **position,
        encounter_id=encounter.id,
        status=encounter.status,
        lines=len(details.lines),
        issue_codes=sorted({issue.code for issue in encounter.blocking_issues}),
        findings=list(claim.findings),
    )


def natural_key(claim: ImportedClaim) -> str:
    """What makes an imported claim the same claim sent again: the billing NPI, the claim number (CLM01 is
    often the patient's account number, shared by their claims), and each line's date, code, modifiers, units
    and charge as sent."""
    details = claim.details
    lines = [
        f"{line.service_date(details.date_of_service)}:{line.code}:{'-'.join(line.modifiers)}:"
        f"{format(line.units.normalize(), 'f')}:{charge.quantize(Decimal('0.01'))}"
        for line, charge in zip(details.lines, claim.source_charges, strict=True)
    ]
    return "|".join((details.billing_provider_npi, claim.reference, *lines))


async def _matching_coverage(
    uow: ChargeUnitOfWork, payer_id: str, patient: ImportedPatient, day: date
) -> CoverageCopy | None:
    """The registered coverage of the payer and member id whose patient has the claim patient's birth date (and
    sex, where both are known), so a dependant billed under the subscriber's member id is told apart from the
    subscriber; of that patient's coverages, the one in effect on the date of service (else the latest). None
    when no patient, or more than one, fits."""
    if not patient.member_id or patient.birth_date is None:
        return None
    by_patient: dict[UUID, list[CoverageCopy]] = {}
    for coverage in await uow.coverages.find_by_member(payer_id, patient.member_id):
        registered = await uow.patients.get(coverage.patient_id)
        if registered is None or registered.birth_date != patient.birth_date:
            continue
        if "U" not in (registered.sex, patient.sex) and registered.sex != patient.sex:
            continue
        by_patient.setdefault(coverage.patient_id, []).append(coverage)
    if len(by_patient) != 1:
        return None
    (coverages,) = by_patient.values()
    active = [coverage for coverage in coverages if coverage.facts.active_on(day)]
    return max(active or coverages, key=lambda coverage: coverage.effective_date)


def _report(import_id: UUID, now: datetime, results: list[ImportedClaimResult], findings: list[str]) -> ImportReport:
    held = [result for result in results if result.status == "held"]
    captured = [result for result in results if result.status == "captured"]
    return ImportReport(
        id=import_id,
        imported_at=now,
        replayed=False,
        claims=len(results),
        lines=sum(result.lines for result in results),
        captured=len(captured),
        held=len(held),
        skipped=sum(1 for result in results if result.status == "skipped"),
        duplicates=sum(1 for result in results if result.status == "duplicate"),
        lines_captured=sum(result.lines for result in captured),
        lines_held=sum(result.lines for result in held),
        held_by_issue=dict(sorted(Counter(code for result in held for code in result.issue_codes).items())),
        skipped_by_reason=dict(
            sorted(Counter(result.findings[0] for result in results if result.status == "skipped").items())
        ),
        findings=findings,
        results=results,
    )
