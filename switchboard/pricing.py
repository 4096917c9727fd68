"""One price per platform per minute, everywhere (issue #13 point 6).

Two figures, never mixed up and always labelled:

* the **list price**: the platform's typical all-in USD per minute (`voice_ai_providers.cost_per_minute`;
  without one, the sum of its per-minute `price_book` rows in force today; without either, none:
  "no list price", never $0);
* **what your calls cost**: the organisation's measured USD per minute on the platform over a stated
  window of days (`usage_daily`: cost over priced minutes; the minutes of calls not priced yet are
  left out, they would make a minute look cheaper). Without priced minutes, none: "no calls yet".

`platform_prices` computes both; `per_minute` is the one formatter (4 decimals for both figures,
so $0.045 reads "$0.0450/min" wherever it appears); `list_label` / `measured_label` are the
labelled texts the onboarding, agent page, dashboard and savings show.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

WINDOW_DAYS = 30


@dataclass(frozen=True)
class PlatformPrice:
    code: str
    name: str
    list_price: Decimal | None  # USD per minute
    measured: Decimal | None  # USD per minute of the organisation's priced minutes in the window
    calls: int
    minutes: float
    days: int
    cost: Decimal = Decimal(0)  # USD of the organisation's calls on it in the window


def window(days: int, today: date | None = None) -> tuple[date, date]:
    """The last `days` days, today included (the dashboard's window)."""
    if not 1 <= days <= 366:
        raise ValueError("days must be between 1 and 366")
    end = today or datetime.now(UTC).date()
    return end - timedelta(days=days - 1), end


_SQL = """
select p.code, p.name, p.cost_per_minute,
       (select sum(x.usd_per_unit) from (
          select distinct on (b.component) b.usd_per_unit from public.price_book b
          where b.subject = p.code and b.unit = 'minute' and b.effective_from <= %(end)s
          order by b.component, b.effective_from desc) x) as book_per_minute,
       coalesce(sum(u.calls), 0) as calls, coalesce(sum(u.duration_seconds), 0) as seconds,
       coalesce(sum(u.cost_amount), 0) as cost,
       coalesce(sum(u.duration_seconds - u.unpriced_seconds), 0) as priced_seconds
from public.voice_ai_providers p
left join public.usage_daily u
  on u.provider_id = p.id and u.organization_id = %(org)s and u.day between %(start)s and %(end)s
where p.is_active
group by p.id, p.code, p.name, p.cost_per_minute
order by p.code
"""


async def platform_prices(conn: Any, organization_id: UUID | None, *, days: int = WINDOW_DAYS,
                          today: date | None = None) -> dict[str, PlatformPrice]:
    """platform code → its list price and (for `organization_id`) what its calls cost per minute."""
    start, end = window(days, today)
    cur = await conn.execute(_SQL, {"org": organization_id, "start": start, "end": end})
    out: dict[str, PlatformPrice] = {}
    for r in await cur.fetchall():
        listed = r["cost_per_minute"] if r["cost_per_minute"] is not None else r["book_per_minute"]
        priced = Decimal(r["priced_seconds"]) / 60
        measured = (Decimal(r["cost"]) / priced) if priced > 0 else None
        out[r["code"]] = PlatformPrice(
            code=r["code"], name=r["name"], list_price=Decimal(listed) if listed is not None else None,
            measured=measured, calls=int(r["calls"]), minutes=round(float(r["seconds"]) / 60, 2), days=days,
            cost=Decimal(r["cost"]))
    return out


def per_minute(value: Decimal | float | None) -> str:
    """The one per-minute format: "$0.0450/min" (4 decimals). None → "" (callers say why)."""
    return "" if value is None else f"${Decimal(str(value)):.4f}/min"


def list_label(p: PlatformPrice | None) -> str:
    return f"list price {per_minute(p.list_price)}" if p and p.list_price is not None else "no list price"


def measured_label(p: PlatformPrice | None) -> str:
    if p is None or p.measured is None:
        return "your calls: no calls yet"
    return f"your calls {per_minute(p.measured)} (last {p.days} days)"
