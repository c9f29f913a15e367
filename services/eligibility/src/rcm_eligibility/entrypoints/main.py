"""Run the eligibility service under uvicorn."""

from __future__ import annotations

from rcm_common.service import serve
from rcm_eligibility.config import EligibilitySettings
from rcm_eligibility.entrypoints.app import create_app


def main() -> None:
    settings = EligibilitySettings()
    serve(create_app(settings), settings)
