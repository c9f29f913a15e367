"""The payer directory `make run` starts with: the clearinghouse simulator's four payers, as their plans
file them (`data/payers.json`), checked as any payer document is."""

from __future__ import annotations

import json
from importlib.resources import files

from rcm_claim.domain.directories import PayerProfile, checked_payer_directory


def default_payers() -> tuple[PayerProfile, ...]:
    rows = json.loads(files("rcm_claim.adapters.data").joinpath("payers.json").read_text(encoding="utf-8"))
    return checked_payer_directory(
        PayerProfile(**row | {"prior_authorization_codes": frozenset(row["prior_authorization_codes"])}) for row in rows
    )
