"""The local stack: the embedded broker and every installed service, each its own detached process.

Each process writes `<state-dir>/logs/<name>.log` and is recorded in `<state-dir>/run/` by pid and port,
so `rcm down` and `rcm status` work from any later shell.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import httpx

from rcm_common.settings import EMBEDDED_BROKER_GROUP_TIMINGS
from rcm_tools.broker import bootstrap_servers, broker_is_ready, listener_url, run_blocking, start_broker
from rcm_tools.errors import ToolError
from rcm_tools.net import LOOPBACK, ensure_port_free
from rcm_tools.processes import is_running, log_tail, spawn, stop_process
from rcm_tools.rundir import ProcessRecord, RunDirectory
from rcm_tools.tokens import ensure_signing_key, local_settings


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    module: str  # started as `python -m <module>`
    port: int

    def is_installed(self) -> bool:
        return importlib.util.find_spec(self.module) is not None


CLEARINGHOUSE: Final = "clearinghouse-sim"
# Every service of the platform, in start order. Only those whose package is installed are started.
SERVICES: Final = (
    ServiceSpec("registration", "rcm_registration", 8001),
    ServiceSpec("eligibility", "rcm_eligibility", 8002),
    ServiceSpec("charge", "rcm_charge", 8003),
    ServiceSpec("claim", "rcm_claim", 8004),
    ServiceSpec("remittance", "rcm_remittance", 8005),
    ServiceSpec("collections", "rcm_collections", 8006),
    ServiceSpec("reporting", "rcm_reporting", 8007),
    ServiceSpec(CLEARINGHOUSE, "rcm_clearinghouse_sim", 8009),
)
BROKER: Final = "broker"
DEFAULT_BROKER_PORT: Final = 9092
READY_TIMEOUT_SECONDS: Final = 60.0
STOP_TIMEOUT_SECONDS: Final = 10.0
_READY_POLL_SECONDS: Final = 0.2

# Inherited settings that would point a local service at another database, broker, signing key or
# clearinghouse.
_LAUNCHER_OWNED_VARIABLES: Final = frozenset(
    {"DATABASE_URL", "RCM_DATABASE_URL", "RCM_KAFKA_BOOTSTRAP_SERVERS", "RCM_JWT_PUBLIC_KEY", "RCM_CLEARINGHOUSE_URL"}
)


class StackError(ToolError):
    """The stack cannot be started, or a process of it is not where it should be."""


def installed_services(services: Sequence[ServiceSpec] = SERVICES) -> tuple[ServiceSpec, ...]:
    return tuple(spec for spec in services if spec.is_installed())


def service_environment(
    spec: ServiceSpec,
    *,
    state_dir: Path,
    broker_port: int,
    inherited: Mapping[str, str],
    clearinghouse_port: int | None = None,
    database_url: str | None = None,
) -> dict[str, str]:
    """The launch contract: a service is configured by these variables only, its database a SQLite file
    (or the database the launcher names), and the clearinghouse it calls the stack's simulator, where one runs."""
    env = {name: value for name, value in inherited.items() if name not in _LAUNCHER_OWNED_VARIABLES}
    if clearinghouse_port is not None:
        env["RCM_CLEARINGHOUSE_URL"] = f"http://{LOOPBACK}:{clearinghouse_port}"
    if database_url is not None:
        env["RCM_DATABASE_URL"] = database_url
    env.update(
        RCM_ENVIRONMENT="development",
        RCM_STATE_DIR=str(state_dir),
        RCM_HTTP_HOST=LOOPBACK,
        RCM_HTTP_PORT=str(spec.port),
        KAFKA_BOOTSTRAP_SERVERS=bootstrap_servers(broker_port),
        RCM_CONSUMER_SESSION_TIMEOUT_MS=str(EMBEDDED_BROKER_GROUP_TIMINGS["session_timeout_ms"]),
        RCM_CONSUMER_HEARTBEAT_INTERVAL_MS=str(EMBEDDED_BROKER_GROUP_TIMINGS["heartbeat_interval_ms"]),
        RCM_CONSUMER_REBALANCE_TIMEOUT_MS=str(EMBEDDED_BROKER_GROUP_TIMINGS["rebalance_timeout_ms"]),
    )
    return env


@dataclass(frozen=True)
class ProcessStatus:
    name: str
    pid: int | None
    port: int | None
    running: bool
    ready: bool

    def line(self) -> str:
        pid = "-" if self.pid is None else str(self.pid)
        port = "-" if self.port is None else str(self.port)
        state = "running" if self.running else "stopped"
        readiness = "ready" if self.ready else "not ready"
        return f"{self.name:<18} pid {pid:>7}  port {port:>5}  {state:<8} {readiness}"


