"""The structural validator: the walker on small hand-written transactions, then the shared corpus (every
5010 file of a checked kind validates but for the defects it really has; every error fixture is refused for
the defect it carries)."""

from __future__ import annotations

import time

import pytest

from rcm_x12 import Interchange, X12Error, read
from rcm_x12.corpus import CorpusFile, default_root, manifest
from rcm_x12.structure import Validation, validate

ISA = "ISA*00*          *00*          *ZZ*SUBMITTER      *ZZ*RECEIVER       *261123*1430*^*00501*000000101*0*T*:~"
# A minimal valid 837P; its segments sit at positions 4 (BHT) to 21 (DTP) of the interchange.
CLAIM = (
    "BHT*0019*00*0123*20261123*1430*CH~"
    "NM1*41*2*SUBMITTER*****46*S1~PER*IC*CONTACT*TE*5555550100~NM1*40*2*RECEIVER*****46*R1~"
    "HL*1**20*1~NM1*85*2*BILLING*****XX*1234567893~N3*1 MAIN ST~N4*CITY*ST*12345~REF*EI*123456789~"
    "HL*2*1*22*0~SBR*P*18*******CI~NM1*IL*1*DOE*JANE****MI*M1~NM1*PR*2*PAYER*****PI*P1~"
    "CLM*C1*100***11:B:1*Y*A*Y*Y~HI*ABK:J449~LX*1~SV1*HC:99213*100*UN*1***1~DTP*472*D8*20261101~"
)


def interchange(
    body: str, *, set_id: str = "837", guide: str = "005010X222A1", functional_id: str = "HC", trailer: bool = True
) -> list[Interchange]:
    segments = [s for s in body.split("~") if s]
    text = f"{ISA}GS*{functional_id}*S*R*20261123*1430*1*X*{guide}~ST*{set_id}*0001*{guide}~"
    text += "".join(f"{s}~" for s in segments)
    if trailer:
        text += f"SE*{len(segments) + 2}*0001~GE*1*1~IEA*1*000000101~"
    return read(text)


def claim(old: str = "", new: str = "") -> Validation:
    """The minimal claim, with `old` replaced by `new`."""
    assert old in CLAIM
    return validate(interchange(CLAIM.replace(old, new, 1)))


def test_a_minimal_professional_claim_is_valid() -> None:
    validation = claim()

    assert (validation.ok, validation.problems, validation.notes) == (True, [], [])


def test_a_missing_required_loop_is_reported_where_its_parent_opened() -> None:
    assert claim("NM1*IL*1*DOE*JANE****MI*M1~").structure == [
        "loop 2000B at position 13: required loop 2010BA is missing"
    ]


def test_a_loop_over_its_maximum_repeats() -> None:
    billing = "NM1*85*2*BILLING*****XX*1234567893~N3*1 MAIN ST~N4*CITY*ST*12345~REF*EI*123456789~"

    assert claim(billing, billing * 2).structure == ["loop 2010AA at position 13 in loop 2000A: repeats more than once"]


def test_a_segment_over_its_maximum_use() -> None:
    assert claim("REF*EI*123456789~", "REF*EI*123456789~REF*SY*987654321~").structure == [
        "REF*EI/SY at position 13 in loop 2010AA: used more than once"
    ]


def test_segments_at_one_position_come_in_any_order() -> None:
    assert claim("REF*EI*123456789~", "REF*0B*LICENSE~REF*EI*123456789~").ok


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ("SBR*P*", "SBR*Q*", "SBR at position 14 in loop 2000B: SBR01 is not a valid code"),
        ("11:B:1", "11:B:X", "CLM at position 17 in loop 2300: CLM05-3 is not a valid code"),
        ("HC:99213", "ZZ:99213", "SV1 at position 20 in loop 2400: SV101-1 is not a valid code"),
        ("NM1*85*", "NM1*86*", "NM1 at position 9 in loop 2000A: NM101 is not a code this loop allows"),
        ("HL*2*1*22*0", "HL*2*1*24*0", "HL at position 13 in loop 2000A: HL03 is not a code this loop allows"),
    ],
)
def test_an_invalid_code(old: str, new: str, problem: str) -> None:
    assert problem in claim(old, new).structure


