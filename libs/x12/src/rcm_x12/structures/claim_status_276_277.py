"""276 and 277, the claim status request and response (005010X212), and 277CA, the claim acknowledgment
(005010X214): payer (2000A) over receiver (2000B) over provider (2000C) over subscriber or patient (2000D)
over dependent (2000E), each claim a tracking number (TRN) and its status (STC), then its service lines."""

from rcm_x12.structures.spec import MANY, LoopRule, R, S, each, loop, seg, transaction_set

# Code source 507, the claim status category codes (STC01-1, and STC10-1 and STC11-1 when present).
CATEGORY = (
    "A0 A1 A2 A3 A4 A5 A6 A7 A8 D0 DR01 DR02 DR03 DR04 DR05 DR06 DR07 DR08 E0 E1 E2 E3 E4 "
    "F0 F1 F2 F3 F3F F3N F4 F5 P0 P1 P2 P3 P4 P5 "
    "R0 R1 R3 R4 R5 R6 R7 R8 R9 R10 R11 R12 R13 R14 R15 R16"
)
STATUS = {"01-1": CATEGORY, "10-1": CATEGORY, "11-1": CATEGORY}
SERVICE_ID = "AD ER HC HP IV N4 NU WK"


def _asked(level: str) -> LoopRule:
    """A claim asked about (2200D, 2200E) and its service lines (2210D, 2210E)."""
    return loop(
        f"2200{level}",
        S if level == "D" else R,
        MANY,
        seg("TRN*1", R, 1),
        *each("REF", "1K BLT LU 6P EJ XZ D9", S, 1),
        seg("AMT*T3", S, 1),
        seg("DTP*472", S, 1, codes={"02": "D8 RD8"}),
        loop(
            f"2210{level}",
            S,
            MANY,
            seg("SVC", R, 1, need="01-1 01-2 02", codes={"01-1": SERVICE_ID}),
            seg("REF*FJ", S, 1),
            seg("DTP*472", R, 1, codes={"02": "D8 RD8"}),
        ),
    )


def _answered(level: str) -> LoopRule:
    """A claim's status (2200D, 2200E) and its service lines' (2220D, 2220E)."""
    return loop(
        f"2200{level}",
        S if level == "D" else R,
        MANY,
        seg("TRN*2", R, 1),
        seg("STC", R, MANY, codes=STATUS),
        *each("REF", "1K BLT EJ XZ VV D9", S, 1),
        seg("DTP*472", S, 1, codes={"02": "D8 RD8"}),
        loop(
            f"2220{level}",
            S,
            MANY,
            seg("SVC", R, 1, need="01-1 01-2 02", codes={"01-1": SERVICE_ID}),
            seg("STC", R, MANY, codes=STATUS),
            seg("REF*FJ", S, 1),
            seg("DTP*472", R, 1, codes={"02": "D8 RD8"}),
        ),
    )


DEMOGRAPHICS = seg("DMG", S, 1, codes={"01": "D8", "03": "F M U"})
PAYER = seg("NM1*PR", R, 1, need="03 08 09", codes={"02": "2", "08": "PI XV"})
RECEIVER = seg("NM1*41", R, 1, need="08 09", codes={"02": "1 2", "08": "46"})
PROVIDER = seg("NM1*1P", R, 1, need="08 09", codes={"02": "1 2", "08": "FI SV XX"})
SUBSCRIBER = seg("NM1*IL", R, 1, need="03 08 09", codes={"02": "1 2", "08": "24 II MI"})
DEPENDENT = seg("NM1*QC", R, 1, need="03", codes={"02": "1"})

REQUEST = loop(
    "2000A",
    R,
    MANY,
    seg("HL***20", R, 1, need="04", codes={"04": "1"}),
    loop("2100A", R, 1, PAYER),
    loop(
        "2000B",
        R,
        MANY,
        seg("HL***21", R, 1, need="02 04", codes={"04": "1"}),
        loop("2100B", R, 1, RECEIVER),
        loop(
            "2000C",
            R,
            MANY,
            seg("HL***19", R, 1, need="02 04", codes={"04": "1"}),
            loop("2100C", R, 1, PROVIDER),
            loop(
                "2000D",
                R,
                MANY,
                seg("HL***22", R, 1, need="02 04", codes={"04": "0 1"}),
                DEMOGRAPHICS,
                loop("2100D", R, 1, SUBSCRIBER),
                _asked("D"),
                loop(
                    "2000E",
                    S,
                    MANY,
                    seg("HL***23", R, 1, need="02"),
                    DEMOGRAPHICS,
                    loop("2100E", R, 1, DEPENDENT),
                    _asked("E"),
                ),
            ),
        ),
    ),
)

