"""837P, the professional claim (005010X222A1): the billing provider (2000A) over subscribers (2000B) over
patients (2000C), each subscriber or patient with its claims (2300) and their service lines (2400)."""

from rcm_x12.structures.spec import MANY, R, S, each, loop, seg, transaction_set

PAYER_RESPONSIBILITY = "A B C D E F G H P S T U"
CLAIM_FILING = "11 12 13 14 15 16 17 AM BL CH CI DS FI HM LM MA MB MC OF TV VA WC ZZ"
RELATIONSHIP = "01 18 19 20 21 39 40 53 G8"
# Code source 235, NUBC's claim frequencies: the guide names no subset; professional payers take 1 (original),
# 6 (corrected), 7 (replacement) and 8 (void), which is their edit to make.
FREQUENCY = "0 1 2 3 4 5 6 7 8 9"
ADJUSTMENT_GROUP = "CO CR OA PI PR"

ADDRESS = (seg("N3", R, 1), seg("N4", R, 1, need="01"))
OPTIONAL_ADDRESS = (seg("N3", S, 1), seg("N4", S, 1, need="01"))

_OTHER_PAYER_PROVIDERS = (
    loop("2330C", S, 2, seg("NM1*DN P3", R, 1, codes={"02": "1"}), seg("REF*0B 1G G2", R, 3)),
    loop("2330D", S, 1, seg("NM1*82", R, 1, codes={"02": "1 2"}), seg("REF*0B 1G G2 LU", R, 3)),
    loop("2330E", S, 1, seg("NM1*77", R, 1, codes={"02": "2"}), seg("REF*0B G2 LU", R, 3)),
    loop("2330F", S, 1, seg("NM1*DQ", R, 1, codes={"02": "1"}), seg("REF*0B 1G G2 LU", R, 3)),
    loop("2330G", S, 1, seg("NM1*85", R, 1, codes={"02": "1 2"}), seg("REF*G2 LU", R, 2)),
)

OTHER_SUBSCRIBER = loop(
    "2320",
    S,
    10,
    seg("SBR", R, 1, need="02", codes={"01": PAYER_RESPONSIBILITY, "02": RELATIONSHIP, "09": CLAIM_FILING}),
    seg("CAS", S, 5, codes={"01": ADJUSTMENT_GROUP}),
    *each("AMT", "D A8 EAF", S, 1),
    seg("OI", R, 1, need="03 06"),
    seg("MOA", S, 1),
    loop("2330A", R, 1, seg("NM1*IL", R, 1, need="03 08 09"), *OPTIONAL_ADDRESS, seg("REF*SY", S, 1)),
    loop(
        "2330B",
        R,
        1,
        seg("NM1*PR", R, 1, need="03 08 09"),
        *OPTIONAL_ADDRESS,
        seg("DTP*573", S, 1),
        seg("REF*2U EI FY NF", S, 2),
        *each("REF", "G1 9F T4 F8", S, 1),
    ),
    *_OTHER_PAYER_PROVIDERS,
)

