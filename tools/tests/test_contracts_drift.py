"""The committed `contracts/` against the code: CI's drift check, and what the generated documents promise.
Examples are validated here by their pydantic models; the third-party validators run in
`test_contracts_validators.py`.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from aiokafka import ConsumerRecord

from rcm_common.envelope import new_envelope
from rcm_common.events import EVENT_REGISTRY, IntegrationEvent
from rcm_common.events.registration import PatientRegistered
from rcm_common.messaging import EventConsumer
from rcm_common.outbox import OutgoingMessage
from rcm_common.topics import REGISTRATION_EVENTS, dlq_topic
from rcm_common.uow import SqlUnitOfWork
from rcm_tools import contracts
from rcm_tools.contract_examples import EXAMPLES
from rcm_tools.errors import ToolError

REPO = Path(__file__).resolve().parents[2]
COMMITTED = REPO / "contracts"
EVENTS = sorted(EVENT_REGISTRY.items())
EVENT_IDS = [f"{event_type}-v{version}" for (event_type, version), _ in EVENTS]


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture
def copy_of_the_repo(tmp_path: Path) -> Path:
    """A repository root holding a copy of the committed contracts, for drift to be made in."""
    shutil.copytree(COMMITTED, tmp_path / "contracts")
    (tmp_path / "pyproject.toml").touch()
    return tmp_path


def test_the_committed_contracts_are_what_the_code_generates() -> None:
    drift = contracts.check(REPO)
    assert drift == [], "contracts/ differs from the code; run `make contracts` and commit:\n" + "\n".join(drift)


@pytest.mark.parametrize(("key", "model"), EVENTS, ids=EVENT_IDS)
def test_every_event_has_a_schema_naming_its_topic_key_and_producer(
    key: tuple[str, int], model: type[IntegrationEvent]
) -> None:
    event_type, version = key
    producer = model.__module__.rpartition(".")[2]
    schema = _load(COMMITTED / "events" / event_type / f"v{version}.schema.json")

    assert schema["$id"] == f"https://rcm.dev/contracts/events/{event_type}/v{version}.schema.json"
    assert schema["title"] == model.__name__
    assert schema["x-rcm"] == {
        "event_type": event_type,
        "event_version": version,
        "subject_field": model.subject_field,
        "topic": f"rcm.{producer}.events",
        "producer": producer,
    }
    assert model.subject_field in schema["required"]


@pytest.mark.parametrize(("key", "model"), EVENTS, ids=EVENT_IDS)
def test_every_committed_example_is_valid_wire_form_of_its_event(
    key: tuple[str, int], model: type[IntegrationEvent]
) -> None:
    event_type, version = key
    example = _load(COMMITTED / "examples" / event_type / f"v{version}.json")
    schema = _load(COMMITTED / "events" / event_type / f"v{version}.schema.json")

    assert json.loads(model.model_validate(example).model_dump_json()) == example
    assert set(schema["required"]) <= example.keys() <= schema["properties"].keys()


def test_an_event_without_an_example_cannot_be_generated(monkeypatch: pytest.MonkeyPatch) -> None:
    without = {model: example for model, example in EXAMPLES.items() if model is not PatientRegistered}
    monkeypatch.setattr(contracts, "EXAMPLES", without)

    with pytest.raises(ToolError, match=r"rcm\.registration\.patient_registered v1 has no example"):
        contracts.generate()


@pytest.mark.parametrize(
    ("field", "replacement", "error"),
    [
        # The models ignore unknown fields, so a typo would otherwise vanish silently from the committed example.
        ("middle_name", {"midle_name": "Jo"}, "not in wire form .*: middle_name, midle_name"),
        ("sex", {"sex": "X"}, "example of PatientRegistered is invalid"),
    ],
)
def test_an_example_that_is_not_what_its_model_sends_cannot_be_generated(
    monkeypatch: pytest.MonkeyPatch, field: str, replacement: dict[str, Any], error: str
) -> None:
    example = {key: value for key, value in EXAMPLES[PatientRegistered].items() if key != field} | replacement
    examples: dict[type[IntegrationEvent], dict[str, Any]] = {**EXAMPLES, PatientRegistered: example}
    monkeypatch.setattr(contracts, "EXAMPLES", examples)

    with pytest.raises(ToolError, match=error):
        contracts.generate()


def test_check_reports_changed_missing_and_stale_files_but_not_claimed_examples(copy_of_the_repo: Path) -> None:
    root = copy_of_the_repo
    schema_path = root / "contracts/events/rcm.registration.patient_registered/v1.schema.json"
    schema = _load(schema_path)
    del schema["properties"]["middle_name"]  # as if the field had been removed from the model
    schema_path.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")
    (root / "contracts/examples/rcm.registration.coverage_ended/v1.json").unlink()
    stale = root / "contracts/events/rcm.registration.patient_archived/v1.schema.json"
    stale.parent.mkdir()
    stale.write_text("{}\n")
    claimed = root / "contracts/examples/eligibility/rcm.registration.coverage_added/v1.json"
    claimed.parent.mkdir(parents=True, exist_ok=True)
    claimed.write_text("{}\n")

    assert contracts.check(root) == [
        "changed: contracts/events/rcm.registration.patient_registered/v1.schema.json",
        "missing: contracts/examples/rcm.registration.coverage_ended/v1.json",
        "stale: contracts/events/rcm.registration.patient_archived/v1.schema.json",
    ]

    assert len(contracts.write(root)) == 3
    assert contracts.check(root) == []
    assert not stale.parent.exists()
    assert claimed.read_text() == "{}\n"


def test_check_exits_1_and_lists_the_drift(copy_of_the_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert contracts.main(["--check", "--root", str(copy_of_the_repo)]) == 0
    (copy_of_the_repo / "contracts/README.md").write_text("edited by hand\n")

    assert contracts.main(["--check", "--root", str(copy_of_the_repo)]) == 1
    captured = capsys.readouterr()
    assert "changed: contracts/README.md" in captured.out.splitlines()
    assert "make contracts" in captured.err


PATHS = {
    "registration": {
        "/patients",
        "/patients/{patient_id}",
        "/patients/{patient_id}/merge",
        "/patients/{patient_id}/coverages",
        "/patients/{patient_id}/coverages/{coverage_id}",
        "/patients/{patient_id}/coverages/{coverage_id}/end",
    },
    "eligibility": {
        "/eligibility-checks",
        "/eligibility-checks/{check_id}",
        "/eligibility-checks/{check_id}/271",
        "/patients/{patient_id}/eligibility",
        "/estimates",
        "/allowed-amounts",
        "/prior-authorizations",
        "/prior-authorizations/{authorization_id}/uses",
        "/appointments",
    },
}


@pytest.mark.parametrize("service", sorted(PATHS))
def test_the_openapi_document_has_the_service_paths_behind_bearer_tokens(service: str) -> None:
    openapi = _load(COMMITTED / f"openapi/{service}.json")

    assert PATHS[service] <= openapi["paths"].keys()
    # FastAPI names the scheme after the dependency (HTTPBearer), auto_error=False notwithstanding.
    assert openapi["components"]["securitySchemes"] == {"HTTPBearer": {"type": "http", "scheme": "bearer"}}
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            assert operation["security"] == [{"HTTPBearer": []}], f"{method.upper()} {path} is not authenticated"


def test_the_asyncapi_document_publishes_every_event_with_resolvable_references() -> None:
    asyncapi = _load(COMMITTED / "asyncapi/registration.yaml")  # JSON, which is also YAML 1.2
    messages = asyncapi["components"]["messages"]
    published = [model for _, model in EVENTS if model.__module__ == "rcm_common.events.registration"]

    assert asyncapi["asyncapi"] == "3.0.0"
    assert set(asyncapi["channels"]) == {REGISTRATION_EVENTS, dlq_topic(REGISTRATION_EVENTS)}
    assert set(asyncapi["operations"]) == {f"send{model.__name__}" for model in published}
    for model in published:
        message = messages[model.__name__]
        assert message["name"] == model.event_type
        assert message["bindings"]["kafka"]["key"]["format"] == "uuid"
        refs = [message["payload"]["$ref"], message["headers"]["allOf"][0]["$ref"]]
        for ref in refs:
            assert (COMMITTED / "asyncapi" / ref).resolve().is_file(), ref


def test_the_envelope_schema_describes_the_headers_producers_write() -> None:
    schema = _load(COMMITTED / "envelope.schema.json")
    event = PatientRegistered.model_validate(EXAMPLES[PatientRegistered])
    bare = dataclasses.replace(new_envelope(event, "registration"), causation_id=None, traceparent=None)
    full = dataclasses.replace(bare, causation_id=str(uuid.uuid4()), traceparent=f"00-{'a' * 32}-{'b' * 16}-01")

    for envelope in (bare, full):
        headers = envelope.to_headers()
        assert set(schema["required"]) <= headers.keys() <= schema["properties"].keys()
    assert set(schema["required"]) == set(bare.to_headers())


class _Recorder:
    def __init__(self) -> None:
        self.sent: list[OutgoingMessage] = []

    async def publish_all(self, messages: Sequence[OutgoingMessage]) -> None:
        self.sent.extend(messages)


def _no_unit_of_work() -> SqlUnitOfWork:
    raise AssertionError("a message without an envelope is dead-lettered before any unit of work")


async def test_the_dlq_headers_documented_are_those_the_consumer_adds() -> None:
    dead_letters = _Recorder()
    consumer: EventConsumer[SqlUnitOfWork] = EventConsumer(
        name="contract-test",
        topic=REGISTRATION_EVENTS,
        handlers={},
        uow_factory=_no_unit_of_work,
        dead_letters=dead_letters,
    )
    poison = ConsumerRecord(REGISTRATION_EVENTS, 0, 7, 0, 0, b"key", b"{}", None, 3, 2, [])
    await consumer.consume([poison])
    documented = _load(COMMITTED / "asyncapi/registration.yaml")["components"]["schemas"]["DeadLetterHeaders"]

    [dead] = dead_letters.sent
    assert set(documented["required"]) == set(dead.headers) == set(documented["properties"])
