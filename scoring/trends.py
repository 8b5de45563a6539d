"""Trends across a county's surveys: each survey's figures from part S's sufficient statistics,
and whether a change between two surveys is larger than sampling noise.

A survey's figures are the rate of survey.md with its interval, each group's rate and each
item's recognised share (valid answers recognising the item over those whose answer to it
counts, pooled over the groups), every one with its design variance (schools as clusters),
all computed from a ``RecognitionAggregate`` — never from the answers one by one.

The noise rule (``change``): two surveys are independent samples, so the difference
d = p₂ − p₁ has variance V₁ + V₂, and its 95 % interval is d ± z·√(V₁ + V₂) with the
profile's two-sided z (1.959964). The change exceeds the noise when that interval excludes 0.
A figure whose variance says little (a thin group, see ``recognition.thin_groups``; an item
answered by fewer than ``min_group_n_warning`` or from one cluster) carries no variance, and
a change involving it is not judged.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .ledger import item_columns
from .profile import GROUPS, ITEMS, Profile
from .recognition import RecognitionAggregate, evaluate_rate_from_aggregate, ratio_variance_from_sums


@dataclass(frozen=True)
class Estimate:
    """A share with its design variance; ``variance`` is None when it says little."""
    value: float | None
    variance: float | None
    n: int              # the answers behind it: valid ones (rate, group) or those counting (item)


@dataclass(frozen=True)
class Change:
    """after − before, the 95 % interval of that difference, and whether it excludes 0."""
    difference: float
    ci95: tuple[float, float] | None     # None when a variance is unknown
    exceeds_noise: bool | None           # None: not judged


def change(before: Estimate, after: Estimate, z: float) -> Change | None:
    """The change from ``before`` to ``after`` and whether it exceeds sampling noise.

    d = after − before; its 95 % interval is d ± z·√(V_before + V_after) (independent samples);
    the change exceeds the noise when the interval excludes 0. None when either value is
    missing; not judged (``exceeds_noise`` None) when either variance is unknown.

    >>> c = change(Estimate(0.80, 0.0001, 900), Estimate(0.86, 0.0001, 950), 1.959964)
    >>> round(c.difference, 2), [round(x, 4) for x in c.ci95], c.exceeds_noise
    (0.06, [0.0323, 0.0877], True)
    """
    if before.value is None or after.value is None:
        return None
    d = after.value - before.value
    if before.variance is None or after.variance is None:
        return Change(d, None, None)
    half = z * math.sqrt(before.variance + after.variance)
    lo, hi = d - half, d + half
    return Change(d, (lo, hi), lo > 0 or hi < 0)


@dataclass(frozen=True)
class SurveyFigures:
    """One survey's figures for the trend."""
    status: str                          # the rate's status (recognition.RateResult.status)
    rate: Estimate                       # the weighted rate of survey.md
    ci95: tuple[float, float] | None     # its interval as the verdict states it
    groups: Mapping[str, Estimate]       # GROUPS order
    items: Mapping[str, Estimate]        # ITEMS order
    collected: int
    valid: int


def survey_figures(aggregate: RecognitionAggregate, profile: Profile) -> SurveyFigures:
    """The rate, group rates and item shares of one survey from its sufficient statistics.

    The rate and the group rates are ``recognition.evaluate_rate_from_aggregate``'s (so the
    verdict's); a thin group has no variance, and so has the rate while any group is thin
    (its variance would understate the noise). ``aggregate.cells`` must carry the ledger's
    per-item columns (``ledger.item_columns``).
    """
    result = evaluate_rate_from_aggregate(aggregate, profile)
    thin = set(result.thin_groups)
    groups = {g: Estimate(r.rate, None if r.rate is None or g in thin else r.variance, r.n)
              for g, r in result.groups.items()}
    rate = Estimate(result.rate, None if result.rate is None or thin else result.variance, result.valid)
    return SurveyFigures(result.status, rate, result.ci95, groups, item_shares(aggregate, profile),
                         result.collected, result.valid)


def item_shares(aggregate: RecognitionAggregate, profile: Profile) -> dict[str, Estimate]:
    """Per item: the share of valid answers recognising it among those whose answer counts,
    with its design variance (schools as clusters, as the pooled rate).

    Each answer is a ratio estimator with y = 1 (recognised) or 0 and m = 1 (counts) or 0, so
    Σy² = Σy, Σm² = Σm and Σy·m = Σy: the per-item counts alone are the sufficient statistics
    of ``recognition.ratio_variance_from_sums``. No variance below ``min_group_n_warning``
    counting answers or with fewer than 2 clusters.
    """
    valid = aggregate.valid_cells()
    if item_columns(ITEMS[0])[0] not in valid.columns:      # as ledger's: cells without item counts
        return {item: Estimate(None, None, 0) for item in ITEMS}
    minimum = int(profile.recognition["min_group_n_warning"])
    out = {}
    for item in ITEMS:
        recognised, counted = (valid[c].to_numpy(float) for c in item_columns(item))
        cells = pd.DataFrame({"school_code": valid["school_code"].to_numpy(), "rated": counted,
                              "sum_y": recognised, "sum_m": counted, "sum_yy": recognised,
                              "sum_mm": counted, "sum_ym": recognised})[counted > 0]
        n = int(cells["rated"].sum())
        if n == 0:
            out[item] = Estimate(None, None, 0)
            continue
        row = ratio_variance_from_sums(cells, np.zeros(len(cells), np.intp), 1).iloc[0]
        sure = n >= minimum and int(row["clusters"]) >= 2
        out[item] = Estimate(float(row["rate"]), float(row["variance"]) if sure else None, n)
    return out


def latest_change(figures: Sequence[SurveyFigures], z: float) -> dict | None:
    """The change of the last survey from the one before: {"rate": Change, "groups": {g: Change},
    "items": {i: Change}} (a missing figure's change is None); None with fewer than 2 surveys."""
    if len(figures) < 2:
        return None
    before, after = figures[-2], figures[-1]
    return {"rate": change(before.rate, after.rate, z),
            "groups": {g: change(before.groups[g], after.groups[g], z) for g in GROUPS},
            "items": {i: change(before.items[i], after.items[i], z) for i in ITEMS}}
