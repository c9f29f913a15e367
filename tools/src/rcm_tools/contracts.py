"""`make contracts`: the platform's contract, generated from the code and committed under `contracts/`.

The event models, the envelope and the HTTP apps are the source of truth; this module renders them as
JSON Schema, AsyncAPI and OpenAPI documents plus one example payload per event, so consumers (and reviewers)
can see a breaking change as a diff, and CI can fail when the committed files drift from the code.
Every document is JSON with sorted keys, so the output is byte-for-byte reproducible. The AsyncAPI documents
are JSON too: JSON is YAML 1.2, and PyYAML is not a dependency of the platform.

Usage: `python -m rcm_tools.contracts [--check] [--root DIR]` (or `rcm contracts`).
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from functools import partial
from importlib.metadata import version
from pathlib import Path
from typing import Any, Final

from pydantic import SecretStr, ValidationError

from rcm_common.envelope import CONTENT_TYPE, ENVELOPE_HEADERS, SOURCE_PREFIX, SPEC_VERSION, Envelope
from rcm_common.events import EVENT_REGISTRY, IntegrationEvent
from rcm_common.events.base import SCHEMA_ID_BASE, schema_id
from rcm_common.settings import ServiceSettings
from rcm_common.topics import DEFAULT_PARTITIONS, SERVICES, dlq_topic, events_topic, topic_config
from rcm_tools.contract_examples import EXAMPLES
from rcm_tools.errors import ToolError

CONTRACTS: Final = Path("contracts")
JSON_SCHEMA_DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"
KAFKA_BINDING_VERSION: Final = "0.5.0"

Json = dict[str, Any]

_ENVELOPE_PATH: Final = CONTRACTS / "envelope.schema.json"

# Formats of the envelope headers beyond their descriptions (which, with what is required, come from
# rcm_common.envelope.ENVELOPE_HEADERS, the table the code reads and writes by).
_ENVELOPE_HEADER_FORMATS: Final[dict[str, Json]] = {
    "ce_specversion": {"const": SPEC_VERSION},
    "ce_id": {"format": "uuid"},
    "ce_source": {"format": "uri-reference", "pattern": f"^{SOURCE_PREFIX}[a-z-]+$"},
    "ce_time": {"format": "date-time"},
    "ce_dataschema": {"format": "uri"},
    "content-type": {"const": CONTENT_TYPE},
    "ce_traceparent": {"pattern": "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$"},
}

# What rcm_common.messaging.EventConsumer adds to a record it moves to `<topic>.dlq`.
_DLQ_HEADER_SCHEMAS: Final[dict[str, Json]] = {
    "dlq_consumer": {"description": "The consumer (its group id) that gave up on the record."},
    "dlq_original_topic": {"description": "The topic the record was read from."},
    "dlq_original_partition": {"pattern": "^[0-9]+$", "description": "Its partition there, in decimal."},
    "dlq_original_offset": {"pattern": "^[0-9]+$", "description": "Its offset there, in decimal."},
    "dlq_error_type": {"description": "Class name of the error that made the consumer give up."},
    "dlq_error": {"description": "A PHI-free reason: the platform's own error message, else the type only."},
    "dlq_failed_at": {"format": "date-time", "description": "When the consumer gave up: ISO 8601, in UTC."},
}

README_TEMPLATE: Final = """\
# contracts/

The platform's contract, generated from the code. **Do not edit by hand; run `make contracts`.**
CI regenerates this folder and fails when the committed files differ (`rcm contracts --check`).

| Path | What it is |
| --- | --- |
| `envelope.schema.json` | JSON Schema of the envelope: the Kafka headers every event carries (all strings). |
| `events/<event_type>/v<version>.schema.json` | JSON Schema (draft 2020-12) of one event payload, the Kafka value; \
`x-rcm` names its topic, key field and producer. |
| `asyncapi/<service>.yaml` | AsyncAPI 3.0 of what a service publishes: topics, messages, keys, and the DLQ beside \
each topic. Written as JSON, which is YAML 1.2. |
| `openapi/<service>.json` | OpenAPI of a service's HTTP API. |
| `examples/<event_type>/v<version>.json` | One synthetic example payload per event, from \
`tools/src/rcm_tools/contract_examples.py`. |
| `examples/<consumer>/...` | Hand-written: the payloads a consuming service claims it can read. A test replays \
each through that consumer. `make contracts` leaves these folders alone. |

## How versions evolve

