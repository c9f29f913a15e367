"""Alembic environment for charge's own database: its tables and the platform's (outbox, inbox,
audit log, idempotency records)."""

from sqlmodel import SQLModel

import rcm_charge.adapters.tables  # noqa: F401
import rcm_common.audit
import rcm_common.http
import rcm_common.inbox
import rcm_common.outbox  # noqa: F401
from rcm_common.migrations import run_env

run_env(SQLModel.metadata)
