"""PHI stays where it belongs (DESIGN.md §5: no PHI in Kafka keys or headers, log lines, trace attributes, metrics
labels or error bodies). A few patients with recognisable synthetic PHI go through the whole revenue cycle on the
running stack, every service up and exporting its spans to a collector the test runs, and the error paths that
could echo what a front desk typed are provoked on the way. Then each value, in the spellings it takes on the way
(an SSN with or without hyphens, a birth date in ISO, US or X12 form, a name in any case), and the MRN registration
gave each, is looked for in every log line, every error body the test got back, every span, every metric label and
every Kafka key and header.

Event payloads carry the PHI their consumers need, by design, so they are searched for the SSN alone: it never
leaves registration."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Final, NamedTuple

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from prometheus_client.parser import text_string_to_metric_families

from rcm_clearinghouse_sim.config import ClearinghouseSettings, load_config
from rcm_common.testing import OtlpCollector, otlp_collector
from rcm_common.topics import ALL_TOPICS, SERVICES
from rcm_tools.benchmarks.cycle_watch import read_to_the_end
from rcm_tools.end_to_end import (
    FAST_WORKERS,
    TODAY,
    capture,
    claim_of,
    client,
    denying_none_at_random,
    register,
    revenue_cycle_stack,
)
from rcm_tools.stack import CLEARINGHOUSE, LocalStack

pytestmark = [pytest.mark.e2e, pytest.mark.broker, pytest.mark.timeout(240)]

_SEPARATOR: Final = r"[-./() ]{0,2}"
"""What may stand between the digit groups of a number as people and programs write it: 573-41-8826, 573418826,
(505) 736-2914, 1931-07-29, 19310729."""


def _number(*groups: str) -> re.Pattern[str]:
    """The digit groups with or without separators, standing alone: never inside a longer number (an amount, a
    control number) or a hexadecimal id, where any digits turn up by chance."""
    return re.compile(r"(?<![0-9A-Za-z])" + _SEPARATOR.join(groups) + r"(?![0-9A-Za-z])")


def _words(text: str) -> re.Pattern[str]:
    """Text in any case (X12 upper-cases names and addresses), however its spaces are folded."""
    return re.compile(r"\s+".join(map(re.escape, text.split())), re.IGNORECASE)


class PhiValue(NamedTuple):
    label: str
    pattern: re.Pattern[str]
    is_ssn: bool = False


@dataclass(frozen=True)
class Patient:
    """A patient whose every identifier is unlike anything else a run writes, so any sighting is a leak."""

    first_name: str
    last_name: str  # a stem: `register` makes it unique with letters of its own
    birth_date: date
    ssn: str  # AAA-GG-SSSS, one the SSA could issue: registration refuses the rest
    phone: str
    email: str
    line1: str
    city: str
    postal_code: str
    member_id: str = field(default_factory=lambda: f"PHIMK{uuid.uuid4().hex[:8].upper()}")

    def registration(self) -> dict[str, Any]:
        return {
            "first_name": self.first_name, "last_name": self.last_name, "birth_date": self.birth_date.isoformat(),
            "sex": "F", "phone": self.phone, "email": self.email, "ssn": self.ssn,
            "address": {"line1": self.line1, "city": self.city, "state": "AK", "postal_code": self.postal_code},
        }  # fmt: skip

    def values(self) -> list[PhiValue]:
        born = self.birth_date
        year, month, day = f"{born.year:04d}", f"{born.month:02d}", f"{born.day:02d}"
        phone = re.sub(r"\D", "", self.phone)
        return [
            PhiValue(f"first name {self.first_name}", _words(self.first_name)),
            PhiValue(f"last name {self.last_name}", _words(self.last_name)),
            PhiValue(f"birth date {born} (ISO, X12)", _number(year, month, day)),
            PhiValue(f"birth date {born} (US)", _number(month, day, year)),
            PhiValue(f"SSN {self.ssn}", _number(*self.ssn.split("-")), is_ssn=True),
            PhiValue(f"phone {self.phone}", _number(phone[:3], phone[3:6], phone[6:])),
            PhiValue(f"email {self.email}", _words(self.email)),
            PhiValue(f"address {self.line1}", _words(self.line1)),
            PhiValue(f"city {self.city}", _words(self.city)),
            PhiValue(f"ZIP {self.postal_code}", _number(self.postal_code)),
            PhiValue(f"member id {self.member_id}", _words(self.member_id)),
        ]


PATIENTS: Final = (
    Patient("Zephyrine", "Quixbyrne", date(1931, 7, 29), "573-41-8826", "505-736-2914",
            "zeph.qb@example.org", "4417 Vexhollow Quay", "Skelfjord", "99950"),
    Patient("Oswyth", "Drummelvax", date(1948, 11, 3), "468-27-5139", "(307) 842-6651",
            "owd@example.net", "88 Gryphonwold Ln", "Pellucidar", "99921"),
    Patient("Belphoebe", "Yarrowquist", date(1962, 2, 17), "251-73-9048", "4147729365",
            "byq@example.com", "1207 Thistlemoor Rd", "Quillhaven", "99674"),
)  # fmt: skip


class Finding(NamedTuple):
    where: str
    value: str


@dataclass
class Scan:
    """Looks for every PHI value in each item read, counting the items of each kind."""

    values: Sequence[PhiValue]
    findings: list[Finding] = field(default_factory=list)
    scanned: Counter[str] = field(default_factory=Counter)

    def item(self, kind: str, where: str, *texts: str, ssn_only: bool = False) -> None:
        self.scanned[kind] += 1
        for value in self.values:
            if (value.is_ssn or not ssn_only) and any(value.pattern.search(text) for text in texts):
                self.findings.append(Finding(where, value.label))


class Span(NamedTuple):
    service: str
    name: str
    texts: tuple[str, ...]
    """Everything the span says: its name, status message, attributes, events and links, and its resource's
    attributes, each key and value."""


def _value_texts(value: AnyValue) -> Iterator[str]:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        for item in value.array_value.values:
            yield from _value_texts(item)
    elif kind == "kvlist_value":
        yield from _attribute_texts(value.kvlist_value.values)
    elif kind == "bytes_value":
        yield value.bytes_value.decode("latin-1")
    elif kind is not None:
        yield str(getattr(value, kind))


def _attribute_texts(attributes: Iterable[KeyValue]) -> Iterator[str]:
    for attribute in attributes:
        yield attribute.key
        yield from _value_texts(attribute.value)


def exports_of(collector: OtlpCollector) -> list[ExportTraceServiceRequest]:
    return [ExportTraceServiceRequest.FromString(body) for path, body in collector.received if path == "/v1/traces"]


def spans_of(exports: Iterable[ExportTraceServiceRequest]) -> list[Span]:
    spans = []
    for export in exports:
        for resource_spans in export.resource_spans:
            resource = tuple(_attribute_texts(resource_spans.resource.attributes))
            service = next(
                (a.value.string_value for a in resource_spans.resource.attributes if a.key == "service.name"), "?"
            )
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    texts = [span.name, span.status.message, *resource, *_attribute_texts(span.attributes)]
                    for event in span.events:
                        texts += [event.name, *_attribute_texts(event.attributes)]
                    for link in span.links:
                        texts += _attribute_texts(link.attributes)
                    spans.append(Span(service, span.name, tuple(texts)))
    return spans


class Record(NamedTuple):
    topic: str
    where: str
    key: bytes | None
    headers: tuple[tuple[str, bytes], ...]
    value: bytes | None


class ErrorBody(NamedTuple):
    request: str
    status: int
    body: str


@dataclass(frozen=True)
class Evidence:
    """All a run left behind where PHI must not be."""

    mrns: list[str]
    log_lines: dict[str, list[str]]
    error_bodies: list[ErrorBody]
    spans: list[Span]
    metric_samples: dict[str, list[tuple[str, dict[str, str]]]]
    records: list[Record]


# Each error path that could echo what was sent, with the answer it must give: the first patient's details (or
# an obvious variant of one) in a field refused by the domain's rules, by request validation, in an unknown field,
# in a query, in a path, twice registered, and member ids refused or held by another patient.
async def provoke_errors(local: LocalStack, ids: Sequence[tuple[str, str]]) -> list[ErrorBody]:
    zephyrine, oswyth = PATIENTS[0], PATIENTS[1]
    (patient_id, _coverage_id), (other_patient_id, other_coverage_id) = ids[0], ids[1]
    async with client(local, "registration", "front_desk") as desk:
        registered = (await desk.get(f"/patients/{patient_id}")).json()
        again = zephyrine.registration() | {"last_name": registered["last_name"]}
        fresh = zephyrine.registration() | {"last_name": registered["last_name"] + "x"}
        found = await desk.get(
            "/patients", params={"last_name": zephyrine.last_name, "birth_date": zephyrine.birth_date.isoformat()}
        )
        assert found.status_code == 200, found.text
        us_birth_date = zephyrine.birth_date.strftime("%m/%d/%Y")
        registration_errors = [
            (desk.post("/patients", json=fresh | {"phone": zephyrine.ssn}), 422),
            (desk.post("/patients", json=fresh | {"birth_date": us_birth_date, "sex": zephyrine.first_name}), 422),
            (desk.post("/patients", json=fresh | {"mothers_maiden_name": zephyrine.last_name}), 422),
            (desk.post("/patients", json=again), 409),
            (desk.get("/patients", params={"last_name": zephyrine.last_name * 7}), 422),
            (desk.get("/patients", params={"birth_date": us_birth_date}), 422),
            (desk.get(f"/patients/{uuid.uuid4()}"), 404),
            (desk.get(f"/patients/{zephyrine.last_name}"), 422),
            (desk.get(f"/{zephyrine.last_name}/chart"), 404),
            (desk.post(
                f"/patients/{other_patient_id}/coverages",
                json={"payer_id": "ACME01", "payer_name": "Acme Health Plan", "member_id": zephyrine.member_id,
                      "relationship": "self", "effective_date": f"{TODAY.year}-01-01", "order": "secondary"},
            ), 409),
            (desk.patch(
                f"/patients/{other_patient_id}/coverages/{other_coverage_id}",
                json={"member_id": f"{oswyth.member_id}*{oswyth.ssn}"},
            ), 422),
        ]  # fmt: skip
        answers = [(await request, status) for request, status in registration_errors]
    async with client(local, "eligibility", "front_desk") as desk:
        check = {"patient_id": patient_id, "coverage_id": str(uuid.uuid4()), "date_of_service": TODAY.isoformat()}
        answers.append((await desk.post("/eligibility-checks", json=check), 404))
    async with client(local, "charge", "coder") as coder:
        answers.append((await coder.post("/encounters", json={"patient_id": zephyrine.last_name}), 422))
    for answer, status in answers:
        assert answer.status_code == status, f"{answer.request.method} {answer.request.url.path}: {answer.text}"
    return [ErrorBody(f"{a.request.method} {a.request.url.path}", a.status_code, a.text) for a, _ in answers]


async def provoke_x12_errors(local: LocalStack, claim_id: str) -> list[ErrorBody]:
    """The payer's 835 for the first patient's claim, which names them, sent back to remittance cut off and with
    the last name where the charge goes: a reader that quoted what it could not read would echo PHI."""
    async with client(local, "remittance", "biller") as biller:
        [payment] = (await biller.get("/payments", params={"claim_id": claim_id})).json()
        raw = (await biller.get(f"/remittances/{payment['remittance_id']}/835")).text
        assert PATIENTS[0].last_name.upper() in raw.upper()
        start = raw.index("CLP*")
        clp = raw[start : raw.index("~", start)].split("*")
        garbled = raw.replace("*".join(clp), "*".join([*clp[:3], PATIENTS[0].last_name, *clp[4:]]), 1)
        answers = [await biller.post("/remittances", content=text) for text in (raw[: raw.index("SVC*")], garbled)]
    for answer in answers:
        assert answer.status_code == 422, answer.text
    return [ErrorBody(f"{a.request.method} {a.request.url.path}", a.status_code, a.text) for a in answers]


async def check_eligibility(local: LocalStack, patient_id: str, coverage_id: str) -> None:
    """An on-demand 270/271 with the payer: the patient's name, birth date and member id go out in X12."""
    async with client(local, "eligibility", "front_desk") as desk:
        check = {"patient_id": patient_id, "coverage_id": coverage_id, "date_of_service": TODAY.isoformat()}
        answer = await desk.post("/eligibility-checks", json=check)
    assert answer.status_code == 201, answer.text


