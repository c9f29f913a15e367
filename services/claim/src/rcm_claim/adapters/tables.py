"""Claim's tables (SQLModel); the migrations in `migrations/versions` build exactly these."""
