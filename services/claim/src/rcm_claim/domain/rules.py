"""The scrub rules. Each check yields a flag per problem it finds, in words a biller can act on, naming
fields and codes but never the patient. Sources are the 837P implementation guide (005010X222A1), CMS's
manuals and the payers' own policies; a rule changes its version whenever what it checks changes, so a
claim's provenance says which rule held it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Final

from rcm_claim.domain.coordination import missing_prior_payers, unbalanced_prior_payers
from rcm_claim.domain.deadlines import filing_deadline
from rcm_claim.domain.denial_risk import RiskKey, denial_risk, line_diagnosis_category
from rcm_claim.domain.scrubber import ClaimFacts, Flag, Rule
from rcm_common.identifiers import npi_valid

MAX_DIAGNOSES: Final = 12  # 2300 HI: one principal and eleven other diagnoses
MAX_LINES: Final = 50  # 2400 LX repeats at most 50 times per claim
MAX_POINTERS: Final = 4  # SV107: four diagnosis code pointers
TIMELY_FILING_WARNING_DAYS: Final = 7
TELEHEALTH_PLACES: Final = frozenset({"02", "10"})  # telehealth outside and in the patient's home
# Places of service a claim is rejected for without its service facility (2310C): inpatient and outpatient
# hospital, emergency room, skilled nursing facility.
FACILITY_PLACES: Final = frozenset({"21", "22", "23", "31"})  # telehealth outside and in the patient's home
ANNUAL_WELLNESS_VISITS: Final = frozenset({"G0438", "G0439"})
WELCOME_VISIT: Final = "G0402"  # the initial preventive physical examination
_DRUG_CODE: Final = re.compile(r"J[0-9]{4}")
_CENT: Final = Decimal("0.01")
ORDER_NAMES: Final = {"P": "primary", "S": "secondary", "T": "tertiary"}


def payer_known(facts: ClaimFacts) -> Iterator[Flag]:
    if facts.payer is None:
        yield Flag(f"payer {facts.claim.payer_id} is not in the payer directory")


def providers_on_file(facts: ClaimFacts) -> Iterator[Flag]:
    """2010AA's billing provider comes from the directory and must be the one the encounter was billed
    under; 2310B's rendering provider must be a provider of the practice; every NPI carries its check digit."""
    claim, directory = facts.claim, facts.providers
    if directory is None:
        yield Flag("the provider directory has no billing provider")
    elif claim.billing_provider_npi != directory.billing.npi:
        yield Flag(f"billing provider NPI {claim.billing_provider_npi} is not the directory's billing provider")
    rendering = claim.rendering_provider_npi
    if rendering is not None:
        if not npi_valid(rendering):
            yield Flag(f"rendering provider NPI {rendering} fails its check digit")
        elif directory is not None and directory.provider(rendering) is None:
            yield Flag(f"rendering provider NPI {rendering} is not in the provider directory")
    if claim.referring_provider_npi is not None and not npi_valid(claim.referring_provider_npi):
        yield Flag(f"referring provider NPI {claim.referring_provider_npi} fails its check digit")


def service_facility(facts: ClaimFacts) -> Iterator[Flag]:
    """A service given at a hospital, emergency room or nursing facility (POS 21, 22, 23, 31) names that
    facility in 2310C: the encounter's location must be one the provider directory lists as a facility."""
    claim, directory = facts.claim, facts.providers
    if claim.place_of_service not in FACILITY_PLACES or directory is None:
        return
    if claim.location is None:
        yield Flag(f"POS {claim.place_of_service} needs the service facility (2310C): the encounter names no location")
    elif directory.facility(claim.location) is None:
        yield Flag(
            f"POS {claim.place_of_service} needs the service facility (2310C): location {claim.location} is not "
            "a facility in the provider directory"
        )


def patient_and_subscriber(facts: ClaimFacts) -> Iterator[Flag]:
    """2010BA names the subscriber, and 2010CA the patient when the patient is not the subscriber: names
    and birth dates present, and the relationship consistent with whether a separate subscriber is given."""
    patient, coverage = facts.patient, facts.coverage
    if patient is None:
        yield Flag("the patient's demographics are not on file")
    elif not patient.last_name or not patient.first_name or patient.birth_date is None:
        yield Flag("the patient's last name, first name and birth date are required")
    if coverage is None:
        yield Flag("the claim's coverage is not on file")
        return
    if not coverage.member_id.strip():
        yield Flag("the coverage has no member id (2010BA NM109)")
    if coverage.payer_id != facts.claim.payer_id:
        yield Flag(f"the coverage is with payer {coverage.payer_id}, not {facts.claim.payer_id}")
    subscriber = coverage.subscriber
    if coverage.relationship == "self" and subscriber is not None:
        yield Flag("relationship is self, yet a separate subscriber is recorded on the coverage")
    elif coverage.relationship != "self":
        if subscriber is None:
            yield Flag(f"relationship is {coverage.relationship}, so the subscriber's details are required")
        elif not subscriber.last_name or not subscriber.first_name or subscriber.birth_date is None:
            yield Flag("the subscriber's last name, first name and birth date are required")


