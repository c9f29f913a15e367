"""Run the eligibility service under uvicorn (uvicorn's own logging is off: ours redacts PHI)."""

from __future__ import annotations

import uvicorn

from rcm_eligibility.config import EligibilitySettings
from rcm_eligibility.entrypoints.app import create_app


def main() -> None:
    settings = EligibilitySettings()
    uvicorn.run(
        create_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        server_header=False,
    )
