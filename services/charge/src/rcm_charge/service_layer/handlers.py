"""Charge's use cases. HTTP commands capture, correct, void and review encounters, import 837P files and
keep the price lists; registration's events keep the local copies and release encounters that were waiting
for their patient. Each runs in one unit of work: the change, its audit records and its events commit together
or not at all.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy.exc import IntegrityError

from rcm_charge.domain.code_sets import CodeSets
from rcm_charge.domain.copies import CoverageCopy, PatientCopy
from rcm_charge.domain.imports import ClaimPosition, ImportedClaim, ImportResult
from rcm_charge.domain.model import (
    Encounter,
    EncounterDetails,
    EncounterError,
    ImportedPatient,
    Issue,
    ServiceLine,
    Source,
)
from rcm_charge.domain.pricing import ChargemasterEntry, ContractRate, PriceList, priced
from rcm_charge.domain.procedures import normalized_ndc
from rcm_charge.domain.validation import PatientFacts, ValidationContext, validate
from rcm_charge.service_layer import commands
from rcm_charge.service_layer.mapping import to_integration_event
from rcm_charge.service_layer.unit_of_work import ChargeUnitOfWork, ImportRecord
from rcm_charge.service_layer.views import (
    EncounterPublic,
    ImportedClaimResult,
    ImportReport,
    PriceFileSummary,
    ReviewPublic,
)
from rcm_common.audit import AuditContext
from rcm_common.envelope import Envelope
from rcm_common.errors import ConcurrentUpdate, Conflict, NotFound, PreconditionFailed, ValidationFailed
from rcm_common.events import registration as registration_contract
from rcm_common.events.base import IntegrationEvent
from rcm_common.logs import get_correlation_id

# Issues that registration's events can clear: encounters held for them are validated again when they arrive.
WAITING_FOR_REGISTRATION = frozenset(
    {
        "PATIENT_UNKNOWN",
        "COVERAGE_UNKNOWN",
        "COVERAGE_NOT_PATIENTS",
        "COVERAGE_INACTIVE",
        "ICD10_SEX_CONFLICT",
        "ICD10_AGE_CONFLICT",
        "DATE_OF_SERVICE_BEFORE_BIRTH",
    }
)
CONSUMER_ACTOR = "system:charge-consumer"


def consumer_audit() -> AuditContext:
    """Who the consumer is in the audit log when registration's events release a held encounter."""
    return AuditContext(CONSUMER_ACTOR, frozenset(), "payment", get_correlation_id() or uuid.uuid4().hex)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Evaluated:
    details: EncounterDetails
    issues: tuple[Issue, ...]
    payer_id: str | None
    source: Source


async def _evaluate(
    uow: ChargeUnitOfWork,
    details: EncounterDetails,
    code_sets: CodeSets,
    today: date,
    source: Source,
    *,
    before: EncounterDetails | None = None,
    prices: PriceList | None = None,
) -> Evaluated:
    """Price the lines from the chargemaster and the payer's contract (or the price lists given, loaded once for
    a whole import), and validate the result against the code sets and what is known of the patient and
    coverage. Diagnoses are kept as the code set spells them (dotted); a merged patient is followed to its
    survivor. For a correction of `before`, diagnoses that differ from the sender's answer an import's
    ICD-9-CM ones."""
    details = _spelled(details, code_sets)
    if before is not None and source.icd9_diagnoses and details.diagnoses != before.diagnoses:
        source = replace(source, icd9_diagnoses=False)
    patient: PatientCopy | None = None
    if details.patient_id is not None:
        patient = await uow.patients.get(details.patient_id)
        if patient is not None and patient.merged_into is not None:
            details = replace(details, patient_id=patient.merged_into)
            patient = await uow.patients.get(patient.merged_into)
    coverage: CoverageCopy | None = None
    if details.coverage_id is not None:
        coverage = await uow.coverages.get(details.coverage_id)
    payer_id = coverage.payer_id if coverage is not None and coverage.patient_id == details.patient_id else None
    if prices is None:
        prices = await _price_list(uow, {line.code for line in details.lines}, payer_id)
    details = replace(details, lines=priced(details.lines, prices, location=details.location, payer_id=payer_id))
    facts: PatientFacts | None = patient.facts if patient is not None else None
    imported_patient = source.imported_patient
    if facts is None and imported_patient is not None:
        facts = PatientFacts(imported_patient.sex, imported_patient.birth_date)
    context = ValidationContext(
        diagnoses=code_sets.diagnoses,
        edits=code_sets.edits,
        prices=prices,
        today=today,
        patient=facts,
        coverage=coverage.facts if coverage is not None else None,
    )
    return Evaluated(details, validate(details, context) + _import_issues(source), payer_id, source)