def coverage_inactive(facts: ClaimFacts) -> Iterator[Flag]:
    """A claim for a day the payer says is not covered will be rejected: the member unknown (AAA), the plan
    inactive, or the day outside the plan's or the coverage's dates."""
    day, coverage, answer = facts.claim.date_of_service, facts.coverage, facts.eligibility
    if coverage is not None and not coverage.effective_date <= day <= (coverage.termination_date or day):
        yield Flag(f"the coverage does not hold {day.isoformat()}: registration's dates exclude it")
    if answer is None or answer.status == "unanswered":
        return
    codes = f" (AAA {', '.join(answer.reject_codes)})" if answer.reject_codes else ""
    if answer.status == "not_found":
        yield Flag(f"the payer does not know the member{codes}: check the member id and name with the card")
    elif answer.status == "mismatch":
        yield Flag(f"the payer could not match the member's details{codes}: correct them in registration")
    elif answer.status == "active" and not answer.active_on(day):
        yield Flag(f"the payer's plan dates do not hold {day.isoformat()}")
    elif answer.status == "inactive" and answer.speaks_for(day):
        yield Flag(f"the payer said the coverage is inactive on {day.isoformat()}")


def coverage_unverified(facts: ClaimFacts) -> Iterator[Flag]:
    answer = facts.eligibility
    if answer is None or answer.status == "unanswered":
        yield Flag("no eligibility answer from the payer is on file for the coverage")
    elif facts.payer is not None and (facts.today - answer.checked_at.date()).days > (
        limit := facts.payer.eligibility_max_age_days
    ):
        checked = answer.checked_at.date().isoformat()
        yield Flag(f"the eligibility answer of {checked} is older than the {limit} days {facts.claim.payer_id} trusts")
    elif answer.status == "inactive" and not answer.speaks_for(facts.claim.date_of_service):
        yield Flag(
            f"the latest eligibility answer is for {answer.date_of_service.isoformat()}, another date of service"
        )


def prior_authorization(facts: ClaimFacts) -> Iterator[Flag]:
    """Every code the payer requires an authorisation for has one on file for the coverage, in date on the
    line's date of service, with the line's units left after the patient's other claims."""
    if facts.payer is None:
        return
    for line in facts.claim.lines:
        if line.procedure_code not in facts.payer.prior_authorization_codes:
            continue
        authorization, left = facts.authorization_for(line)
        if authorization is None:
            yield Flag(
                f"{line.procedure_code} needs a prior authorisation on file for {line.date_of_service.isoformat()}",
                line.number,
            )
        elif left < line.units:
            yield Flag(
                f"the authorisation on file for {line.procedure_code} has {left} of its {line.units} units left",
                line.number,
            )


def timely_filing(facts: ClaimFacts) -> Iterator[Flag]:
    """Past the payer's window the claim is denied (CARC 29). The message names the deadline, not a count of
    days, so it reads the same tomorrow and an override of it stands."""
    if facts.payer is not None and facts.today > (
        deadline := filing_deadline(facts.payer, facts.claim.date_of_service)
    ):
        yield Flag(f"{facts.payer.payer_id}'s timely-filing window closed on {deadline.isoformat()}")


def timely_filing_near(facts: ClaimFacts) -> Iterator[Flag]:
    if facts.payer is None:
        return
    deadline = filing_deadline(facts.payer, facts.claim.date_of_service)
    if 0 <= (deadline - facts.today).days <= TIMELY_FILING_WARNING_DAYS:
        yield Flag(f"{facts.payer.payer_id}'s timely-filing window closes on {deadline.isoformat()}")


def diagnosis_pointers(facts: ClaimFacts) -> Iterator[Flag]:
    """HI holds 1 to 12 diagnoses; each line points at one to four of them (SV107), each once."""
    count = len(facts.claim.diagnoses)
    if not 1 <= count <= MAX_DIAGNOSES:
        yield Flag(f"a claim carries 1 to {MAX_DIAGNOSES} diagnoses, not {count}")
    for line in facts.claim.lines:
        pointers = line.diagnosis_pointers
        if not 1 <= len(pointers) <= MAX_POINTERS:
            yield Flag(
                f"{line.procedure_code} points at {len(pointers)} diagnoses; a line points at 1 to 4", line.number
            )
        if len(set(pointers)) != len(pointers):
            yield Flag(f"{line.procedure_code} points at the same diagnosis twice", line.number)
        if outside := sorted(p for p in set(pointers) if not 1 <= p <= count):
            yield Flag(
                f"{line.procedure_code} points at diagnosis {', '.join(map(str, outside))}; the claim has {count}",
                line.number,
            )


