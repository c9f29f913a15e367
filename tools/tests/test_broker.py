"""The embedded broker: topics with their partitions and retention, a taken port, readiness, stopping by pid."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterable
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from rcm_common.topics import ALL_TOPICS, DEFAULT_PARTITIONS, REGISTRATION_EVENTS, topic_config
from rcm_tools.broker import EmbeddedBroker, broker_is_ready, ensure_topics, listener_url
from rcm_tools.net import LOOPBACK, PortInUse, free_port
from rcm_tools.processes import is_running

pytestmark = pytest.mark.broker


async def partition_counts(servers: str, topics: Iterable[str]) -> dict[str, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=servers)
    await admin.start()
    try:
        described = await admin.describe_topics(list(topics))
    finally:
        await admin.close()
    return {topic["topic"]: len(topic["partitions"]) for topic in described}


async def test_every_platform_topic_exists_with_the_default_partitions(embedded_broker: EmbeddedBroker) -> None:
    counts = await partition_counts(embedded_broker.bootstrap_servers, ALL_TOPICS)

    assert counts == dict.fromkeys(ALL_TOPICS, DEFAULT_PARTITIONS)


async def test_every_platform_topic_keeps_what_the_contract_says(embedded_broker: EmbeddedBroker) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=embedded_broker.bootstrap_servers)
    await admin.start()
    try:
        described = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, t) for t in ALL_TOPICS])
    finally:
        await admin.close()
    kept = {
        name: {entry[0]: entry[1] for entry in entries}
        for response in described
        for _, _, _, name, entries in response.resources
    }

    assert kept == {topic: topic_config(topic) for topic in ALL_TOPICS}


async def test_creating_topics_again_changes_nothing(embedded_broker: EmbeddedBroker) -> None:
    topic = f"rcm.test.{uuid.uuid4().hex}"

    await ensure_topics(embedded_broker.bootstrap_servers, [topic, REGISTRATION_EVENTS], partitions=3)
    await ensure_topics(embedded_broker.bootstrap_servers, [topic], partitions=3)

    counts = await partition_counts(embedded_broker.bootstrap_servers, [topic, REGISTRATION_EVENTS])
    assert counts == {topic: 3, REGISTRATION_EVENTS: DEFAULT_PARTITIONS}


def test_a_taken_port_is_refused_before_the_broker_starts(tmp_path: Path) -> None:
    log = tmp_path / "broker.log"
    with socket.socket() as listener:
        listener.bind((LOOPBACK, 0))
        listener.listen()
        port = listener.getsockname()[1]

        with pytest.raises(PortInUse, match=f"port {port} \\(Kafka broker\\) is already in use"):
            EmbeddedBroker(port, log_path=log).start()

    assert not log.exists()


async def test_a_broker_started_inside_an_event_loop_answers_until_stopped_by_pid() -> None:
    with EmbeddedBroker(topics=[REGISTRATION_EVENTS], partitions=2) as broker:
        pid = broker.pid
        assert is_running(pid, listener_url(broker.port))
        assert await broker_is_ready(broker.port)
        assert await partition_counts(broker.bootstrap_servers, [REGISTRATION_EVENTS]) == {REGISTRATION_EVENTS: 2}

        broker.stop()

        assert not is_running(pid, listener_url(broker.port))
        assert not await broker_is_ready(broker.port)


async def test_nothing_listening_is_not_ready() -> None:
    assert not await broker_is_ready(free_port())
