"""Errors the codec raises: each names what is wrong and where (segment id and position), never a value
that could be PHI."""

from __future__ import annotations


class X12Error(ValueError):
    """The data is not a readable X12 5010 interchange, or breaks its envelope or structure."""

    def __init__(self, message: str, *, segment: str | None = None, position: int | None = None) -> None:
        where = ""
        if segment is not None and position is not None:
            where = f" (segment {segment} at position {position})"
        elif position is not None:
            where = f" (at segment position {position})"
        super().__init__(message + where)
        self.segment = segment
        self.position = position


class UnsupportedVersion(X12Error):
    """The interchange is of a version this codec does not read (004010 is pre-HIPAA-5010)."""
