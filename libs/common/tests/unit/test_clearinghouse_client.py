"""The clearinghouse client retries what is transient (no connection, 5xx, 429, an empty answer) a bounded
number of times, never a definite answer, and refuses at once what the clearinghouse refused (4xx)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from rcm_common.clearinghouse import (
    API_KEY_HEADER,
    X12_MEDIA_TYPE,
    ClearinghouseClient,
    ClearinghouseRefused,
    ClearinghouseUnavailable,
)


def client_answering(
    *answers: Callable[[httpx.Request], httpx.Response],
) -> tuple[ClearinghouseClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answers[min(len(seen), len(answers)) - 1](request)

    http = httpx.AsyncClient(transport=httpx.MockTransport(answer), base_url="http://clearinghouse.test")
    return ClearinghouseClient(http, api_key="k", attempts=3, backoff_seconds=0.001, max_backoff_seconds=0.002), seen


def status(code: int, text: str = "") -> Callable[[httpx.Request], httpx.Response]:
    return lambda _request: httpx.Response(code, text=text)


def dropped(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("refused", request=request)


async def test_transient_failures_are_retried_until_an_answer_comes() -> None:
    client, seen = client_answering(dropped, status(503), status(200, "ISA*271~"))

    assert await client.exchange("/x12/eligibility", "ISA*270~") == "ISA*271~"
    assert len(seen) == 3
    assert seen[0].headers["Content-Type"] == X12_MEDIA_TYPE
    assert seen[0].headers[API_KEY_HEADER] == "k"
    assert seen[0].content == b"ISA*270~"


async def test_the_last_transient_failure_is_reported_without_the_document() -> None:
    client, seen = client_answering(status(200, "  "), status(429), status(502))

    with pytest.raises(ClearinghouseUnavailable, match="answered 502, after 3 attempts") as failure:
        await client.exchange("/x12/claims", "ISA*837*DOE~")

    assert len(seen) == 3
    assert "DOE" not in str(failure.value)


async def test_a_refusal_is_never_retried() -> None:
    client, seen = client_answering(status(400), status(200, "ISA*271~"))

    with pytest.raises(ClearinghouseRefused, match="refused the request with 400"):
        await client.exchange("/x12/eligibility", "ISA*270~")
    assert len(seen) == 1


async def test_the_mailbox_is_listed_read_and_emptied_with_the_key_and_retries() -> None:
    listing = {"files": [{"id": "277ca-000001", "kind": "277CA", "payer_id": "ACME01",
                          "created_at": "2026-12-06T10:00:00+00:00", "size": 12}]}  # fmt: skip
    client, seen = client_answering(
        dropped, lambda _r: httpx.Response(200, json=listing), status(200, "ISA*277~"), status(204)
    )

    [waiting] = await client.mailbox()
    content = await client.mailbox_file(waiting.id)
    await client.delete_mailbox_file(waiting.id)

    assert (waiting.id, waiting.kind, waiting.payer_id, waiting.created_at.isoformat()) == (
        "277ca-000001", "277CA", "ACME01", "2026-12-06T10:00:00+00:00",
    )  # fmt: skip
    assert content == "ISA*277~"
    assert [(r.method, r.url.path) for r in seen] == [
        ("GET", "/mailbox"), ("GET", "/mailbox"), ("GET", "/mailbox/277ca-000001"),
        ("DELETE", "/mailbox/277ca-000001"),
    ]  # fmt: skip
    assert all(r.headers[API_KEY_HEADER] == "k" for r in seen)


async def test_deleting_a_file_already_gone_is_fine_but_another_refusal_is_not() -> None:
    gone, _ = client_answering(status(404))
    forbidden, _ = client_answering(status(403))

    await gone.delete_mailbox_file("277ca-000001")
    with pytest.raises(ClearinghouseRefused) as refused:
        await forbidden.delete_mailbox_file("277ca-000001")
    assert refused.value.status == 403


def bounded_client(answer: httpx.Response, limit: int) -> tuple[ClearinghouseClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def respond(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer

    http = httpx.AsyncClient(transport=httpx.MockTransport(respond), base_url="http://clearinghouse.test")
    return ClearinghouseClient(http, api_key="k", attempts=3, max_answer_bytes=limit), seen


async def test_an_answer_declared_larger_than_the_bound_is_refused_unread_and_not_asked_again() -> None:
    client, seen = bounded_client(httpx.Response(200, headers={"Content-Length": "5000"}, content=b"x" * 5000), 1000)

    with pytest.raises(ClearinghouseUnavailable, match="larger than 1000 bytes; it was not read"):
        await client.mailbox_file("835-1")

    assert len(seen) == 1


async def test_an_endless_answer_without_a_length_is_cut_off_at_the_bound() -> None:
    streamed: list[int] = []

    async def endless() -> AsyncIterator[bytes]:
        while True:
            streamed.append(1)
            yield b"ISA*" * 256

    client, _ = bounded_client(httpx.Response(200, content=endless()), 10_000)

    with pytest.raises(ClearinghouseUnavailable, match="larger than 10000 bytes"):
        await client.exchange("/x12/claims", "ISA*837~")

    assert len(streamed) <= 11  # it stopped reading at the first chunk past the bound


async def test_an_answer_within_the_bound_is_read_whole_and_bytes_not_utf8_are_replaced() -> None:
    client, _ = bounded_client(httpx.Response(200, content=b"ISA*\xff~"), 6)

    assert await client.exchange("/x12/claims", "ISA*837~") == "ISA*\ufffd~"
