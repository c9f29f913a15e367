"""An 837P batch from a practice-management system, read into encounter drafts.

Each claim (2300) becomes the details of one encounter, for the caller to match to a patient and coverage, to
price from the chargemaster and to validate; the source's charges are kept only for the import report. What
could not be taken as sent is said in the claim's `findings` rather than guessed silently, and validation holds
what is left incomplete (a line without units gets 0 units). A claim that cannot become an encounter at all is
returned as a `SkippedClaim`. A file that is not a readable 5010 professional 837 is refused whole.

Names, member ids, birth dates, claim numbers and diagnoses are PHI: they stay out of reprs and messages.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from rcm_charge.domain.code_sets import dotted
from rcm_charge.domain.imports import ClaimPosition, ImportedClaim, ImportResult, SkippedClaim
from rcm_charge.domain.model import MAX_DIAGNOSES, MAX_POINTERS, EncounterDetails, ImportedPatient, ServiceLine
from rcm_x12.errors import X12Error
from rcm_x12.professional_claim_reader import (
    ClaimLine,
    ClaimProvider,
    ClaimSubscriber,
    ReceivedClaim,
    professional_claims_of,
)
from rcm_x12.reader import Transaction, read
from rcm_x12.writer import Member

__all__ = ["ClaimPosition", "ImportRefused", "ImportResult", "ImportedClaim", "SkippedClaim", "read_837p_claims"]

_PROFESSIONAL = "005010X222"  # ST03 (or GS08) of an 837P: 005010X222A1, and the A2 errata some send
_INSTITUTIONAL = "005010X223"
_CUT_SHORT = "the transaction set is cut short (no SE): the claim may be missing lines"


class ImportRefused(ValueError):
    """The file cannot be imported at all; `message` says why, naming no PHI."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def read_837p_claims(data: bytes) -> ImportResult:
    """Every claim of every 837P transaction set in the file; raises ImportRefused when the file is not X12
    5010, holds no 837, holds an 837 other than professional, or breaks the 837P hierarchy."""
    try:
        interchanges = read(data)
    except X12Error as error:
        raise ImportRefused(f"the file is not a readable X12 5010 interchange: {error}") from error
    sets = [
        (transaction, interchange, transaction.implementation or group.version)
        for interchange in interchanges
        for group in interchange.groups
        for transaction in group.transactions
        if transaction.set_id == "837"
    ]
    if not sets:
        raise ImportRefused("the file holds no 837 claim transaction set")
    for transaction, _interchange, guide in sets:
        if guide.startswith(_INSTITUTIONAL):
            raise ImportRefused(
                f"the 837 at segment position {transaction.position} is an institutional claim (837I, {guide}); "
                f"only professional claims (837P, {_PROFESSIONAL}A1) are imported"
            )
        if not guide.startswith(_PROFESSIONAL):
            raise ImportRefused(
                f"the 837 at segment position {transaction.position} is not a 5010 professional claim "
                f"(837P, {_PROFESSIONAL}A1): its implementation is {guide or 'not named'}"
            )
    findings = [finding for interchange in interchanges for finding in interchange.findings]
    claims: list[ImportedClaim] = []
    skipped: list[SkippedClaim] = []
    for number, (transaction, interchange, _guide) in enumerate(sets, start=1):
        try:
            batch = professional_claims_of(transaction, interchange)
        except X12Error as error:
            raise ImportRefused(
                f"the 837 at segment position {transaction.position} cannot be read: {error}"
            ) from error
        findings += batch.findings
        for taken in _claims_of(batch.providers, transaction, number):
            if isinstance(taken, ImportedClaim):
                claims.append(taken)
            else:
                skipped.append(taken)
    return ImportResult(tuple(claims), tuple(skipped), tuple(findings))


def _claims_of(
    providers: list[ClaimProvider], transaction: Transaction, batch: int
) -> list[ImportedClaim | SkippedClaim]:
    """The claims of one transaction set, in file order."""
    held = sorted(
        (
            (claim, subscriber, provider)
            for provider in providers
            for subscriber in provider.subscribers
            for claim in subscriber.claims
        ),
        key=lambda item: item[0].position,
    )
    last = held[-1][0].position if held and not transaction.complete else None
    taken: list[ImportedClaim | SkippedClaim] = []
    for number, (claim, subscriber, provider) in enumerate(held, start=1):
        position = ClaimPosition(batch, number, claim.position)
        patient = claim.patient or subscriber.subscriber
        findings = (_CUT_SHORT,) if claim.position == last else ()
        taken.append(_claim(claim, subscriber, provider, patient, position, findings))
    return taken


