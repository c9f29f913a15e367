"""What every use case that changes an encounter shares: its lines priced from the chargemaster and the payer's
contract, its details validated against the code sets and what is known of the patient and coverage, and a
new encounter opened. The composition root builds one `EncounterEvaluator` with the service's code sets and
clock, and hands it to the use cases.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime
from uuid import UUID

from rcm_charge.domain.code_sets import CodeSets
from rcm_charge.domain.copies import CoverageCopy, PatientCopy
from rcm_charge.domain.model import Encounter, EncounterDetails, Issue, ServiceLine, Source
from rcm_charge.domain.pricing import FEE_SCHEDULE_RATE, PriceList, priced
from rcm_charge.domain.validation import PatientFacts, ValidationContext, validate
from rcm_charge.service_layer.unit_of_work import ChargeUnitOfWork
from rcm_common.types import Clock


@dataclass(frozen=True, slots=True)
class Evaluated:
    details: EncounterDetails
    issues: tuple[Issue, ...]
    payer_id: str | None
    source: Source


@dataclass(frozen=True, slots=True)
class EncounterEvaluator:
    """The code sets every encounter is validated against and the clock it is dated by."""

    code_sets: CodeSets
    clock: Clock

    async def evaluate(
        self,
        uow: ChargeUnitOfWork,
        details: EncounterDetails,
        source: Source,
        *,
        today: date,
        before: EncounterDetails | None = None,
        prices: PriceList | None = None,
        encounter_id: UUID | None = None,
    ) -> Evaluated:
        """Price the lines from the chargemaster and the payer's contract (or the price lists given, loaded once
        for a whole import), and validate the result against the code sets and what is known of the patient
        and coverage. Diagnoses are kept as the code set spells them (dotted); a merged patient is followed to
        its survivor. For a correction of `before`, diagnoses that differ from the sender's answer an import's
        ICD-9-CM ones."""
        code_sets = self.code_sets
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
            prices = await price_list(uow, {line.code for line in details.lines}, payer_id)
        details = replace(
            details,
            lines=priced(
                details.lines,
                prices,
                code_sets.fees,
                location=details.location,
                payer_id=payer_id,
                date_of_service=details.date_of_service,
                place_of_service=details.place_of_service,
            ),
        )
        facts: PatientFacts | None = patient.facts if patient is not None else None
        imported_patient = source.imported_patient
        if facts is None and imported_patient is not None:
            facts = PatientFacts(imported_patient.sex, imported_patient.birth_date)
        billed: tuple[ServiceLine, ...] = ()
        if details.patient_id is not None:
            provider = details.rendering_provider_npi or details.billing_provider_npi
            billed = tuple(
                line
                for other in await uow.encounters.captured_same_day(
                    details.patient_id, details.date_of_service, encounter_id
                )
                if (other.details.rendering_provider_npi or other.details.billing_provider_npi) == provider
                for line in other.details.lines
            )
        context = ValidationContext(
            diagnoses=code_sets.diagnoses,
            edits=code_sets.edits,
            fees=code_sets.fees,
            prices=prices,
            today=today,
            patient=facts,
            coverage=coverage.facts if coverage is not None else None,
            billed_same_day=billed,
        )
        return Evaluated(details, validate(details, context) + _import_issues(source), payer_id, source)

    async def open_encounter(
        self,
        uow: ChargeUnitOfWork,
        details: EncounterDetails,
        source: Source,
        *,
        now: datetime,
        prices: PriceList | None = None,
    ) -> Encounter:
        """A new encounter of these details, evaluated, added and audited."""
        evaluated = await self.evaluate(uow, details, source, today=now.date(), prices=prices)
        encounter = Encounter.open(
            encounter_id=uuid.uuid4(),
            details=evaluated.details,
            issues=evaluated.issues,
            now=now,
            review_id=uuid.uuid4(),
            payer_id=evaluated.payer_id,
            source=source,
        )
        await uow.encounters.add(encounter)
        uow.record_access("create", "encounter", encounter.id, encounter.details.patient_id)
        return encounter


async def price_list(
    uow: ChargeUnitOfWork, codes: set[str], payer_id: str | None, *, every_payer: bool = False
) -> PriceList:
    """The chargemaster entries of the codes, and the payer's rates for them and its fee-schedule factor
    (none without a payer), or every payer's rates for a file whose claims' payers are found one by one."""
    wanted = every_payer or payer_id is not None
    rated = codes | {FEE_SCHEDULE_RATE}
    return PriceList(
        chargemaster=tuple(await uow.prices.chargemaster(codes)),
        rates=tuple(await uow.prices.rates(None if every_payer else payer_id, rated)) if wanted else (),
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
