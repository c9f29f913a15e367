"""Every request body is bounded at the edge: a body past its route's bound (the upload bound on the routes that
read their body themselves, the JSON bound on every other, whatever media type the client names) is refused with
413 problem+json, before a byte is read when Content-Length says so, and as soon as the bound is passed when it
does not; an upload under the edge's bound still meets its endpoint's own, tighter one."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from fastapi import FastAPI, Request
from pydantic import BaseModel
from starlette.types import Message

from rcm_common.http import BodyLimitMiddleware, install_problem_handlers, read_body

JSON_LIMIT, UPLOAD_LIMIT, ENDPOINT_LIMIT = 1_000, 5_000, 4_000


class Note(BaseModel):
    text: str


def bounded_app(**timings: float) -> tuple[FastAPI, list[str]]:
    app = FastAPI()
    reached: list[str] = []
    install_problem_handlers(app)
    app.add_middleware(
        BodyLimitMiddleware, json_limit=JSON_LIMIT, upload_limit=UPLOAD_LIMIT, upload_paths=["/uploads"], **timings
    )

    @app.post("/notes")
    async def take_note(note: Note) -> dict[str, int]:
        reached.append("notes")
        return {"length": len(note.text)}

    @app.post("/uploads")
    async def take_upload(request: Request) -> dict[str, int]:
        reached.append("uploads")
        return {"bytes": len(await read_body(request, ENDPOINT_LIMIT, "CSV file"))}

    return app, reached


def client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


def note_of(size: int) -> bytes:
    return json.dumps({"text": "x" * (size - 12)}).encode()


async def test_a_json_body_within_its_bound_is_taken() -> None:
    app, reached = bounded_app()
    async with client(app) as http:
        answer = await http.post("/notes", content=note_of(JSON_LIMIT), headers={"content-type": "application/json"})

    assert (answer.status_code, reached) == (200, ["notes"])


async def test_a_declared_json_body_past_its_bound_is_refused_before_a_byte_is_read() -> None:
    app, reached = bounded_app()
    scope = http_scope("/notes", b"application/json", declared=5_000_000)
    sent: list[Message] = []

    async def never_read() -> Message:
        raise AssertionError("the body was read")

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, never_read, send)

    assert sent[0]["status"] == 413
    assert dict(sent[0]["headers"])[b"content-type"] == b"application/problem+json"
    assert json.loads(sent[1]["body"])["detail"] == f"The request body is larger than {JSON_LIMIT} bytes."
    assert reached == []


async def test_an_endless_body_without_a_length_is_refused_once_it_passes_the_bound() -> None:
    app, reached = bounded_app()
    chunks_read = 0

    async def endless() -> Message:
        nonlocal chunks_read
        chunks_read += 1
        return {"type": "http.request", "body": b"x" * 400, "more_body": True}

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    await app(http_scope("/notes", b"application/json"), endless, send)

    assert sent[0]["status"] == 413
    assert chunks_read == 3  # 1,200 bytes: the first past the bound of 1,000
    assert reached == []


async def test_an_upload_is_bounded_by_the_edge_then_by_its_endpoint() -> None:
    app, reached = bounded_app()
    csv = {"content-type": "text/csv"}
    async with client(app) as http:
        taken = await http.post("/uploads", content=b"a" * 3_000, headers=csv)
        over_endpoint = await http.post("/uploads", content=b"a" * 4_500, headers=csv)
        over_edge = await http.post("/uploads", content=b"a" * 6_000, headers=csv)
        json_as_if_uploaded = await http.post("/notes", content=note_of(3_000), headers=csv)
        json_upload = await http.post("/uploads", content=b"[]" * 1_500, headers={"content-type": "application/json"})

    assert (taken.status_code, taken.json()) == (200, {"bytes": 3_000})
    assert over_endpoint.status_code == 422
    assert over_endpoint.json()["errors"][0]["message"] == f"the CSV file is larger than {ENDPOINT_LIMIT} bytes"
    assert over_edge.status_code == 413
    assert json_as_if_uploaded.status_code == 413  # the route's bound, not the one its media type would suggest
    assert json_upload.status_code == 200  # an upload route's bound, whatever the media type
    assert reached == ["uploads", "uploads", "uploads"]


async def sent_for(app: FastAPI, path: str, receive: Callable[[], Awaitable[Message]]) -> list[Message]:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    await app(http_scope(path, b"application/json"), receive, send)
    return sent


async def test_a_body_that_stalls_is_refused_with_408_once_it_has_been_idle_too_long() -> None:
    app, reached = bounded_app(idle_seconds=0.2)
    chunks = [{"type": "http.request", "body": b'{"text": ', "more_body": True}]

    async def stalling() -> Message:
        if chunks:
            return chunks.pop()
        await asyncio.sleep(3600)  # the client sends nothing more and stays connected
        raise AssertionError("unreachable")

    started = time.monotonic()
    sent = await sent_for(app, "/notes", stalling)

    assert sent[0]["status"] == 408
    assert json.loads(sent[1]["body"])["detail"] == "The request body did not arrive in time."
    assert time.monotonic() - started < 2
    assert reached == []


async def test_a_body_trickling_in_past_its_routes_time_is_refused_with_408() -> None:
    app, reached = bounded_app(idle_seconds=0.5, json_seconds=0.6, upload_seconds=5)
    trickled = 0

    async def trickling() -> Message:
        nonlocal trickled
        trickled += 1
        await asyncio.sleep(0.1)  # never idle long enough to be cut off for it, yet never done
        return {"type": "http.request", "body": b" ", "more_body": True}

    sent = await sent_for(app, "/notes", trickling)

    assert sent[0]["status"] == 408
    assert 4 <= trickled <= 8  # cut off at the JSON route's 0.6 s
    assert reached == []


def http_scope(path: str, content_type: bytes, declared: int | None = None) -> dict[str, Any]:
    headers = [(b"content-type", content_type)]
    if declared is not None:
        headers.append((b"content-length", str(declared).encode()))
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "headers": headers,
        "client": ("127.0.0.1", 1), "server": ("test", 80), "state": {},
    }  # fmt: skip
