"""The committed contracts pass third-party validators: jsonschema (Draft 2020-12) for the event schemas, their
examples, the headers and the money pattern; openapi-spec-validator for the OpenAPI documents; and the official
AsyncAPI parser (`tools/asyncapi`, installed by `make test` where npm is) for the AsyncAPI documents. Each
validator is also shown to reject what it should, so none of these checks passes by accident."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from rcm_common.events import EVENT_REGISTRY
from rcm_common.events.base import READING_EVENTS
from rcm_common.topics import DEFAULT_PARTITIONS, topic_config

REPO = Path(__file__).resolve().parents[2]
COMMITTED = REPO / "contracts"
ASYNCAPI_CHECK = REPO / "tools" / "asyncapi"
EVENTS = sorted(EVENT_REGISTRY.items())
EVENT_IDS = [f"{event_type}-v{version}" for (event_type, version), _ in EVENTS]


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _validator(event_type: str, version: int) -> Draft202012Validator:
    schema = _load(COMMITTED / "events" / event_type / f"v{version}.schema.json")
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _errors(validator: Draft202012Validator, instance: Any) -> list[str]:
    return [f"{'.'.join(map(str, error.absolute_path))}: {error.message}" for error in validator.iter_errors(instance)]


@pytest.mark.parametrize(("key", "model"), EVENTS, ids=EVENT_IDS)
def test_every_example_producer_and_consumer_alike_passes_its_schema(key: tuple[str, int], model: Any) -> None:
    event_type, version = key
    validator = _validator(event_type, version)
    examples = [COMMITTED / "examples" / event_type / f"v{version}.json"]
    examples += sorted(COMMITTED.glob(f"examples/*/{event_type}/v{version}.json"))  # what consumers claim
    for path in examples:
        assert _errors(validator, _load(path)) == [], path


def test_money_on_the_wire_has_exactly_two_places() -> None:
    validator = _validator("rcm.charge.charges_captured", 1)
    captured = _load(COMMITTED / "examples/rcm.charge.charges_captured/v1.json")
    assert _errors(validator, captured) == []
    for written in ("185", "185.0", "185.000", 185.0, "1.85E2"):
        changed = copy.deepcopy(captured) | {"total_charge": written}
        assert _errors(validator, changed), written


def test_an_open_enumeration_admits_a_value_added_later_and_a_reader_reads_it_as_the_contract_says() -> None:
    validator = _validator("rcm.registration.patient_registered", 1)
    registered = _load(COMMITTED / "examples/rcm.registration.patient_registered/v1.json")
    newer = registered | {"sex": "X"}
    assert _errors(validator, newer) == []  # the schema is open to additions within the version
    model = EVENT_REGISTRY[("rcm.registration.patient_registered", 1)]
    assert model.model_validate(newer, context=READING_EVENTS).model_dump()["sex"] == "U"

    coverage = _load(COMMITTED / "examples/rcm.registration.coverage_added/v1.json") | {"order": "quaternary"}
    coverage_model = EVENT_REGISTRY[("rcm.registration.coverage_added", 1)]
    with pytest.raises(ValueError, match="order"):  # where guessing is unsafe the reader refuses the event
        coverage_model.model_validate(coverage, context=READING_EVENTS)


@pytest.mark.parametrize("service", ["registration", "eligibility", "charge"])
def test_each_asyncapi_examples_headers_pass_the_envelope_schema(service: str) -> None:
    envelope = Draft202012Validator(_load(COMMITTED / "envelope.schema.json"))
    messages = _load(COMMITTED / "asyncapi" / f"{service}.yaml")["components"]["messages"]
    for name, message in messages.items():
        for example in message.get("examples", []):
            assert _errors(envelope, example["headers"]) == [], name
    headers = next(message["examples"][0]["headers"] for message in messages.values() if "examples" in message)
    assert _errors(envelope, {k: v for k, v in headers.items() if k != "ce_specversion"})  # required: refused


@pytest.mark.parametrize("service", ["registration", "eligibility", "charge"])
def test_each_topic_is_documented_with_the_partitions_and_retention_it_is_created_with(service: str) -> None:
    channels = _load(COMMITTED / "asyncapi" / f"{service}.yaml")["channels"]
    for topic, channel in channels.items():
        binding = channel["bindings"]["kafka"]
        config = topic_config(topic)
        assert (binding["topic"], binding["partitions"]) == (topic, DEFAULT_PARTITIONS)
        assert binding["topicConfiguration"] == {
            "cleanup.policy": [config["cleanup.policy"]],
            "retention.ms": int(config["retention.ms"]),
        }


@pytest.mark.parametrize("service", ["registration", "eligibility", "charge", "clearinghouse-sim"])
def test_each_openapi_document_passes_openapi_spec_validator(service: str) -> None:
    validate(_load(COMMITTED / "openapi" / f"{service}.json"))


def test_openapi_spec_validator_refuses_a_broken_document() -> None:
    document = _load(COMMITTED / "openapi/registration.json")
    document["paths"]["/patients"]["post"]["responses"] = {"201": {}}  # a response without its description
    with pytest.raises(OpenAPIValidationError):
        validate(document)


def _asyncapi_parser() -> str:
    node = shutil.which("node")
    if node is None or not (ASYNCAPI_CHECK / "node_modules" / "@asyncapi" / "parser").is_dir():
        pytest.skip("the AsyncAPI parser is not installed: `make test` installs it where npm is")
    return node


def _parse(node: str, *documents: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [node, str(ASYNCAPI_CHECK / "check.mjs"), *map(str, documents)],
        cwd=ASYNCAPI_CHECK,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_asyncapi_parser_accepts_every_document() -> None:
    node = _asyncapi_parser()
    documents = sorted((COMMITTED / "asyncapi").glob("*.yaml"))
    result = _parse(node, *documents)
    verdicts = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.returncode == 0, result.stdout + result.stderr
    assert [(Path(v["path"]).name, v["parsed"], v["errors"]) for v in verdicts] == [
        (document.name, True, []) for document in documents
    ]


def test_the_asyncapi_parser_refuses_a_broken_document(tmp_path: Path) -> None:
    node = _asyncapi_parser()
    document = _load(COMMITTED / "asyncapi/registration.yaml")
    operation = next(iter(document["operations"].values()))
    operation["channel"] = {"$ref": "#/channels/rcm.nowhere"}  # an operation on a channel that does not exist
    broken = tmp_path / "asyncapi"
    broken.mkdir()
    (broken / "registration.yaml").write_text(json.dumps(document), encoding="utf-8")
    shutil.copytree(COMMITTED / "events", tmp_path / "events")
    shutil.copy(COMMITTED / "envelope.schema.json", tmp_path / "envelope.schema.json")
    result = _parse(node, broken / "registration.yaml")
    assert result.returncode == 1, result.stdout
