"""Alembic environment for registration's own database."""

from sqlmodel import SQLModel

import rcm_registration.adapters.tables  # noqa: F401  (registers the tables on the metadata)
from rcm_common.migrations import run_env

run_env(SQLModel.metadata)
