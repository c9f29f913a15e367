"""The 837P import: a written claim maps exactly onto encounter details and its imported patient, what cannot be
taken as sent is a finding, a claim that cannot be an encounter is skipped, a file that is not a 5010 837P is
refused whole, and every must-read 837P of the shared corpus imports with the manifest's count of claims."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import cache

import pytest

from rcm_charge.adapters.x12_import import (
    ClaimPosition,
    ImportedClaim,
    ImportRefused,
    ImportResult,
    SkippedClaim,
    read_837p_claims,
)
from rcm_charge.domain.model import EncounterDetails, ImportedPatient, ServiceLine
from rcm_charge.testing import (
    CHILD,
    FIRST_DAY,
    NEXT_DAY,
    REFERRING,
    RENDERING,
    claim,
    line,
    text_of,
)
from rcm_x12.corpus import CorpusFile, default_root, manifest
from rcm_x12.professional_claim_writer import (
    Dependent,
)

CORPUS = default_root()
PROFESSIONAL = [f for f in manifest(CORPUS) if f.kind == "837P" and f.must_read]
# The manifest counts these as 837P by GS08, but their ST03 is 005010X223 and they hold institutional claims
# (CL1, SV2): the codec's structure tests leave them unchecked as 837I, and the import refuses them.
INSTITUTIONAL = {
    "OopFactory-X12Parser/tests/OopFactory.X12.Hipaa.Tests.Unit/Claims/TestData/InstitutionalClaim5010.txt",
    *(
        f"OopFactory-X12Parser/tests/OopFactory.X12.Tests.Unit/Parsing/_SampleEdiFiles/INS/_837I/_5010/{name}.txt"
        for name in (
            "Spec_3.1.1",
            "Spec_3.1.2_TwoClaimsForTheSameProvider",
            "Spec_3.1.3_PPORepricedClaim",
            "Spec_3.1.4_OutOfNetworkRepricedClaim",
        )
    ),
}


def edited(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new)


def imported(text: str) -> ImportResult:
    return read_837p_claims(text.encode())


def test_a_claim_maps_onto_encounter_details_and_its_imported_patient() -> None:
    written = claim(
        lines=(
            line("99214", "150.00", service_date=NEXT_DAY, pointers=(1, 2), modifiers=("25",)),
            line("85025", "35.50", "2", pointers=(3,)),
            line("20610", "210.00", pointers=(1, 2, 3, 1), modifiers=("RT", "59", "GA", "KX")),
        ),
        rendering=RENDERING,
        referring=REFERRING,
    )

    result = imported(text_of(written, dependent=Dependent(CHILD, "19")))

    [taken] = result.claims
    assert (result.skipped, result.findings) == ((), ())
    assert taken == ImportedClaim(
        reference="CLM1",
        position=ClaimPosition(batch=1, claim=1, segment=26),
        details=EncounterDetails(
            patient_id=None,
            coverage_id=None,
            date_of_service=FIRST_DAY,  # the earliest line's
            place_of_service="11",
            billing_provider_npi="1234567893",
            diagnoses=("J44.9", "E11.9", "I10"),
            lines=(
                ServiceLine("99214", ("25",), Decimal(1), (1, 2), date_of_service=NEXT_DAY),
                ServiceLine("85025", (), Decimal(2), (3,)),
                ServiceLine("20610", ("RT", "59", "GA", "KX"), Decimal(1), (1, 2, 3, 1)),
            ),
            rendering_provider_npi="1098765432",
            referring_provider_npi="1588667638",
            location=None,
        ),
        source_patient=ImportedPatient("TOM", "DOE", date(2015, 6, 1), "M", member_id="W123456789", payer_id="BHP01"),
        payer_id="BHP01",
        source_charges=(Decimal("150.00"), Decimal("35.50"), Decimal("210.00")),
    )
    assert taken.details.total_charge is None  # the service prices the lines from its chargemaster


def test_the_subscriber_is_the_patient_and_the_billing_provider_renders_when_no_other_is_named() -> None:
    [taken] = imported(text_of()).claims

    assert taken.source_patient == ImportedPatient(
        "JANE", "DOE", date(1980, 1, 2), "F", member_id="W123456789", payer_id="BHP01"
    )
    assert (taken.details.rendering_provider_npi, taken.details.referring_provider_npi) == ("1234567893", None)


def test_codes_are_upper_cased_and_diagnoses_dotted_once() -> None:
    text = edited(text_of(), "HI*ABK:J449*ABF:E119*ABF:I10", "HI*ABK:e11.9*ABF:j449*ABF:Z23*ABF:f32a")
    text = edited(text, "SV1*HC:99214*", "SV1*HC:j1100:jw*")

    [taken] = imported(text).claims

    assert taken.details.diagnoses == ("E11.9", "J44.9", "Z23", "F32.A")
    assert (taken.details.lines[0].code, taken.details.lines[0].modifiers) == ("J1100", ("JW",))
    assert taken.findings == ()


def test_what_a_line_cannot_take_as_sent_is_a_finding() -> None:
    lines = (
        line("99214", pointers=(1, 2)),
        line("85025", "35.50", "2", service_date=NEXT_DAY),
        line("96372", "25.00"),
        line("E0601", "90.00", service_end=date(2026, 3, 26), place_of_service="12"),
        line("00400", "400.00", "45"),
        line("36415", "10.00"),
    )
    text = text_of(claim(lines=lines))
    text = edited(text, "*1:2~", "*1:2:3:1:2~")  # five pointers
    text = edited(text, "SV1*HC:85025*35.5*UN*2*", "SV1*HC:85025*35.5*UN**")  # no units
    text = edited(text, "SV1*HC:96372", "SV1*IV:96372")  # not a procedure
    text = edited(text, "SV1*HC:00400*400*UN", "SV1*HC:00400*400*MJ")  # anesthesia minutes
    text = edited(text, "SV1*HC:36415*10*UN*1***1~DTP*472*D8*20260227~", "SV1*HC:36415*10*UN*1***1~")  # no date

    [taken] = imported(text).claims

    assert taken.findings == (
        "line 3: its SV101-1 IV is not HC (HCPCS/CPT); left out",
        "line 1: 5 diagnosis pointers; the first 4 were kept",
        "line 2: no units (SV104); 0 taken, for a coder to set",
        "line 4: its date of service is a span of days (RD8); the first was taken",
        "line 4: its place of service (SV105 12) differs; the claim's was kept",
        "line 5: its units are minutes (SV103 MJ); a coder sets the billing units",
        "line 6: no date of service (DTP*472); the claim's earliest was taken",
    )
    assert [(ln.code, ln.units, ln.diagnosis_pointers, ln.date_of_service) for ln in taken.details.lines] == [
        ("99214", Decimal(1), (1, 2, 3, 1), None),
        ("85025", Decimal(0), (1,), NEXT_DAY),
        ("E0601", Decimal(1), (1,), None),
        ("00400", Decimal(45), (1,), None),
        ("36415", Decimal(1), (1,), None),
    ]
    assert taken.source_charges == (
        Decimal("150.00"),
        Decimal("35.50"),
        Decimal("90.00"),
        Decimal("400.00"),
        Decimal("10.00"),
    )


def test_what_a_claim_cannot_take_as_sent_is_a_finding() -> None:
    twelve = ("A000", "A001", "A009", "A010", "A011", "A020", "A021", "A030", "A031", "A040", "A041", "A042")
    written = claim(
        diagnoses=twelve, frequency="7", payer_claim_number="PAYER123", rendering=RENDERING, referring=REFERRING
    )
    text = edited(text_of(written, responsibility="S"), "*ABF:A042", "*ABF:A042*ABF:A043")
    text = edited(text, "NM1*82*1*SMITH*ANNA****XX*1098765432", "NM1*82*1*SMITH*ANNA****34*999")
    text = edited(text, "NM1*DN*1*JONES*BOB****XX*1588667638", "NM1*DN*1*JONES*BOB")
    text = edited(text, "NM1*PR*2*BIG HEALTH PLAN*****PI*BHP01", "NM1*PR*2*BIG HEALTH PLAN")
    text = edited(text, "NM1*85*2*ACME MEDICAL GROUP*****XX*1234567893", "NM1*85*2*ACME MEDICAL GROUP*****24*9")

    [taken] = imported(text).claims

    assert taken.findings == (
        "13 diagnoses; the first 12 were kept",
        "the rendering provider (2310B) has no NPI; the billing provider's was taken",
        "the referring provider (2310A) has no NPI; none was taken",
        "the billing provider (2010AA) has no NPI",
        "the payer (2010BB) has no payer id",
        "the claim is not to the primary payer (SBR01 S): its services may already have come with the primary "
        "payer's claim",
        "the claim replaces an earlier claim (CLM05-3 frequency 7): a coder corrects that encounter",
    )
    details = taken.details
    assert details.diagnoses[-1] == "A04.2"
    assert (details.billing_provider_npi, details.rendering_provider_npi, details.referring_provider_npi) == (
        "",
        "",
        None,
    )
    assert (taken.payer_id, taken.source_patient.payer_id) == ("", "")


def test_claims_that_cannot_become_encounters_are_skipped_the_rest_taken_in_file_order() -> None:
    text = text_of(
        claim("VOID1", frequency="8", payer_claim_number="PAYER9"),
        claim("NOLINES", lines=(line("11111"),)),
        claim("NOHC", lines=(line("22222"), line("33333"))),
        claim("NODATE", lines=(line("44444"),)),
        claim("GOOD"),
    )
    text = edited(text, "LX*1~SV1*HC:11111*150*UN*1***1~DTP*472*D8*20260227~", "")
    text = edited(text, "SV1*HC:22222", "SV1*ER:22222")
    text = edited(text, "SV1*HC:33333", "SV1*WK:33333")
    text = edited(text, "SV1*HC:44444*150*UN*1***1~DTP*472*D8*20260227~", "SV1*HC:44444*150*UN*1***1~")

    result = imported(text)

    assert [(c.reference, c.position.claim) for c in result.claims] == [("GOOD", 5)]
    assert [(s.reference, s.position.claim, s.reason) for s in result.skipped] == [
        ("VOID1", 1, "the claim voids an earlier claim (CLM05-3 frequency 8)"),
        ("NOLINES", 2, "the claim has no service lines"),
        ("NOHC", 3, "no service line is a HCPCS/CPT (HC) procedure"),
        ("NODATE", 4, "no service line has a date of service (DTP*472)"),
    ]
    assert [s.position.segment for s in result.skipped] == sorted(s.position.segment for s in result.skipped)


def test_each_of_two_dependants_of_one_subscriber_is_the_patient_of_their_own_claims() -> None:
    # The writer puts each dependant under its own subscriber loop; other systems put two under one, which the
    # reader's one `patient` per subscriber cannot tell apart.
    text = text_of(claim("TOMS"), dependent=Dependent(CHILD, "19"))
    first = text[text.index("HL*3*2*23*0~") : text.index("SE*")]
    second = edited(edited(edited(first, "HL*3*", "HL*4*"), "NM1*QC*1*DOE*TOM", "NM1*QC*1*DOE*AMY"), "TOMS", "AMYS")
    text = edited(text, first, first + second)

    result = imported(text)

    assert [(c.reference, c.source_patient.first_name) for c in result.claims] == [("TOMS", "TOM"), ("AMYS", "AMY")]


def test_the_last_claim_of_a_file_cut_short_is_flagged() -> None:
    text = text_of(claim("FIRST"), claim("LAST"))

    result = imported(text[: text.index("SE*")])

    first, last = result.claims
    assert first.findings == ()
    assert last.findings == ("the transaction set is cut short (no SE): the claim may be missing lines",)
    assert "the interchange has no IEA segment" in result.findings


def test_claims_of_every_837p_in_the_file_are_taken_with_their_batch() -> None:
    one, two = text_of(claim("A")), text_of(claim("B"))

    result = imported(one + two)

    assert [(c.reference, c.position.batch, c.position.claim) for c in result.claims] == [("A", 1, 1), ("B", 2, 1)]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is not a readable X12 5010 interchange"),
        (b"PATIENT NAME,DOB\nJane Doe,1980-01-02\n", "the file is not a readable X12 5010 interchange"),
        ((CORPUS / "pyx12/pyx12/examples/example834_5010.txt").read_bytes(), "the file holds no 837"),
        ((CORPUS / "LinuxForHealth-x12/demo-file/demo.837i").read_bytes(), "is an institutional claim (837I"),
        (edited(text_of(), "ST*837*0001*005010X222A1", "ST*837*0001*005010X223A2").encode(), "(837I, 005010X223A2)"),
        (edited(text_of(), "ST*837*0001*005010X222A1", "ST*837*0001*005010X224A2").encode(), "is 005010X224A2"),
        (edited(text_of(), "HL*2*1*22*0", "HL*2*1*99*0").encode(), "cannot be read: HL03 is not an 837P level"),
        (edited(text_of(), "SV1*HC:99214*150*", "SV1*HC:99214*1x0*").encode(), "cannot be read: SV102"),
    ],
)
def test_a_file_that_is_not_a_5010_837p_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(ImportRefused, match=r"^the ") as refused:
        read_837p_claims(data)

    assert message in refused.value.message


def test_a_4010_837p_is_refused_as_such() -> None:
    old = next(f for f in manifest(CORPUS) if f.kind == "837P" and f.version.startswith("004010") and not f.fixture)

    with pytest.raises(ImportRefused, match="004010"):
        read_837p_claims((CORPUS / old.path).read_bytes())


def test_phi_stays_out_of_reprs_and_refusals() -> None:
    text = text_of(claim("PCN12345", rendering=RENDERING), dependent=Dependent(CHILD, "19"))
    result = imported(text)
    skipped = SkippedClaim("PCN12345", ClaimPosition(1, 1, 26), "the claim has no service lines")
    with pytest.raises(ImportRefused) as refused:
        read_837p_claims(edited(text, "HL*3*2*23*0~PAT*19~NM1*QC*1*DOE*TOM", "HL*3*2*23*0~PAT*19").encode())

    shown = repr(result) + repr(skipped) + str(refused.value)
    for phi in ("JANE", "TOM", "DOE", "W123456789", "1980", "2015", "PCN12345", "J44.9", "J449"):
        assert phi not in shown


@cache
def corpus_import(path: str) -> ImportResult | ImportRefused:
    try:
        return read_837p_claims((CORPUS / path).read_bytes())
    except ImportRefused as refused:
        return refused


def test_the_corpus_has_its_59_must_read_837p_files() -> None:
    assert len(PROFESSIONAL) == 59
    assert {f.path for f in PROFESSIONAL} >= INSTITUTIONAL


@pytest.mark.parametrize("corpus_file", PROFESSIONAL, ids=lambda f: f.path)
def test_every_must_read_837p_of_the_corpus_imports_every_claim(corpus_file: CorpusFile) -> None:
    result = corpus_import(corpus_file.path)

    if corpus_file.path in INSTITUTIONAL:
        assert isinstance(result, ImportRefused)
        assert "is an institutional claim (837I, 005010X223)" in result.message
        return
    assert isinstance(result, ImportResult)
    assert len(result.claims) + len(result.skipped) == corpus_file.clm
    assert all(c.details.lines for c in result.claims)


def test_the_corpus_imports_its_claims_lines_and_skips_as_counted() -> None:
    results = [r for f in PROFESSIONAL if isinstance(r := corpus_import(f.path), ImportResult)]

    claims = [c for r in results for c in r.claims]
    assert (len(results), len(claims), sum(len(c.details.lines) for c in claims)) == (54, 1515, 1602)
    assert [s.reason for r in results for s in r.skipped] == ["no service line is a HCPCS/CPT (HC) procedure"] * 5
