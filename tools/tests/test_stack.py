"""The local stack against stand-in services: start, readiness, failure with the log, stop by pid, stale files."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from rcm_tools.net import LOOPBACK, PortInUse, accepts_connections, free_port
from rcm_tools.stack import SERVICES, LocalStack, ServiceSpec, StackError, service_environment

pytestmark = pytest.mark.broker

# A service that honours the launch contract: it reports the environment it was given and serves /readyz.
READY_SERVICE = """
import json, os
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

seen = ("RCM_ENVIRONMENT", "RCM_STATE_DIR", "RCM_HTTP_PORT", "KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL", "RCM_LOG_LEVEL")
Path(os.environ["RCM_STATE_DIR"], "seen-env.json").write_text(json.dumps({k: os.environ.get(k) for k in seen}))
print("fake started", flush=True)


class Ready(BaseHTTPRequestHandler):
    def do_GET(self):
        ready = self.path == "/readyz"
        self.send_response(200 if ready else 404)
        self.end_headers()
        if ready:
            self.wfile.write(b'{"status": "ready"}')

    def log_message(self, *args):
        pass


HTTPServer(("127.0.0.1", int(os.environ["RCM_HTTP_PORT"])), Ready).serve_forever()
"""
FAILING_SERVICE = """
import sys
print("fake: cannot open its database", flush=True)
sys.exit(3)
"""


@pytest.fixture
def environ(tmp_path: Path) -> dict[str, str]:
    """The launching shell: stand-in services on PYTHONPATH, and a DATABASE_URL the stack must not pass on."""
    modules = tmp_path / "modules"
    modules.mkdir()
    (modules / "rcm_fake_ready.py").write_text(READY_SERVICE)
    (modules / "rcm_fake_failing.py").write_text(FAILING_SERVICE)
    return {**os.environ, "PYTHONPATH": str(modules), "DATABASE_URL": "postgresql+asyncpg://elsewhere/shared"}


def pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_up_starts_broker_and_services_and_down_stops_them(
    tmp_path: Path, environ: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    fake = ServiceSpec("fake", "rcm_fake_ready", free_port())
    broker_port = free_port()
    stack = LocalStack(tmp_path / "state", [fake])
    stack.state_dir.mkdir()
    (stack.state_dir / "fake.db").write_text("left by the previous run")

    stack.up(environ=environ, broker_port=broker_port, ready_timeout=30)
    try:
        statuses = stack.status()
        with pytest.raises(StackError, match="already up"):
            stack.up(environ=environ, broker_port=free_port(), ready_timeout=30)
    finally:
        pids = [record.pid for record in stack.run_dir.records()]
        stack.down()

    assert [(s.name, s.port, s.running, s.ready) for s in statuses] == [
        ("broker", broker_port, True, True),
        ("fake", fake.port, True, True),
    ]
    assert json.loads((stack.state_dir / "seen-env.json").read_text()) == {
        "RCM_ENVIRONMENT": "development",
        "RCM_STATE_DIR": str(stack.state_dir),
        "RCM_HTTP_PORT": str(fake.port),
        "KAFKA_BOOTSTRAP_SERVERS": f"{LOOPBACK}:{broker_port}",
        "DATABASE_URL": None,
        "RCM_LOG_LEVEL": None,
    }
    assert not (stack.state_dir / "fake.db").exists()
    assert (stack.state_dir / "jwt-dev-public.pem").is_file()
    assert (stack.log_dir / "broker.log").is_file()
    assert len(pids) == 2
    assert not any(pid_exists(pid) for pid in pids)
    assert stack.run_dir.records() == []
    assert "stopped fake" in capsys.readouterr().out


def test_restart_stops_one_service_and_starts_it_again_with_settings_added(
    tmp_path: Path, environ: dict[str, str]
) -> None:
    fake = ServiceSpec("fake", "rcm_fake_ready", free_port())
    stack = LocalStack(tmp_path / "state", [fake])
    stack.up(environ=environ, broker_port=free_port(), ready_timeout=30)
    try:
        [before] = [record for record in stack.run_dir.records() if record.name == "fake"]
        stack.restart("fake", settings={"RCM_LOG_LEVEL": "DEBUG"}, ready_timeout=30)
        [after] = [record for record in stack.run_dir.records() if record.name == "fake"]
        statuses = {status.name: status for status in stack.status()}
        with pytest.raises(StackError, match="ghost was not started by this stack"):
            stack.restart("ghost")
    finally:
        stack.down()

    assert after.pid != before.pid
    assert not pid_exists(before.pid)
    assert (after.port, statuses["fake"].ready) == (fake.port, True)
    seen = json.loads((stack.state_dir / "seen-env.json").read_text())
    assert (seen["RCM_LOG_LEVEL"], seen["RCM_HTTP_PORT"], seen["DATABASE_URL"]) == ("DEBUG", str(fake.port), None)
    assert stack.log_path("fake").read_text().count("fake started") == 2


def test_a_killed_service_is_seen_dead_and_started_again_on_its_port(tmp_path: Path, environ: dict[str, str]) -> None:
    fake = ServiceSpec("fake", "rcm_fake_ready", free_port())
    stack = LocalStack(tmp_path / "state", [fake])
    stack.up(environ=environ, broker_port=free_port(), ready_timeout=30)
    try:
        killed = stack.kill("fake")
        dead = stack.is_alive("fake")
        with pytest.raises(StackError, match="fake is not running"):
            stack.kill("fake")
        stack.start("fake", ready_timeout=30)
        [record] = [record for record in stack.run_dir.records() if record.name == "fake"]
        alive = stack.is_alive("fake")
    finally:
        stack.down()

    assert (dead, alive) == (False, True)
    assert not pid_exists(killed)
    assert record.pid != killed
    assert record.port == fake.port


def test_a_replica_runs_beside_its_service_with_the_same_settings_and_down_stops_it(
    tmp_path: Path, environ: dict[str, str]
) -> None:
    fake = ServiceSpec("fake", "rcm_fake_ready", free_port())
    stack = LocalStack(tmp_path / "state", [fake])
    stack.up(environ=environ, broker_port=free_port(), ready_timeout=30)
    replica_port = free_port()
    try:
        name = stack.add_replica("fake", replica_port, ready_timeout=30)
        seen = json.loads((stack.state_dir / "seen-env.json").read_text())  # the replica wrote it last
        statuses = {status.name: status for status in stack.status()}
        with pytest.raises(StackError, match="fake-2 was started already"):
            stack.add_replica("fake", free_port())
    finally:
        pids = [record.pid for record in stack.run_dir.records()]
        stack.down()

    assert name == "fake-2"
    assert (statuses["fake"].ready, statuses["fake-2"].ready, statuses["fake-2"].port) == (True, True, replica_port)
    assert (seen["RCM_HTTP_PORT"], seen["RCM_STATE_DIR"]) == (str(replica_port), str(stack.state_dir))
    assert not any(pid_exists(pid) for pid in pids)


def test_a_service_that_dies_is_reported_with_its_log_and_everything_is_stopped(
    tmp_path: Path, environ: dict[str, str]
) -> None:
    broker_port = free_port()
    stack = LocalStack(tmp_path / "state", [ServiceSpec("fake", "rcm_fake_failing", free_port())])

    with pytest.raises(StackError, match="fake exited with code 3 before it was ready") as failure:
        stack.up(environ=environ, broker_port=broker_port, ready_timeout=30)

    assert "fake: cannot open its database" in str(failure.value)
    assert stack.run_dir.records() == []
    assert not accepts_connections(broker_port)


def test_a_taken_service_port_is_refused_before_anything_starts(tmp_path: Path, environ: dict[str, str]) -> None:
    broker_port = free_port()
    with socket.socket() as listener:
        listener.bind((LOOPBACK, 0))
        listener.listen()
        taken = listener.getsockname()[1]
        stack = LocalStack(tmp_path / "state", [ServiceSpec("fake", "rcm_fake_ready", taken)])

        with pytest.raises(PortInUse, match=f"port {taken} \\(fake\\)"):
            stack.up(environ=environ, broker_port=broker_port)

    assert not accepts_connections(broker_port)
    assert not stack.log_dir.exists()


def test_down_cleans_stale_pid_files_without_signalling_strangers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = LocalStack(tmp_path, SERVICES)
    exited = subprocess.Popen([sys.executable, "-c", "pass"])
    exited.wait()
    # A recycled pid: alive, but not the registration service the pid file was written for.
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        stack.run_dir.record("broker", exited.pid, 9092)
        stack.run_dir.record("registration", stranger.pid, 8001)

        assert [(s.name, s.running) for s in stack.status() if s.pid is not None] == [
            ("broker", False),
            ("registration", False),
        ]
        stack.down()

        assert stranger.poll() is None
    finally:
        stranger.kill()
        stranger.wait()
    assert stack.run_dir.records() == []
    out = capsys.readouterr().out
    assert f"registration was not running (pid {stranger.pid}); removed its stale pid file" in out
    assert f"broker was not running (pid {exited.pid})" in out


def test_the_service_table_has_unique_names_and_ports() -> None:
    assert len({spec.name for spec in SERVICES}) == len({spec.port for spec in SERVICES}) == len(SERVICES)


def test_services_are_pointed_at_the_stacks_clearinghouse_not_an_inherited_one(tmp_path: Path) -> None:
    spec = ServiceSpec("eligibility", "rcm_eligibility", 18002)
    inherited = {"RCM_CLEARINGHOUSE_URL": "https://clearinghouse.example", "PATH": "/usr/bin"}

    linked = service_environment(
        spec, state_dir=tmp_path, broker_port=19092, inherited=inherited, clearinghouse_port=18009
    )
    alone = service_environment(spec, state_dir=tmp_path, broker_port=19092, inherited=inherited)

    assert linked["RCM_CLEARINGHOUSE_URL"] == "http://127.0.0.1:18009"
    assert "RCM_CLEARINGHOUSE_URL" not in alone
    assert linked["PATH"] == alone["PATH"] == "/usr/bin"