async def _price_list(
    uow: ChargeUnitOfWork, codes: set[str], payer_id: str | None, *, every_payer: bool = False
) -> PriceList:
    """The chargemaster entries of the codes, and the payer's rates for them (none without a payer), or every
    payer's rates for a file whose claims' payers are found one by one."""
    wanted = every_payer or payer_id is not None
    return PriceList(
        chargemaster=tuple(await uow.prices.chargemaster(codes)),
        rates=tuple(await uow.prices.rates(None if every_payer else payer_id, codes)) if wanted else (),
    )


def _import_issues(source: Source) -> tuple[Issue, ...]:
    """What an imported claim carries: ICD-9-CM diagnoses until a coder recodes them (a dotted ICD-9 code can
    spell a valid ICD-10-CM one), and what could not be taken as sent until a coder approves it."""
    issues = []
    if source.icd9_diagnoses:
        issues.append(Issue("DIAGNOSES_ICD9", "the imported diagnoses are ICD-9-CM codes: recode them in ICD-10-CM"))
    if source.findings:
        issues.append(
            Issue(
                "IMPORT_FINDINGS",
                f"the imported claim had what could not be taken as sent: {'; '.join(source.findings)}",
                severity="review",
            )
        )
    return tuple(issues)


def _spelled(details: EncounterDetails, code_sets: CodeSets) -> EncounterDetails:
    """The diagnoses as the code set spells them, so `E119` and `E11.9` are one code (and one duplicate)."""
    spelled = []
    for code in details.diagnoses:
        known = code_sets.diagnoses.lookup(code, details.date_of_service)
        spelled.append(known.code if known is not None else code)
    return replace(details, diagnoses=tuple(spelled))


def _publish(uow: ChargeUnitOfWork, encounter: Encounter, code_sets: CodeSets, payer_id: str | None) -> None:
    for event in encounter.events:
        uow.publish(to_integration_event(encounter, event, catalog=code_sets.diagnoses, payer_id=payer_id))
    encounter.events.clear()


def _line(line: commands.LineIn) -> ServiceLine:
    return ServiceLine(
        code=line.code,
        modifiers=line.modifiers,
        units=line.units,
        diagnosis_pointers=line.diagnosis_pointers,
        ndc=(normalized_ndc(line.ndc) or line.ndc) if line.ndc else None,
        date_of_service=line.date_of_service,
    )


def _details(cmd: commands.CaptureEncounter) -> EncounterDetails:
    return EncounterDetails(
        patient_id=cmd.patient_id,
        coverage_id=cmd.coverage_id,
        date_of_service=cmd.date_of_service,
        place_of_service=cmd.place_of_service,
        billing_provider_npi=cmd.billing_provider_npi,
        rendering_provider_npi=cmd.rendering_provider_npi,
        referring_provider_npi=cmd.referring_provider_npi,
        location=cmd.location,
        diagnoses=tuple(cmd.diagnoses),
        lines=tuple(_line(line) for line in cmd.lines),
    )


def _corrected(details: EncounterDetails, cmd: commands.CorrectEncounter) -> EncounterDetails:
    """The details with the correction's given fields (null clears an optional one) replacing theirs."""
    changes: dict[str, Any] = {}
    for name in cmd.model_fields_set:
        value = getattr(cmd, name)
        if name in ("date_of_service", "place_of_service", "billing_provider_npi", "diagnoses") and value is None:
            raise ValidationFailed([{"field": name, "message": "cannot be cleared"}])
        if name == "lines":
            value = tuple(_line(line) for line in value) if value is not None else None
            if value is None:
                raise ValidationFailed([{"field": name, "message": "cannot be cleared"}])
        changes[name] = tuple(value) if name == "diagnoses" else value
    return replace(details, **changes)


