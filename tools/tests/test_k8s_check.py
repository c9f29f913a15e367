"""`make k8s-check` on deploy/ as committed, and on broken manifests: a missing probe, an unknown field in a
built-in kind and in a custom resource, a committed Secret, a Secret nobody makes, a topic without its ACL or
its KafkaTopic each fail with a message that names what is wrong."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from rcm_tools import k8s_check
from rcm_tools.k8s_check import Document, ServiceTopics

SERVICES = [
    ServiceTopics("registration", "rcm.registration.events", ()),
    ServiceTopics("claim", "rcm.claim.events", ("rcm.registration.events",)),
]


@pytest.fixture(scope="module")
def production() -> list[Document]:
    return k8s_check.render(k8s_check.DEPLOY / "overlays" / "production")


@pytest.fixture(scope="module")
def schemas() -> dict[tuple[str, str], Document]:
    return k8s_check.crd_schemas()


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> list[ServiceTopics]:
    return k8s_check.service_topics(tmp_path_factory.mktemp("services"))


def problems_of(
    documents: list[Document], schemas: dict[tuple[str, str], Document], services: list[ServiceTopics]
) -> list[str]:
    return k8s_check.render_problems(documents, schemas, k8s_check.documented_secrets(), services)


def the(documents: list[Document], kind: str, name: str) -> Document:
    return next(d for d in documents if d["kind"] == kind and d["metadata"]["name"] == name)


def test_deploy_as_committed_passes_every_check(tmp_path: Path) -> None:
    assert k8s_check.check(tmp_path) == []


def test_production_sizes_the_services_and_leaves_the_collector_its_own(production: list[Document]) -> None:
    sizes = {
        d["metadata"]["name"]: (d["spec"]["replicas"], d["spec"]["template"]["spec"]["containers"][0]["resources"])
        for d in production
        if d["kind"] == "Deployment"
    }

    assert sizes.pop("otel-collector")[0] == 1
    assert {replicas for replicas, _ in sizes.values()} == {2}
    assert len(sizes) == 7


def test_every_service_on_kafka_is_read_from_its_composition_root(tmp_path: Path) -> None:
    found = {service.service: service for service in k8s_check.service_topics(tmp_path)}

    assert found["registration"] == ServiceTopics("registration", "rcm.registration.events", ())
    assert found["reporting"].produces is None
    assert len(found["reporting"].consumes) == 6
    assert found["claim"].calls_clearinghouse
    assert not found["charge"].calls_clearinghouse
    assert set(found["claim"].consumes) == {
        f"rcm.{s}.events" for s in ("registration", "eligibility", "charge", "remittance")
    }


def without_clearinghouse(documents: list[Document], service: str) -> list[Document]:
    """The service's egress rules but those to the clearinghouse (the simulator's 8009, HTTPS's 443)."""
    rules: list[Document] = the(documents, "NetworkPolicy", service)["spec"]["egress"]
    return [rule for rule in rules if rule["ports"][0]["port"] not in {8009, 443}]


