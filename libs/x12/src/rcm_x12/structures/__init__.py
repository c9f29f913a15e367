"""The transaction sets the structural validator checks, one module each, written in `spec`'s vocabulary."""

from rcm_x12.structures.acknowledgment_999 import IMPLEMENTATION_ACKNOWLEDGMENT
from rcm_x12.structures.claim_status_276_277 import CLAIM_ACKNOWLEDGMENT, CLAIM_STATUS_REQUEST, CLAIM_STATUS_RESPONSE
from rcm_x12.structures.eligibility_270_271 import ELIGIBILITY_INQUIRY, ELIGIBILITY_RESPONSE
from rcm_x12.structures.professional_claim_837p import PROFESSIONAL_CLAIM
from rcm_x12.structures.remittance_835 import REMITTANCE
from rcm_x12.structures.spec import TransactionSet

TRANSACTION_SETS = (
    PROFESSIONAL_CLAIM,
    REMITTANCE,
    ELIGIBILITY_INQUIRY,
    ELIGIBILITY_RESPONSE,
    CLAIM_STATUS_REQUEST,
    CLAIM_STATUS_RESPONSE,
    CLAIM_ACKNOWLEDGMENT,
    IMPLEMENTATION_ACKNOWLEDGMENT,
)
# Kinds not checked but worth naming apart from their ST01.
_NAMED_BY_GUIDE = {"005010X223": "837I", "005010X224": "837D"}


def find(set_id: str, guide: str) -> TransactionSet | None:
    """The definition of a transaction set by ST01 and its guide (ST03, else GS08), whatever the addenda."""
    for definition in TRANSACTION_SETS:
        if definition.set_id == set_id and guide.startswith(definition.guide):
            return definition
    return None


def kind_of(set_id: str, guide: str) -> str:
    """How a note names a transaction set this codec does not check: 837I and 837D by their guides, a set
    checked under another guide with that guide, any other by its ST01."""
    if named := _NAMED_BY_GUIDE.get(guide[:10]):
        return named
    if any(definition.set_id == set_id for definition in TRANSACTION_SETS):
        return f"{set_id} ({guide or 'no guide'})"
    return set_id