def test_an_unknown_qualifier_leaves_what_it_opened_unplaced() -> None:
    assert claim("NM1*85*", "NM1*86*").structure == [
        "NM1 at position 9 in loop 2000A: NM101 is not a code this loop allows",
        "N3 at position 10 in loop 2000A: unexpected here",
        "N4 at position 11 in loop 2000A: unexpected here",
        "REF at position 12 in loop 2000A: unexpected here",
        "loop 2000A at position 8: required loop 2010AA is missing",
    ]


@pytest.mark.parametrize("segment", ["ZZZ*1", "CLP*C1*1*100*100**12*P1"])
def test_an_unknown_segment(segment: str) -> None:
    name = segment.split("*")[0]

    assert claim("LX*1~", f"{segment}~LX*1~").structure == [
        f"{name} at position 19: not a segment of the 837P transaction set"
    ]


def test_a_segment_out_of_order_is_not_also_missing() -> None:
    assert claim("N3*1 MAIN ST~N4*CITY*ST*12345~", "N4*CITY*ST*12345~N3*1 MAIN ST~").structure == [
        "N3 at position 11 in loop 2010AA: out of order"
    ]


def test_a_segment_with_no_place_in_the_open_loops() -> None:
    assert claim("HL*1**20*1~", "HL*1**20*1~PAT*01~").structure == ["PAT at position 9 in loop 2000A: unexpected here"]


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ("NM1*85*2*BILLING*", "NM1*85*2**", "NM1 at position 9 in loop 2010AA: required element NM103 is missing"),
        ("*11:B:1*", "**", "CLM at position 17 in loop 2300: required element CLM05 is missing"),
        ("CLM*C1*", f"CLM*{'C' * 39}*", "CLM at position 17 in loop 2300: CLM01 is longer than 38 characters"),
        ("N3*1 MAIN ST~", "", "loop 2010AA at position 9: required segment N3 is missing"),
        ("PER*IC*CONTACT*TE*5555550100~", "", "loop 1000A at position 5: required segment PER*IC is missing"),
    ],
)
def test_missing_and_overlong_elements_and_segments(old: str, new: str, problem: str) -> None:
    assert claim(old, new).structure == [problem]


def test_a_level_under_an_hl_that_says_it_has_none() -> None:
    patient = "HL*3*2*23*0~PAT*19~NM1*QC*1*DOE*JOHN~N3*1 ST~N4*CITY*ST*12345~DMG*D8*20100101*M~"
    body = CLAIM.replace("CLM*", patient + "CLM*")

    assert validate(interchange(body.replace("HL*2*1*22*0", "HL*2*1*22*1"))).ok
    assert validate(interchange(body)).structure == [
        "HL at position 17 in loop 2000B: opens loop 2000C, but HL04 of the HL at position 13 says no subordinate "
        "level follows"
    ]


def test_components_split_by_an_undeclared_separator_are_an_envelope_problem() -> None:
    validation = claim("CLM*C1*100***11:B:1*", "CLM*C1*100***11>B>Q*")

    assert validation.envelope == [
        "envelope: CLM at position 17 in loop 2300: components are separated by a character ISA16 does not declare"
    ]
    assert validation.structure == ["CLM at position 17 in loop 2300: CLM05-3 is not a valid code"]


def test_a_transaction_cut_short_is_noted_not_judged() -> None:
    validation = validate(interchange(CLAIM.split("HL*2")[0], trailer=False))

    assert validation.structure == []
    assert validation.notes == ["structure: the 837P opened at position 3 is cut short, not checked"]
    assert "envelope: the transaction set opened at position 3 has no SE segment" in validation.envelope


def test_kinds_not_checked_are_notes_once_each() -> None:
    institutional = interchange(CLAIM, guide="005010X223A2")
    enrollment = interchange("BGN*00*1*20261123~", set_id="834", guide="005010X220A1", functional_id="BE")
    validation = validate(institutional + institutional + enrollment)

    assert validation.notes == [
        "structure: 837I is not checked by this codec",
        "structure: 834 is not checked by this codec",
    ]
    assert validation.ok


def test_envelope_problems_are_prefixed_and_kept_apart() -> None:
    [wrong_group] = interchange(CLAIM, functional_id="HP")
    wrong_group.findings.append("SE at position 22 counts 9 segments, found 20")
    validation = validate([wrong_group])

    assert validation.envelope == [
        "envelope: SE at position 22 counts 9 segments, found 20",
        "envelope: ST at position 3: 837P belongs in a functional group whose GS01 is HC",
    ]
    assert validation.structure == []
    assert (validation.problems, validation.ok) == (validation.envelope, False)