async def _open_encounter(
    uow: ChargeUnitOfWork,
    details: EncounterDetails,
    code_sets: CodeSets,
    now: datetime,
    source: Source,
    prices: PriceList | None = None,
) -> Encounter:
    evaluated = await _evaluate(uow, details, code_sets, now.date(), source, prices=prices)
    encounter = Encounter.open(
        encounter_id=uuid.uuid4(),
        details=evaluated.details,
        issues=evaluated.issues,
        now=now,
        review_id=uuid.uuid4(),
        source=source,
    )
    await uow.encounters.add(encounter)
    _publish(uow, encounter, code_sets, evaluated.payer_id)
    uow.record_access("create", "encounter", encounter.id, encounter.details.patient_id)
    return encounter


# ---------------------------------------------------------------- encounters


async def capture(cmd: commands.CaptureEncounter, uow: ChargeUnitOfWork, code_sets: CodeSets) -> EncounterPublic:
    async with uow:
        encounter = await _open_encounter(uow, _details(cmd), code_sets, utc_now(), Source())
        uow.respond(201, encounter.id)
        view = EncounterPublic.of(encounter)
        await uow.commit()
    return view


async def _encounter(uow: ChargeUnitOfWork, encounter_id: UUID, *, for_update: bool = False) -> Encounter:
    encounter = await uow.encounters.get(encounter_id, for_update=for_update)
    if encounter is None:
        raise NotFound("No such encounter.")
    return encounter


def _as_read(encounter: Encounter, revision: int) -> None:
    """A change names the revision its author read: one made on an encounter changed since is refused, so
    nobody's correction is overwritten and no review flag is approved unseen."""
    if revision != encounter.revision:
        raise PreconditionFailed("The encounter changed since it was read (its revision differs); read it again.")


async def get_encounter(encounter_id: UUID, uow: ChargeUnitOfWork) -> EncounterPublic:
    async with uow:
        encounter = await _encounter(uow, encounter_id)
        uow.record_access("read", "encounter", encounter.id, encounter.details.patient_id)
        await uow.commit()
    return EncounterPublic.of(encounter)


def _refused(exc: EncounterError) -> Conflict:
    return Conflict(f"{exc.message}.")


async def _apply_correction(
    uow: ChargeUnitOfWork, encounter: Encounter, cmd: commands.CorrectEncounter, code_sets: CodeSets, now: datetime
) -> None:
    if encounter.status == "voided":
        raise Conflict("The encounter is voided.")
    corrected = _corrected(encounter.details, cmd)
    evaluated = await _evaluate(uow, corrected, code_sets, now.date(), encounter.source, before=encounter.details)
    if encounter.correct(evaluated.details, evaluated.issues, now, uuid.uuid4()):
        encounter.source = evaluated.source
        await uow.encounters.save(encounter)
        _publish(uow, encounter, code_sets, evaluated.payer_id)
        uow.record_access("update", "encounter", encounter.id, encounter.details.patient_id)


async def correct(
    encounter_id: UUID, cmd: commands.CorrectEncounter, uow: ChargeUnitOfWork, code_sets: CodeSets, *, revision: int
) -> EncounterPublic:
    """Validate the corrected encounter again: clean, it is captured (or, if it was, a correction is
    published); otherwise it waits in the review queue."""
    async with uow:
        encounter = await _encounter(uow, encounter_id, for_update=True)
        _as_read(encounter, revision)
        await _apply_correction(uow, encounter, cmd, code_sets, utc_now())
        view = EncounterPublic.of(encounter)
        await uow.commit()
    return view


async def void(
    encounter_id: UUID,
    cmd: commands.VoidEncounter,
    uow: ChargeUnitOfWork,
    code_sets: CodeSets,
    *,
    by: str,
    revision: int,
) -> EncounterPublic:
    async with uow:
        encounter = await _encounter(uow, encounter_id, for_update=True)
        _as_read(encounter, revision)
        try:
            encounter.void(cmd.reason, cmd.note, by=by, now=utc_now())
        except EncounterError as exc:
            raise _refused(exc) from None
        await uow.encounters.save(encounter)
        _publish(uow, encounter, code_sets, None)
        uow.record_access("void", "encounter", encounter.id, encounter.details.patient_id)
        view = EncounterPublic.of(encounter)
        await uow.commit()
    return view


# ---------------------------------------------------------------- the coding review queue


