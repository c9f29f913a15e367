"""The clearinghouse's claim APIs (`rcm_common.clearinghouse` retries transient failures): an 837P batch
gets its 999, a 276 its 277, and the mailbox holds the 277CAs. Resending a batch is safe because it goes
with its interchange control number, which the clearinghouse recognises."""

from __future__ import annotations

from typing import Final

from rcm_common.clearinghouse import ClearinghouseClient

CLAIMS_PATH: Final = "/x12/claims"
CLAIM_STATUS_PATH: Final = "/x12/claim-status"


class HttpClearinghouse(ClearinghouseClient):
    async def submit_claims(self, batch_837: str) -> str:
        return await self.exchange(CLAIMS_PATH, batch_837)

    async def claim_status(self, request_276: str) -> str:
        return await self.exchange(CLAIM_STATUS_PATH, request_276)
