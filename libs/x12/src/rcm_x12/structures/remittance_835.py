"""835, the remittance advice (005010X221A1): the payment (BPR, TRN), payer and payee, then claims (2100)
grouped under header numbers (2000), each with its service lines (2110), and provider adjustments (PLB)."""

from rcm_x12.structures.spec import MANY, R, S, each, loop, seg, transaction_set

CLAIM_STATUS = "1 2 3 4 19 20 21 22 23 25"
CLAIM_FILING = "12 13 14 15 16 17 AM CH DS HM LM MA MB MC OF TV VA WC ZZ"
ADJUSTMENT_GROUP = "CO OA PI PR"
PROVIDER_IDS = "0B 1A 1B 1C 1D 1G 1H 1J D3 G2 LU"

SERVICE_PAYMENT = loop(
    "2110",
    S,
    999,
    seg("SVC", R, 1, need="01-1 01-2 03", codes={"01-1": "AD ER HC HP IV N4 N6 NU UI WK"}),
    seg("DTM*150 151 472", S, 2),
    seg("CAS", S, 99, codes={"01": ADJUSTMENT_GROUP}),
    seg("REF*1S APC BB E9 G1 G3 LU RB", S, 8),
    seg("REF*6R", S, 1),
    seg("REF*0B 1A 1B 1C 1D 1G 1H 1J D3 G2 HPI SY TJ", S, 10),
    seg("REF*0K", S, 5),
    seg("AMT*B6 KH T T2 ZK ZL ZM ZN ZO", S, 9),
    seg("QTY*ZK ZL ZM ZN ZO", S, 6),
    seg("LQ*HE RX", S, 99),
)

CLAIM_PAYMENT = loop(
    "2100",
    R,
    MANY,
    seg("CLP", R, 1, need="06 07", codes={"02": CLAIM_STATUS, "06": CLAIM_FILING}),
    seg("CAS", S, 99, codes={"01": ADJUSTMENT_GROUP}),
    seg("NM1*QC", R, 1, codes={"02": "1"}),
    seg("NM1*IL", S, 1, codes={"02": "1 2"}),
    seg("NM1*74", S, 1, codes={"02": "1 2"}),
    seg("NM1*82", S, 1, need="08 09", codes={"02": "1 2"}),
    seg("NM1*TT", S, 1, need="03 08 09", codes={"02": "2"}),
    seg("NM1*PR", S, 1, need="03 08 09", codes={"02": "2"}),
    seg("NM1*GB", S, 1, codes={"02": "1 2"}),
    seg("MIA", S, 1),
    seg("MOA", S, 1),
    seg("REF*1L 1W 28 6P 9A 9C BB CE EA F8 G1 G3 IG SY", S, 5),
    seg("REF*" + PROVIDER_IDS, S, 10),
    seg("DTM*232 233", S, 2),
    *each("DTM", "036 050", S, 1),
    seg("PER*CX", S, 2),
    seg("AMT*AU D8 DY F5 I NL T T2 ZK ZL ZM ZN ZO", S, 13),
    seg("QTY*CA CD LA LE NE NR OU PS VS ZK ZL ZM ZN ZO", S, 14),
    SERVICE_PAYMENT,
)

REMITTANCE = transaction_set(
    "835",
    "835",
    "005010X221",
    "HP",
    seg("BPR", R, 1, codes={"01": "C D H I P U X", "03": "C D", "04": "ACH BOP CHK FWT NON"}),
    seg("TRN*1", R, 1, need="03"),
    seg("CUR*PR", S, 1),
    seg("REF*EV", S, 1),
    seg("REF*F2", S, 1),
    seg("DTM*405", S, 1),
    loop(
        "1000A",
        R,
        1,
        seg("N1*PR", R, 1, need="02"),
        seg("N3", R, 1),
        seg("N4", R, 1, need="01"),
        seg("REF*2U EO HI NF", S, 4),
        seg("PER*CX", S, 1),
        seg("PER*BL", R, MANY),
        seg("PER*IC", S, 1),
    ),
    loop(
        "1000B",
        R,
        1,
        seg("N1*PE", R, 1, need="02 03 04", codes={"03": "FI XV XX"}),
        seg("N3", S, 1),
        seg("N4", S, 1, need="01"),
        seg("REF*0B D3 PQ TJ", S, MANY),
        seg("RDM", S, 1),
    ),
    loop("2000", S, MANY, seg("LX", R, 1), seg("TS3", S, 1), seg("TS2", S, 1), CLAIM_PAYMENT),
    seg("PLB", S, MANY),
)
