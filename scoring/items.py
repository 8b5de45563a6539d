"""The result of one G or Q item, and helpers shared by both parts."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ItemResult:
    code: str
    passed: bool
    reason: str | None = None
    schools: tuple[str, ...] = ()          # failing schools, for per-school items
    figures: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PartResult:
    passed: bool
    items: Mapping[str, ItemResult]


def part(items: list[ItemResult]) -> PartResult:
    return PartResult(passed=all(i.passed for i in items), items={i.code: i for i in items})


def yes_no(value: bool) -> str:
    return "是" if value else "否"
