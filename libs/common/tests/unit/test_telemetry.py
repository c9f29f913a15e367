from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry import propagate, trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from prometheus_client import CollectorRegistry

from rcm_common import telemetry
from rcm_common.logs import configure_logging, get_correlation_id
from rcm_common.telemetry import (
    HttpMetrics,
    RequestContextMiddleware,
    configure_tracing,
    instrument_fastapi,
    metrics_router,
)

SERVICE = "registration"


def _app(registry: CollectorRegistry) -> FastAPI:
    app = FastAPI()

    @app.get("/patients/{patient_id}")
    async def read_patient(patient_id: str) -> dict[str, str | None]:
        return {"correlation_id": get_correlation_id()}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("unexpected")

    app.include_router(metrics_router(registry))
    app.add_middleware(RequestContextMiddleware, service_name=SERVICE, metrics=HttpMetrics(registry))
    return app


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


def _client(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://test")


def _requests(registry: CollectorRegistry, route: str, status: str, method: str = "GET") -> float | None:
    labels = {"service": SERVICE, "method": method, "route": route, "status": status}
    return registry.get_sample_value("rcm_http_requests_total", labels)


async def test_metrics_are_labelled_by_route_template(registry: CollectorRegistry) -> None:
    async with _client(_app(registry)) as client:
        await client.get("/patients/p-123-45-6789")
        await client.get("/patients/p-2?dob=1980-02-03")

    assert _requests(registry, "/patients/{patient_id}", "200") == 2
    duration_labels = {"service": SERVICE, "method": "GET", "route": "/patients/{patient_id}"}
    assert registry.get_sample_value("rcm_http_request_duration_seconds_count", duration_labels) == 2


async def test_unmatched_paths_share_one_label(registry: CollectorRegistry) -> None:
    async with _client(_app(registry)) as client:
        await client.get("/no/such/123-45-6789")
        await client.request("BREW", "/patients/p-1")

    assert _requests(registry, "<unmatched>", "404") == 1
    assert _requests(registry, "/patients/{patient_id}", "405", method="OTHER") == 1


async def test_a_raising_app_is_counted_as_500(registry: CollectorRegistry) -> None:
    async with _client(_app(registry)) as client:
        response = await client.get("/boom")

    assert response.status_code == 500
    assert _requests(registry, "/boom", "500") == 1


async def test_metrics_endpoint_exposes_counter_without_raw_paths(registry: CollectorRegistry) -> None:
    app = _app(registry)
    async with _client(app) as client:
        await client.get("/patients/p-123-45-6789?ssn=123-45-6789")
        response = await client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert 'rcm_http_requests_total{method="GET",route="/patients/{patient_id}"' in response.text
    assert "6789" not in response.text
    assert "/metrics" not in app.openapi()["paths"]


async def test_correlation_id_is_bound_and_echoed(registry: CollectorRegistry) -> None:
    async with _client(_app(registry)) as client:
        response = await client.get("/patients/p-1", headers={"X-Correlation-ID": "batch-7.retry_2"})

    assert response.headers["X-Correlation-ID"] == "batch-7.retry_2"
    assert response.json() == {"correlation_id": "batch-7.retry_2"}
    assert get_correlation_id() is None


@pytest.mark.parametrize("bad", ["has space", "x" * 65, "<script>", "jane@example.org", ""])
async def test_bad_correlation_id_is_replaced(registry: CollectorRegistry, bad: str) -> None:
    async with _client(_app(registry)) as client:
        response = await client.get("/patients/p-1", headers={"X-Correlation-ID": bad})

    echoed = response.headers["X-Correlation-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", echoed)
    assert response.json() == {"correlation_id": echoed}


async def test_access_line_has_template_status_and_correlation_id_only(
    registry: CollectorRegistry, capsys: pytest.CaptureFixture[str]
) -> None:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    configure_logging(SERVICE)
    try:
        async with _client(_app(registry)) as client:
            await client.get("/patients/p-42?last_name=Doe", headers={"X-Correlation-ID": "c-1"})
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)

    (line,) = [json.loads(raw) for raw in capsys.readouterr().out.splitlines()]
    assert line["logger"] == "rcm.access"
    assert re.fullmatch(r"GET /patients/\{patient_id\} 200 \d+\.\dms", line["message"])
    assert line["correlation_id"] == "c-1"
    assert "p-42" not in json.dumps(line)
    assert "Doe" not in json.dumps(line)