def test_an_st03_that_disagrees_with_gs08() -> None:
    text = ISA + "GS*HC*S*R*20261123*1430*1*X*005010X222A1~ST*837*0001*005010X222~" + CLAIM
    text += f"SE*{CLAIM.count('~') + 2}*0001~GE*1*1~IEA*1*000000101~"

    assert validate(read(text)).envelope == ["envelope: ST at position 3: ST03 does not match GS08"]


def test_problems_never_carry_the_data() -> None:
    body = (
        CLAIM.replace("SBR*P*", "SBR*PHIA*")
        .replace("DOE*JANE", "PHIB" * 20)
        .replace("CLM*C1*", f"CLM*{'PHIC' * 10}*")
        .replace("11:B:1", "11:B:PHID")
        .replace("NM1*85*", "NM1*PHIE*")
    )
    validation = validate(interchange(body))

    assert len(validation.structure) >= 5
    assert not [problem for problem in validation.problems if "PHI" in problem]


def test_a_5000_claim_file_validates_in_well_under_a_second() -> None:
    header, subscriber = CLAIM.split("HL*2*1*22*0~")
    claim_only, service_line = subscriber.split("LX*1~")
    body = header + "".join(f"HL*{n}*1*22*0~{claim_only}" + f"LX*1~{service_line}" * 3 for n in range(2, 5002))
    [parsed] = interchange(body)
    started = time.perf_counter()
    validation = validate([parsed])
    elapsed = time.perf_counter() - started

    assert validation.ok
    assert elapsed < 1.0


# --- The shared corpus ---------------------------------------------------------------------------------------

CORPUS = default_root()
if not (CORPUS / "MANIFEST.md").is_file():
    pytest.fail(f"the shared X12 corpus is missing at {CORPUS}", pytrace=False)
FILES = manifest(CORPUS)
CHECKED_KINDS = {"837P", "835", "270", "271", "276", "277", "277CA", "999"}
MUST_VALIDATE = [f for f in FILES if f.must_read and f.kind in CHECKED_KINDS]
FIXTURES = [f for f in FILES if f.fixture and not f.version.startswith("004010")]

REMITTANCE = "badX12/tests/files/edi/X221-era-sample.edi"
ELIGIBILITY = (
    "badX12/tests/files/edi/X279-response-to-generic-request-by-clinic-for-patient-(subscriber)-eligibility.edi"
)
STATUS = "LinuxForHealth-x12/src/tests/resources/277_005010X212/claim-level-status.277"
ACKNOWLEDGED = "imsweb-x12-parser/src/test/resources/277_5010/x12_277CA_accepted.txt"
IMPLEMENTATION = "imsweb-x12-parser/src/test/resources/837_5010/x12_999_rejected.txt"
INQUIRY = "LinuxForHealth-x12/src/tests/resources/270_005010X279A1/subscriber-health-benefit-check.270"


@pytest.mark.parametrize(
    ("path", "old", "new", "problem"),
    [
        (REMITTANCE, "CLP*7722337*1*", "CLP*7722337*9*", "CLP at position 13 in loop 2100: CLP02 is not a valid code"),
        (REMITTANCE, "CAS*CO*131*21", "CAS*XX*131*21", "CAS at position 19 in loop 2110: CAS01 is not a valid code"),
        (ELIGIBILITY, "EB*L", "EB*Z", "EB at position 17 in loop 2110C: EB01 is not a valid code"),
        (STATUS, "STC*P3:317", "STC*Q3:317", "STC at position 14 in loop 2200D: STC01-1 is not a valid code"),
        (ACKNOWLEDGED, "STC*A2:20", "STC*Z2:20", "STC at position 22 in loop 2200D: STC01-1 is not a valid code"),
        (IMPLEMENTATION, "IK5*R*5", "IK5*Q*5", "IK5 at position 7 in loop 2000: IK501 is not a valid code"),
        (
            IMPLEMENTATION,
            "AK9*R*1*1*0",
            "AK9*R*1*1*0*99",
            "AK9 at position 8 in the 999 transaction set: AK905 is not a valid code",
        ),
        (INQUIRY, "HL*3*2*22*0", "HL*3*2*23*0", "HL at position 9 in loop 2000B: HL03 is not a code this loop allows"),
    ],
)
def test_the_other_transaction_sets_check_their_code_lists(path: str, old: str, new: str, problem: str) -> None:
    text = (CORPUS / path).read_text()
    assert validate(read(text)).structure == []
    assert old in text

    assert [p for p in validate(read(text.replace(old, new, 1))).structure if p.startswith(problem)]


