"""Claim's HTTP API: its routes, each behind a bearer token with the scope it needs."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
