"""Run the simulator under uvicorn (uvicorn's own logging is off: ours redacts PHI)."""

from __future__ import annotations

import uvicorn

from rcm_clearinghouse_sim.config import ClearinghouseSettings
from rcm_clearinghouse_sim.entrypoints.app import create_app


def main() -> None:
    settings = ClearinghouseSettings()
    uvicorn.run(
        create_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        server_header=False,
    )