LFH = "LinuxForHealth-x12/src/tests/resources/"
OOP = "OopFactory-X12Parser/tests/OopFactory.X12.Tests.Unit/Parsing/_SampleEdiFiles/INS/"
OOP_HIPAA = "OopFactory-X12Parser/tests/OopFactory.X12.Hipaa.Tests.Unit/"
IMS = "imsweb-x12-parser/src/test/resources/"

# Files the manifest says every reader must read, which really break their guide: each with every structure
# problem it has (by what the message says), so that nothing else may go wrong in them unnoticed.
KNOWN_DEFECTS: dict[str, tuple[str, ...]] = {
    # LinuxForHealth's 835s leave out the payer's technical contact, required by X221A1; three put the
    # payment date in BPR15 (one element too early), and one splits a procedure code with the element separator.
    "LinuxForHealth-x12/demo-file/demo.835": ("required segment PER*BL is missing",),
    LFH + "835_005010X221A1/managed-care.835": ("required segment PER*BL is missing",),
    LFH + "835_005010X221A1/medicare-part-a.835": ("required segment PER*BL is missing",),
    LFH + "835_005010X221A1/cob-contractural-adjustment.835": ("PER*BL is missing", "BPR16 is missing"),
    LFH + "835_005010X221A1/secondary-payment.835": ("PER*BL is missing", "BPR16 is missing"),
    LFH + "835_005010X221A1/tertiary-payment.835": ("PER*BL is missing", "BPR16 is missing", "SVC01-2 is missing"),
    # LinuxForHealth's 837Ps: an empty facility code qualifier, a COB claim without the other payer, and a
    # 4010 patient-responsibility amount (AMT*F2) in the other subscriber loop.
    LFH + "837_005010X222A2/demo.ambulance.example5.837": ("required element CLM05-2 is missing",),
    LFH + "837_005010X222A2/demo.cob.example3.A.837": ("loop 2320 at position 39: required loop 2330B is missing",),
    LFH + "837_005010X222A2/demo.cob.example4.837": ("AMT at position 31 in loop 2320: AMT01 is not a code",),
    # OopFactory's: an AMT after the diagnoses and a person as service facility; a dependent level that claims
    # levels below it; 4010's subscriber demographics (DMG) in the other subscriber loop.
    OOP_HIPAA + "Claims/TestData/ProfessionalClaim1.txt": (
        "AMT at position 34 in loop 2300: out of order",
        "NM1 at position 35 in loop 2310C: NM102 is not a valid code",
    ),
    OOP_HIPAA + "Eligibility/TestData/_271/_5010/Example_3_2_2.txt": (
        "HL at position 14 in loop 2000D: HL04 is not a valid code",
    ),
    OOP + "_271/_5010/Example_3_2_2.txt": ("HL at position 14 in loop 2000D: HL04 is not a valid code",),
    OOP + "_837P/_5010/Example1_2_And_3_Combined.txt": ("DMG at position 76 in loop 2320: unexpected here",),
    OOP + "_837P/_5010/Example3_COB.txt": ("DMG at position 40 in loop 2320: unexpected here",),
    # De-identified by masking (letters to X, digits to 9), which destroyed the codes; the Medicaid claims
    # have no diagnosis and no diagnosis pointers either.
    OOP + "_276/_5010/277_Deidentified_from_nth.txt": ("BHT01 is not a valid code", "STC01-1 is not a valid code"),
    OOP + "_835/_5010/ExampleFromNth.txt": ("SVC01-1 is not a valid code",),
    OOP + "_835/_5010/FromNth/835_WithMultipleInterchanges.txt": ("SVC01-1 is not a valid code",),
    OOP + "_837P/_5010/MedicaidExample.txt": ("BHT01 is not", "SV101-1 is not", "SV107 is", "segment HI is missing"),
    # Typed-in test data: wrong date qualifiers, header codes and action code.
    OOP + "_277/_5010/FromLatitude81uk.txt": ("BHT01", "DTP01 is not", "DTP*050 is", "DTP*009 is", "STC03"),
    # imsweb's synthetic claim names other payers' referring providers without their identifiers.
    IMS + "837_5010/x12_complex.txt": ("loop 2330C at position", "required segment REF*0B/1G/G2 is missing"),
}

