"""270 and 271, the eligibility inquiry and response (005010X279A1): information source (2000A) over receiver
(2000B) over subscriber (2000C) over dependent (2000D). The inquiry asks (EQ, 2110); the response answers (EB,
2110) or rejects (AAA, at any level), which is why its receiver and subscriber levels are situational."""

from rcm_x12.structures.spec import MANY, LoopRule, R, S, SegmentRule, each, loop, seg, transaction_set

SOURCE = "2B 36 GP P5 PR"
RECEIVER = "1P 2B 36 80 FA GP P5 PR"
RECEIVER_REFERENCE = "0B 1C 1D 1J 4A CT EL EO HPI JD N5 N7 Q4 SY TJ"
PERSON_REFERENCE = "18 1L 1W 3H 6P CT EA EJ F6 GH HJ IG N6 NQ SY Y4"
BENEFIT = "1 2 3 4 5 6 7 8 A B C CB D E F G H I J K L M MC N O P Q R S T U V W X Y"
BENEFIT_ENTITY = "13 1I 1P 2B 36 73 FA GP GW I3 IL LR OC P3 P4 P5 PR PRP SEP TTP VER VN VY X3 Y2"

REJECTION = seg("AAA", S, 9, need="03 04", codes={"01": "N Y"})
ADDRESS = (seg("N3", S, 1), seg("N4", S, 1, need="01"))
DEMOGRAPHICS = (
    seg("DMG", S, 1, codes={"01": "D8", "03": "F M U"}),
    seg("INS", S, 1, codes={"01": "N Y"}),
    seg("HI", S, 1),
)


def _asked(level: str, *amounts: SegmentRule) -> LoopRule:
    """What the inquiry asks of the subscriber (2110C, which alone carries amounts) or the dependent (2110D)."""
    return loop(
        f"2110{level}",
        S,
        99,
        seg("EQ", R, 1),
        *amounts,
        seg("III", S, 10),
        seg("REF*9F G1", S, 1),
        seg("DTP*291", S, 1),
    )


def _answered(level: str) -> LoopRule:
    """What the response answers of the subscriber (2110C) or dependent (2110D): a benefit, its messages, and
    the entities it names between LS and LE (2120)."""
    return loop(
        f"2110{level}",
        S,
        MANY,
        seg("EB", R, 1, codes={"01": BENEFIT}),
        seg("HSD", S, 9),
        seg("REF", S, 9),
        seg("DTP", S, 20),
        REJECTION,
        seg("MSG", S, 10),
        loop(f"2115{level}", S, 10, seg("III", R, 1)),
        seg("LS", S, 1),
        loop(f"2120{level}", S, 23, seg(f"NM1*{BENEFIT_ENTITY}", R, 1), *ADDRESS, seg("PER", S, 3), seg("PRV", S, 1)),
        seg("LE", S, 1),
    )


INQUIRY = loop(
    "2000A",
    R,
    MANY,
    seg("HL***20", R, 1, need="04", codes={"04": "1"}),
    loop("2100A", R, 1, seg(f"NM1*{SOURCE}", R, 1, need="03 08 09", codes={"02": "1 2"})),
    loop(
        "2000B",
        R,
        MANY,
        seg("HL***21", R, 1, need="02 04", codes={"04": "1"}),
        loop(
            "2100B",
            R,
            1,
            seg(f"NM1*{RECEIVER}", R, 1, need="03 08 09", codes={"02": "1 2"}),
            seg(f"REF*{RECEIVER_REFERENCE}", S, 9),
            *ADDRESS,
            seg("PRV", S, 1),
        ),
        loop(
            "2000C",
            R,
            MANY,
            seg("HL***22", R, 1, need="02 04", codes={"04": "0 1"}),
            seg("TRN*1", S, 2),
            loop(
                "2100C",
                R,
                1,
                seg("NM1*IL", R, 1, codes={"02": "1"}),
                seg(f"REF*{PERSON_REFERENCE}", S, 9),
                *ADDRESS,
                seg("PRV", S, 1),
                *DEMOGRAPHICS,
                seg("DTP", S, 2),
                _asked("C", *each("AMT", "R PB", S, 1)),
            ),
            loop(
                "2000D",
                S,
                MANY,
                seg("HL***23", R, 1, need="02 04", codes={"04": "0"}),
                seg("TRN*1", S, 2),
                loop(
                    "2100D",
                    R,
                    1,
                    seg("NM1*03", R, 1, codes={"02": "1"}),
                    seg(f"REF*{PERSON_REFERENCE}", S, 9),
                    *ADDRESS,
                    seg("PRV", S, 1),
                    *DEMOGRAPHICS,
                    seg("DTP", S, 2),
                    _asked("D"),
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
    REJECTION,
    loop(
        "2100A",
        R,
        1,
        seg(f"NM1*{SOURCE}", R, 1, need="03 08 09", codes={"02": "1 2"}),
        seg("PER", S, 3),
        REJECTION,
    ),
    loop(
        "2000B",
        S,
        MANY,
        seg("HL***21", R, 1, need="02 04", codes={"04": "0 1"}),
        loop(
            "2100B",
            R,
            1,
            seg(f"NM1*{RECEIVER}", R, 1, need="03 08 09", codes={"02": "1 2"}),
            seg(f"REF*{RECEIVER_REFERENCE}", S, 9),
            *ADDRESS,
            REJECTION,
            seg("PRV", S, 1),
        ),
        loop(
            "2000C",
            S,
            MANY,
            seg("HL***22", R, 1, need="02 04", codes={"04": "0 1"}),
            seg("TRN", S, 3),
            loop(
                "2100C",
                R,
                1,
                seg("NM1*IL", R, 1, codes={"02": "1 2"}),
                seg(f"REF*{PERSON_REFERENCE}", S, 9),
                *ADDRESS,
                REJECTION,
                seg("PRV", S, 1),
                *DEMOGRAPHICS,
                seg("DTP", S, 9),
                seg("MPI", S, 1),
                _answered("C"),
            ),
            loop(
                "2000D",
                S,
                MANY,
                seg("HL***23", R, 1, need="02 04", codes={"04": "0"}),
                seg("TRN", S, 3),
                loop(
                    "2100D",
                    R,
                    1,
                    seg("NM1*03", R, 1, codes={"02": "1"}),
                    seg(f"REF*{PERSON_REFERENCE}", S, 9),
                    *ADDRESS,
                    REJECTION,
                    seg("PRV", S, 1),
                    *DEMOGRAPHICS,
                    seg("DTP", S, 9),
                    seg("MPI", S, 1),
                    _answered("D"),
                ),
            ),
        ),
    ),
)

ELIGIBILITY_INQUIRY = transaction_set(
    "270", "270", "005010X279", "HS", seg("BHT", R, 1, need="03 04 05", codes={"01": "0022", "02": "01 13"}), INQUIRY
)
ELIGIBILITY_RESPONSE = transaction_set(
    "271", "271", "005010X279", "HB", seg("BHT", R, 1, need="04 05", codes={"01": "0022", "02": "06 11"}), RESPONSE
)