def line_amounts(facts: ClaimFacts) -> Iterator[Flag]:
    """Each line bills a positive charge in cents for positive units, and the claim holds 1 to 50 lines."""
    lines = facts.claim.lines
    if not 1 <= len(lines) <= MAX_LINES:
        yield Flag(f"a claim holds 1 to {MAX_LINES} service lines, not {len(lines)}")
    for line in lines:
        if line.charge <= 0 or line.charge != line.charge.quantize(_CENT):
            yield Flag(f"{line.procedure_code} bills {line.charge}; a line's charge is positive, in cents", line.number)
        if line.units <= 0:
            yield Flag(f"{line.procedure_code} bills {line.units} units; units are positive", line.number)


def duplicate_claim(facts: ClaimFacts) -> Iterator[Flag]:
    """The same code with the same modifiers on the same day at the same payer, on another standing claim,
    is a duplicate the payer denies (CARC 18); a repeat service says so with modifier 76 or 77."""
    for line in facts.claim.lines:
        key = (line.procedure_code, frozenset(line.modifiers), line.date_of_service)
        for other in facts.standing_claims():
            if other.payer_id != facts.claim.payer_id:
                continue
            match = next(
                (o for o in other.lines if (o.procedure_code, frozenset(o.modifiers), o.date_of_service) == key),
                None,
            )
            if match is not None:
                yield Flag(
                    f"{line.procedure_code} on {line.date_of_service.isoformat()} duplicates line {match.number}"
                    f" of claim {other.id} ({other.patient_control_number})",
                    line.number,
                )


def prior_payers_reported(facts: ClaimFacts) -> Iterator[Flag]:
    """A claim to a secondary or tertiary payer reports each earlier payer's adjudication (2320, 2330B, 2430):
    the next payer pays from it, and without it denies the claim (CO-22, coordination of benefits)."""
    this = ORDER_NAMES[facts.claim.responsibility]
    for order in missing_prior_payers(facts.claim):
        yield Flag(f"a claim to the {this} payer needs the {ORDER_NAMES[order]} payer's adjudication (2320/2430): "
                   "bill it after that payer's 835")  # fmt: skip
    for problem in unbalanced_prior_payers(facts.claim):
        yield Flag(problem)


def denial_risk_warning(facts: ClaimFacts) -> Iterator[Flag]:
    """A line of a kind the payer has often denied lately (its code, modifiers and diagnosis category, from
    the practice's own decided claims, smoothed toward the payer's rate: `domain/denial_risk.py`) is likely
    denied again: a warning naming the counts and the usual reason, with the denied claims as evidence."""
    if not facts.denial_history:
        return
    claim = facts.claim
    for line in claim.lines:
        category = line_diagnosis_category(claim.diagnoses, line.diagnosis_pointers)
        if category is None:  # DIAGNOSIS_POINTERS holds the claim
            continue
        key = RiskKey(claim.payer_id, line.procedure_code, line.modifiers, category)
        risk = denial_risk(key, facts.denial_history, facts.risk_settings, facts.today)
        if risk is not None:
            yield Flag(risk.message, line.number, evidence=risk.denied_claim_ids)


def annual_wellness_visit_once_a_year(facts: ClaimFacts) -> Iterator[Flag]:
    """Medicare pays the initial annual wellness visit (G0438) once in a lifetime and not within 12 months of
    the welcome visit (G0402), and a subsequent one (G0439) only after 11 full months have passed following
    the month of the last wellness visit (42 CFR 410.15; MLN6775421). Visits on other claims count whichever
    was entered first, and so do the claim's own other lines."""
    visits = [
        (line.procedure_code, line.date_of_service)
        for other in facts.standing_claims()
        if other.payer_id == facts.claim.payer_id
        for line in other.lines
        if line.procedure_code in ANNUAL_WELLNESS_VISITS | {WELCOME_VISIT}
    ]
    own = [(line.number, line.procedure_code, line.date_of_service) for line in facts.claim.lines]
    for number, code, day in own:
        if code not in ANNUAL_WELLNESS_VISITS:
            continue
        others = visits + [(c, d) for n, c, d in own if n != number and c in ANNUAL_WELLNESS_VISITS | {WELCOME_VISIT}]
        wellness = sorted(d for c, d in others if c in ANNUAL_WELLNESS_VISITS)
        welcome = [d for c, d in others if c == WELCOME_VISIT and d <= day < _a_year_after(d)]
        if welcome:
            yield Flag(f"{code} comes 12 months after the welcome visit (G0402) of {welcome[0].isoformat()}", number)
        elif code == "G0438" and (before := [d for d in wellness if d <= day]):
            yield Flag(
                f"G0438 is once in a lifetime; an annual wellness visit was billed for {before[-1].isoformat()}", number
            )
        elif close := [d for d in wellness if d <= day < _first_day_eleven_full_months_after(d)
                       or day <= d < _first_day_eleven_full_months_after(day)]:  # fmt: skip
            yield Flag(
                f"{code} is within 11 full months of the annual wellness visit of {close[0].isoformat()}", number
            )


