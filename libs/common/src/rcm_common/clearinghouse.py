"""The clearinghouse's API, as every service calls it: POST an X12 document and get the X12 answer, and pick
files (277CAs, 835s) up from the mailbox: list them, read one, delete it once it is safely applied.

Transient failures (the connection refused, dropped or timed out, a 5xx, a 429, an empty answer) are retried
with jittered backoff, a bounded number of times; a definite answer never is, whatever it says. Retrying is
safe only for an exchange that changes nothing when repeated: an inquiry (a 270, a 276), a claim batch
sent again with the same interchange control number, which the clearinghouse recognises and answers as the
first time, or a mailbox read or delete. Messages name statuses and exception types, never the documents.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal, Protocol

import httpx
from pydantic import Field, SecretStr, model_validator
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from rcm_common.settings import ServiceSettings

logger = logging.getLogger(__name__)

X12_MEDIA_TYPE: Final = "application/edi-x12"
API_KEY_HEADER: Final = "X-Api-Key"
_RETRIED_STATUSES: Final = frozenset({429, 500, 502, 503, 504})
ANSWER_LIMIT_BYTES: Final = 64 * 1024 * 1024
"""An answer's bound: eight times the largest 835 the platform has met (10,000 claims, 8 MB), so a broken or
hostile clearinghouse streaming without end cannot fill a replica's memory."""
# The clearinghouse simulator's documented development key; refused outside development.
DEV_CLEARINGHOUSE_API_KEY: Final = "rcm-clearinghouse-sim-development-key"


class ClearinghouseSettings(ServiceSettings):
    """The settings of a service that calls the clearinghouse: where it is, its key, how patiently to call
    it, and who the platform is in the X12 envelopes (ISA06 and GS02 sender, ISA08 receiver, ISA15 usage)."""

    clearinghouse_url: str = "http://127.0.0.1:8009"
    clearinghouse_api_key: SecretStr = SecretStr(DEV_CLEARINGHOUSE_API_KEY)
    clearinghouse_timeout_seconds: float = 10.0
    clearinghouse_attempts: int = Field(default=4, ge=1, le=10, description="Calls per attempt, retries included.")
    clearinghouse_backoff_seconds: float = 0.2
    clearinghouse_max_backoff_seconds: float = 2.0
    clearinghouse_max_answer_bytes: int = Field(
        default=ANSWER_LIMIT_BYTES, gt=0, description="The largest answer read back; a larger one is refused unread."
    )
    submitter_id: str = "RCMPLATFORM"
    clearinghouse_receiver_id: str = "RCMCLEARINGHSE"
    x12_usage: Literal["P", "T"] = "P"

    @model_validator(mode="after")
    def _refuse_development_clearinghouse_key(self) -> Any:
        if self.environment not in ("development", "test") and (
            self.clearinghouse_api_key.get_secret_value() == DEV_CLEARINGHOUSE_API_KEY
        ):
            raise ValueError(
                f"environment {self.environment!r} refuses development defaults; set: RCM_CLEARINGHOUSE_API_KEY"
            )
        return self

    def http_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.clearinghouse_url, timeout=self.clearinghouse_timeout_seconds)

    def client_options(self) -> dict[str, Any]:
        """The keyword arguments of a ClearinghouseClient (or a subclass) calling as these settings say."""
        return {
            "api_key": self.clearinghouse_api_key.get_secret_value(),
            "attempts": self.clearinghouse_attempts,
            "backoff_seconds": self.clearinghouse_backoff_seconds,
            "max_backoff_seconds": self.clearinghouse_max_backoff_seconds,
            "max_answer_bytes": self.clearinghouse_max_answer_bytes,
        }


@dataclass(frozen=True, slots=True)
class MailboxFile:
    """A file waiting in the clearinghouse's mailbox: its id, kind (277CA, 835) and payer."""

    id: str
    kind: str
    payer_id: str
    created_at: datetime


class MailboxGateway(Protocol):
    """The clearinghouse's mailbox as the workers that empty it see it (claim's 277CAs, remittance's 835s)."""

    async def mailbox(self) -> list[MailboxFile]: ...

    async def mailbox_file(self, file_id: str) -> str: ...

    async def delete_mailbox_file(self, file_id: str) -> None: ...


class ClearinghouseUnavailable(Exception):
    """No answer after every retry: the clearinghouse is down, failing or too slow. PHI-free message."""