async def review_queue(uow: ChargeUnitOfWork, *, limit: int, offset: int, issue_code: str | None) -> list[ReviewPublic]:
    async with uow:
        encounters = await uow.encounters.open_reviews(limit=limit, offset=offset, issue_code=issue_code)
        for encounter in encounters:
            uow.record_access("read", "encounter", encounter.id, encounter.details.patient_id)
        await uow.commit()
    return [ReviewPublic.of(encounter) for encounter in encounters]


async def resolve_review(
    review_id: UUID, cmd: commands.ResolveReview, uow: ChargeUnitOfWork, code_sets: CodeSets, *, by: str
) -> EncounterPublic:
    """A coder's decision on an open review item: approve (with a correction, optionally) or void. An
    approval of an encounter that still has errors is refused and changes nothing."""
    now = utc_now()
    async with uow:
        encounter = await uow.encounters.by_review(review_id, for_update=True)
        review = encounter.open_review if encounter is not None else None
        if encounter is None or review is None or review.id != review_id:
            raise NotFound("No such open review item.")
        _as_read(encounter, cmd.revision)
        if cmd.decision == "void":
            encounter.void(cmd.void_reason or "other", cmd.note, by=by, now=now)
            payer_id = None
        else:
            details = _corrected(encounter.details, cmd.correction) if cmd.correction else encounter.details
            evaluated = await _evaluate(uow, details, code_sets, now.date(), encounter.source, before=encounter.details)
            try:
                encounter.approve(
                    evaluated.details, evaluated.issues, by=by, note=cmd.note, now=now, review_id=uuid.uuid4()
                )
            except EncounterError as exc:
                raise ValidationFailed(
                    [
                        {"field": f"lines.{issue.line}" if issue.line else "encounter", "message": issue.code}
                        for issue in exc.issues
                    ],
                    detail="The encounter has errors a coder cannot approve; correct them first.",
                ) from None
            encounter.source = evaluated.source
            if "IMPORT_FINDINGS" not in {issue.code for issue in encounter.blocking_issues}:
                # the coder has seen and approved what the import could not take: it is not raised again
                encounter.source = replace(encounter.source, findings=())
            payer_id = evaluated.payer_id
        await uow.encounters.save(encounter)
        _publish(uow, encounter, code_sets, payer_id)
        uow.record_access("review", "encounter", encounter.id, encounter.details.patient_id)
        view = EncounterPublic.of(encounter)
        await uow.commit()
    return view


# ---------------------------------------------------------------- price lists


async def replace_chargemaster(entries: list[ChargemasterEntry], uow: ChargeUnitOfWork) -> PriceFileSummary:
    async with uow:
        await uow.prices.replace_chargemaster(entries, utc_now())
        uow.record_access("update", "chargemaster", None, None)
        await uow.commit()
    return PriceFileSummary(stored=len(entries))


async def chargemaster(uow: ChargeUnitOfWork) -> list[ChargemasterEntry]:
    async with uow:
        return await uow.prices.chargemaster()


async def replace_contract_rates(rates: list[ContractRate], uow: ChargeUnitOfWork) -> PriceFileSummary:
    payers = {rate.payer_id for rate in rates}
    async with uow:
        await uow.prices.replace_rates(payers, rates, utc_now())
        uow.record_access("update", "contract_rates", None, None)
        await uow.commit()
    return PriceFileSummary(stored=len(rates), payers=sorted(payers))


async def contract_rates(uow: ChargeUnitOfWork, payer_id: str | None) -> list[ContractRate]:
    async with uow:
        return await uow.prices.rates(payer_id)


# ---------------------------------------------------------------- 837P import


async def import_claims(
    data: bytes, read: ImportResult, uow: ChargeUnitOfWork, code_sets: CodeSets, *, by: str
) -> ImportReport:
    """Read an 837P's claims into encounters, all in one transaction. The same file imported again answers with
    its first report and creates nothing; a claim taken before in another file (its natural key) is reported
    as a duplicate and not taken again."""
    digest = hashlib.sha256(data).hexdigest()
    now = utc_now()
    try:
        async with uow:
            existing = await uow.imports.find(digest)
            if existing is not None:
                await uow.commit()
                return _replayed(existing)
            import_id = uuid.uuid4()
            # The file's price lists, read once for all its claims.
            codes = {line.code for claim in read.claims for line in claim.details.lines}
            prices = await _price_list(uow, codes, None, every_payer=True)
            results = [await _import_claim(uow, claim, import_id, code_sets, now, prices) for claim in read.claims]
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
    code_sets: CodeSets,
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
    encounter = await _open_encounter(uow, details, code_sets, now, source, prices)
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