- Within a version, only additive, optional fields. Readers ignore fields they do not know.
- Enumerations are open to additions within a version: a schema lists the values known today under \
`anyOf` with any string, and `x-rcm-open-enum` says how a reader takes a value it does not know: as \
`unknown_reads_as` where that is safe (a sex it does not know is `U`, a plan type `OTHER`), or, where it names \
none (a coverage's order, a failure's kind), by refusing the event, which parks it on the dead-letter topic \
for a person until the reader is upgraded. An HTTP body's enumerations stay closed.
- A breaking change (a field removed, renamed, retyped or made required) is a new version: a new model with \
`event_version = 2`, published beside the old one until every consumer has moved. Its files appear as \
`v2.*` next to `v1.*`.
- The Kafka key is the event's subject field (an aggregate id) as the UTF-8 bytes of its canonical text \
(lowercase, hyphenated UUID), so one aggregate's events stay in order on one partition.

## Values on the wire

- Money is a string of US dollars with exactly two decimal places (`^-?[0-9]+\\.[0-9]{{2}}$`), never a JSON \
number; HTTP bodies may send at most two places, or a whole number. Quantities (units of service) are plain \
decimal strings.
- Timestamps are RFC 3339 in UTC; dates of service are plain dates.

## Topics

Every deployment creates each topic with {partitions} partitions, deleted (never compacted) past its retention: \
events topics keep every event for good (`retention.ms` -1), so a service that starts later builds its copies \
from the first event; dead-letter topics keep two weeks. The AsyncAPI channels' Kafka bindings say the same.

## Checked by

`jsonschema` (the examples, producers' and consumers', against their schemas; the headers against the \
envelope), `openapi-spec-validator` (the OpenAPI documents) and the official AsyncAPI parser \
(`tools/asyncapi`, installed by `make test` where npm is) in `tools/tests/test_contracts_validators.py`.

## Events

| Event | Version | Producer | Topic | Key |
| --- | --- | --- | --- | --- |
{events}
"""


def generate() -> dict[Path, str]:
    """Every generated file, by path relative to the repository root, with its exact text."""
    events = sorted(EVENT_REGISTRY.values(), key=lambda model: (model.event_type, model.event_version))
    files: dict[Path, Json] = {_ENVELOPE_PATH: _envelope_schema()}
    for model in events:
        files[_schema_path(model)] = _event_schema(model)
        files[_example_path(model)] = _example(model)
    for service in sorted({producer_of(model) for model in events}):
        published = [model for model in events if producer_of(model) == service]
        files[CONTRACTS / "asyncapi" / f"{service}.yaml"] = _asyncapi(service, published)
    for service, openapi in OPENAPI_DOCUMENTS.items():
        files[CONTRACTS / "openapi" / f"{service}.json"] = openapi()
    texts = {path: json.dumps(doc, indent=2, sort_keys=True) + "\n" for path, doc in files.items()}
    texts[CONTRACTS / "README.md"] = _readme(events)
    return dict(sorted(texts.items()))


def check(root: Path) -> list[str]:
    """The drift between the code and `root/contracts/`: `missing: `, `changed: ` or `stale: ` and a path."""
    return [f"{kind}: {path}" for kind, path in _drift(root, generate())]


def write(root: Path) -> list[str]:
    """Bring `root/contracts/` in line with the code; returns the drift it repaired."""
    generated = generate()
    drift = _drift(root, generated)
    for kind, path in drift:
        target = root / path
        if kind == "stale":
            target.unlink()
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(generated[path], encoding="utf-8")
    for directory in sorted((root / CONTRACTS).rglob("*"), reverse=True):
        if directory.is_dir() and not any(directory.iterdir()):
            directory.rmdir()
    return [f"{kind}: {path}" for kind, path in drift]


def producer_of(model: type[IntegrationEvent]) -> str:
    """The publishing service: events live in `rcm_common.events.<service>` (DESIGN §3)."""
    service = model.__module__.rpartition(".")[2]
    if service not in SERVICES:
        raise ToolError(f"{model.__name__} is defined in {model.__module__}, which is no producing service's module")
    return service


def arguments() -> argparse.ArgumentParser:
    """The options of `rcm contracts`: a parent parser, shared by the `rcm` command and `python -m`."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--check", action="store_true", help="write nothing; list the drift and exit 1 if there is any")
    parser.add_argument(
        "--root", type=Path, default=Path(), help="the repository root (default: the current directory)"
    )
    return parser