async def posted_payment(local: LocalStack, claim_id: str, within: float = 45) -> None:
    """Once remittance has posted a payment to the claim."""
    async with client(local, "remittance", "biller") as biller, asyncio.timeout(within):
        while True:
            payments = (await biller.get("/payments", params={"claim_id": claim_id})).json()
            if any(payment["state"] == "posted" for payment in payments):
                return
            await asyncio.sleep(0.3)


async def drive(local: LocalStack) -> tuple[list[str], list[ErrorBody]]:
    """Each patient registered, eligible, seen and paid, and the error paths provoked on the way; the patients'
    MRNs and the error bodies."""
    ids = await asyncio.gather(*(register(local, p.registration(), p.member_id) for p in PATIENTS))
    async with client(local, "registration", "front_desk") as desk:
        mrns = [(await desk.get(f"/patients/{patient_id}")).json()["mrn"] for patient_id, _ in ids]
    encounters = await asyncio.gather(*(capture(local, patient_id, coverage_id) for patient_id, coverage_id in ids))
    error_bodies = await provoke_errors(local, ids)
    async with client(local, "claim", "biller") as biller:
        claims = await asyncio.gather(*(claim_of(biller, encounter, "accepted") for encounter in encounters))
    await asyncio.gather(*(check_eligibility(local, *pair) for pair in ids))
    await asyncio.gather(*(posted_payment(local, claim["id"]) for claim in claims))
    return mrns, error_bodies + await provoke_x12_errors(local, claims[0]["id"])