class LocalStack:
    def __init__(self, state_dir: Path, services: Sequence[ServiceSpec]) -> None:
        self.state_dir = state_dir.resolve()
        self.services = tuple(services)
        self.run_dir = RunDirectory(self.state_dir / "run")
        self.log_dir = self.state_dir / "logs"
        self._modules = {spec.name: spec.module for spec in (*SERVICES, *services)}
        self._environments: dict[str, dict[str, str]] = {}
        """Each service's environment as `up` started it, for `restart`."""
        self._children: dict[str, subprocess.Popen[bytes]] = {}
        """The processes this object started, by service, so one that died is reaped, not left a zombie."""

    def log_path(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def up(
        self,
        *,
        environ: Mapping[str, str],
        broker_port: int = DEFAULT_BROKER_PORT,
        ready_timeout: float = READY_TIMEOUT_SECONDS,
        keep_data: bool = False,
        database_urls: Mapping[str, str] | None = None,
    ) -> None:
        """Start the broker, then every service, and return once all of them answer as ready. A service named
        in `database_urls` uses that database rather than its SQLite file.

        On any failure, everything this call started is stopped again before the error propagates.
        """
        self._refuse_if_up()
        ensure_port_free(broker_port, "Kafka broker")
        for spec in self.services:
            ensure_port_free(spec.port, spec.name)
        if not keep_data:
            self._remove_previous_data()
        ensure_signing_key(local_settings(self.state_dir))

        started: list[tuple[str, subprocess.Popen[bytes]]] = []
        try:
            broker = start_broker(broker_port, self.log_path(BROKER), detached=True)
            started.append((BROKER, broker))
            self.run_dir.record(BROKER, broker.pid, broker_port)
            print(f"{BROKER:<18} ready at {bootstrap_servers(broker_port)} (pid {broker.pid})")
            services = []
            clearinghouse_port = next((spec.port for spec in self.services if spec.name == CLEARINGHOUSE), None)
            for spec in self.services:
                self._environments[spec.name] = service_environment(
                    spec,
                    state_dir=self.state_dir,
                    broker_port=broker_port,
                    inherited=environ,
                    clearinghouse_port=clearinghouse_port,
                    database_url=(database_urls or {}).get(spec.name),
                )
                process = self._spawn(spec)
                started.append((spec.name, process))
                services.append((spec, process))
            self._wait_until_ready(services, ready_timeout)
        except BaseException:
            self._stop_started(started)
            raise

    def restart(
        self, name: str, *, settings: Mapping[str, str] | None = None, ready_timeout: float = READY_TIMEOUT_SECONDS
    ) -> None:
        """Stop one service by its pid and start it again on its port and database, with `settings` added to the
        environment `up` gave it (they stay for later restarts); return once it answers as ready. One step of a
        rolling restart, or a harness bringing back a service it killed."""
        self.stop(name)
        self.start(name, settings=settings, ready_timeout=ready_timeout)

    def stop(self, name: str) -> None:
        """Stop one service of the stack by its pid, when it is running."""
        self._spec(name)
        record = self.run_dir.read(name)
        if record is not None and self._is_running(record):
            stop_process(record.pid)

    def start(
        self, name: str, *, settings: Mapping[str, str] | None = None, ready_timeout: float = READY_TIMEOUT_SECONDS
    ) -> None:
        """Start one stopped service of the stack again, as `restart` does after stopping it."""
        spec = self._spec(name)
        self._environments[name] |= dict(settings or {})
        self._wait_until_ready([(spec, self._spawn(spec, append_to_log=True))], ready_timeout)

    def kill(self, name: str) -> int:
        """SIGKILL one service, the way a lost node or the OOM killer ends a process: nothing of it runs after
        this, no shutdown hook, no last commit. Its pid."""
        record = self.run_dir.read(name)
        if record is None or not self._is_running(record):
            raise StackError(f"{name} is not running")
        os.kill(record.pid, signal.SIGKILL)
        child = self._children.get(name)
        if child is not None and child.pid == record.pid:  # another thread may have started a new one meanwhile
            try:
                child.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                raise StackError(f"{name} (pid {record.pid}) did not end after SIGKILL") from None
        return record.pid

    def is_alive(self, name: str) -> bool:
        """Whether the service's process runs (one this object started and that died is reaped here)."""
        child = self._children.get(name)
        if child is not None and child.poll() is not None:
            return False
        record = self.run_dir.read(name)
        return record is not None and self._is_running(record)

    def add_replica(self, name: str, port: int, *, ready_timeout: float = READY_TIMEOUT_SECONDS) -> str:
        """Start a second process of service `name` on `port`, with the environment `up` gave it (its database,
        its consumer groups): another replica, which `down` stops too. Its name in the stack, `<name>-2`."""
        spec = self._spec(name)
        replica = ServiceSpec(f"{name}-2", spec.module, port)
        if replica.name in self._environments:
            raise StackError(f"{replica.name} was started already")
        ensure_port_free(port, replica.name)
        self.services += (replica,)
        self._modules[replica.name] = spec.module
        self._environments[replica.name] = self._environments[name] | {"RCM_HTTP_PORT": str(port)}
        self._wait_until_ready([(replica, self._spawn(replica))], ready_timeout)
        return replica.name

    def _spec(self, name: str) -> ServiceSpec:
        spec = next((spec for spec in self.services if spec.name == name), None)
        if spec is None or name not in self._environments:
            raise StackError(f"{name} was not started by this stack")
        return spec

    def _spawn(self, spec: ServiceSpec, *, append_to_log: bool = False) -> subprocess.Popen[bytes]:
        process = spawn(
            [sys.executable, "-m", spec.module],
            log_path=self.log_path(spec.name),
            env=self._environments[spec.name],
            detached=True,
            append=append_to_log,
        )
        self.run_dir.record(spec.name, process.pid, spec.port)
        self._children[spec.name] = process
        return process

    def down(self, *, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
        """Stop every recorded process by pid, services before the broker they publish to."""
        records = self.run_dir.records()
        if not records:
            print("nothing to stop")
        for record in sorted(records, key=lambda r: r.name == BROKER):
            if self._is_running(record):
                outcome = stop_process(record.pid, timeout=timeout)
                print(f"stopped {record.name} (pid {record.pid}): {outcome.value}")
            else:
                print(f"{record.name} was not running (pid {record.pid}); removed its stale pid file")
            self.run_dir.forget(record.name)

    def status(self) -> list[ProcessStatus]:
        recorded = {record.name: record for record in self.run_dir.records()}
        names = [BROKER, *(spec.name for spec in self.services)]
        names += sorted(set(recorded) - set(names))
        default_ports = {spec.name: spec.port for spec in self.services}
        statuses = []
        for name in names:
            record = recorded.get(name)
            running = record is not None and self._is_running(record)
            port = record.port if record is not None else default_ports.get(name)
            ready = running and port is not None and self._answers_ready(name, port)
            statuses.append(ProcessStatus(name, record.pid if record else None, port, running, ready))
        return statuses

    def port_of(self, name: str) -> int:
        """The port of a running process of the stack, for commands that talk to it."""
        record = self.run_dir.read(name)
        if record is None or not self._is_running(record):
            raise StackError(f"{name} is not running under {self.state_dir}; start the stack with `rcm up`")
        return record.port

    def _is_running(self, record: ProcessRecord) -> bool:
        """Alive, and with the command line this stack gave it: the broker's URL or the service's module."""
        if record.name == BROKER:
            return is_running(record.pid, listener_url(record.port))
        return is_running(record.pid, self._modules.get(record.name, record.name))

    def _answers_ready(self, name: str, port: int) -> bool:
        if name == BROKER:
            return run_blocking(broker_is_ready(port))
        with httpx.Client(timeout=1.0) as client:
            return _readyz_ok(client, port)

    def _stop_started(self, started: Sequence[tuple[str, subprocess.Popen[bytes]]]) -> None:
        """Undo a failed `up`: these processes are known to be ours, so no pid-file check is needed."""
        for name, process in reversed(started):
            outcome = stop_process(process.pid)
            process.poll()  # records the exit status stop_process collected
            self.run_dir.forget(name)
            print(f"stopped {name} (pid {process.pid}): {outcome.value}")

    def _refuse_if_up(self) -> None:
        live = []
        for record in self.run_dir.records():
            if self._is_running(record):
                live.append(f"{record.name} pid {record.pid}")
            else:
                self.run_dir.forget(record.name)
        if live:
            raise StackError(f"the stack is already up ({', '.join(live)}); run `rcm down` first")

    def _remove_previous_data(self) -> None:
        """Start from empty databases: the memory-only broker lost the events the old ones refer to."""
        removed = []
        for spec in self.services:
            for path in sorted(self.state_dir.glob(f"{spec.name}.db*")):
                path.unlink()
                removed.append(path.name)
        if removed:
            print(f"removed the previous run's data: {', '.join(removed)}")

    def _wait_until_ready(
        self, services: Sequence[tuple[ServiceSpec, subprocess.Popen[bytes]]], timeout: float
    ) -> None:
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=1.0) as client:
            for spec, process in services:
                while not _readyz_ok(client, spec.port):
                    if process.poll() is not None:
                        reason = f"exited with code {process.returncode} before it was ready"
                        raise self._failure(spec, reason)
                    if time.monotonic() >= deadline:
                        raise self._failure(spec, f"was not ready within {timeout:.0f} s")
                    time.sleep(_READY_POLL_SECONDS)
                print(f"{spec.name:<18} ready at http://{LOOPBACK}:{spec.port} (pid {process.pid})")

    def _failure(self, spec: ServiceSpec, reason: str) -> StackError:
        log = self.log_path(spec.name)
        return StackError(f"{spec.name} {reason}; last lines of {log}:\n{log_tail(log)}")


def _readyz_ok(client: httpx.Client, port: int) -> bool:
    try:
        return all_checks_pass(client.get(f"http://{LOOPBACK}:{port}/readyz"))
    except httpx.HTTPError:
        return False


def all_checks_pass(readyz: httpx.Response) -> bool:
    """`/readyz` answered `ready`: its broker link too, so its consumers are reading (a `degraded` replica is in
    service, but a stack or a test waiting for it to take events must wait on)."""
    if readyz.status_code != httpx.codes.OK:
        return False
    try:
        return bool(readyz.json().get("status") == "ready")
    except ValueError:
        return False
