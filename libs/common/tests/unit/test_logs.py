from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider

from rcm_common.logs import (
    MASK,
    JsonFormatter,
    bind_correlation_id,
    configure_logging,
    correlation_id_var,
    get_correlation_id,
    redact,
)

log = logging.getLogger("rcm.test.logs")


# Tests call configure_logging themselves rather than in a fixture: capsys swaps stdout between the
# setup and call phases, and the handler writes to the stdout it was created with.
@pytest.fixture(autouse=True)
def _restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def _lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("ssn 123-45-6789", "123-45-6789"),
        ("ssn 123456789", "123456789"),
        ("born 1980-02-03", "1980-02-03"),
        ("born 02/03/1980", "02/03/1980"),
        ("mail jane.doe+x@example.org", "jane.doe+x@example.org"),
        ("call 617-555-0123", "617-555-0123"),
        ("call (617) 555-0123", "555-0123"),
        ("call 6175550123", "6175550123"),
        ("first_name=Jane", "Jane"),
        ("patient_last_name = 'Doe Smith'", "Doe Smith"),
        ('{"memberId": "XQZ77"}', "XQZ77"),
        ("{'address': {'line1': '1 Elm St', 'postal_code': '02139'}}", "Elm"),
        ("subscriber_name=Roe&zip=02139", "Roe"),
    ],
)
def test_redact_masks_phi_shapes_and_phi_keyed_values(text: str, secret: str) -> None:
    redacted = redact(text)

    assert secret not in redacted
    assert MASK in redacted


def test_redact_keeps_identifiers_and_amounts() -> None:
    text = "claim 6f1c2a4e-93d1-4f0a-8c55-0a1b2c3d4e5f patient_id=p-42 paid 125.50 of 3 lines"

    assert redact(text) == text


def test_ssn_in_args_is_masked(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("registration")
    log.info("looked up %s", "123-45-6789")

    out = capsys.readouterr().out
    assert "123-45-6789" not in out
    assert json.loads(out)["message"] == f"looked up {MASK}"


def test_phi_keyed_dict_in_args_is_masked(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("registration")
    log.info("patient %s", {"first_name": "Jane"})

    (line,) = _lines(capsys)
    assert "Jane" not in json.dumps(line)
    assert line["message"] == f"patient {{'first_name': '{MASK}'}}"


def test_line_is_one_json_object_with_context(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("registration")
    token = bind_correlation_id("corr-1")
    tracer = TracerProvider().get_tracer("test")
    try:
        with tracer.start_as_current_span("work") as span:
            log.warning("claim %s scrubbed", "c-9")
    finally:
        correlation_id_var.reset(token)

    out = capsys.readouterr().out
    assert out.count("\n") == 1
    line = json.loads(out)
    assert line["level"] == "WARNING"
    assert line["logger"] == "rcm.test.logs"
    assert line["message"] == "claim c-9 scrubbed"
    assert line["service"] == "registration"
    assert line["correlation_id"] == "corr-1"
    assert line["trace_id"] == format(span.get_span_context().trace_id, "032x")
    assert line["span_id"] == format(span.get_span_context().span_id, "016x")
    assert line["ts"].endswith("+00:00")


def test_without_context_no_ids_are_invented(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("registration")
    log.info("idle")

    (line,) = _lines(capsys)
    assert get_correlation_id() is None
    assert {"correlation_id", "trace_id", "span_id"}.isdisjoint(line)


def test_exception_text_is_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("registration")
    try:
        raise ValueError("duplicate ssn 123-45-6789 for dob=1980-02-03")
    except ValueError:
        log.exception("registration failed")

    (line,) = _lines(capsys)
    assert line["exc_type"] == "ValueError"
    assert "Traceback" in line["exc"]
    assert "123-45-6789" not in line["exc"]
    assert "1980-02-03" not in line["exc"]


def test_configuring_twice_keeps_one_handler(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("registration")
    configure_logging("registration", level="debug")

    log.debug("once")

    assert len(_lines(capsys)) == 1
    assert logging.getLogger().level == logging.DEBUG


def test_url_logging_libraries_are_silenced(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("registration")
    logging.getLogger("uvicorn.access").info('%s - "GET /patients?ssn=123-45-6789 HTTP/1.1" 200', "10.0.0.1")
    logging.getLogger("httpx").info("HTTP Request: GET http://payer/members?name=Doe")
    logging.getLogger("uvicorn.error").info("Started server process")

    assert [line["logger"] for line in _lines(capsys)] == ["uvicorn.error"]


def test_text_output_is_redacted_too(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("registration", json_output=False)

    log.info("member %s", "member_id=XQZ77")

    out = capsys.readouterr().out
    assert "XQZ77" not in out
    assert "member member_id=[REDACTED]" in out


def test_formatter_redacts_records_it_did_not_see_filtered() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "dob %s", ("02/03/1980",), None)

    assert json.loads(JsonFormatter("svc").format(record))["message"] == f"dob {MASK}"
