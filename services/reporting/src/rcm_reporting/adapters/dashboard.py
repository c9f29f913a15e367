"""The dashboard: one self-contained HTML page with server-drawn SVG charts (A/R aging, denials by category,
charges and collections by week of service, the KPIs against their targets) and the tables behind them. It
fetches nothing (no script, font or stylesheet from anywhere), so the same page is served at `/dashboard` and
saved as the report of `make run`; every figure links to the claims it counts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape
from typing import Final
from urllib.parse import quote

from rcm_common.printed import dollars
from rcm_reporting.service_layer.views import AgingPublic, KpiPublic, KpisPublic, WorkQueuesPublic

INK: Final = "#1f2933"
MUTED: Final = "#616e7c"
GRID: Final = "#e4e7eb"
INSURANCE: Final = "#2f6fb3"
PATIENT: Final = "#e8a33d"
GOOD: Final = "#2e7d4f"
BAD: Final = "#c0392b"
NEUTRAL: Final = "#7b8794"
SERIES: Final = ("#2f6fb3", "#3fa37a", "#e8a33d")

_STYLE: Final = f"""
body {{ font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: {INK};
       margin: 0; background: #f5f7fa; }}
main {{ max-width: 1280px; margin: 0 auto; padding: 20px 24px 40px; }}
h1 {{ font-size: 22px; margin: 0 0 2px; }} h2 {{ font-size: 16px; margin: 0 0 10px; }}
.sub {{ color: {MUTED}; margin-bottom: 16px; }}
.grid {{ display: grid; gap: 14px; }} .kpis {{ grid-template-columns: repeat(4, 1fr); }}
.two {{ grid-template-columns: 1fr 1fr; margin-top: 14px; }}
.card {{ background: #fff; border: 1px solid {GRID}; border-radius: 8px; padding: 14px 16px; }}
.kpi .value {{ font-size: 26px; font-weight: 650; }} .kpi .title {{ font-weight: 600; }}
.kpi .target {{ font-size: 12px; }} .kpi .formula {{ font-size: 11.5px; color: {MUTED}; margin-top: 6px; }}
.on {{ color: {GOOD}; }} .off {{ color: {BAD}; }} .none {{ color: {NEUTRAL}; }}
a {{ color: {INSURANCE}; text-decoration: none; }} a:hover {{ text-decoration: underline; }}
table {{ border-collapse: collapse; width: 100%; font-size: 13px; }}
th, td {{ padding: 5px 8px; border-bottom: 1px solid {GRID}; text-align: right; white-space: nowrap; }}
th:first-child, td:first-child {{ text-align: left; white-space: normal; }} th {{ color: {MUTED}; font-weight: 600; }}
.flag {{ color: {BAD}; font-weight: 600; }} .note {{ color: {MUTED}; font-size: 12px; margin-top: 8px; }}
svg text {{ font: 11px system-ui, sans-serif; fill: {INK}; }}
"""


def money(amount: Decimal | None) -> str:
    """Dollars as a billing office writes them ($1,234.50, -$50.00 for a credit); a dash for none."""
    return "-" if amount is None else dollars(amount)


def kpi_value(kpi: KpiPublic) -> str:
    if kpi.value is None:
        return "n/a"
    if kpi.unit == "percent":
        return f"{kpi.value}%"
    if kpi.unit == "days":
        return f"{kpi.value} days"
    return money(kpi.value)


def kpi_target(kpi: KpiPublic) -> str:
    if kpi.target is None:
        return "no target"
    sign = ">=" if kpi.better == "higher" else "<="
    unit = {"percent": "%", "days": " days", "money": ""}[kpi.unit]
    return f"target {sign} {kpi.target}{unit}"


@dataclass(frozen=True)
class Dashboard:
    kpis: KpisPublic
    aging: AgingPublic
    queues: WorkQueuesPublic
    title: str = "Revenue cycle"
    base_url: str = ""
    """Where the drill-down links point: "" on the service itself, its address in a saved report."""

    def render(self) -> str:
        as_of = self.kpis.as_of.strftime("%Y-%m-%d %H:%M UTC")
        v = self.kpis.volumes
        body = [
            f"<h1>{escape(self.title)}</h1>",
            f'<div class="sub">As of {as_of} &middot; {v.patients} patients, {v.visits} visits, {v.claims} claims'
            f" &middot; charges {money(v.charges)} &middot; payments {money(v.payments)} &middot; A/R "
            f"{money(self.aging.total)} (payers' and not yet billed {money(self.aging.insurance)}, patients' "
            f"{money(self.aging.patient)})</div>",
            '<section class="grid kpis">' + "".join(self._tile(k) for k in self.kpis.kpis) + "</section>",
            '<section class="grid two">',
            self._card("A/R aging by days from the date of service", aging_chart(self.aging)),
            self._card("Initial denials by category", self._denials()),
            "</section>",
            '<section class="grid two">',
            self._card("Charges and collections by week of service", weeks_chart(self.kpis)),
            self._card("KPIs against their targets", targets_chart(self.kpis.kpis, self.base_url)),
            "</section>",
            '<section class="grid two">',
            self._card("A/R by payer", self._aging_table()),
            self._card("Work queues", self._queues()),
            "</section>",
            '<section class="grid two">',
            self._card("Claims by state", self._states()),
            self._card("Coding pattern: office visit levels by rendering provider", self._coding()),
            "</section>",
        ]
        return (
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(self.title)}</title><style>{_STYLE}</style></head><body><main>"
            + "".join(body)
            + "</main></body></html>"
        )

    def _link(self, path: str) -> str:
        return escape(self.base_url + path, quote=True)

    @staticmethod
    def _card(title: str, content: str) -> str:
        return f'<div class="card"><h2>{escape(title)}</h2>{content}</div>'

    def _tile(self, kpi: KpiPublic) -> str:
        status = {True: "on", False: "off", None: "none"}[kpi.on_target]
        return (
            f'<div class="card kpi"><div class="title">{escape(kpi.title)}</div>'
            f'<div class="value {status}">{escape(kpi_value(kpi))}</div>'
            f'<div class="target">{escape(kpi_target(kpi))} &middot; '
            f'<a href="{self._link(kpi.drill_down)}">{escape(kpi.counts)} counted</a></div>'
            f'<div class="formula">{escape(kpi.formula)}</div></div>'
        )

    def _denials(self) -> str:
        groups = self.kpis.denials_by_category
        if not groups:
            return '<p class="note">No initial denials.</p>'
        bars = [(g.key.replace("_", " "), float(g.denied), f"{g.denied} ({money(g.denied_amount)})") for g in groups]
        links = [f"/kpis/denial_rate/claims?category={quote(g.key)}" for g in groups]
        return horizontal_bars(bars, [self._link(link) for link in links])

    def _aging_table(self) -> str:
        head = "".join(f"<th>{escape(label)}</th>" for label in self.aging.buckets)
        rows = "".join(
            f"<tr><td>{escape(row.key)}</td>"
            + "".join(f"<td>{money(row.buckets.get(label))}</td>" for label in self.aging.buckets)
            + f"<td><b>{money(row.total)}</b></td></tr>"
            for row in self.aging.by_payer
        )
        return f"<table><tr><th>Owed by</th>{head}<th>Total</th></tr>{rows}</table>"

    def _queues(self) -> str:
        rows = "".join(
            f"<tr><td>{escape(q.service)}: {escape(q.description)}</td><td>{q.size}</td><td>{money(q.amount)}</td></tr>"
            for q in self.queues.queues
        )
        return f"<table><tr><th>Queue</th><th>Items</th><th>Amount</th></tr>{rows}</table>"

    def _states(self) -> str:
        rows = "".join(
            f"<tr><td>{escape(state.replace('_', ' '))}</td><td>{count}</td></tr>"
            for state, count in self.kpis.claims_by_state.items()
        )
        by_payer = "".join(
            f"<tr><td>{escape(g.key)}</td><td>{g.adjudicated}</td><td>{g.denied}</td>"
            f"<td>{'-' if g.rate is None else f'{g.rate}%'}</td><td>{money(g.denied_amount)}</td></tr>"
            for g in self.kpis.denials_by_payer
        )
        return (
            f"<table><tr><th>State</th><th>Claims</th></tr>{rows}</table>"
            '<h2 style="margin-top:14px">Initial denials by payer</h2>'
            "<table><tr><th>Payer</th><th>Adjudicated</th><th>Denied</th><th>Rate</th><th>Denied $</th></tr>"
            f"{by_payer}</table>"
        )

    def _coding(self) -> str:
        pattern = self.kpis.coding_pattern
        rows = "".join(
            f"<tr><td>{escape(p.npi)}{' <span class=flag>flagged for review</span>' if p.flagged else ''}</td>"
            f"<td>{p.office_visits}</td>"
            + "".join(f"<td>{p.by_level.get(level, 0)}</td>" for level in range(1, 6))
            + f"<td>{p.high_share:.0%}</td><td>{p.others_high_share:.0%}</td>"
            f"<td>{'-' if p.z is None else f'{p.z:.2f}'}</td></tr>"
            for p in pattern.providers
        )
        head = "".join(f"<th>L{level}</th>" for level in range(1, 6))
        return (
            f"<table><tr><th>NPI</th><th>Visits</th>{head}<th>L4-5</th><th>Others</th><th>z</th></tr>{rows}</table>"
            f'<p class="note">{escape(pattern.test)}. {escape(pattern.note)}</p>'
        )


def _scale(values: Sequence[float]) -> float:
    """The axis's top: the next round figure (1, 2, 2.5 or 5 times a power of ten) above the largest value, so
    its four gridlines fall on round amounts."""
    top = max([abs(v) for v in values] + [1.0])
    power = 10.0 ** math.floor(math.log10(top))
    return next(step * power for step in (1.0, 2.0, 2.5, 5.0, 10.0) if step * power >= top)


def aging_chart(aging: AgingPublic) -> str:
    """Stacked bars per aging bucket: what payers owe, and what patients owe, on the date."""
    width, height, left, bottom = 560, 230, 70, 30
    labels = aging.buckets
    insurance = [sum(float(r.buckets.get(b, 0)) for r in aging.by_payer if r.key != "patient") for b in labels]
    patient = [sum(float(r.buckets.get(b, 0)) for r in aging.by_payer if r.key == "patient") for b in labels]
    top = _scale([i + p for i, p in zip(insurance, patient, strict=True)])
    slot = (width - left - 10) / len(labels)
    plot = height - bottom - 10
    parts = _y_axis(left, width, height - bottom, plot, top, money_axis=True)
    for index, label in enumerate(labels):
        x = left + index * slot + slot * 0.2
        base: float = height - bottom
        for value, color in ((insurance[index], INSURANCE), (patient[index], PATIENT)):
            size = max(value, 0) / top * plot
            if size:
                parts.append(
                    f'<rect x="{x:.1f}" y="{base - size:.1f}" width="{slot * 0.6:.1f}" height="{size:.1f}"'
                    f' fill="{color}"><title>{escape(label)}: ${value:,.2f}</title></rect>'
                )
            base -= size
        parts.append(_text(x + slot * 0.3, height - bottom + 16, label, anchor="middle"))
    parts.append(_legend(left, 12, (("Insurance", INSURANCE), ("Patients", PATIENT))))
    return _svg(width, height, parts, "A/R aging")


def weeks_chart(kpis: KpisPublic) -> str:
    """Grouped bars per week of service: charged, paid by payers, paid by patients."""
    weeks = kpis.by_service_week
    width, height, left, bottom = 560, 230, 70, 30
    if not weeks:
        return '<p class="note">No visits yet.</p>'
    series = [
        [float(w.charges) for w in weeks],
        [float(w.insurance_paid) for w in weeks],
        [float(w.patient_paid) for w in weeks],
    ]
    top = _scale([v for s in series for v in s])
    slot = (width - left - 10) / len(weeks)
    plot = height - bottom - 10
    bar = slot * 0.8 / 3
    parts = _y_axis(left, width, height - bottom, plot, top, money_axis=True)
    for index, week in enumerate(weeks):
        x0 = left + index * slot + slot * 0.1
        for k, values in enumerate(series):
            size = max(values[index], 0) / top * plot
            parts.append(
                f'<rect x="{x0 + k * bar:.1f}" y="{height - bottom - size:.1f}" width="{bar:.1f}" '
                f'height="{size:.1f}" fill="{SERIES[k]}"><title>${values[index]:,.2f}</title></rect>'
            )
        parts.append(_text(x0 + slot * 0.4, height - bottom + 16, week.week_of.strftime("%b %d"), anchor="middle"))
    parts.append(
        _legend(left, 12, (("Charged", SERIES[0]), ("Paid by payers", SERIES[1]), ("Paid by patients", SERIES[2])))
    )
    return _svg(width, height, parts, "Charges and collections by week of service")


def targets_chart(kpis: Sequence[KpiPublic], base_url: str) -> str:
    """Each percentage KPI as a bar from 0 to 100%, its target a mark: green on target, red off it."""
    shown = [k for k in kpis if k.unit == "percent" and k.value is not None]
    width, row, left = 560, 26, 190
    height = row * len(shown) + 20
    parts = []
    scale = (width - left - 60) / 100
    for index, kpi in enumerate(shown):
        y = 10 + index * row
        value = min(max(float(kpi.value or 0), 0.0), 100.0)
        color = {True: GOOD, False: BAD, None: NEUTRAL}[kpi.on_target]
        link = escape(base_url + kpi.drill_down, quote=True)
        parts.append(f'<a href="{link}">{_text(left - 8, y + 13, kpi.title, anchor="end")}</a>')
        parts.append(f'<rect x="{left}" y="{y + 3}" width="{100 * scale:.1f}" height="14" fill="{GRID}"/>')
        parts.append(f'<rect x="{left}" y="{y + 3}" width="{value * scale:.1f}" height="14" fill="{color}"/>')
        if kpi.target is not None:
            tx = left + float(kpi.target) * scale
            parts.append(f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="{y}" y2="{y + 20}" stroke="{INK}" stroke-width="2"/>')
        parts.append(_text(left + 100 * scale + 6, y + 14, f"{kpi.value}%"))
    return _svg(width, height, parts, "KPIs against their targets")


def horizontal_bars(bars: Sequence[tuple[str, float, str]], links: Sequence[str]) -> str:
    width, row, left = 560, 24, 170
    height = row * len(bars) + 10
    top = _scale([value for _, value, _ in bars])
    parts = []
    for index, ((label, value, caption), link) in enumerate(zip(bars, links, strict=True)):
        y = 5 + index * row
        size = value / top * (width - left - 130)
        parts.append(f'<a href="{link}">{_text(left - 8, y + 13, label, anchor="end")}</a>')
        parts.append(f'<rect x="{left}" y="{y + 3}" width="{size:.1f}" height="15" fill="{BAD}" opacity="0.8"/>')
        parts.append(_text(left + size + 6, y + 14, caption))
    return _svg(width, height, parts, "Denials by category")


def _y_axis(left: float, width: float, base: float, plot: float, top: float, *, money_axis: bool) -> list[str]:
    parts = []
    for step in range(5):
        value = top * step / 4
        y = base - plot * step / 4
        parts.append(f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>')
        label = f"${value:,.0f}" if money_axis else f"{value:,.0f}"
        parts.append(_text(left - 6, y + 4, label, anchor="end", color=MUTED))
    return parts


def _legend(x: float, y: float, entries: Sequence[tuple[str, str]]) -> str:
    parts = []
    for label, color in entries:
        parts.append(f'<rect x="{x:.1f}" y="{y - 9}" width="10" height="10" fill="{color}"/>')
        parts.append(_text(x + 14, y, label))
        x += 24 + 6.5 * len(label)
    return "".join(parts)


def _text(x: float, y: float, text: str, *, anchor: str = "start", color: str = INK) -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" style="fill:{color}">{escape(text)}</text>'


def _svg(width: int, height: float, parts: Sequence[str], label: str) -> str:
    return (
        f'<svg viewBox="0 0 {width} {height:.0f}" width="100%" role="img" aria-label="{escape(label, quote=True)}">'
        f"{''.join(parts)}</svg>"
    )
