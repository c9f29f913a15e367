"""Run the charge service under uvicorn."""

from __future__ import annotations

from rcm_charge.config import ChargeSettings
from rcm_charge.entrypoints.app import create_app
from rcm_common.service import serve


def main() -> None:
    settings = ChargeSettings()
    serve(create_app(settings), settings)