def telehealth_modifier(facts: ClaimFacts) -> Iterator[Flag]:
    """The payer pays a telehealth service (POS 02 or 10) only with modifier 95 on the line."""
    if facts.claim.place_of_service in TELEHEALTH_PLACES:
        for line in facts.claim.lines:
            if "95" not in line.modifiers:
                yield Flag(
                    f"{line.procedure_code} at POS {facts.claim.place_of_service} needs modifier 95", line.number
                )


def drug_line_ndc(facts: ClaimFacts) -> Iterator[Flag]:
    """Medicaid pays a physician-administered drug (a J code) only with its NDC (DRA 2005 §6002)."""
    for line in facts.claim.lines:
        if _DRUG_CODE.fullmatch(line.procedure_code) and not line.ndc:
            yield Flag(f"{line.procedure_code} is a drug line and needs its NDC (2410 LIN)", line.number)


RULES: Final[tuple[Rule, ...]] = (
    Rule("PAYER_KNOWN", 1, "blocking", "the payer is in the payer directory", payer_known, overridable=False,
         checks_voids=True),
    Rule("PROVIDERS", 1, "blocking", "billing and rendering providers on file, NPIs valid", providers_on_file,
         overridable=False, checks_voids=True),
    Rule("PATIENT_SUBSCRIBER", 1, "blocking", "patient and subscriber complete and consistent",
         patient_and_subscriber, overridable=False),
    Rule("SERVICE_FACILITY", 1, "blocking", "a facility's place of service names the facility (2310C)",
         service_facility, overridable=False),
    Rule("COVERAGE_INACTIVE", 2, "blocking", "the payer covers the date of service", coverage_inactive),
    Rule("COVERAGE_UNVERIFIED", 2, "warning", "a recent eligibility answer is on file", coverage_unverified),
    Rule("PRIOR_AUTH", 2, "blocking", "prior authorisation on file, in date, with units left", prior_authorization),
    Rule("TIMELY_FILING", 2, "blocking", "within the payer's timely-filing window", timely_filing),
    Rule("TIMELY_FILING_NEAR", 2, "warning", "a week or less left to file", timely_filing_near),
    Rule("DIAGNOSIS_POINTERS", 1, "blocking", "1 to 12 diagnoses, each line pointing at 1 to 4 of them",
         diagnosis_pointers, overridable=False, checks_voids=True),
    Rule("LINE_AMOUNTS", 1, "blocking", "positive charges in cents and positive units", line_amounts,
         overridable=False, checks_voids=True),
    Rule("DUPLICATE_CLAIM", 2, "blocking", "no other standing claim bills the same service", duplicate_claim),
    Rule("PRIOR_PAYERS", 1, "blocking", "a secondary or tertiary claim reports the earlier payers' adjudication",
         prior_payers_reported, overridable=False),
    Rule("DENIAL_RISK", 1, "warning", "no line of a kind the payer has often denied lately", denial_risk_warning),
    Rule("MCARE1_AWV_FREQUENCY", 2, "blocking", "annual wellness visits at Medicare's frequency",
         annual_wellness_visit_once_a_year, payers=frozenset({"MCARE1"})),
    Rule("ACME01_TELEHEALTH_95", 1, "blocking", "telehealth lines carry modifier 95", telehealth_modifier,
         payers=frozenset({"ACME01"})),
    Rule("MCAID1_DRUG_NDC", 1, "blocking", "drug lines carry their NDC", drug_line_ndc,
         payers=frozenset({"MCAID1"}), overridable=False),
)  # fmt: skip


def _a_year_after(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return date(day.year + 1, 3, 1)


def _first_day_eleven_full_months_after(day: date) -> date:
    """The first day of the twelfth month after the day's month: 11 full months have then passed."""
    month = day.month + 11  # 0-based month index of the month after 11 full months
    return date(day.year + month // 12, month % 12 + 1, 1)
