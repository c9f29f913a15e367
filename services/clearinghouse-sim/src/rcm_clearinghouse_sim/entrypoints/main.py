"""Run the simulator under uvicorn."""

from __future__ import annotations

from rcm_clearinghouse_sim.config import ClearinghouseSettings
from rcm_clearinghouse_sim.entrypoints.app import create_app
from rcm_common.service import serve


def main() -> None:
    settings = ClearinghouseSettings()
    serve(create_app(settings), settings)