SERVICE_LINE = loop(
    "2400",
    R,
    50,
    seg("LX", R, 1),
    seg("SV1", R, 1, need="01-1 01-2 03 04 07-1", codes={"01-1": "ER HC IV WK", "03": "MJ UN"}),
    seg("SV5", S, 1),
    seg("PWK", S, 10),
    seg("CR1", S, 1),
    seg("CR3", S, 1),
    seg("CRC*07", S, 3),
    *each("CRC", "70 09", S, 1),
    seg("DTP*472", R, 1, codes={"02": "D8 RD8"}),
    *each("DTP", "471 607 463 461 304 011 455 454", S, 1),
    seg("DTP*738 739", S, 2),
    *each("QTY", "PT FL", S, 1),
    seg("MEA", S, 5),
    seg("CN1", S, 1),
    *each("REF", "9B 9D 6R EW X4 F4 BT", S, 1),
    *each("REF", "G1 9F", S, 5),
    *each("AMT", "T F4", S, 1),
    seg("K3", S, 10),
    seg("NTE*ADD DCP", S, 1),
    seg("NTE*TPO", S, 1),
    seg("PS1", S, 1),
    seg("HCP", S, 1),
    loop("2410", S, 1, seg("LIN", R, 1), seg("CTP", R, 1), seg("REF*VY XZ", S, 1)),
    loop("2420A", S, 1, seg("NM1*82", R, 1, codes={"02": "1 2"}), seg("PRV*PE", S, 1), seg("REF*0B 1G G2 LU", S, 20)),
    loop("2420B", S, 1, seg("NM1*QB", R, 1, codes={"02": "1 2"}), seg("REF*0B 1G G2", S, 20)),
    loop("2420C", S, 1, seg("NM1*77", R, 1, codes={"02": "2"}), *ADDRESS, seg("REF*G2 LU", S, 3)),
    loop("2420D", S, 1, seg("NM1*DQ", R, 1, codes={"02": "1"}), seg("REF*0B 1G G2 LU", S, 20)),
    loop(
        "2420E",
        S,
        1,
        seg("NM1*DK", R, 1, codes={"02": "1"}),
        *OPTIONAL_ADDRESS,
        seg("REF*0B 1G G2", S, 20),
        seg("PER*IC", S, 1),
    ),
    loop("2420F", S, 2, seg("NM1*DN P3", R, 1, codes={"02": "1"}), seg("REF*0B 1G G2", S, 20)),
    loop("2420G", S, 1, seg("NM1*PW", R, 1), *ADDRESS),
    loop("2420H", S, 1, seg("NM1*45", R, 1), *ADDRESS),
    loop(
        "2430",
        S,
        15,
        seg("SVD", R, 1),
        seg("CAS", S, 5, codes={"01": ADJUSTMENT_GROUP}),
        seg("DTP*573", R, 1),
        seg("AMT*EAF", S, 1),
    ),
    loop("2440", S, MANY, seg("LQ*AS UT", R, 1), seg("FRM", R, 99)),
)

CLAIM = loop(
    "2300",
    S,
    100,
    seg(
        "CLM",
        R,
        1,
        need="02 05-1 05-2 05-3 06 07 08 09",
        codes={"05-3": FREQUENCY, "06": "N Y", "07": "A B C", "08": "N W Y", "09": "I Y"},
    ),
    *each("DTP", "431 454 304 453 439 484 455 471 297 296 435 096 444 050", S, 1),
    seg("DTP*314 360 361", S, 1),
    seg("DTP*090 091", S, 2),
    seg("PWK", S, 10),
    seg("CN1", S, 1),
    seg("AMT*F5", S, 1),
    *each("REF", "4N F5 EW 9F G1 F8 X4 9A 9C LX D9 EA P4 1J", S, 1),
    seg("K3", S, 10),
    seg("NTE*ADD CER DCP DGN TPO", S, 1),
    seg("CR1", S, 1),
    seg("CR2", S, 1),
    seg("CRC*07", S, 3),
    seg("CRC*E1 E2 E3", S, 3),
    *each("CRC", "75 ZZ", S, 1),
    # Diagnoses (HI01-1 ABK/BK), anesthesia procedures (BP) and conditions (BG): one position, four uses.
    seg("HI", R, 4, codes={"01-1": "ABK BK BP BG"}),
    seg("HCP", S, 1),
    loop("2310A", S, 2, seg("NM1*DN P3", R, 1, need="03", codes={"02": "1"}), seg("REF*0B 1G G2", S, 3)),
    loop(
        "2310B",
        S,
        1,
        seg("NM1*82", R, 1, need="03", codes={"02": "1 2"}),
        seg("PRV*PE", S, 1),
        seg("REF*0B 1G G2 LU", S, 4),
    ),
    loop(
        "2310C",
        S,
        1,
        seg("NM1*77", R, 1, need="03", codes={"02": "2"}),
        *ADDRESS,
        seg("REF*0B G2 LU", S, 3),
        seg("PER*IC", S, 1),
    ),
    loop("2310D", S, 1, seg("NM1*DQ", R, 1, need="03", codes={"02": "1"}), seg("REF*0B 1G G2 LU", S, 4)),
    loop("2310E", S, 1, seg("NM1*PW", R, 1), *ADDRESS),
    loop("2310F", S, 1, seg("NM1*45", R, 1), *ADDRESS),
    OTHER_SUBSCRIBER,
    SERVICE_LINE,
)