def run(args: argparse.Namespace) -> int:
    """Regenerate `contracts/`, or with `--check` report how it differs from the code."""
    root: Path = args.root
    if not (root / "pyproject.toml").is_file():
        raise ToolError(f"{root.resolve()} is not the repository root; run from there or pass --root")
    if args.check:
        drift = check(root)
        for line in drift:
            print(line)
        if drift:
            print("contracts/ is out of date: run `make contracts` and commit the result", file=sys.stderr)
        return 1 if drift else 0
    repaired = write(root)
    for line in repaired:
        print(line)
    print(f"contracts/: {len(repaired)} file(s) brought up to date" if repaired else "contracts/ is up to date")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m rcm_tools.contracts",
        description="Regenerate contracts/ from the code, or check it for drift.",
        parents=[arguments()],
    )
    try:
        return run(parser.parse_args(argv))
    except ToolError as exc:
        print(f"rcm contracts: error: {exc}", file=sys.stderr)
        return 1


def _drift(root: Path, generated: dict[Path, str]) -> list[tuple[str, Path]]:
    drift = []
    for path, text in generated.items():
        target = root / path
        if not target.is_file():
            drift.append(("missing", path))
        elif target.read_text(encoding="utf-8") != text:
            drift.append(("changed", path))
    drift.extend(("stale", path) for path in _owned_files(root) if path not in generated)
    return drift


def _owned_files(root: Path) -> list[Path]:
    """Files under `contracts/` that the generator owns: all but the consumers' claimed examples."""
    files = (path.relative_to(root) for path in sorted((root / CONTRACTS).rglob("*")) if path.is_file())
    return [path for path in files if not _is_claimed_example(path)]


def _is_claimed_example(path: Path) -> bool:
    """`contracts/examples/<consumer>/...`: consumers are named like services, event types are `rcm.*`."""
    parts = path.parts
    return len(parts) > 3 and parts[1] == "examples" and not parts[2].startswith("rcm.")


def _schema_path(model: type[IntegrationEvent]) -> Path:
    return CONTRACTS / "events" / model.event_type / f"v{model.event_version}.schema.json"


def _example_path(model: type[IntegrationEvent]) -> Path:
    return CONTRACTS / "examples" / model.event_type / f"v{model.event_version}.json"


def _schema_id(path: Path) -> str:
    """`contracts/x` is known as `SCHEMA_ID_BASE/x`: the ids the envelope's `ce_dataschema` names."""
    return f"{SCHEMA_ID_BASE}/{path.relative_to(CONTRACTS).as_posix()}"


def _ref_from_asyncapi(path: Path) -> str:
    return f"../{path.relative_to(CONTRACTS).as_posix()}"


def _envelope_schema() -> Json:
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": _schema_id(_ENVELOPE_PATH),
        "title": "Envelope",
        "description": (
            "The Kafka headers of every integration event: a CloudEvents 1.0 event in the Kafka protocol "
            "binding's binary mode (attributes as `ce_*` headers, the JSON payload as the value). Identifiers "
            "and metadata only, never PHI. All values are UTF-8 strings. Other headers (the client library's "
            "own) may be present; readers ignore them."
        ),
        "type": "object",
        "properties": {
            name: {"type": "string", "description": description, **_ENVELOPE_HEADER_FORMATS.get(name, {})}
            for name, (_required, description) in ENVELOPE_HEADERS.items()
        },
        "required": [name for name, (required, _description) in ENVELOPE_HEADERS.items() if required],
        "additionalProperties": {"type": "string"},
    }


def _event_schema(model: type[IntegrationEvent]) -> Json:
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": _schema_id(_schema_path(model)),
        **model.model_json_schema(mode="serialization"),
        "title": model.__name__,
        "x-rcm": {
            "event_type": model.event_type,
            "event_version": model.event_version,
            "subject_field": model.subject_field,
            "topic": events_topic(producer_of(model)),
            "producer": producer_of(model),
        },
    }


