"""`make k8s-smoke`'s plan: the local overlay's pod for a service, changed only where this machine lacks a
cluster's part, every change said; the rest (image, user, read-only root, probes, secret references) as
rendered. The run itself (podman, the embedded broker, PostgreSQL) is `make k8s-smoke`."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from rcm_tools import k8s_check, k8s_smoke
from rcm_tools.errors import ToolError
from rcm_tools.k8s_smoke import Played, StandIns

Document = dict[str, Any]

SECRETS = {
    "registration-db-app": {"uri": "postgresql://postgres@127.0.0.1:5432/db"},
    "registration-field-keys": {"encryption-key": "e", "hmac-key": "h"},
    "rcm-jwt-public-key": {"public-key.pem": "pem"},
}
STAND_INS = StandIns("127.0.0.1:9999", SECRETS)


@pytest.fixture(scope="module")
def rendered() -> list[Document]:
    return k8s_check.render(k8s_smoke.OVERLAY)


@pytest.fixture(scope="module")
def played(rendered: list[Document]) -> Played:
    return k8s_smoke.plan(rendered, "registration", STAND_INS)


def the_deployment(rendered: list[Document]) -> Document:
    return k8s_smoke.find(rendered, "Deployment", "registration")


def test_the_pod_keeps_the_rendered_image_user_root_filesystem_and_secret_references(
    rendered: list[Document], played: Played
) -> None:
    original = the_deployment(rendered)["spec"]["template"]["spec"]
    pod = played.deployment["spec"]["template"]["spec"]
    [container], [before] = pod["containers"], original["containers"]

    assert container["image"] == "localhost/rcm-registration:dev"
    assert pod["securityContext"] == original["securityContext"]
    assert container["securityContext"] == before["securityContext"]
    assert container["env"] == before["env"]
    assert container["envFrom"] == before["envFrom"]
    assert container["resources"] == before["resources"]


def test_the_pod_shares_the_hosts_network_without_port_mappings_and_its_probes_name_the_port_by_number(
    played: Played,
) -> None:
    pod = played.deployment["spec"]["template"]["spec"]
    [container] = pod["containers"]

    assert pod["hostNetwork"] is True
    assert "ports" not in container
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["port"] == 8001
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"


def test_only_the_secret_volumes_are_removed(rendered: list[Document], played: Played) -> None:
    original = the_deployment(rendered)["spec"]["template"]["spec"]
    pod = played.deployment["spec"]["template"]["spec"]

    assert {volume["name"] for volume in original["volumes"]} == {"tmp", "kafka-ca", "kafka-user"}
    assert [volume["name"] for volume in pod["volumes"]] == ["tmp"]
    assert [mount["name"] for mount in pod["containers"][0]["volumeMounts"]] == ["tmp"]


def test_the_migration_job_becomes_a_pod_that_runs_once(played: Played) -> None:
    migration = played.migration

    assert (migration["kind"], migration["metadata"]["name"]) == ("Pod", "registration-migrate")
    assert migration["spec"]["restartPolicy"] == "Never"
    assert migration["spec"]["containers"][0]["args"] == ["migrate"]
    assert migration["spec"]["hostNetwork"] is True


def test_the_config_maps_point_at_the_embedded_broker_in_plain_tcp(played: Played) -> None:
    platform, own = played.config_maps
    assert (platform["metadata"]["name"], own["metadata"]["name"]) == ("rcm-platform", "registration")

    assert platform["data"]["KAFKA_BOOTSTRAP_SERVERS"] == "127.0.0.1:9999"
    assert platform["data"]["RCM_KAFKA_IDEMPOTENT_PRODUCER"] == "false"
    assert platform["data"]["RCM_ENVIRONMENT"] == "test"
    assert not {"RCM_KAFKA_SECURITY_PROTOCOL", "RCM_KAFKA_SSL_CAFILE"} & set(platform["data"])
    assert not {"RCM_KAFKA_SSL_CERTFILE", "RCM_KAFKA_SSL_KEYFILE"} & set(own["data"])
    assert own["data"]["RCM_HTTP_PORT"] == "8001"
    assert platform["data"]["RCM_MIGRATE_ON_START"] == "false"


def test_every_change_is_said_with_what_this_machine_lacks(played: Played) -> None:
    said = "\n".join(f"{departure.change}: {departure.because}" for departure in played.departures)

    for lacking in ("no cluster network", "podman 4.3.1", "plays no Jobs", "no Strimzi", "no TLS listener",
                    "no idempotent producer"):  # fmt: skip
        assert lacking in said
    assert len(played.departures) == 8


def test_the_rendered_documents_are_not_changed(rendered: list[Document]) -> None:
    before = json.dumps(rendered, sort_keys=True)
    k8s_smoke.plan(rendered, "registration", STAND_INS)

    assert json.dumps(rendered, sort_keys=True) == before


def test_a_secret_without_a_stand_in_is_refused_by_name(rendered: list[Document]) -> None:
    partial = StandIns("127.0.0.1:9999", {name: SECRETS[name] for name in SECRETS if name != "rcm-jwt-public-key"})

    with pytest.raises(ToolError, match="rcm-jwt-public-key"):
        k8s_smoke.plan(rendered, "registration", partial)


def test_an_unknown_service_is_refused(rendered: list[Document]) -> None:
    with pytest.raises(ToolError, match="no Deployment billing"):
        k8s_smoke.plan(rendered, "billing", STAND_INS)


def test_a_podman_secret_holds_base64_values_as_kube_play_reads_them() -> None:
    stored = json.loads(k8s_smoke.podman_secret({"uri": "postgresql://u:p@h/db", "key": "é"}))

    assert {key: base64.b64decode(value).decode() for key, value in stored.items()} == {
        "uri": "postgresql://u:p@h/db",
        "key": "é",
    }
