"""Charge's settings: the common ones, where an operator puts newer official code-set files, and how the
review queue pages."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from rcm_common.settings import ServiceSettings


class ChargeSettings(ServiceSettings):
    service_name: str = "charge"
    http_port: int = 8003

    code_set_dir: Path | None = Field(
        default=None,
        description=(
            "A directory of official files loaded over the shipped code sets: CMS ICD-10-CM order files "
            "(icd10cm-order-YYYY.txt), NCCI practitioner PTP edit files (*ptp*.txt), practitioner MUE tables "
            "(*mue*.csv) and an icd10cm_restrictions.csv replacing the shipped sex and age edits."
        ),
    )
    review_page_size: int = Field(default=50, ge=1, le=500)
    max_import_bytes: int = Field(default=20_000_000, ge=1_000)
