"""Scheduled visits: the sweep checks each one's coverage some days before its date of service, the way a
billing specialist works tomorrow's schedule every morning."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal
from uuid import UUID

AppointmentStatus = Literal["scheduled", "cancelled"]


@dataclass(slots=True)
class Appointment:
    id: UUID
    patient_id: UUID
    coverage_id: UUID
    date_of_service: date
    service_type: str
    created_at: datetime
    status: AppointmentStatus = "scheduled"
    check_id: UUID | None = None

    def due_for_check(self, today: date, days_ahead: int) -> bool:
        """Scheduled, not yet checked, and its date within the sweep's window."""
        return (
            self.status == "scheduled"
            and self.check_id is None
            and today <= self.date_of_service <= today + timedelta(days=days_ahead)
        )

    def cancel(self) -> None:
        self.status = "cancelled"