async def scrape_metrics(local: LocalStack) -> dict[str, list[tuple[str, dict[str, str]]]]:
    """Every sample of every service's /metrics, by service: its name and labels."""
    samples = {}
    async with httpx.AsyncClient(timeout=20) as http:
        for spec in local.services:
            text = (await http.get(f"http://127.0.0.1:{spec.port}/metrics")).text
            families = text_string_to_metric_families(text)
            samples[spec.name] = [(s.name, dict(s.labels)) for family in families for s in family.samples]
    return samples


async def read_every_record(servers: str) -> list[Record]:
    """Every record of every platform topic, dead letters too, from the first offset until no more come."""
    return [
        Record(r.topic, f"{r.topic}[{r.partition}]@{r.offset}", r.key, tuple(r.headers), r.value)
        for r in await read_to_the_end(servers, ALL_TOPICS)
    ]


@pytest.fixture(scope="module")
def collector() -> Iterator[OtlpCollector]:
    with otlp_collector() as server:
        yield server


@pytest.fixture(scope="module")
def evidence(collector: OtlpCollector, tmp_path_factory: pytest.TempPathFactory) -> Evidence:
    """One run of the whole stack, every service exporting its spans to `collector` fast; what it left behind,
    read after the stack stopped so that the last log lines and spans are in."""
    paying = denying_none_at_random(load_config(ClearinghouseSettings(environment="test")))
    tracing = {"OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint, "OTEL_BSP_SCHEDULE_DELAY": "200"}
    state: Path = tmp_path_factory.mktemp("stack")
    with revenue_cycle_stack(state, simulator=paying, reporting=True, workers=FAST_WORKERS | tracing) as running:
        local, servers = running
        mrns, error_bodies = asyncio.run(drive(local))
        metric_samples = asyncio.run(scrape_metrics(local))
        records = asyncio.run(read_every_record(servers))
    log_lines = {path.name: path.read_text(errors="replace").splitlines() for path in local.log_dir.glob("*.log")}
    return Evidence(mrns, log_lines, error_bodies, spans_of(exports_of(collector)), metric_samples, records)


def scan_everything(evidence: Evidence) -> Scan:
    mrns = [PhiValue(f"MRN {mrn}", _number(mrn)) for mrn in evidence.mrns]
    scan = Scan([*(value for patient in PATIENTS for value in patient.values()), *mrns])
    for name, lines in evidence.log_lines.items():
        for number, line in enumerate(lines, 1):
            scan.item("log lines", f"logs/{name}:{number}", line)
    for body in evidence.error_bodies:
        scan.item("error bodies", f"{body.request} answered {body.status}", body.body)
    for span in evidence.spans:
        scan.item("spans", f"span {span.name!r} of {span.service}", *span.texts)
    for service, samples in evidence.metric_samples.items():
        for name, labels in samples:
            scan.item("metric samples", f"/metrics of {service}: {name}", *labels, *labels.values())
    for record in evidence.records:
        headers = [text for name, value in record.headers for text in (name, value.decode("latin-1"))]
        scan.item("Kafka records", f"{record.where} key or header", (record.key or b"").decode("latin-1"), *headers)
        payload = (record.value or b"").decode("latin-1")
        scan.item("Kafka payloads", f"{record.where} payload", payload, ssn_only=True)
    return scan


def test_the_scan_finds_each_value_in_the_spellings_it_takes_and_nothing_in_a_clean_line() -> None:
    zephyrine = PATIENTS[0]
    planted = {
        "registered QUIXBYRNEghijkl, ZEPHYRINE": {"last name Quixbyrne", "first name Zephyrine"},
        "NM1*IL*1*X*Y****MI*" + zephyrine.member_id + "~DMG*D8*19310729*F~": {
            f"member id {zephyrine.member_id}", "birth date 1931-07-29 (ISO, X12)"
        },
        '{"ssn": "573418826", "dob": "07/29/1931"}': {"SSN 573-41-8826", "birth date 1931-07-29 (US)"},
        "call (505) 736-2914 at 4417  vexhollow quay, Skelfjord AK 99950": {
            "phone 505-736-2914", "address 4417 Vexhollow Quay", "city Skelfjord", "ZIP 99950"
        },
    }  # fmt: skip
    for line, labels in planted.items():
        scan = Scan(zephyrine.values())
        scan.item("log lines", "planted", line)
        assert {finding.value for finding in scan.findings} == labels, line

    scan = Scan(zephyrine.values())
    clean = '{"message": "claim 5734188261 paid 1999500.00", "trace_id": "0a19310729b", "ssn": "[REDACTED]"}'
    scan.item("log lines", "clean", clean)
    scan.item("Kafka payloads", "a payload naming the patient", '{"last_name": "Quixbyrne"}', ssn_only=True)
    assert scan.findings == []


def test_every_service_left_something_to_scan_through_every_channel(evidence: Evidence) -> None:
    # The kernel's services trace; the simulator stands for an outside party and does not.
    traced = {*SERVICES, "reporting"}
    assert {span.service for span in evidence.spans} >= traced, "OTEL_EXPORTER_OTLP_ENDPOINT did not reach them all"
    assert {name for name, lines in evidence.log_lines.items() if lines} >= {
        f"{s}.log" for s in (*traced, CLEARINGHOUSE)
    }
    assert all(samples for samples in evidence.metric_samples.values())
    assert {record.topic for record in evidence.records} >= {t for t in ALL_TOPICS if not t.endswith(".dlq")}


def test_no_phi_in_logs_error_bodies_spans_metric_labels_or_kafka_keys_and_headers_nor_an_ssn_in_events(
    evidence: Evidence, record_property: Callable[[str, object], None]
) -> None:
    scan = scan_everything(evidence)
    counted = ", ".join(f"{count} {kind}" for kind, count in scan.scanned.items())
    record_property(
        "figures", f"PHI scan: {counted} scanned for {len(scan.values)} values; findings {len(scan.findings)}"
    )
    assert scan.findings == [], "\n".join(f"{where}: {value}" for where, value in sorted(set(scan.findings)))
