"""Structured JSON logs with a correlation id, trace ids and PHI redaction.

Redaction is a safety net, not a licence to log PHI: it masks what *looks like* an SSN, a date, an email
address, a phone number or the value of a PHI-named key, but it cannot recognise a bare name or street.
Log identifiers (patient_id, claim_id) and counts, never the values a patient gave us.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import traceback
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import Any, TextIO

from opentelemetry import trace

MASK = "[REDACTED]"

correlation_id_var: ContextVar[str | None] = ContextVar("correlation_id", default=None)


def get_correlation_id() -> str | None:
    """The correlation id of the request or message being handled, if one is bound."""
    return correlation_id_var.get()


def bind_correlation_id(value: str) -> Token[str | None]:
    """Bind `value` for the current context; pass the token to `correlation_id_var.reset` when done."""
    return correlation_id_var.set(value)


# Key names whose values are PHI; a key matches when it contains one of these (patient_first_name,
# subscriberMemberId, ...), so the list errs towards masking too much rather than too little.
PHI_KEYS = (
    "ssn",
    "first_?name",
    "last_?name",
    "middle_?name",
    "birth_?date",
    "date_?of_?birth",
    "dob",
    "member_?id",
    "subscriber",
    "phone",
    "email",
    "address",
    "line_?[12]",
    "city",
    "postal_?code",
    "zip",
    "mrn",
)
_KEY = rf"[\w-]*?(?:{'|'.join(PHI_KEYS)})[\w-]*"
_QUOTED = r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'"
# "key": "value" and 'key': 'value' (JSON and Python reprs); a nested object is left to its own keys.
_QUOTED_PAIR = re.compile(rf"([\"'])({_KEY})\1(\s*:\s*)(?:{_QUOTED}|[^\s,{{}}\[\]]+)", re.IGNORECASE)
# key=value, as in query strings and reprs of keyword arguments.
_ASSIGNMENT = re.compile(rf"\b({_KEY})(\s*=\s*)(?:{_QUOTED}|[^\s,;&)}}\]]+)", re.IGNORECASE)
_SHAPES = re.compile(
    "|".join(
        (
            r"\b\d{3}-?\d{2}-?\d{4}\b",  # SSN
            r"\b\d{4}-\d{2}-\d{2}\b",  # ISO date
            r"\b\d{1,2}/\d{1,2}/\d{4}\b",  # US date
            r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+",  # email
            r"(?<!\w)(?:\+?1[-. ]?)?\(?\d{3}\)?[-. ]?\d{3}[-. ]?\d{4}\b",  # 10-digit phone
        )
    )
)


def redact(text: str) -> str:
    """Mask PHI-shaped values and the values of PHI-named keys in `text`."""
    text = _QUOTED_PAIR.sub(rf"\1\2\1\3\1{MASK}\1", text)
    text = _ASSIGNMENT.sub(rf"\1\2{MASK}", text)
    return _SHAPES.sub(MASK, text)


class RedactingFilter(logging.Filter):
    """Redacts a record in place: the message with its % args merged, the traceback and the stack.

    Merging first matters: `logger.info("patient %s", patient)` only shows PHI once formatted.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


_REDACTING_FILTER = RedactingFilter()


class JsonFormatter(logging.Formatter):
    """One JSON object per line, redacted before anything is rendered."""

    def __init__(self, service_name: str) -> None:
        super().__init__()
        self.service_name = service_name

    def format(self, record: logging.LogRecord) -> str:
        _REDACTING_FILTER.filter(record)
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.msg,
            "service": self.service_name,
        }
        correlation_id = get_correlation_id()
        if correlation_id:
            entry["correlation_id"] = correlation_id
        span_context = trace.get_current_span().get_span_context()
        if span_context.is_valid:
            entry["trace_id"] = format(span_context.trace_id, "032x")
            entry["span_id"] = format(span_context.span_id, "016x")
        if record.exc_info and record.exc_info[0] is not None:
            entry["exc_type"] = record.exc_info[0].__name__
        if record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False)


class RedactingTextFormatter(logging.Formatter):
    """Human-readable lines for a developer's terminal, redacted like the JSON ones."""

    def format(self, record: logging.LogRecord) -> str:
        _REDACTING_FILTER.filter(record)
        return super().format(record)


class _RcmHandler(logging.StreamHandler[TextIO]):
    """Marks the handler `configure_logging` owns, so a second call replaces it instead of adding one."""


def configure_logging(service_name: str, level: str = "INFO", json_output: bool = True) -> None:
    """Send every log record through one redacting stdout handler on the root logger.

    uvicorn's own handlers are removed so its records reach ours too. uvicorn's access logger and httpx's
    request logger are quietened: they print query strings, which can hold PHI (`RequestContextMiddleware`
    logs access instead).
    Run uvicorn with `log_config=None, access_log=False` so it does not reinstall them.
    """
    root = logging.getLogger()
    for existing in [h for h in root.handlers if isinstance(h, _RcmHandler)]:
        root.removeHandler(existing)
    handler = _RcmHandler(sys.stdout)
    handler.setFormatter(
        JsonFormatter(service_name)
        if json_output
        else RedactingTextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
    # Both log every request URL with its query string at INFO.
    for name in ("uvicorn.access", "httpx"):
        logging.getLogger(name).setLevel(logging.WARNING)