# ---------------------------------------------------------------- registration's events (event-carried state)


async def _release_waiting(uow: ChargeUnitOfWork, patient_id: UUID, code_sets: CodeSets) -> None:
    """Validate again the held encounters that were waiting only for this patient or its coverage."""
    now = utc_now()
    for encounter in await uow.encounters.held_for_patient(patient_id):
        if not WAITING_FOR_REGISTRATION.intersection(issue.code for issue in encounter.issues):
            continue
        evaluated = await _evaluate(uow, encounter.details, code_sets, now.date(), encounter.source)
        priced_anew = evaluated.details != encounter.details
        encounter.details = evaluated.details
        if not encounter.revalidate(evaluated.issues, now, uuid.uuid4()) and not priced_anew:
            continue  # nothing changed: the encounter is not saved, and its revision stays as coders read it
        await uow.encounters.save(encounter)
        _publish(uow, encounter, code_sets, evaluated.payer_id)
        uow.record_access("update", "encounter", encounter.id, encounter.details.patient_id)


EventHandler = Callable[[Any, Envelope, ChargeUnitOfWork], Awaitable[None]]


def event_handlers(code_sets: CodeSets) -> dict[type[IntegrationEvent], EventHandler]:
    """Registration's events, handled with the service's code sets."""

    async def on_patient_state(
        event: registration_contract.PatientRegistered | registration_contract.PatientUpdated,
        _envelope: Envelope,
        uow: ChargeUnitOfWork,
    ) -> None:
        existing = await uow.patients.get(event.patient_id)
        merged_into = existing.merged_into if existing else None
        await uow.patients.save(PatientCopy(event.patient_id, event.sex, event.birth_date, merged_into), utc_now())
        await _release_waiting(uow, event.patient_id, code_sets)

    async def on_patients_merged(
        event: registration_contract.PatientsMerged, _envelope: Envelope, uow: ChargeUnitOfWork
    ) -> None:
        now = utc_now()
        merged = await uow.patients.get(event.merged_patient_id)
        if merged is not None:
            merged.merged_into = event.surviving_patient_id
            await uow.patients.save(merged, now)
        for coverage_id in event.moved_coverage_ids:
            coverage = await uow.coverages.get(coverage_id)
            if coverage is not None:
                coverage.patient_id = event.surviving_patient_id
                await uow.coverages.save(coverage, now)
        for encounter_id in await uow.encounters.repoint(event.merged_patient_id, event.surviving_patient_id):
            uow.record_access("update", "encounter", encounter_id, event.surviving_patient_id)
        await _release_waiting(uow, event.surviving_patient_id, code_sets)

    async def on_coverage_state(
        event: registration_contract.CoverageAdded | registration_contract.CoverageUpdated,
        _envelope: Envelope,
        uow: ChargeUnitOfWork,
    ) -> None:
        coverage = CoverageCopy(
            coverage_id=event.coverage_id,
            patient_id=event.patient_id,
            payer_id=event.payer_id,
            member_id=event.member_id,
            effective_date=event.effective_date,
            termination_date=event.termination_date,
        )
        await uow.coverages.save(coverage, utc_now())
        await _release_waiting(uow, event.patient_id, code_sets)

    async def on_coverage_ended(
        event: registration_contract.CoverageEnded, _envelope: Envelope, uow: ChargeUnitOfWork
    ) -> None:
        coverage = await uow.coverages.get(event.coverage_id)
        if coverage is not None:
            coverage.termination_date = event.termination_date
            await uow.coverages.save(coverage, utc_now())

    return {
        registration_contract.PatientRegistered: on_patient_state,
        registration_contract.PatientUpdated: on_patient_state,
        registration_contract.PatientsMerged: on_patients_merged,
        registration_contract.CoverageAdded: on_coverage_state,
        registration_contract.CoverageUpdated: on_coverage_state,
        registration_contract.CoverageEnded: on_coverage_ended,
    }
