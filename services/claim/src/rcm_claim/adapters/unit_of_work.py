"""Claim's SQL unit of work: the common transaction; `_start` attaches repositories as they arrive."""

from __future__ import annotations

from rcm_common.uow import SqlUnitOfWork


class SqlClaimUnitOfWork(SqlUnitOfWork):
    """One transaction with its events, audit records and idempotent response."""
