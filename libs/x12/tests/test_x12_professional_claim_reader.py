"""The 837P reader: what write_837p writes reads back to the same values (parties, claims, lines, the
secondary claim's other payer and line adjudications), and every 837P of the shared corpus is read with
the manifest's count of claims."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from rcm_x12 import X12Error
from rcm_x12.corpus import CorpusFile, default_root, manifest
from rcm_x12.professional_claim_reader import read_professional_claims
from rcm_x12.professional_claim_writer import Dependent, LineAdjudication, OtherCoverage, SubscriberClaims, write_837p
from rcm_x12.remittance_reader import Adjustment
from rcm_x12.testing.claims import (
    BILLING,
    ENVELOPE,
    HOME,
    PAYER,
    PRIMARY,
    RENDERING,
    batch,
    claim,
    line,
    one_claim,
    subscriber,
)
from rcm_x12.writer import Member, Provider

CORPUS = default_root()
PROFESSIONAL = [f for f in manifest(CORPUS) if f.kind == "837P" and f.must_read]


def test_a_written_claim_reads_back_the_same() -> None:
    written = claim(prior_authorization="AUTH77", rendering=RENDERING, referring=Provider("REF", "1588667638"))
    [read] = read_professional_claims(write_837p(one_claim(written, group_number="GRP1"), ENVELOPE))

    [provider] = read.providers
    [held] = provider.subscribers
    [got] = read.claims
    assert (provider.provider.npi, provider.tax_id, provider.provider.taxonomy) == (
        "1234567893",
        "371234567",
        "207Q00000X",
    )
    assert provider.address is not None
    assert provider.address.line1 == BILLING.address.line1
    assert (held.subscriber, held.payer, held.group_number, held.patient) == (subscriber(), PAYER, "GRP1", None)
    assert (got.claim_id, got.charge, got.place_of_service, got.frequency) == ("CLM1", Decimal("185.50"), "11", "1")
    assert (got.diagnoses, got.prior_authorization) == (["J449", "E119"], "AUTH77")
    assert got.rendering == RENDERING
    assert got.referring == Provider("REF", "1588667638")
    first, second = got.lines
    assert (first.procedure, first.modifiers, first.charge, first.units, first.pointers) == (
        "99214",
        ("25",),
        Decimal("150.00"),
        Decimal("1"),
        (1, 2),
    )
    assert (first.service_date, first.control_number, second.procedure) == (date(2026, 2, 27), "LINE1", "85025")
    assert read.findings == []


def test_a_dependant_patient_holds_the_claims() -> None:
    child = Member("DOE", "TOM", birth_date=date(2015, 6, 1), gender="M", address=HOME)
    text = write_837p(
        batch(SubscriberClaims(subscriber(), PAYER, (claim(),), dependent=Dependent(child, "19"))), ENVELOPE
    )

    [held] = read_professional_claims(text)[0].subscribers

    assert (held.patient, held.patient_relationship, len(held.claims)) == (child, "19", 1)
    assert (held.claims[0].patient, held.claims[0].patient_relationship) == (child, "19")


def test_each_claim_names_its_own_patient_when_one_subscriber_loop_holds_two() -> None:
    """Another system may put two dependants' 2000C levels under one 2000B: each claim is its patient's."""
    amy = Member("DOE", "AMY", birth_date=date(2013, 2, 3), gender="F", address=HOME)
    tom = Member("DOE", "TOM", birth_date=date(2015, 6, 1), gender="M", address=HOME)
    first = write_837p(
        batch(SubscriberClaims(subscriber(), PAYER, (claim(),), dependent=Dependent(amy, "19"))), ENVELOPE
    )
    second = write_837p(
        batch(SubscriberClaims(subscriber(), PAYER, (claim(),), dependent=Dependent(tom, "19"))), ENVELOPE
    )
    tom_level = second[second.index("~HL*3*2*23") : second.index("~SE*")].replace("HL*3*2*23", "HL*4*2*23")
    start, end = first.index("~ST*") + 1, first.index("~SE*")
    body = first[start:end] + tom_level + "~"
    joined = first[:start] + body + f"SE*{body.count('~') + 1}*0001" + first[first.index("~GE*") :]

    [held] = read_professional_claims(joined)[0].subscribers

    assert [claim.patient for claim in held.claims] == [amy, tom]
    assert held.patient == tom  # the last read, as before


def test_icd9_diagnoses_are_told_apart() -> None:
    text = write_837p(batch(SubscriberClaims(subscriber(), PAYER, (claim(),))), ENVELOPE)
    [icd10] = read_professional_claims(text)[0].claims
    [icd9] = read_professional_claims(text.replace("HI*ABK:", "HI*BK:").replace("*ABF:", "*BF:"))[0].claims
    assert (icd10.icd9_diagnoses, icd9.icd9_diagnoses) == (False, True)
    assert icd9.diagnoses == icd10.diagnoses


def test_a_secondary_claim_reads_the_prior_payer_and_its_line_adjudications() -> None:
    adjudicated = date(2026, 3, 1)
    prior = OtherCoverage(  # balanced: CLM02 150.00 = AMT*D 50.00 + the 2320 CAS 50.00 + the 2430 CAS 50.00
        subscriber(), PRIMARY, "P", paid=Decimal("50.00"),
        adjustments=(Adjustment("PR", "1", Decimal("50.00")),), adjudication_date=adjudicated,
    )  # fmt: skip
    paid_line = LineAdjudication("FIRST1", Decimal("100.00"), "99214", Decimal("1"), adjudicated,
                                 adjustments=(Adjustment("CO", "45", Decimal("50.00")),))  # fmt: skip
    written = claim(other_coverage=(prior,), lines=(line(adjudications=(paid_line,)),))
    [got] = read_professional_claims(write_837p(one_claim(written, responsibility="S"), ENVELOPE))[0].claims

    [other] = got.other_payers
    assert (other.responsibility, other.paid, other.adjustments) == (
        "P",
        Decimal("50.00"),
        [Adjustment("PR", "1", Decimal("50.00"))],
    )
    assert other.payer == PRIMARY
    assert other.subscriber is not None
    assert other.adjudication_date == adjudicated
    [svd] = got.lines[0].other_payers
    assert (svd.payer_id, svd.paid, svd.procedure, svd.adjustments) == (
        "FIRST1",
        Decimal("100.00"),
        "99214",
        [Adjustment("CO", "45", Decimal("50.00"))],
    )


def test_a_malformed_amount_is_refused_naming_the_element() -> None:
    text = write_837p(one_claim(), ENVELOPE).replace("SV1*HC:99214:25*150*", "SV1*HC:99214:25*1X0*")

    with pytest.raises(X12Error, match="SV102"):
        read_professional_claims(text)


def test_a_pointer_that_is_no_number_is_noted_not_refused() -> None:
    text = write_837p(one_claim(), ENVELOPE).replace("*1:2~", "*1:B~")

    [read] = read_professional_claims(text)

    assert read.claims[0].lines[0].pointers == (1,)
    assert any("SV107" in finding for finding in read.findings)


def test_the_corpus_lists_its_professional_claims() -> None:
    assert len(PROFESSIONAL) == 59


@pytest.mark.parametrize("entry", PROFESSIONAL, ids=lambda f: f.path)
def test_every_corpus_837p_is_read_with_its_claims(entry: CorpusFile) -> None:
    batches = read_professional_claims((CORPUS / entry.path).read_bytes())

    assert sum(len(b.claims) for b in batches) == entry.clm
    assert all(claim.claim_id for b in batches for claim in b.claims)