# Files the manifest counts as 837P whose ST03 says 837I (005010X223), and files cut short: noted, not walked.
NOT_CHECKED: dict[str, str] = {
    OOP_HIPAA + "Claims/TestData/InstitutionalClaim5010.txt": "structure: 837I is not checked by this codec",
    OOP + "_837I/_5010/Spec_3.1.1.txt": "structure: 837I is not checked by this codec",
    OOP + "_837I/_5010/Spec_3.1.2_TwoClaimsForTheSameProvider.txt": "structure: 837I is not checked by this codec",
    OOP + "_837I/_5010/Spec_3.1.3_PPORepricedClaim.txt": "structure: 837I is not checked by this codec",
    OOP + "_837I/_5010/Spec_3.1.4_OutOfNetworkRepricedClaim.txt": "structure: 837I is not checked by this codec",
    OOP + "_277/_5010/FromBogeyone.txt": "structure: the 277CA opened at position 3 is cut short, not checked",
    OOP + "_837P/_5010/UnicodeExample.txt": "structure: the 837P opened at position 3 is cut short, not checked",
}

# What each error fixture must be refused for: the reader's X12Error, or problems validate reports.
# OopFactory's 271 fixtures and imsweb's x12_ambiguous_loop are positive tests upstream (reading AAA "request
# validation" segments; resolving NM1*82 to 2420A), not broken on purpose: what they are refused for is what is
# really wrong in them.
REFUSED_FOR: dict[str, tuple[str, ...]] = {
    OOP_HIPAA + "Eligibility/TestData/_271/_5010/Example_ErrorWithoutBenefitInfo.txt": (
        "271 belongs in a functional group whose GS01 is HB",
    ),
    OOP_HIPAA + "Eligibility/TestData/_271/_5010/ValidationForDependentBenefitInfo.txt": (
        "HL at position 12 in loop 2000C: opens loop 2000D, but HL04 of the HL at position 9 says",
        "SE at position 18 counts 22 segments, found 16",
    ),
    OOP_HIPAA + "Eligibility/TestData/_271/_5010/ValidationForDependentName.txt": (
        "HL at position 12 in loop 2000C: opens loop 2000D, but HL04 of the HL at position 9 says",
    ),
    OOP_HIPAA + "Eligibility/TestData/_271/_5010/ValidationForReceiverName.txt": (
        "SE at position 13 counts 22 segments, found 11",
    ),
    OOP_HIPAA + "Eligibility/TestData/_271/_5010/ValidationForSource.txt": (
        "loop 2000A at position 5: required loop 2100A is missing",
    ),
    OOP_HIPAA + "Eligibility/TestData/_271/_5010/ValidationForSourceName.txt": ("SE at position 8 counts 22 segments",),
    OOP_HIPAA + "Eligibility/TestData/_271/_5010/ValidationForSubscriberBenefitInfo.txt": (
        "SE at position 19 counts 22 segments",
    ),
    OOP_HIPAA + "Eligibility/TestData/_271/_5010/ValidationForSubscriberName.txt": (
        "N4 at position 13 in loop 2100C: required element N401 is missing",
    ),
    OOP_HIPAA + "Eligibility/TestData/_271/_5010/ValidationOnAll.txt": (
        "HL at position 23 in loop 2000C: opens loop 2000D, but HL04 of the HL at position 15 says",
    ),
    OOP + "_837P/_5010/MissingEntityCode.txt": ("NM1 at position 25 in loop 2300: required element NM101 is missing",),
    "badX12/tests/files/errors/bad_file.edi": ("not an X12 interchange",),
    "badX12/tests/files/errors/error_validation.edi": (
        "ST at position 3: 835 belongs in a functional group whose GS01 is HP",
        "SE at position 29: control number does not match ST02",
        "GE at position 30 counts 2 transaction sets, found 1",
    ),
    "badX12/tests/files/errors/segment_terminator.edi": (
        "the interchange has no IEA segment",
        "the interchange holds no functional group",
    ),
    "badX12/tests/files/errors/unknown_segment_error.edi": ("HL stands outside a transaction set",),
    IMS + "837_5010/x12_ambiguous_loop.txt": ("SE at position 35 counts 25 segments, found 33",),
    IMS + "837_5010/x12_bad_first_line.txt": ("ISA02",),
    IMS + "837_5010/x12_bad_segment_identifier.txt": ("a segment has an invalid identifier",),
    IMS + "837_5010/x12_bad_valid_code.txt": ("NM1 at position 9 in loop 2000A: NM101 is not a code this loop allows",),
    IMS + "837_5010/x12_loop_errors1_exceeds_max_1_parent.txt": (
        "loop 2010AA at position 15 in loop 2000A: repeats more than once",
    ),
    IMS + "837_5010/x12_loop_errors2_exceeds_max_repeats_multiple_parents.txt": (
        "loop 2010AA at position 34 in loop 2000A: repeats more than once",
    ),
    IMS + "837_5010/x12_loop_errors3_missing_loops.txt": ("loop 2000A at position 8: required loop 2010AA is missing",),
    IMS + "837_5010/x12_missing_elements.txt": (
        "NM1 at position 7 in loop 1000B: required element NM102 is missing",
        "CLM at position 31 in loop 2300: required element CLM05 is missing",
    ),
    IMS + "837_5010/x12_missing_required_loop_in_one_repeat.txt": (
        "loop 2000B at position 18: required loop 2010BA is missing",
    ),
    IMS + "837_5010/x12_missing_required_loops_mult_repeats.txt": (
        "SV1 at position 33 in loop 2300: unexpected here",
        "loop 2300 at position 31: required loop 2400 is missing",
        "loop 2300 at position 57: required loop 2400 is missing",
    ),
    IMS + "837_5010/x12_no_isa_line.txt": ("does not begin with an ISA segment",),
    IMS + "837_5010/x12_segment_errors.txt": (
        "loop 2010AA at position 9: required segment N3 is missing",
        "REF*EI/SY at position 12 in loop 2010AA: used more than once",
        "loop 2300 at position 21: required segment HI is missing",
    ),
    IMS + "837_5010/x12_segments_out_of_order.txt": (
        "N4 at position 12 in loop 2010AA: out of order",
        "N3 at position 17 in loop 2010AB: out of order",
    ),
}
POSITIVE_UPSTREAM = [
    IMS + "837_5010/x12_ambiguous_loop.txt",
    *(
        f"{OOP_HIPAA}Eligibility/TestData/_271/_5010/{name}.txt"
        for name in ("Example_ErrorWithoutBenefitInfo", "ValidationForReceiverName", "ValidationForSourceName")
    ),
]


