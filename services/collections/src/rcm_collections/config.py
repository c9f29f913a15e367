"""Collections' settings: the common ones, the practice's collection policy, what its statements print under
"how to pay", and the pace of the daily cycle."""

from __future__ import annotations

from decimal import Decimal
from typing import Self

from pydantic import Field, model_validator

from rcm_collections.domain.policy import MINIMUM_CYCLE_DAYS, CollectionPolicy, HowToPay
from rcm_common.settings import ServiceSettings


class CollectionsSettings(ServiceSettings):
    service_name: str = "collections"
    http_port: int = 8006

    statement_cycle_days: int = Field(
        default=30, ge=MINIMUM_CYCLE_DAYS, description="Days between an account's statements (at least 28)."
    )
    statement_minimum: Decimal = Field(
        default=Decimal("5.00"), ge=0, description="No statement goes for a balance due under this."
    )
    pay_within_days: int = Field(default=21, ge=1, le=60, description="A statement asks for payment within this.")
    second_notice_days: int = Field(default=31, ge=1, description="Days past due before the second notice.")
    final_notice_days: int = Field(default=61, ge=1, description="Days past due before the final notice.")
    small_balance_threshold: Decimal = Field(
        default=Decimal("5.00"), ge=0, description="A balance due under this is written off instead of billed."
    )
    small_balance_after_days: int = Field(
        default=60, ge=0, description="Days a small balance is left due before it is written off."
    )
    plan_max_months: int = Field(default=24, ge=2, le=120, description="The longest payment plan, in installments.")
    plan_grace_days: int = Field(default=10, ge=0, description="Days after its due date an installment is missed.")
    plan_misses_to_default: int = Field(default=2, ge=1, description="Missed installments that default a plan.")
    agency_name: str = Field(default="Collection agency", max_length=80, description="The agency accounts go to.")
    agency_after_statements: int = Field(
        default=3, ge=1, description="Statements sent before an account may go to the agency."
    )
    agency_after_days: int = Field(
        default=120, ge=0, description="Days past due before an account may go to the agency."
    )
    payee: str = Field(default="Your practice's billing office", max_length=120)
    pay_address: str = Field(default="Billing office, at the practice's address", max_length=200)
    pay_phone: str = Field(default="Call the billing office", max_length=40)
    pay_online: str = Field(default="Pay at the front desk or by phone", max_length=200)
    cycle_interval_seconds: float = Field(
        default=3600.0, gt=0, description="How often the daily cycle looks for work (statements, plans, agency)."
    )
    run_cycle: bool = Field(default=True, description="Run the cycle in this process (off for an API-only replica).")

    @model_validator(mode="after")
    def due_before_the_next_statement(self) -> Self:
        if self.pay_within_days >= self.statement_cycle_days:
            raise ValueError("RCM_PAY_WITHIN_DAYS must be fewer than RCM_STATEMENT_CYCLE_DAYS")
        return self

    def policy(self) -> CollectionPolicy:
        return CollectionPolicy(
            statement_cycle_days=self.statement_cycle_days,
            statement_minimum=self.statement_minimum,
            pay_within_days=self.pay_within_days,
            second_notice_days=self.second_notice_days,
            final_notice_days=self.final_notice_days,
            small_balance_threshold=self.small_balance_threshold,
            small_balance_after_days=self.small_balance_after_days,
            plan_max_months=self.plan_max_months,
            plan_grace_days=self.plan_grace_days,
            plan_misses_to_default=self.plan_misses_to_default,
            agency=self.agency_name,
            agency_after_statements=self.agency_after_statements,
            agency_after_days=self.agency_after_days,
        )

    def how_to_pay(self) -> HowToPay:
        return HowToPay(self.payee, self.pay_address, self.pay_phone, self.pay_online)
