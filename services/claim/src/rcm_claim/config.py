"""Claim's settings: the common ones, with this service's name and port."""

from __future__ import annotations

from rcm_common.settings import ServiceSettings


class ClaimSettings(ServiceSettings):
    service_name: str = "claim"
    http_port: int = 8004
