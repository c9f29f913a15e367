"""schemathesis against every service's OpenAPI document, in process: each operation called with data that fits
its schema and with data that does not, then the sequences its links allow (a patient created, read, corrected,
given a coverage...), all with a token that may call everything. No answer may be a server error, and no answer
may break the schema the document gives it.

`make test` runs `RCM_SCHEMATHESIS_EXAMPLES` (10) examples per operation and mode and as many linked sequences
of up to 6 calls; set it higher for a longer search. Each service's figures are printed at the end of the run.
schemathesis starts an app's lifespan at its first call, and its pytest plugin ends it with the test."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Flaky, Unsatisfiable
from schemathesis import APIOperation, BaseSchema, Case, CheckResult, GenerationMode, HookContext, Response
from schemathesis.core.result import Err
from schemathesis.errors import FailureGroup, NoLinksFound

EXAMPLES: Final = int(os.environ.get("RCM_SCHEMATHESIS_EXAMPLES", "10"))
RUN: Final = settings(
    max_examples=EXAMPLES,
    stateful_step_count=6,
    deadline=None,
    database=None,  # one test function stands for every operation: a saved example would replay on the wrong one
    suppress_health_check=list(HealthCheck),
)
CHECKS: Final = {
    "enabled": False,
    "not_a_server_error": {"enabled": True},
    "response_schema_conformance": {"enabled": True},
}
"""The two checks this suite stands for. Undocumented statuses (a 404 for an unknown id, 409, 413) are allowed."""
TEST_CONTROLS: Final = "faults"
"""The simulator's `/faults` operations make it fail on purpose: they are left out."""


@schemathesis.serializer("application/edi-x12")
def _x12_text(context: schemathesis.SerializationContext, value: object) -> bytes:
    """The X12 uploads (835s, 837Ps) get the generated text as is: whatever it is, they must refuse it, not fail."""
    return value if isinstance(value, bytes) else str(value).encode()


@dataclass
class Tally:
    """What one service's run did: calls made, answers of 401 and of 5xx among them, and each distinct failure
    (operation and check) with the first call that showed it. Failures are kept as they happen rather than taken
    from hypothesis's report: the service's state moves on between examples, so a replayed sequence may fail
    differently or not at all."""

    calls: int = 0
    unauthenticated: int = 0
    server_errors: int = 0
    failures: dict[str, str] = field(default_factory=dict)

    def listen_to(self, schema: BaseSchema) -> None:
        def after_call(context: HookContext, case: Case[Any], response: Response) -> None:
            self.calls += 1
            self.unauthenticated += response.status_code == 401
            self.server_errors += response.status_code >= 500

        def after_validate(
            context: HookContext, case: Case[Any], response: Response, results: list[CheckResult]
        ) -> None:
            for failure in (result.failure for result in results if result.failure is not None):
                curl = case.as_curl_command(headers=dict(response.request.headers))
                self.failures.setdefault(f"{case.operation.label}: {failure.title}", f"{response.status_code} {curl}")

        schema.hook(after_call)
        schema.hook(after_validate)

    def run(self, test: Callable[[], None]) -> None:
        """A hypothesis test of the schema's cases. How it ends is not the verdict: its failures are in the tally
        already, and a replay that draws differently because the service's state has moved on (hypothesis's
        `Flaky`) is no failure, as schemathesis's own runner counts it."""
        with contextlib.suppress(FailureGroup, Flaky):
            test()


def _operations(schema: BaseSchema) -> list[APIOperation[Any, Any, Any, Any]]:
    """The document's operations; one it describes wrongly fails the test."""
    operations = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()
        operations.append(result.ok())
    return operations


def _fuzz_each(operations: list[APIOperation[Any, Any, Any, Any]], tally: Tally) -> None:
    """Each operation with data that fits its schema and data that does not."""
    for operation in operations:
        for mode in GenerationMode:

            @given(case=operation.as_strategy(generation_mode=mode))
            @RUN
            def call_and_check(case: Case[Any]) -> None:
                case.call_and_validate()

            try:
                tally.run(call_and_check)
            except Unsatisfiable:
                if mode is GenerationMode.POSITIVE:
                    raise  # only an operation whose every input takes any value has no data that does not fit


def _follow_links(schema: BaseSchema, tally: Tally) -> bool:
    """The sequences the schema's links allow; False when it has none."""
    try:
        tally.run(lambda: schema.as_state_machine().run(settings=RUN))
    except NoLinksFound:
        return False
    return True


@pytest.mark.timeout(120 + 6 * EXAMPLES)  # a longer search takes longer: up to 2-3 s per example for collections
def test_no_operation_answers_a_server_error_or_breaks_its_schema(
    any_service: str, unstarted_app: FastAPI, credentials: dict[str, str], request: pytest.FixtureRequest
) -> None:
    config = schemathesis.Config.from_dict({"headers": credentials, "checks": CHECKS})
    schema = schemathesis.openapi.from_asgi("/openapi.json", unstarted_app, config=config).exclude(tag=TEST_CONTROLS)
    tally = Tally()
    tally.listen_to(schema)

    operations = _operations(schema)
    _fuzz_each(operations, tally)
    calls_alone = tally.calls
    linked = _follow_links(schema, tally)

    sequences = f"{tally.calls - calls_alone} in linked sequences" if linked else "no links to follow"
    summary = (
        f"{any_service}: {len(operations)} operations, {tally.calls} calls ({sequences}), "
        f"{tally.server_errors} server errors, {len(tally.failures)} failures"
    )
    print(summary)
    request.node.user_properties.append(("figures", f"schemathesis {summary}"))
    assert operations
    assert tally.unauthenticated == 0, "the credentials were refused: the operations were not reached"
    assert tally.failures == {}, "\n".join(
        f"{failure}, first seen as: {example}" for failure, example in tally.failures.items()
    )