def _validate(entry: CorpusFile) -> Validation:
    return validate(read((CORPUS / entry.path).read_bytes()))


def test_the_tables_name_files_of_the_corpus() -> None:
    assert {f.path for f in FIXTURES} == set(REFUSED_FOR)
    must_validate = {f.path for f in MUST_VALIDATE}
    assert set(KNOWN_DEFECTS) <= must_validate
    assert set(NOT_CHECKED) <= must_validate


@pytest.mark.parametrize("entry", MUST_VALIDATE, ids=lambda f: f.path)
def test_every_5010_file_validates_but_for_the_defects_it_has(entry: CorpusFile) -> None:
    validation = _validate(entry)
    expected = KNOWN_DEFECTS.get(entry.path, ())

    assert [p for p in validation.structure if not any(e in p for e in expected)] == []
    assert [e for e in expected if not any(e in p for p in validation.structure)] == []
    assert validation.notes == ([NOT_CHECKED[entry.path]] if entry.path in NOT_CHECKED else [])


@pytest.mark.parametrize("entry", FIXTURES, ids=lambda f: f.path)
def test_every_error_fixture_is_refused_for_its_defect(entry: CorpusFile) -> None:
    try:
        reported = _validate(entry).problems
    except X12Error as error:
        reported = [str(error)]

    assert [e for e in REFUSED_FOR[entry.path] if not any(e in p for p in reported)] == [], reported


@pytest.mark.parametrize("path", POSITIVE_UPSTREAM)
def test_fixtures_that_are_positive_tests_upstream_have_no_structure_problem(path: str) -> None:
    assert validate(read((CORPUS / path).read_bytes())).structure == []


def test_corpus_report(capsys: pytest.CaptureFixture[str]) -> None:
    clean = defects = notes = envelope = 0
    for entry in MUST_VALIDATE:
        validation = _validate(entry)
        clean += validation.structure == [] and not validation.notes
        defects += bool(validation.structure)
        notes += bool(validation.notes)
        envelope += bool(validation.envelope)
    with capsys.disabled():
        print(
            f"\nX12 structure over {len(MUST_VALIDATE)} 5010 files of checked kinds: {clean} valid, {defects} with "
            f"known defects, {notes} not checked; {envelope} with envelope problems"
        )
    assert clean + defects + notes == len(MUST_VALIDATE)