def _claim(
    claim: ReceivedClaim,
    subscriber: ClaimSubscriber,
    provider: ClaimProvider,
    patient: Member,
    position: ClaimPosition,
    findings: tuple[str, ...],
) -> ImportedClaim | SkippedClaim:
    if claim.frequency == "8":
        return SkippedClaim(claim.claim_id, position, "the claim voids an earlier claim (CLM05-3 frequency 8)")
    if not claim.lines:
        return SkippedClaim(claim.claim_id, position, "the claim has no service lines")
    notes = list(findings)
    procedures = []
    for line in claim.lines:
        if line.qualifier == "HC":
            procedures.append(line)
        else:
            notes.append(
                f"line {line.number}: its SV101-1 {line.qualifier or '(empty)'} is not HC (HCPCS/CPT); left out"
            )
    if not procedures:
        return SkippedClaim(claim.claim_id, position, "no service line is a HCPCS/CPT (HC) procedure")
    day = min((line.service_date for line in procedures if line.service_date), default=None)
    if day is None:
        return SkippedClaim(claim.claim_id, position, "no service line has a date of service (DTP*472)")
    lines = tuple(_line(line, day, claim.place_of_service, notes) for line in procedures)
    billing = provider.provider.npi
    details = EncounterDetails(
        patient_id=None,
        coverage_id=None,
        date_of_service=day,
        place_of_service=claim.place_of_service,
        billing_provider_npi=billing,
        diagnoses=_diagnoses(claim.diagnoses, notes),
        lines=lines,
        rendering_provider_npi=_rendering(claim, billing, notes),
        referring_provider_npi=_referring(claim, notes),
    )
    payer_id = subscriber.payer.payer_id
    notes += _claim_notes(claim, subscriber, billing)
    source = ImportedPatient(
        first_name=patient.first_name,
        last_name=patient.last_name,
        birth_date=patient.birth_date,
        sex=patient.gender,
        member_id=subscriber.subscriber.member_id,
        payer_id=payer_id,
    )
    charges = tuple(line.charge for line in procedures)
    return ImportedClaim(
        claim.claim_id, position, details, source, payer_id, charges, tuple(notes), claim.icd9_diagnoses
    )


def _line(line: ClaimLine, day: date, place_of_service: str, notes: list[str]) -> ServiceLine:
    number = f"line {line.number}"
    units = line.units
    if units is None:
        notes.append(f"{number}: no units (SV104); 0 taken, for a coder to set")
        units = Decimal(0)
    elif line.unit_basis == "MJ":
        notes.append(f"{number}: its units are minutes (SV103 MJ); a coder sets the billing units")
    pointers = line.pointers
    if len(pointers) > MAX_POINTERS:
        notes.append(f"{number}: {len(pointers)} diagnosis pointers; the first {MAX_POINTERS} were kept")
        pointers = pointers[:MAX_POINTERS]
    if line.service_date is None:
        notes.append(f"{number}: no date of service (DTP*472); the claim's earliest was taken")
    elif line.service_end is not None and line.service_end != line.service_date:
        notes.append(f"{number}: its date of service is a span of days (RD8); the first was taken")
    if line.place_of_service and line.place_of_service != place_of_service:
        notes.append(f"{number}: its place of service (SV105 {line.place_of_service}) differs; the claim's was kept")
    return ServiceLine(
        code=line.procedure.upper(),
        modifiers=tuple(modifier.upper() for modifier in line.modifiers),
        units=units,
        diagnosis_pointers=pointers,
        date_of_service=line.service_date if line.service_date != day else None,
    )


def _diagnoses(codes: list[str], notes: list[str]) -> tuple[str, ...]:
    """ICD-10-CM codes dotted as billed (E119 to E11.9), at most twelve."""
    if len(codes) > MAX_DIAGNOSES:
        notes.append(f"{len(codes)} diagnoses; the first {MAX_DIAGNOSES} were kept")
    return tuple(dotted(code) for code in codes[:MAX_DIAGNOSES])


def _rendering(claim: ReceivedClaim, billing: str, notes: list[str]) -> str:
    """2310B's NPI; the billing provider's when there is none (the 837P leaves 2310B off when they are one)."""
    if claim.rendering is None:
        return billing
    if not claim.rendering.npi:
        notes.append("the rendering provider (2310B) has no NPI; the billing provider's was taken")
        return billing
    return claim.rendering.npi


def _referring(claim: ReceivedClaim, notes: list[str]) -> str | None:
    if claim.referring is None:
        return None
    if not claim.referring.npi:
        notes.append("the referring provider (2310A) has no NPI; none was taken")
    return claim.referring.npi or None


def _claim_notes(claim: ReceivedClaim, subscriber: ClaimSubscriber, billing: str) -> list[str]:
    notes = []
    if not billing:
        notes.append("the billing provider (2010AA) has no NPI")
    if not subscriber.payer.payer_id:
        notes.append("the payer (2010BB) has no payer id")
    if subscriber.responsibility not in ("P", ""):
        notes.append(
            f"the claim is not to the primary payer (SBR01 {subscriber.responsibility}): its services may "
            "already have come with the primary payer's claim"
        )
    if claim.frequency == "7":
        notes.append("the claim replaces an earlier claim (CLM05-3 frequency 7): a coder corrects that encounter")
    return notes
