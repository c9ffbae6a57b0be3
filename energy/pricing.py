"""Tariffs as prices: which tariff applies on a local date, and the price at a local hour."""
import datetime
from decimal import Decimal

from .models import Tariff


def parse_hour(text: str) -> int:
    """ "HH:00" -> HH (0..24); time-of-use periods change price on whole hours."""
    hours, _, minutes = str(text).partition(":")
    if not hours.isdigit() or minutes not in ("00", "") or not 0 <= int(hours) <= 24:
        raise ValueError(f'"{text}" is not a whole hour like "07:00"')
    return int(hours)


def hourly_prices(tariff: Tariff) -> list[Decimal]:
    """Price per kWh for each local hour 0..23 (periods may wrap midnight, e.g. 22:00-06:00)."""
    prices = [Decimal(tariff.price_per_kwh)] * 24
    if tariff.kind == Tariff.Kind.TIME_OF_USE:
        for period in tariff.periods:
            start, end = parse_hour(period["start"]), parse_hour(period["end"])
            hours = range(start, end) if start < end else [*range(start, 24), *range(0, end)]
            for hour in hours:
                prices[hour % 24] = Decimal(str(period["price_per_kwh"]))
    return prices


def tariffs_for(home, start_day: datetime.date, end_day: datetime.date) -> list[Tariff]:
    """Tariffs in force at some point of [start_day, end_day), oldest first."""
    tariffs = list(Tariff.objects.in_home(home).filter(valid_from__lt=end_day).order_by("valid_from"))
    in_force = [t for t in tariffs if t.valid_from <= start_day]
    return ([in_force[-1]] if in_force else []) + [t for t in tariffs if t.valid_from > start_day]
