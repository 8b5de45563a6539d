"""Display rounding (standard.md "Comparisons"): a failing value never looks as if it met.

Passing values round to the nearest; failing values round towards failure:
down for "at least" rules, up for "at most" rules.
"""

import math


def _round(value: float, decimals: int, direction: str) -> float:
    scale = 10 ** decimals
    if direction == "down":
        return math.floor(value * scale + 1e-9) / scale
    if direction == "up":
        return math.ceil(value * scale - 1e-9) / scale
    return round(value, decimals)


def number(value: float | None, *, passed: bool = True, rule: str = "min", decimals: int = 2) -> str:
    """Format a value compared by ``rule`` ("min" for ≥ / "max" for ≤) against a threshold."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    direction = "nearest" if passed else ("down" if rule == "min" else "up")
    return f"{_round(value, decimals, direction):.{decimals}f}"


def cv(value: float | None, *, passed: bool = True) -> str:
    return number(value, passed=passed, rule="max", decimals=3)


def percent(value: float | None, *, passed: bool = True, rule: str = "min") -> str:
    if value is None:
        return "—"
    direction = "nearest" if passed else ("down" if rule == "min" else "up")
    return f"{_round(value * 100, 1, direction):.1f}%"
