"""A service exports its traces over OTLP/HTTP to the collector `OTEL_EXPORTER_OTLP_ENDPOINT` names: a
request to a running registration arrives at a collector stand-in as a span, under the service's name, with
the route template and none of the request's query."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from rcm_common.testing import OtlpCollector, otlp_collector
from rcm_tools.net import free_port
from rcm_tools.tokens import mint_local_token


@pytest.fixture
def collector() -> Iterator[OtlpCollector]:
    with otlp_collector() as server:
        yield server


def test_a_request_reaches_the_collector_as_a_span_of_the_service(collector: OtlpCollector, tmp_path: Path) -> None:
    port = free_port()
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("RCM_", "OTEL_"))}
    environment |= {
        "RCM_ENVIRONMENT": "test",
        "RCM_STATE_DIR": str(tmp_path),
        "RCM_HTTP_PORT": str(port),
        "RCM_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1",
        "OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "200",
    }
    service = subprocess.Popen(
        [sys.executable, "-m", "rcm_registration"], env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        token = mint_local_token(tmp_path, role="front_desk", subject="clerk-1")
        found = httpx.get(f"{base}/patients?last_name=Quixote", headers={"Authorization": f"Bearer {token}"})
        assert found.status_code == 200, found.text

        while time.monotonic() < deadline and not any(b"/patients" in body for _, body in collector.received):
            time.sleep(0.1)
    finally:
        service.terminate()
        service.wait(timeout=30)

    traces = [body for path, body in collector.received if path == "/v1/traces"]
    assert traces, f"no spans reached the collector: {collector.received!r}"
    exported = b"".join(traces)
    assert b"registration" in exported  # the resource's service.name
    assert b"GET /patients" in exported  # the route template, the span's name
    assert b"Quixote" not in exported  # never the query
