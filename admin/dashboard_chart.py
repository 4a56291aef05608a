"""The dashboard's orders-per-day chart: bar geometry in SVG user units, drawn by the dashboard template."""

from dataclasses import dataclass
from datetime import date

from checkout.orders.reports import DayCount


@dataclass(frozen=True)
class Bar:
    day: date
    orders: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    bars: list[Bar]
    highest: int
    total: int
    busiest: DayCount | None  # the first day with the most orders, None if there were none


def bar_chart(days: list[DayCount], width: int = 900, height: int = 150, gap: float = 4) -> BarChart:
    """Bar geometry in SVG user units: one bar per day, scaled so the highest day fills the height."""
    highest = max((d.orders for d in days), default=0)
    slot = width / len(days) if days else width
    bars = []
    for index, entry in enumerate(days):
        bar_height = round(height * entry.orders / highest, 2) if highest else 0
        bars.append(
            Bar(entry.day, entry.orders, round(index * slot + gap / 2, 2), height - bar_height, slot - gap, bar_height)
        )
    busiest = next((d for d in days if d.orders == highest), None) if highest else None
    return BarChart(width, height, bars, highest, sum(d.orders for d in days), busiest)
