"""rcm_x12: the X12 5010 codec for the revenue cycle: a tolerant reader that checks the envelope, typed
readers per transaction set, and writers."""

from rcm_x12.errors import UnsupportedVersion, X12Error
from rcm_x12.reader import Delimiters, FunctionalGroup, Interchange, Segment, Transaction, read

__all__ = [
    "Delimiters",
    "FunctionalGroup",
    "Interchange",
    "Segment",
    "Transaction",
    "UnsupportedVersion",
    "X12Error",
    "read",
]
