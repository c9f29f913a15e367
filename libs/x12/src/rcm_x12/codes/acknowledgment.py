"""The 999 and TA1 code lists: the implementation acknowledgment's error and acknowledgment codes (IK3-IK5,
AK9) and the interchange acknowledgment's (TA104, TA105), each with its meaning, so that a biller can read a
rejection without the TR3 at hand."""

SEGMENT_ERRORS = {
    "1": "Unrecognized segment ID",
    "2": "Unexpected segment",
    "3": "Required segment missing",
    "4": "Loop occurs over maximum times",
    "5": "Segment exceeds maximum use",
    "6": "Segment not in defined transaction set",
    "7": "Segment not in proper sequence",
    "8": "Segment has data element errors",
    "I4": 'Implementation "Not Used" segment present',
    "I6": "Implementation dependent segment missing",
    "I7": "Implementation loop occurs under minimum times",
    "I8": "Implementation segment below minimum use",
    "I9": 'Implementation dependent "Not Used" segment present',
}
"""IK304, the segment syntax error code."""

ELEMENT_ERRORS = {
    "1": "Required data element missing",
    "2": "Conditional required data element missing",
    "3": "Too many data elements",
    "4": "Data element too short",
    "5": "Data element too long",
    "6": "Invalid character in data element",
    "7": "Invalid code value",
    "8": "Invalid date",
    "9": "Invalid time",
    "10": "Exclusion condition violated",
    "12": "Too many repetitions",
    "13": "Too many components",
    "I6": "Code value not used in implementation",
    "I9": "Implementation dependent data element missing",
    "I10": 'Implementation "Not Used" data element present',
    "I11": "Implementation too few repetitions",
    "I12": "Implementation pattern match failure",
    "I13": 'Implementation dependent "Not Used" data element present',
}
"""IK403, the data element syntax error code."""

SET_ACKNOWLEDGMENTS = {
    "A": "Accepted",
    "E": "Accepted but errors were noted",
    "M": "Rejected, message authentication code (MAC) failed",
    "R": "Rejected",
    "W": "Rejected, assurance failed validity tests",
    "X": "Rejected, content after decryption could not be analyzed",
}
"""IK501, the transaction set acknowledgment code."""

GROUP_ACKNOWLEDGMENTS = {**SET_ACKNOWLEDGMENTS, "P": "Partially accepted, at least one transaction set was rejected"}
"""AK901, the functional group acknowledgment code."""

ACCEPTED_CODES = frozenset({"A", "E"})

SET_SYNTAX_ERRORS = {
    "1": "Transaction set not supported",
    "2": "Transaction set trailer missing",
    "3": "Transaction set control number in header and trailer do not match",
    "4": "Number of included segments does not match actual count",
    "5": "One or more segments in error",
    "6": "Missing or invalid transaction set identifier",
    "7": "Missing or invalid transaction set control number",
    "18": "Transaction set not in functional group",
    "19": "Invalid transaction set implementation convention reference",
    "23": "Transaction set control number not unique within the functional group",
    "I5": "Implementation one or more segments in error",
    "I6": "Implementation convention not supported",
}
"""IK502-IK506, the transaction set syntax error codes."""

GROUP_SYNTAX_ERRORS = {
    "1": "Functional group not supported",
    "2": "Functional group version not supported",
    "3": "Functional group trailer missing",
    "4": "Group control number in the functional group header and trailer do not agree",
    "5": "Number of included transaction sets does not match actual count",
    "6": "Group control number violates syntax",
    "19": "Functional group control number not unique within interchange",
}
"""AK905-AK909, the functional group syntax error codes."""

INTERCHANGE_ACKNOWLEDGMENTS = {
    "A": "The transmitted interchange control structure header and trailer have been received and have no errors",
    "E": "The transmitted interchange control structure header and trailer are accepted, but errors are noted",
    "R": "The transmitted interchange control structure header and trailer are rejected because of errors",
}
"""TA104, the interchange acknowledgment code."""

INTERCHANGE_NOTES = {
    "000": "No error",
    "001": "The Interchange Control Number in the Header and Trailer Do Not Match",
    "002": "This Standard as Noted in the Control Standards Identifier is Not Supported",
    "003": "This Version of the Controls is Not Supported",
    "004": "The Segment Terminator is Invalid",
    "005": "Invalid Interchange ID Qualifier for Sender",
    "006": "Invalid Interchange Sender ID",
    "007": "Invalid Interchange ID Qualifier for Receiver",
    "008": "Invalid Interchange Receiver ID",
    "009": "Unknown Interchange Receiver ID",
    "010": "Invalid Authorization Information Qualifier Value",
    "011": "Invalid Authorization Information Value",
    "012": "Invalid Security Information Qualifier Value",
    "013": "Invalid Security Information Value",
    "014": "Invalid Interchange Date Value",
    "015": "Invalid Interchange Time Value",
    "016": "Invalid Interchange Standards Identifier Value",
    "017": "Invalid Interchange Version ID Value",
    "018": "Invalid Interchange Control Number Value",
    "019": "Invalid Acknowledgment Requested Value",
    "020": "Invalid Test Indicator Value",
    "021": "Invalid Number of Included Groups Value",
    "022": "Invalid Control Structure",
    "023": "Improper (Premature) End-of-File (Transmission)",
    "024": "Invalid Interchange Content (e.g., Invalid GS Segment)",
    "025": "Duplicate Interchange Control Number",
    "026": "Invalid Data Element Separator",
    "027": "Invalid Component Element Separator",
    "028": "Invalid Delivery Date in Deferred Delivery Request",
    "029": "Invalid Delivery Time in Deferred Delivery Request",
    "030": "Invalid Delivery Time Code in Deferred Delivery Request",
    "031": "Invalid Grade of Service Code",
}
"""TA105, the interchange note code."""
