"""The per-question table of part S: each item × group, the counts of each option among the
valid answers and the item's recognition rate (issue 13).

An item's rate is the share of its recognised answers among those that count, under the
profile's ``recognised`` and ``not_recognised`` options ("don't know" counts in neither), so
one item of every valid response is judged as survey.md judges the whole questionnaire.

A group's cell is a breakdown of answers: below the profile's minimum cell size (privacy.py)
its counts and rate are hidden. Hiding one cell is not enough when the row's total is shown —
the total minus the shown cells would give it back — so further cells are hidden, smallest
first, until the hidden cells together hold at least k answers (or nothing is left to hide).
The number of answers of a group is shown in any case: it is a count of answers, not a
breakdown of what they said.
"""

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import privacy
from .privacy import small_cell
from .profile import GROUPS, ITEMS, Profile
from .recognition import OPTIONS, answer_codes, category_codes, classify_validity

TOTAL = "all"  # the cell of every group together


@dataclass(frozen=True)
class QuestionCell:
    n: int                                 # valid answers of the cell
    counts: Mapping[str, int] | None       # per option A–E; None when hidden
    rate: float | None                     # recognised / counted; None when hidden or nothing counts

    @property
    def hidden(self) -> bool:
        return self.counts is None and self.n > 0


@dataclass(frozen=True)
class QuestionRow:
    item: str
    cells: Mapping[str, QuestionCell]      # GROUPS order, then TOTAL


def _item_rate(counts: np.ndarray, recognised: np.ndarray, counted: np.ndarray) -> float | None:
    denominator = int(counts[counted].sum())
    return float(counts[recognised].sum()) / denominator if denominator else None


def _hidden_groups(n_by_group: np.ndarray, k: int) -> set[int]:
    """Groups whose breakdown is hidden: the small ones, then the smallest others until the
    hidden ones together hold ≥ k answers (the total must not give a small cell back)."""
    present = [g for g in range(len(n_by_group)) if n_by_group[g] > 0]
    hidden = {g for g in present if small_cell(int(n_by_group[g]), k)}
    if not hidden:
        return hidden
    for g in sorted((g for g in present if g not in hidden), key=lambda g: (n_by_group[g], g)):
        if not small_cell(int(sum(n_by_group[h] for h in hidden)), k):
            break
        hidden.add(g)
    return hidden


def question_table(responses: pd.DataFrame | None, profile: Profile, validity: pd.Series | None = None,
                   min_cell_size: int | None = None) -> list[QuestionRow]:
    """One row per item (ITEMS order) over the valid responses; ``min_cell_size`` defaults to
    the profile's ``[privacy] min_cell_size``."""
    if responses is None or responses.empty:
        answers, group = np.empty((0, len(ITEMS)), np.int8), np.empty(0, np.int8)
    else:
        answers = answer_codes(responses)
        if validity is None:
            validity = classify_validity(responses, profile, answers)
        valid = (validity == "valid").to_numpy()
        answers, group = answers[valid], category_codes(responses["group"], GROUPS)[valid]
    n_by_group = np.bincount(group[group >= 0], minlength=len(GROUPS))
    # counts[i, g, o]: answers of group g with option o to item i (a valid response answers every item).
    counts = np.zeros((len(ITEMS), len(GROUPS), len(OPTIONS)), dtype=np.int64)
    for i in range(len(ITEMS)):
        answered = (answers[:, i] >= 0) & (group >= 0)
        np.add.at(counts[i], (group[answered], answers[answered, i]), 1)
    return question_table_from_counts(counts, n_by_group, profile, min_cell_size)


def question_table_from_counts(counts: np.ndarray, n_by_group: np.ndarray, profile: Profile,
                               min_cell_size: int | None = None) -> list[QuestionRow]:
    """``question_table`` from sums: ``counts[i, g, o]`` valid answers of group g (GROUPS order)
    with option o (OPTIONS order) to item i (ITEMS order), ``n_by_group[g]`` valid responses —
    what a GROUP BY of the stored answers gives without reading them one by one."""
    k = privacy.min_cell_size(profile) if min_cell_size is None else min_cell_size
    rec = profile.recognition
    recognised = np.array([o in rec["recognised"] for o in OPTIONS])
    counted = recognised | np.array([o in rec["not_recognised"] for o in OPTIONS])
    n_by_group = np.asarray(n_by_group, dtype=np.int64)
    hidden = _hidden_groups(n_by_group, k)
    total_hidden = small_cell(int(n_by_group.sum()), k) and n_by_group.sum() > 0
    rows = []
    for i, item in enumerate(ITEMS):
        item_counts = np.asarray(counts[i], dtype=np.int64)
        cells = {}
        for g, code in enumerate(GROUPS):
            shown = g not in hidden
            cells[code] = QuestionCell(int(n_by_group[g]),
                                       dict(zip(OPTIONS, map(int, item_counts[g]))) if shown else None,
                                       _item_rate(item_counts[g], recognised, counted) if shown else None)
        total = item_counts.sum(axis=0)
        cells[TOTAL] = QuestionCell(int(n_by_group.sum()), None if total_hidden else dict(zip(OPTIONS, map(int, total))),
                                    None if total_hidden else _item_rate(total, recognised, counted))
        rows.append(QuestionRow(item, cells))
    return rows
