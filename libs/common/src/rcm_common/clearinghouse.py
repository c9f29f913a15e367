"""The clearinghouse's X12 API, as every service calls it: POST an X12 document, get the X12 answer.

Transient failures (the connection refused, dropped or timed out, a 5xx, a 429, an empty answer) are retried
with jittered backoff, a bounded number of times; a definite answer never is, whatever it says. Retrying is
safe only for an exchange that changes nothing when repeated: an inquiry (a 270, a 276), or a claim batch
sent again with the same interchange control number, which the clearinghouse recognises and answers as the
first time. Messages name statuses and exception types, never the documents.
"""

from __future__ import annotations

import logging
from typing import Final

import httpx
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

logger = logging.getLogger(__name__)

X12_MEDIA_TYPE: Final = "application/edi-x12"
API_KEY_HEADER: Final = "X-Api-Key"
_RETRIED_STATUSES: Final = frozenset({429, 500, 502, 503, 504})


class ClearinghouseUnavailable(Exception):
    """No answer after every retry: the clearinghouse is down, failing or too slow. PHI-free message."""


class ClearinghouseRefused(Exception):
    """The clearinghouse answered that the request itself is wrong (a 4xx): asking again will not help."""


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
    ) -> None:
        self._client = client
        self._api_key = api_key
        self._attempts = attempts
        self._backoff = backoff_seconds
        self._max_backoff = max_backoff_seconds

    async def exchange(self, path: str, document: str) -> str:
        """The clearinghouse's X12 answer to `document` POSTed at `path`, retried while the failure is
        transient; ClearinghouseUnavailable after the last attempt, ClearinghouseRefused on a 4xx."""
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._attempts),
            wait=wait_exponential_jitter(multiplier=self._backoff, max=self._max_backoff, jitter=self._backoff),
            retry=retry_if_exception(lambda exc: isinstance(exc, _Transient)),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._post(path, document)
        except _Transient as exc:
            raise ClearinghouseUnavailable(f"{exc.reason}, after {self._attempts} attempts") from None
        raise AssertionError("unreachable: tenacity reraises the last error")

    async def _post(self, path: str, body: str) -> str:
        try:
            response = await self._client.post(
                path,
                content=body.encode(),
                headers={"Content-Type": X12_MEDIA_TYPE, "Accept": X12_MEDIA_TYPE, API_KEY_HEADER: self._api_key},
            )
        except httpx.TransportError as exc:
            logger.warning("clearinghouse call failed: %s", type(exc).__name__)
            raise _Transient(f"the clearinghouse did not answer ({type(exc).__name__})") from None
        if response.status_code in _RETRIED_STATUSES:
            logger.warning("clearinghouse answered %d", response.status_code)
            raise _Transient(f"the clearinghouse answered {response.status_code}")
        if response.status_code != httpx.codes.OK:
            raise ClearinghouseRefused(f"the clearinghouse refused the request with {response.status_code}")
        if not response.text.strip():
            raise _Transient("the clearinghouse answered with an empty body")
        return response.text