PATIENT = loop(
    "2000C",
    S,
    MANY,
    seg("HL***23", R, 1, need="02 04", codes={"04": "0"}),
    seg("PAT", R, 1, need="01", codes={"01": RELATIONSHIP}),
    loop(
        "2010CA",
        R,
        1,
        seg("NM1*QC", R, 1, need="03", codes={"02": "1"}),
        *ADDRESS,
        seg("DMG", R, 1, need="01 02 03", codes={"01": "D8", "03": "F M U"}),
        seg("REF*Y4", S, 1),
        seg("REF*1W SY", S, 1),
        seg("PER*IC", S, 1),
    ),
    CLAIM,
)

SUBSCRIBER = loop(
    "2000B",
    R,
    MANY,
    seg("HL***22", R, 1, need="02 04", codes={"04": "0 1"}),
    seg("SBR", R, 1, codes={"01": PAYER_RESPONSIBILITY, "02": "18", "09": CLAIM_FILING}),
    seg("PAT", S, 1),
    loop(
        "2010BA",
        R,
        1,
        seg("NM1*IL", R, 1, need="03 08 09", codes={"02": "1 2", "08": "II MI"}),
        *OPTIONAL_ADDRESS,
        seg("DMG", S, 1, need="01 02 03", codes={"01": "D8", "03": "F M U"}),
        *each("REF", "SY Y4", S, 1),
        seg("PER*IC", S, 1),
    ),
    loop(
        "2010BB",
        R,
        1,
        seg("NM1*PR", R, 1, need="03 08 09", codes={"02": "2", "08": "PI XV"}),
        *OPTIONAL_ADDRESS,
        seg("REF*2U EI FY NF", S, 3),
        seg("REF*G2 LU", S, 2),
    ),
    CLAIM,
    PATIENT,
)

BILLING_PROVIDER = loop(
    "2000A",
    R,
    MANY,
    seg("HL***20", R, 1, need="04", codes={"04": "1"}),
    seg("PRV*BI", S, 1),
    seg("CUR*85", S, 1),
    loop(
        "2010AA",
        R,
        1,
        seg("NM1*85", R, 1, need="03", codes={"02": "1 2", "08": "XX"}),
        *ADDRESS,
        seg("REF*EI SY", R, 1),
        seg("REF*0B 1G", S, 2),
        seg("PER*IC", S, 2),
    ),
    loop("2010AB", S, 1, seg("NM1*87", R, 1, codes={"02": "1 2"}), *ADDRESS),
    loop(
        "2010AC",
        S,
        1,
        seg("NM1*PE", R, 1, need="03 08 09", codes={"02": "2", "08": "PI XV"}),
        *ADDRESS,
        seg("REF*2U FY NF", S, 1),
        seg("REF*EI", R, 1),
    ),
    SUBSCRIBER,
)

PROFESSIONAL_CLAIM = transaction_set(
    "837P",
    "837",
    "005010X222",
    "HC",
    seg("BHT", R, 1, need="03 04 05 06", codes={"01": "0019", "02": "00 18", "06": "31 CH RP"}),
    loop("1000A", R, 1, seg("NM1*41", R, 1, need="03 08 09", codes={"02": "1 2", "08": "46"}), seg("PER*IC", R, 2)),
    loop("1000B", R, 1, seg("NM1*40", R, 1, need="03 08 09", codes={"02": "2", "08": "46"})),
    BILLING_PROVIDER,
)
