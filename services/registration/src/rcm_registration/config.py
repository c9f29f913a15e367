"""Registration's settings: the common ones, with this service's name and port."""

from __future__ import annotations

from rcm_common.settings import ServiceSettings


class RegistrationSettings(ServiceSettings):
    service_name: str = "registration"
    http_port: int = 8001