def broken(documents: list[Document], change: Callable[[list[Document]], Any]) -> list[Document]:
    copied = copy.deepcopy(documents)
    change(copied)
    return copied


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda ds: the(ds, "Deployment", "claim")["spec"]["template"]["spec"]["containers"][0].pop(
                "readinessProbe"
            ),
            "Deployment claim: container claim has no readinessProbe",
        ),
        (
            lambda ds: the(ds, "Deployment", "remittance")["spec"]["template"]["spec"]["containers"][0].pop(
                "lifecycle"
            ),
            "Deployment remittance: container remittance has no preStop pause",
        ),
        (
            lambda ds: the(ds, "Deployment", "charge")["spec"]["template"]["spec"]["containers"][0].update(
                colour="red"
            ),
            "Deployment charge: spec.template.spec.containers.0: Additional properties are not allowed ('colour'",
        ),
        (
            lambda ds: the(ds, "KafkaTopic", "rcm.claim.events")["spec"].update(partition=6),
            "KafkaTopic rcm.claim.events: spec: Additional properties are not allowed ('partition'",
        ),
        (
            lambda ds: the(ds, "Deployment", "reporting")["spec"]["template"]["spec"]["containers"][0][
                "securityContext"
            ].update(readOnlyRootFilesystem=False),
            "Deployment reporting: container reporting has a writable root filesystem",
        ),
        (
            lambda ds: the(ds, "Job", "claim-migrate")["spec"]["template"]["spec"]["containers"][0]["resources"].pop(
                "limits"
            ),
            "Job claim-migrate: container claim has no memory limit",
        ),
        (
            lambda ds: ds.append(
                {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "claim-field-keys"}, "data": {}}
            ),
            "Secret claim-field-keys is committed",
        ),
        (
            lambda ds: the(ds, "Deployment", "charge")["spec"]["template"]["spec"]["containers"][0]["env"].append(
                {"name": "X", "valueFrom": {"secretKeyRef": {"name": "charge-unlisted", "key": "x"}}}
            ),
            "Deployment charge reads Secret charge-unlisted, which no operator here makes and deploy/README.md",
        ),
        (
            lambda ds: the(ds, "KafkaUser", "rcm-claim")["spec"]["authorization"]["acls"].pop(0),
            "KafkaUser rcm-claim lacks",
        ),
        (
            lambda ds: ds.remove(the(ds, "KafkaTopic", "rcm.charge.events.dlq")),
            "topic rcm.charge.events.dlq is used by the services but has no KafkaTopic",
        ),
        (
            lambda ds: the(ds, "NetworkPolicy", "claim")["spec"].update(egress=without_clearinghouse(ds, "claim")),
            "NetworkPolicy claim does not let it reach the clearinghouse it calls",
        ),
        (
            lambda ds: ds.remove(the(ds, "NetworkPolicy", "rcm-deny-all")),
            "no NetworkPolicy denies the platform's pods everything by default",
        ),
        (
            lambda ds: the(ds, "KafkaUser", "rcm-claim")["metadata"]["labels"].update({"strimzi.io/cluster": "other"}),
            "KafkaUser rcm-claim belongs to Kafka 'other', which is not here",
        ),
        (
            lambda ds: the(ds, "HorizontalPodAutoscaler", "claim")["spec"].update(maxReplicas=20),
            "HorizontalPodAutoscaler claim goes to 20 replicas, but the topics it reads have 6 partitions",
        ),
        (
            lambda ds: the(ds, "KafkaTopic", "rcm.claim.events")["spec"]["config"].update({"retention.ms": "1"}),
            "KafkaTopic rcm.claim.events has retention.ms '1' where the platform creates '-1'",
        ),
        (
            lambda ds: the(ds, "ConfigMap", "rcm-platform")["data"].update(
                KAFKA_BOOTSTRAP_SERVERS="rcm-kafka-bootstrap:9092"
            ),
            "ConfigMap rcm-platform: KAFKA_BOOTSTRAP_SERVERS's port 9092 is no listener's of Kafka",
        ),
        (
            lambda ds: the(ds, "ConfigMap", "rcm-platform")["data"].update(KAFKA_BOOTSTRAP_SERVERS="kafka:9093"),
            "ConfigMap rcm-platform: KAFKA_BOOTSTRAP_SERVERS 'kafka:9093' is not rcm-kafka-bootstrap:<port>",
        ),
        (
            lambda ds: the(ds, "ConfigMap", "rcm-platform")["data"].update(RCM_KAFKA_SECURITY_PROTOCOL="PLAINTEXT"),
            "ConfigMap rcm-platform: RCM_KAFKA_SECURITY_PROTOCOL does not match listener tls (tls: True)",
        ),
        (
            lambda ds: [the(ds, "ConfigMap", "remittance")["data"].pop(key) for key in ("RCM_KAFKA_SSL_CERTFILE",)],
            "Deployment remittance: listener tls authenticates clients by certificate, but RCM_KAFKA_SSL_CERTFILE",
        ),
        (
            lambda ds: the(ds, "Deployment", "collections")["spec"]["template"]["spec"]["volumes"][-1]["secret"][
                "items"
            ].pop(),
            "Deployment collections: container collections: RCM_KAFKA_SSL_KEYFILE names /etc/rcm/kafka-user/user.key, "
            "but Secret rcm-collections's volume kafka-user holds no user.key",
        ),
        (
            lambda ds: the(ds, "Job", "charge-migrate")["spec"]["template"]["spec"]["containers"][0].update(
                volumeMounts=[]
            ),
            "Job charge-migrate: container charge: RCM_KAFKA_SSL_CAFILE names /etc/rcm/kafka-ca/ca.crt, which no "
            "volume mounts",
        ),
    ],
    ids=[
        "a missing probe",
        "no preStop pause",
        "an unknown field of a container",
        "an unknown field of a KafkaTopic",
        "a writable root",
        "no limits",
        "a committed Secret",
        "a Secret nobody makes",
        "a topic without its ACL",
        "a topic without its KafkaTopic",
        "no way to the clearinghouse",
        "no default deny",
        "a user of another cluster",
        "more replicas than partitions",
        "events kept a second",
        "a bootstrap port no listener has",
        "a bootstrap host that is not the cluster's",
        "plain TCP to a TLS listener",
        "no client certificate for a listener that wants one",
        "a Kafka file its Secret volume lacks",
        "a Kafka file nothing mounts",
    ],
)
def test_a_broken_manifest_fails_naming_what_is_wrong(
    production: list[Document],
    schemas: dict[tuple[str, str], Document],
    services: list[ServiceTopics],
    change: Callable[[list[Document]], Any],
    message: str,
) -> None:
    assert problems_of(production, schemas, services) == []

    problems = problems_of(broken(production, change), schemas, services)

    assert any(message in problem for problem in problems), problems


def test_a_topic_the_code_gains_fails_until_it_has_a_manifest(production: list[Document]) -> None:
    gained = [*SERVICES, ServiceTopics("prior-auth", "rcm.prior-auth.events", ("rcm.claim.events",))]

    problems = k8s_check.kafka_problems(production, gained)

    assert "no KafkaUser rcm-prior-auth for prior-auth" in problems
    assert "topic rcm.prior-auth.events is used by the services but has no KafkaTopic" in problems