def _example(model: type[IntegrationEvent]) -> Json:
    """The example payload, checked to be exactly what the model would put on the wire."""
    example = EXAMPLES.get(model)
    if example is None:
        raise ToolError(
            f"{model.event_type} v{model.event_version} has no example: add {model.__name__} to "
            "rcm_tools/contract_examples.py"
        )
    try:
        wire: Json = json.loads(model.model_validate(example).model_dump_json())
    except ValidationError as exc:
        raise ToolError(f"the example of {model.__name__} is invalid: {exc}") from exc
    absent = object()
    differing = sorted(key for key in wire.keys() | example.keys() if wire.get(key, absent) != example.get(key, absent))
    if differing:
        raise ToolError(
            f"the example of {model.__name__} is not in wire form (unknown, missing or reformatted fields: "
            f"{', '.join(differing)}); write it as model_dump_json() would"
        )
    return wire


def _asyncapi(service: str, events: Iterable[type[IntegrationEvent]]) -> Json:
    topic = events_topic(service)
    dlq = dlq_topic(topic)
    messages: Json = {}
    operations: Json = {}
    for model in events:
        name = model.__name__
        messages[name] = _asyncapi_message(model)
        operations[f"send{name}"] = {
            "action": "send",
            "title": f"Publish {name}",
            "channel": {"$ref": f"#/channels/{topic}"},
            "messages": [{"$ref": f"#/channels/{topic}/messages/{name}"}],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": f"RCM {service} events",
            "version": version(f"rcm-{service}"),
            "description": (
                f"The integration events the {service} service publishes. Generated by `make contracts`; "
                "do not edit by hand."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {
            "kafka": {
                "host": "{bootstrap_servers}",
                "protocol": "kafka",
                "description": "The platform's Kafka cluster.",
                "variables": {
                    "bootstrap_servers": {
                        "default": ServiceSettings.model_fields["kafka_bootstrap_servers"].default,
                        "description": "The deployment's KAFKA_BOOTSTRAP_SERVERS.",
                    }
                },
            }
        },
        "channels": {
            topic: {
                "address": topic,
                "title": f"{service} events",
                "description": f"Every integration event of {service}, keyed by aggregate id so each stays in order.",
                "messages": {name: {"$ref": f"#/components/messages/{name}"} for name in messages},
                "bindings": {"kafka": _topic_binding(topic)},
            },
            dlq: {
                "address": dlq,
                "title": f"{service} events: dead letters",
                "description": (
                    f"Written by each consumer of {topic}, not by {service}: a record it could not process "
                    "after its retries, unchanged, with dlq_* headers saying why, so the partition can move on."
                ),
                "messages": {"DeadLetter": {"$ref": "#/components/messages/DeadLetter"}},
                "bindings": {"kafka": _topic_binding(dlq)},
            },
        },
        "operations": operations,
        "components": {
            "messages": {**messages, "DeadLetter": _dead_letter_message(topic)},
            "schemas": {"DeadLetterHeaders": _dead_letter_headers()},
        },
    }


def _topic_binding(topic: str) -> Json:
    """The topic as every deployment creates it: its partitions and its retention (`rcm_common.topics`)."""
    config = topic_config(topic)
    return {
        "topic": topic,
        "partitions": DEFAULT_PARTITIONS,
        "topicConfiguration": {
            "cleanup.policy": [config["cleanup.policy"]],
            "retention.ms": int(config["retention.ms"]),
        },
        "bindingVersion": KAFKA_BINDING_VERSION,
    }


def _asyncapi_message(model: type[IntegrationEvent]) -> Json:
    key = {
        field: value
        for field, value in model.model_json_schema(mode="serialization")["properties"][model.subject_field].items()
        if field != "title"
    }
    message: Json = {
        "name": model.event_type,
        "title": model.__name__,
        "contentType": "application/json",
        "headers": {
            "allOf": [
                {"$ref": _ref_from_asyncapi(_ENVELOPE_PATH)},
                {
                    "type": "object",
                    "properties": {
                        "ce_type": {"const": model.event_type},
                        "ce_dataschema": {"const": schema_id(model.event_type, model.event_version)},
                        "ce_source": {"const": f"{SOURCE_PREFIX}{producer_of(model)}"},
                    },
                },
            ]
        },
        "correlationId": {
            "description": "Shared by everything one request or workflow caused; passed on by every consumer.",
            "location": "$message.header#/ce_correlationid",
        },
        "payload": {"$ref": _ref_from_asyncapi(_schema_path(model))},
        "examples": [{"name": "synthetic", "headers": _example_headers(model), "payload": _example(model)}],
        "bindings": {
            "kafka": {
                "key": {
                    **key,
                    "description": (
                        f"The event's `{model.subject_field}`: an opaque aggregate id, not PHI, as the UTF-8 bytes "
                        "of its canonical text (lowercase, hyphenated). Records of one aggregate share a key, "
                        "so they stay in order on one partition."
                    ),
                },
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
    }
    if model.__doc__:
        message["summary"] = inspect.cleandoc(model.__doc__)
    return message


def _example_headers(model: type[IntegrationEvent]) -> dict[str, str]:
    """The headers of the example event as the outbox writes them, with fixed ids and time."""
    envelope = Envelope(
        event_id=uuid.UUID("00000000-0000-4000-8000-000000000001"),
        event_type=model.event_type,
        event_version=model.event_version,
        occurred_at=datetime(2026, 1, 5, 14, 30, tzinfo=UTC),
        producer=producer_of(model),
        subject=str(_example(model)[model.subject_field]),
        correlation_id="00000000000040008000000000000002",
        causation_id="00000000-0000-4000-8000-000000000003",
        traceparent=f"00-{'4bf92f3577b34da6a3ce929d0e0e4736'}-{'00f067aa0ba902b7'}-01",
    )
    return envelope.to_headers()


def _dead_letter_message(topic: str) -> Json:
    return {
        "name": "dead_letter",
        "title": "Dead letter",
        "summary": f"A record of {topic} that a consumer gave up on.",
        "headers": {"$ref": "#/components/schemas/DeadLetterHeaders"},
        "payload": {"description": f"The original record value, unchanged: normally one of the events of {topic}."},
        "bindings": {
            "kafka": {
                "key": {"type": "string", "description": "The original record's key, unchanged."},
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
    }


def _dead_letter_headers() -> Json:
    return {
        "type": "object",
        "description": (
            "The original record's headers (its envelope, when they were readable UTF-8) plus the dlq_* headers "
            "the consumer adds."
        ),
        "properties": {name: {"type": "string", **schema} for name, schema in _DLQ_HEADER_SCHEMAS.items()},
        "required": list(_DLQ_HEADER_SCHEMAS),
        "additionalProperties": {"type": "string"},
    }


def _openapi(app_module: str, settings_class: str) -> Json:
    """A service app's OpenAPI; building the app opens no connection and reads no key file."""
    # Imported here, not at the top: `rcm` also runs where the services are not installed.
    from rcm_common.auth import generate_keypair

    settings_module, _, settings_name = settings_class.rpartition(".")
    settings_type = getattr(importlib.import_module(settings_module), settings_name)
    create_app = importlib.import_module(app_module).create_app
    with tempfile.TemporaryDirectory(prefix="rcm-contracts-") as state_dir:
        settings = settings_type(
            environment="test", state_dir=Path(state_dir), jwt_public_key=SecretStr(generate_keypair()[1])
        )
        document: Json = create_app(settings).openapi()
        return document


# The services with an HTTP API: the module of their app and their settings class.
OPENAPI_DOCUMENTS: Final[dict[str, Callable[[], Json]]] = {
    "registration": partial(
        _openapi, "rcm_registration.entrypoints.app", "rcm_registration.config.RegistrationSettings"
    ),
    "eligibility": partial(_openapi, "rcm_eligibility.entrypoints.app", "rcm_eligibility.config.EligibilitySettings"),
    "charge": partial(_openapi, "rcm_charge.entrypoints.app", "rcm_charge.config.ChargeSettings"),
    "clearinghouse-sim": partial(
        _openapi, "rcm_clearinghouse_sim.entrypoints.app", "rcm_clearinghouse_sim.config.ClearinghouseSettings"
    ),
    "claim": partial(_openapi, "rcm_claim.entrypoints.app", "rcm_claim.config.ClaimSettings"),
    "remittance": partial(_openapi, "rcm_remittance.entrypoints.app", "rcm_remittance.config.RemittanceSettings"),
    "collections": partial(_openapi, "rcm_collections.entrypoints.app", "rcm_collections.config.CollectionsSettings"),
    "reporting": partial(_openapi, "rcm_reporting.entrypoints.app", "rcm_reporting.config.ReportingSettings"),
}


def _readme(events: Iterable[type[IntegrationEvent]]) -> str:
    rows = [
        f"| `{model.event_type}` | {model.event_version} | {producer_of(model)} | "
        f"`{events_topic(producer_of(model))}` | `{model.subject_field}` |"
        for model in events
    ]
    return README_TEMPLATE.format(events="\n".join(rows), partitions=DEFAULT_PARTITIONS)


if __name__ == "__main__":
    sys.exit(main())