@pytest.fixture
def spans() -> Iterator[tuple[TracerProvider, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider, exporter
    provider.shutdown()


async def test_server_span_carries_no_query_string_nor_header_value(
    registry: CollectorRegistry,
    spans: tuple[TracerProvider, InMemorySpanExporter],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_REQUEST", "x-debug")
    provider, exporter = spans
    app = _app(registry)
    instrument_fastapi(app, tracer_provider=provider)

    async with _client(app) as client:
        await client.get("/patients/p-1?ssn=123-45-6789&last_name=Doe", headers={"X-Debug": "Jane"})

    (span,) = exporter.get_finished_spans()
    assert span.name == "GET /patients/{patient_id}"
    assert span.attributes is not None
    values = json.dumps(dict(span.attributes))
    for secret in ("ssn", "6789", "Doe", "Jane"):
        assert secret not in values
    assert span.attributes["http.route"] == "/patients/{patient_id}"
    assert span.attributes["http.request.header.x_debug"] == ("[REDACTED]",)


async def test_probes_and_metrics_are_not_traced(
    registry: CollectorRegistry, spans: tuple[TracerProvider, InMemorySpanExporter]
) -> None:
    provider, exporter = spans
    app = _app(registry)
    instrument_fastapi(app, tracer_provider=provider)

    async with _client(app) as client:
        await client.get("/metrics")

    assert exporter.get_finished_spans() == ()


def test_hook_rewrites_new_semconv_url_attributes(spans: tuple[TracerProvider, InMemorySpanExporter]) -> None:
    provider, exporter = spans
    span = provider.get_tracer("test").start_span(
        "GET",
        attributes={
            "url.full": "http://svc/patients/Quixbyrne?ssn=123-45-6789",
            "url.query": "ssn=123-45-6789",
            "url.path": "/patients/Quixbyrne",
            "http.route": "/patients/{patient_id}",
        },
    )

    telemetry._strip_path_and_query_from_span(span, {})
    span.end()

    (finished,) = exporter.get_finished_spans()
    assert finished.attributes == {
        "url.full": "http://svc/patients/{patient_id}",
        "url.query": "REDACTED",
        "url.path": "/patients/{patient_id}",
        "http.route": "/patients/{patient_id}",
    }


async def test_server_span_carries_the_route_template_not_the_path_the_client_typed(
    registry: CollectorRegistry, spans: tuple[TracerProvider, InMemorySpanExporter]
) -> None:
    # Found by tests/security/test_phi_stays_put.py: a name where an id goes reached the collector in
    # `http.target` and `http.url`.
    provider, exporter = spans
    app = _app(registry)
    instrument_fastapi(app, tracer_provider=provider)

    async with _client(app) as client:
        await client.get("/patients/Quixbyrne")
        await client.get("/Quixbyrne/chart")

    matched, unmatched = exporter.get_finished_spans()
    assert matched.attributes is not None
    assert unmatched.attributes is not None
    assert (matched.attributes["http.target"], matched.attributes["http.url"]) == (
        "/patients/{patient_id}",
        "http://test/patients/{patient_id}",
    )
    assert (unmatched.attributes["http.target"], unmatched.attributes["http.url"]) == (
        "<unmatched>",
        "http://test/<unmatched>",
    )
    assert "Quixbyrne" not in json.dumps([dict(span.attributes or {}) for span in (matched, unmatched)])


def test_configure_tracing_names_the_service_and_propagates_tracecontext(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    installed: list[trace.TracerProvider] = []
    monkeypatch.setattr(trace, "set_tracer_provider", installed.append)
    monkeypatch.setattr(propagate, "propagator", propagate.get_global_textmap())
    monkeypatch.setattr(telemetry, "_installed_provider", None)  # as in a fresh process

    provider = configure_tracing(SERVICE, "http://127.0.0.1:9")  # tests/integration: spans reach a collector

    assert installed == [provider]
    assert provider.resource.attributes["service.name"] == SERVICE
    assert isinstance(propagate.get_global_textmap(), TraceContextTextMapPropagator)
    provider.shutdown()
