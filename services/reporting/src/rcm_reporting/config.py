"""Reporting's settings: the common ones, with this service's name and port and the dashboard's title."""

from __future__ import annotations

from rcm_common.settings import ServiceSettings


class ReportingSettings(ServiceSettings):
    service_name: str = "reporting"
    http_port: int = 8007
    dashboard_title: str = "Revenue cycle"
    """The dashboard's heading: the practice's name, say."""
