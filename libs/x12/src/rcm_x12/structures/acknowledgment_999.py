"""999, the implementation acknowledgment (005010X231A1): the group acknowledged (AK1), each transaction set's
response (2000: AK2, its errors by segment (2100) and element (2110), IK5), and the group's verdict (AK9)."""

from rcm_x12.structures.spec import MANY, R, S, loop, seg, transaction_set

FUNCTIONAL_ID = "BE FA HB HC HI HN HP HR HS RA"
SET_ERRORS = "1 2 3 4 5 6 7 8 9 10 11 12 13 15 16 17 18 19 23 24 25 26 27 I5 I6"
GROUP_ERRORS = "1 2 3 4 5 6 10 11 12 13 14 15 16 17 18 19 23 24 25 26"

IMPLEMENTATION_ACKNOWLEDGMENT = transaction_set(
    "999",
    "999",
    "005010X231",
    "FA",
    seg("AK1", R, 1, need="03", codes={"01": FUNCTIONAL_ID}),
    loop(
        "2000",
        S,
        MANY,
        seg("AK2", R, 1, codes={"01": "270 271 276 277 278 820 834 835 837"}),
        loop(
            "2100",
            S,
            MANY,
            seg("IK3", R, 1, codes={"04": "1 2 3 4 5 6 7 8 I4 I6 I7 I8 I9"}),
            seg("CTX", S, 10),
            loop(
                "2110",
                S,
                MANY,
                seg("IK4", R, 1, codes={"03": "1 2 3 4 5 6 7 8 9 10 11 12 13 I6 I9 I10 I11 I12 I13"}),
                seg("CTX", S, 10),
            ),
        ),
        seg("IK5", R, 1, codes={"01": "A E M R W X", **{f"{n:02d}": SET_ERRORS for n in range(2, 7)}}),
    ),
    seg("AK9", R, 1, codes={"01": "A E M P R W X", **{f"{n:02d}": GROUP_ERRORS for n in range(5, 10)}}),
)