RESPONSE = loop(
    "2000A",
    R,
    MANY,
    seg("HL***20", R, 1, need="04", codes={"04": "1"}),
    loop("2100A", R, 1, PAYER, seg("PER*IC", S, 1)),
    loop(
        "2000B",
        R,
        MANY,
        seg("HL***21", R, 1, need="02 04", codes={"04": "0 1"}),
        loop("2100B", R, 1, RECEIVER),
        loop("2200B", S, 1, seg("TRN*2", R, 1), seg("STC", R, MANY, codes=STATUS)),
        loop(
            "2000C",
            S,
            MANY,
            seg("HL***19", R, 1, need="02 04", codes={"04": "0 1"}),
            loop("2100C", R, 2, PROVIDER),
            loop("2200C", S, 1, seg("TRN*1", R, 1), seg("STC", R, MANY, codes=STATUS)),
            loop(
                "2000D",
                S,
                MANY,
                seg("HL***22", R, 1, need="02 04", codes={"04": "0 1"}),
                loop("2100D", R, 1, SUBSCRIBER),
                _answered("D"),
                loop("2000E", S, MANY, seg("HL***23", R, 1, need="02"), loop("2100E", R, 1, DEPENDENT), _answered("E")),
            ),
        ),
    ),
)


CLAIM_STATUS_REQUEST = transaction_set(
    "276",
    "276",
    "005010X212",
    "HR",
    seg("BHT", R, 1, need="03 04", codes={"01": "0010", "02": "13"}),
    REQUEST,
)
CLAIM_STATUS_RESPONSE = transaction_set(
    "277",
    "277",
    "005010X212",
    "HN",
    seg("BHT", R, 1, need="03 04 06", codes={"01": "0010", "02": "08", "06": "DG"}),
    RESPONSE,
)

ACKNOWLEDGED_CLAIM = loop(
    "2200D",
    S,
    MANY,
    seg("TRN*2", R, 1),
    seg("STC", R, MANY, need="03 04", codes={**STATUS, "03": "U WQ"}),
    *each("REF", "1K D9 BLT", S, 1),
    seg("DTP*472", R, 1, codes={"02": "D8 RD8"}),
    loop(
        "2220D",
        S,
        MANY,
        seg("SVC", R, 1, need="01-1 01-2 02", codes={"01-1": SERVICE_ID}),
        seg("STC", R, 1, codes=STATUS),
        *each("REF", "FJ XZ", S, 1),
        seg("DTP*472", S, 1, codes={"02": "D8 RD8"}),
    ),
)

CLAIM_ACKNOWLEDGMENT = transaction_set(
    "277CA",
    "277",
    "005010X214",
    "HN",
    seg("BHT", R, 1, need="03 04 06", codes={"01": "0085", "02": "08", "06": "TH"}),
    loop(
        "2000A",
        R,
        MANY,
        seg("HL***20", R, 1, need="04", codes={"04": "1"}),
        loop("2100A", R, 1, seg("NM1*PR AY", R, 1, need="03 08 09", codes={"02": "2"})),
        loop("2200A", R, MANY, seg("TRN*1", R, 1), seg("DTP*050", R, 1), seg("DTP*009", R, 1)),
        loop(
            "2000B",
            R,
            1,
            seg("HL***21", R, 1, need="02 04", codes={"04": "0 1"}),
            loop("2100B", R, 1, seg("NM1*41", R, 1, need="08 09", codes={"02": "1 2", "08": "46"})),
            loop(
                "2200B",
                R,
                1,
                seg("TRN*2", R, 1),
                seg("STC", R, MANY, need="03 04", codes={**STATUS, "03": "U WQ"}),
                *each("QTY", "90 AA", S, 1),
                *each("AMT", "YU YY", S, 1),
            ),
            loop(
                "2000C",
                S,
                MANY,
                seg("HL***19", R, 1, need="02 04", codes={"04": "1"}),
                loop("2100C", R, MANY, seg("NM1*85", R, 1, need="08 09", codes={"02": "1 2", "08": "FI SV XX"})),
                loop(
                    "2200C",
                    R,
                    1,
                    seg("TRN*1", R, 1),
                    seg("STC", S, MANY, need="03 04", codes={**STATUS, "03": "U WQ"}),
                    seg("REF*0B 1G G2 LU SY TJ", S, 1),
                    *each("QTY", "QA QC", S, 1),
                    *each("AMT", "YU YY", S, 1),
                ),
                loop(
                    "2000D",
                    S,
                    MANY,
                    seg("HL***PT", R, 1, need="02"),
                    loop("2100D", R, 1, seg("NM1*QC", R, 1, need="03", codes={"02": "1"})),
                    ACKNOWLEDGED_CLAIM,
                ),
            ),
        ),
    ),
)
