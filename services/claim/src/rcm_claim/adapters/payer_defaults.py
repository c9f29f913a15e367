"""The payer directory `make run` starts with: the clearinghouse simulator's four payers, as their plans
file them (`data/payers.json`), checked as any payer document is."""

from __future__ import annotations

from importlib.resources import files

from pydantic import TypeAdapter

from rcm_claim.domain.directories import PayerProfile, checked_payer_directory
from rcm_claim.service_layer.views import PayerDocument

_DOCUMENTS = TypeAdapter(list[PayerDocument])


def default_payers() -> tuple[PayerProfile, ...]:
    """The payers, read as a payer directory document is."""
    text = files("rcm_claim.adapters.data").joinpath("payers.json").read_text(encoding="utf-8")
    return checked_payer_directory(document.domain() for document in _DOCUMENTS.validate_json(text))
