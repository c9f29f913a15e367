"""Traces, Prometheus metrics and the per-request context (correlation id, access log).

Nothing a client sends reaches a span attribute, a metric label or the access log except the method,
the route template and a correlation id that passed validation: query strings and raw paths can hold PHI.
"""

from __future__ import annotations

import logging
import re
import uuid
from time import perf_counter
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, FastAPI, Response
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.propagate import set_global_textmap
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rcm_common.logs import bind_correlation_id, correlation_id_var

logger = logging.getLogger(__name__)
access_logger = logging.getLogger("rcm.access")

UNMATCHED_ROUTE = "<unmatched>"
CORRELATION_HEADER = "X-Correlation-ID"
_CORRELATION_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_UNTRACED_PATHS = ("/healthz", "/readyz", "/metrics")


_installed_provider: TracerProvider | None = None


def configure_tracing(service_name: str, otlp_endpoint: str | None) -> TracerProvider:
    """Install the global tracer provider and the W3C tracecontext propagator.

    Spans go over OTLP/HTTP to `otlp_endpoint` (a collector's base URL, `/v1/traces` added) when one is
    set, in batches. Otherwise spans are still created, so ids reach logs and Kafka headers, but nothing is
    exported. Only tracecontext is propagated: baggage is client-controlled free text and is ignored.
    """
    global _installed_provider
    if _installed_provider is not None:
        return _installed_provider  # OpenTelemetry allows one global provider per process
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service_name}))
    if otlp_endpoint:
        # An explicit endpoint is the full traces URL, unlike the base URL in OTEL_EXPORTER_OTLP_ENDPOINT.
        exporter = OTLPSpanExporter(endpoint=f"{otlp_endpoint.rstrip('/')}/v1/traces")
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    set_global_textmap(TraceContextTextMapPropagator())
    _installed_provider = provider
    return provider


def instrument_fastapi(app: FastAPI, tracer_provider: TracerProvider | None = None) -> None:
    """Trace every request except the probes and /metrics, with no header value, no query string and the route
    template in place of the path.

    `tracer_provider` defaults to the global one set by `configure_tracing`.
    """
    FastAPIInstrumentor.instrument_app(
        app,
        server_request_hook=_strip_path_and_query_from_span,
        tracer_provider=tracer_provider,
        excluded_urls=",".join(f"{path}$" for path in _UNTRACED_PATHS),
        # An empty capture list falls back to the OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_* variables,
        # so header capture cannot be switched off here: every captured value is redacted instead.
        http_capture_headers_sanitize_fields=[".*"],
        # A span per ASGI send/receive message costs time and tells an operator nothing.
        exclude_spans=["receive", "send"],
    )


_PATH_ATTRIBUTES = ("http.target", "url.path")
_URL_ATTRIBUTES = ("http.url", "url.full")


def _strip_path_and_query_from_span(span: trace.Span, scope: dict[str, Any]) -> None:
    """Overwrite the URL attributes the instrumentation set from the raw request: the path becomes the route
    template the instrumentation matched (`http.route`, or `<unmatched>`), since a client can type a patient's
    name where an id goes, and the query is dropped."""
    if not span.is_recording() or not isinstance(span, ReadableSpan):
        return
    attributes = span.attributes or {}
    route = attributes.get("http.route")
    path = route if isinstance(route, str) else UNMATCHED_ROUTE
    for key in _PATH_ATTRIBUTES:
        if key in attributes:
            span.set_attribute(key, path)
    for key in _URL_ATTRIBUTES:
        value = attributes.get(key)
        if isinstance(value, str):
            span.set_attribute(key, urlsplit(value)._replace(path=path, query="", fragment="").geturl())
    if "url.query" in attributes:
        span.set_attribute("url.query", "REDACTED")


class HttpMetrics:
    """The request counter and latency histogram, labelled by route template, never by raw path."""

    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        self.requests = Counter(
            "rcm_http_requests",
            "HTTP requests handled, by route template and status.",
            ("service", "method", "route", "status"),
            registry=registry,
        )
        self.duration = Histogram(
            "rcm_http_request_duration_seconds",
            "Time to handle an HTTP request, by route template.",
            ("service", "method", "route"),
            registry=registry,
        )

    def observe(self, *, service: str, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(service, method, route, str(status)).inc()
        self.duration.labels(service, method, route).observe(seconds)


HTTP_METRICS = HttpMetrics()


def metrics_router(registry: CollectorRegistry = REGISTRY) -> APIRouter:
    """`GET /metrics` in the Prometheus text format; left unauthenticated as it holds no PHI."""
    router = APIRouter()

    @router.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return router


def route_template(scope: Scope) -> str:
    """The template of the route that handled the request (`/patients/{patient_id}`), or `<unmatched>`."""
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) else UNMATCHED_ROUTE


class RequestContextMiddleware:
    """Binds a correlation id, echoes it, records the HTTP metrics and writes one access log line.

    A client's `X-Correlation-ID` is kept only when it is 1-64 characters of [A-Za-z0-9._-], so it is
    safe to log and echo; anything else is replaced by a fresh id.
    """

    def __init__(self, app: ASGIApp, *, service_name: str, metrics: HttpMetrics = HTTP_METRICS) -> None:
        self.app = app
        self.service_name = service_name
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        correlation_id = _incoming_correlation_id(scope) or uuid.uuid4().hex
        token = bind_correlation_id(correlation_id)
        header = (CORRELATION_HEADER.lower().encode(), correlation_id.encode())
        status = 500  # what the client gets if the app raises before starting a response
        started = perf_counter()

        async def send_with_correlation_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_correlation_id)
        finally:
            seconds = perf_counter() - started
            method = scope["method"] if scope["method"] in _KNOWN_METHODS else "OTHER"
            route = route_template(scope)
            self.metrics.observe(service=self.service_name, method=method, route=route, status=status, seconds=seconds)
            access_logger.info("%s %s %d %.1fms", method, route, status, seconds * 1000)
            correlation_id_var.reset(token)


def _incoming_correlation_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"x-correlation-id":
            candidate = value.decode("latin-1")
            return candidate if _CORRELATION_ID.fullmatch(candidate) else None
    return None