class ClearinghouseRefused(Exception):
    """The clearinghouse answered that the request itself is wrong (a 4xx): asking again will not help."""

    def __init__(self, status: int) -> None:
        super().__init__(f"the clearinghouse refused the request with {status}")
        self.status = status


class _Transient(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ClearinghouseClient:
    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        api_key: str,
        attempts: int = 4,
        backoff_seconds: float = 0.2,
        max_backoff_seconds: float = 2.0,
        max_answer_bytes: int = ANSWER_LIMIT_BYTES,
    ) -> None:
        self._client = client
        self._max_answer_bytes = max_answer_bytes
        self._api_key = api_key
        self._attempts = attempts
        self._backoff = backoff_seconds
        self._max_backoff = max_backoff_seconds

    async def exchange(self, path: str, document: str) -> str:
        """The clearinghouse's X12 answer to `document` POSTed at `path`, retried while the failure is
        transient; ClearinghouseUnavailable after the last attempt, ClearinghouseRefused on a 4xx."""
        return _text(await self._call("POST", path, document.encode()))

    async def mailbox(self) -> list[MailboxFile]:
        """The files waiting in the mailbox, oldest first."""
        listing = json.loads(await self._call("GET", "/mailbox"))
        return [
            MailboxFile(f["id"], f["kind"], f["payer_id"], datetime.fromisoformat(f["created_at"]))
            for f in listing["files"]
        ]

    async def mailbox_file(self, file_id: str) -> str:
        return _text(await self._call("GET", f"/mailbox/{file_id}"))

    async def delete_mailbox_file(self, file_id: str) -> None:
        """Delete a file once applied; one already gone (a delete repeated after a lost answer) is fine."""
        try:
            await self._call("DELETE", f"/mailbox/{file_id}")
        except ClearinghouseRefused as exc:
            if exc.status != httpx.codes.NOT_FOUND:
                raise

    async def _call(self, method: str, path: str, body: bytes | None = None) -> bytes:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._attempts),
            wait=wait_exponential_jitter(multiplier=self._backoff, max=self._max_backoff, jitter=self._backoff),
            retry=retry_if_exception(lambda exc: isinstance(exc, _Transient)),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._send(method, path, body)
        except _Transient as exc:
            raise ClearinghouseUnavailable(f"{exc.reason}, after {self._attempts} attempts") from None
        raise AssertionError("unreachable: tenacity reraises the last error")

    async def _send(self, method: str, path: str, body: bytes | None) -> bytes:
        headers = {API_KEY_HEADER: self._api_key}
        if body is not None:
            headers |= {"Content-Type": X12_MEDIA_TYPE, "Accept": X12_MEDIA_TYPE}
        request = self._client.build_request(method, path, content=body, headers=headers)
        try:
            response = await self._client.send(request, stream=True)
            try:
                answer = await self._read_bounded(response)
            finally:
                await response.aclose()
        except httpx.TransportError as exc:
            logger.warning("clearinghouse call failed: %s", type(exc).__name__)
            raise _Transient(f"the clearinghouse did not answer ({type(exc).__name__})") from None
        if response.status_code in _RETRIED_STATUSES:
            logger.warning("clearinghouse answered %d", response.status_code)
            raise _Transient(f"the clearinghouse answered {response.status_code}")
        if not response.is_success:
            raise ClearinghouseRefused(response.status_code)
        if body is not None and not answer.strip():
            raise _Transient("the clearinghouse answered with an empty body")
        return answer

    async def _read_bounded(self, response: httpx.Response) -> bytes:
        """The answer's body, refused (not retried: the same answer would come again) once it passes the bound,
        whether its Content-Length said so or the bytes did."""
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self._max_answer_bytes:
            raise ClearinghouseUnavailable(self._too_large())
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > self._max_answer_bytes:
                raise ClearinghouseUnavailable(self._too_large())
            chunks.append(chunk)
        return b"".join(chunks)

    def _too_large(self) -> str:
        return f"the clearinghouse's answer is larger than {self._max_answer_bytes} bytes; it was not read"


def _text(answer: bytes) -> str:
    """An X12 answer as text: a byte that is not UTF-8 becomes U+FFFD, for the X12 reader to refuse by position."""
    return answer.decode("utf-8", errors="replace")
