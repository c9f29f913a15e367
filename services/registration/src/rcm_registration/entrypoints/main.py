"""Run the registration service under uvicorn."""

from __future__ import annotations

from rcm_common.service import serve
from rcm_registration.config import RegistrationSettings
from rcm_registration.entrypoints.app import create_app


def main() -> None:
    settings = RegistrationSettings()
    serve(create_app(settings), settings)
