"""The simulator's settings (from the environment) and its configuration (a JSON file: the payers, their
plans and fee schedules, and the payment timing), read with pydantic and turned into the domain's plans."""

from __future__ import annotations

from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from rcm_clearinghouse_sim.domain.plans import Denial, Plan, Remitter
from rcm_common.settings import Facility, ServiceSettings

DEV_API_KEY = "rcm-clearinghouse-sim-development-key"
"""The development API key: usable on a laptop and in tests, refused anywhere else."""


class ClearinghouseSettings(ServiceSettings):
    """`RCM_CLEARINGHOUSE_CONFIG` names another configuration file, `RCM_CLEARINGHOUSE_SEED` overrides
    its seed, `RCM_API_KEY` is the key every X12, mailbox and fault request must send (X-Api-Key)."""

    # No database, broker or tokens; the claims and mailbox hold PHI in memory only, never on disk.
    uses: ClassVar[frozenset[Facility]] = frozenset()

    service_name: str = "clearinghouse-sim"
    http_port: int = 8009
    api_key: SecretStr = SecretStr(DEV_API_KEY)
    clearinghouse_config: Path | None = None
    clearinghouse_seed: int | None = None

    @model_validator(mode="after")
    def _refuse_development_key_outside_development(self) -> ClearinghouseSettings:
        if self.environment not in ("development", "test") and self.api_key.get_secret_value() == DEV_API_KEY:
            raise ValueError(f"environment {self.environment!r} refuses development defaults; set: RCM_API_KEY")
        return self

    @property
    def faults_allowed(self) -> bool:
        return self.environment in ("development", "test")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DenialConfig(_Model):
    carc: str
    rarc: str = ""


class RemitterConfig(_Model):
    """How the payer pays (method, banks, address, contact) and its remittance practice: prompt-pay
    interest (`interest_annual_rate` a year, for the days a payment comes more than `interest_after_days`
    after the claim was received), and the share of paid claims it reprocesses (reversed and paid again on
    a later 835, each allowed amount changed by `reprocess_allowed_change`). The defaults reprocess
    nothing, so the figures of a configuration that leaves them out do not change."""

    method: Literal["ACH", "CHK"]
    tax_id: str
    address_line: str
    city: str
    state: str
    postal_code: str
    phone: str
    sender_routing: str = ""
    sender_account: str = ""
    receiver_routing: str = ""
    receiver_account: str = ""
    interest_after_days: int = Field(default=30, ge=0)
    interest_annual_rate: Decimal = Field(default=Decimal("0"), ge=0, le=1)
    reprocess_share: float = Field(default=0.0, ge=0, le=1)
    reprocess_allowed_change: Decimal = Field(default=Decimal("0"), ge=-1, le=1)

    def remitter(self) -> Remitter:
        return Remitter(
            method=self.method,
            tax_id=self.tax_id,
            address_line=self.address_line,
            city=self.city,
            state=self.state,
            postal_code=self.postal_code,
            phone=self.phone,
            sender_routing=self.sender_routing,
            sender_account=self.sender_account,
            receiver_routing=self.receiver_routing,
            receiver_account=self.receiver_account,
            interest_after_days=self.interest_after_days,
            interest_rate=self.interest_annual_rate,
            reprocess_share=self.reprocess_share,
            reprocess_allowed_change=self.reprocess_allowed_change,
        )


class PayerConfig(_Model):
    """One payer and its plan; amounts are decimal strings, shares fractions ("0.2" is 20%)."""

    id: str
    name: str
    plan_description: str
    insurance_type: str
    claim_filing: str
    deductible: Decimal = Decimal("0.00")
    coinsurance: Decimal = Decimal("0")
    copay: Decimal = Decimal("0.00")
    copay_codes: list[str] = Field(default_factory=list)
    copay_service_types: list[str] = Field(default_factory=lambda: ["98"])
    out_of_pocket_max: Decimal | None = None
    prior_auth_codes: list[str] = Field(default_factory=list)
    prior_auth_service_types: list[str] = Field(default_factory=list)
    fees: dict[str, Decimal]
    unlisted_share_of_charge: Decimal
    not_covered_codes: list[str] = Field(default_factory=list)
    no_cost_sharing_codes: list[str] = Field(default_factory=list)
    """Preventive services the plan pays in full: no deductible, coinsurance or copay (for Medicare, the
    annual wellness visit and the other services of MCPM chapter 18)."""
    timely_filing_days: int
    random_denial_rate: float = Field(default=0.0, ge=0, le=1)
    random_denials: list[DenialConfig] = Field(default_factory=list)
    remittance: RemitterConfig

    def plan(self) -> Plan:
        return Plan(
            payer_id=self.id,
            name=self.name,
            plan_description=self.plan_description,
            insurance_type=self.insurance_type,
            claim_filing=self.claim_filing,
            deductible=self.deductible,
            coinsurance=self.coinsurance,
            copay=self.copay,
            copay_codes=frozenset(self.copay_codes),
            copay_service_types=tuple(self.copay_service_types),
            out_of_pocket_max=self.out_of_pocket_max,
            auth_codes=frozenset(self.prior_auth_codes),
            auth_service_types=tuple(self.prior_auth_service_types),
            fees=dict(self.fees),
            unlisted_share=self.unlisted_share_of_charge,
            not_covered=frozenset(self.not_covered_codes),
            no_cost_sharing=frozenset(self.no_cost_sharing_codes),
            timely_filing_days=self.timely_filing_days,
            random_denial_rate=self.random_denial_rate,
            random_denials=tuple(Denial(d.carc, d.rarc) for d in self.random_denials),
            remitter=self.remittance.remitter(),
        )


class SimulatorConfig(_Model):
    """The whole configuration: the seed, the clearinghouse's own X12 id and name, the payment timing
    (a claim is paid by the first timed run after `payment_delay_seconds` from its acceptance) and the
    payers."""

    seed: int
    clearinghouse_id: str = Field(min_length=2, max_length=15)
    clearinghouse_name: str
    payment_delay_seconds: float = Field(ge=0)
    payment_interval_seconds: float = Field(gt=0)
    payers: list[PayerConfig] = Field(min_length=1)

    def plans(self) -> dict[str, Plan]:
        return {payer.id: payer.plan() for payer in self.payers}


def load_config(settings: ClearinghouseSettings) -> SimulatorConfig:
    """The configuration the settings name (the packaged default otherwise), with the seed overridden."""
    if settings.clearinghouse_config is not None:
        text = settings.clearinghouse_config.read_text()
    else:
        text = resources.files("rcm_clearinghouse_sim").joinpath("default_config.json").read_text()
    config = SimulatorConfig.model_validate_json(text)
    if settings.clearinghouse_seed is not None:
        config = config.model_copy(update={"seed": settings.clearinghouse_seed})
    return config
