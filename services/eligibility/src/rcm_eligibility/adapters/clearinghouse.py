"""The clearinghouse's real-time eligibility API: POST a 270, get a 271 (`rcm_common.clearinghouse` retries
transient failures; a 270 is an inquiry that changes nothing at the payer, so asking again is safe)."""

from __future__ import annotations

from typing import Final, Protocol

from rcm_common.clearinghouse import ClearinghouseClient

ELIGIBILITY_PATH: Final = "/x12/eligibility"


class EligibilityGateway(Protocol):
    async def eligibility(self, request_270: str) -> str:
        """The 271 answering the 270."""
        ...


class HttpClearinghouse(ClearinghouseClient):
    async def eligibility(self, request_270: str) -> str:
        return await self.exchange(ELIGIBILITY_PATH, request_270)
