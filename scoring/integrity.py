"""Integrity signals for inspectors (issues 6 and 12): flags with their evidence, never exclusions.

Input is a campaign's responses frame — the normalised columns of
``scoring.responses`` plus ``submitted_at`` (timestamps), ``link_id`` (the QR link)
and optionally ``free_text`` and ``device_hash`` (the per-campaign device key) — and
the validity status of each row (``scoring.recognition.classify_validity``). The
validity rules of survey.md stay the only exclusions: a flag only tells an inspector
where to look, and the sensitivity figure only shows what the flagged answers weigh.

Every test below gives a one-sided raw p-value. **All of them — every signal, every
school and link — form one family**, corrected once (Holm by default,
Benjamini–Hochberg on request); a test is flagged when its corrected p-value is at
most ``alpha``. Thresholds live in the profile's ``[integrity]`` table.

Robust baselines (issue 23: coaching in up to 30 % of a county's schools). A school is
compared with the *other* schools (leave-one-out, half a case added) that look clean:
flag, set aside, re-estimate. For a common share (``robust_keep``), on the
variance-stabilised scale a = asin √share, the first pass reads the median and lower
quartile as if 30 % of the schools were coached (above every clean one), later passes
from the kept schools; a school more than ``baseline_z`` robust SDs above the centre (or
``trim_z`` below it) is set aside. High-breakdown: the median's breakdown point is 50 %,
and since coaching only raises shares the lower half stays among clean schools while
fewer than half are coached (see ``robust_keep`` for the bound at 30 %). Which schools
look clean is read from the share of all- *or* near-all-satisfied answers, the one share
every kind of coaching raises (``_mix_baselines``). For a rare event (answers without the
form's record, a few per cent) quartiles of small counts say little, so units are set
aside by their own tail against the kept ones, starting from the median share
(``tested_keep``). Between-school variation ρ (moments) comes from the kept schools only,
and for the all-A share is at least 4τ² of the lower half's spread (the upper cut does not
narrow it), so coached schools neither raise the baseline nor widen its spread: they
cannot hide each other. The tail is beta-binomial with that ρ (binomial when ρ = 0) and at
least the quasi-binomial one (Student's t with kept schools − 2 degrees of freedom).

Signals:

* ``burst`` (集中提交且答案异常, per link window). Per link, and for each window width
  (``burst_window_minutes``, a meeting; ``wave_window_minutes``, a push wave), the
  ``windows_per_link`` busiest non-overlapping windows with at least
  ``burst_min_count`` complete answers are chosen — on times alone, so the content test
  that follows is a valid test whatever the selection. The ``busy_windows`` busiest
  windows are all left out of the link's own reference, so a school coaching in many
  sessions is compared with its answers outside them (and with the county), not with
  its other sessions. The content test asks whether
  the window holds too many all-satisfied (nine A) or near-all-satisfied (only A and
  B, at most ``near_max_b`` B) answers **for that school, given the county**: the
  school's share θ has the county's between-school distribution as prior (Beta with
  the robust baseline's mean p and ρ, i.e. 1/ρ − 1 pseudo-answers, at most
  ``prior_weight``), updated by the link's complete answers outside the chosen
  windows; the window's count is tested against the beta-binomial predictive tail.
  Near-all-satisfied: between 9 − ``near_max_b`` and 8 A, the rest B or C — what a
  template with one or two 比较满意 sprinkled in and answers drawn from a skewed
  distribution share.
  A happy school's ordinary meeting is then ordinary (its own answers say so); a
  window far above both is not. The window's p is 2 · min over the two categories.
* ``concentrated`` (集中作答, information, ``Flag.informational``): a chosen window
  whose count is far above the link's own rhythm (Poisson against the busiest clock
  hour outside it, scan-corrected, at most ``alpha``) but whose answers are ordinary.
  It is not a test of the family and not a flag: a parents' meeting looks like this.
* ``pacing`` (作答节奏异常, per link): (a) machine-regular intervals — over every run of
  ``pacing_run`` consecutive gaps, Moran's statistic 2r(log mean − mean log) is small
  when the gaps are too even for arrivals of people (exponential gaps under the null;
  lower χ² tail with r − 1 df, Bonferroni over the runs); (b) a run of new devices with
  identical or near-identical vectors — among the link's answers from devices not seen
  before (``device_hash``; without it, answers not classified ``duplicate``), ordered
  in time, the number of consecutive pairs whose nine answers differ in at most
  ``pacing_hamming`` items (straight-lined vectors left out), against its expectation
  under random order: exact mean 2M/n and variance (from the matching pairs M, the
  two-paths and the disjoint pairs of the "close" graph), normal tail with continuity
  correction. p = 2 · min(a, b).
* ``identical_answers`` (答案雷同, per school): an answer vector — nine items plus the
  free text — given at least ``pattern_min_count`` times in a school, against the other
  schools' frequency of that vector among vectors of the same composition; a first
  pass finds school-vector cells with a raw p below ``trim_p`` and leaves them out of
  the second pass's baseline (trimming).
* ``all_a`` / ``near_a`` (全选满意 / 几乎全选满意, per school and group): the share of a
  school's complete answers of one group (its parents, say) that are all-satisfied, and
  that are near-all-satisfied, against the same group in the other schools (robust
  baseline); p = 2 · min, the kind is the category. A heavily coached school, whose
  coached answers are its own baseline in the window test, meets the county here.
* ``no_record`` (缺少作答记录, per link): answers without the form's record of how it was
  answered (``form_trace``: time to the first answer, per section, answers changed),
  against the other links (robust, rare-event baseline); only when at least half of the
  campaign's answers carry the record. Answers posted without the page lack it.
* ``speeder``, ``duplicate`` (per school): the share of responses classified so,
  against the plain leave-one-out baseline (rare events, already invalid: no trimming).

Sensitivity (``integrity_report(...).sensitivity``): the weighted rate
(``scoring.recognition.evaluate_rate``) and its robust lower bound with the flagged
schools' suspicious answers set aside — the over-represented answers of a flagged
window, the answers of a flagged pacing run, the repeated vector, a flagged school's
all-A or near-all-A answers, a flagged link's answers without the record — next to
them. ``county_call_out``: when those answers alone carry the county across the
threshold (85 %), by the rate or by the lower bound, one sentence with both figures.
Information for the inspector; the product never excludes them.

Benchmark (``benchmarks/integrity_signals.py``, README): push waves, parents' meetings,
eight coaching patterns at 15/30/60/90 % in 10/20/30 % of the schools, counties near 85 %.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from . import names
from .display import percent
from .profile import ITEMS, Profile, load_profile
from .recognition import OPTIONS, answer_codes

KINDS = ("burst", "pacing", "identical_answers", "all_a", "near_a", "no_record", "speeder", "duplicate")
INFORMATION_KINDS = ("concentrated",)
KIND_NAMES = {"burst": "集中提交且答案异常", "pacing": "作答节奏异常", "identical_answers": "答案雷同",
              "all_a": "全选满意", "near_a": "几乎全选满意",
              "no_record": "缺少作答记录", "speeder": "答题过快", "duplicate": "重复提交", "concentrated": "集中作答"}


@dataclass(frozen=True)
class Flag:
    kind: str                 # one of KINDS, or INFORMATION_KINDS when informational
    scope: str                # "school" or "link"
    scope_id: str             # school code or link id
    figure: float             # observed: a share, or a count (burst, concentrated, pacing, identical_answers)
    baseline: float           # the county's share, or the expected count
    p_value: float            # corrected over the whole family (information: the rhythm test's p)
    evidence: str             # Chinese, for inspectors
    raw_p_value: float = 1.0  # before the correction
    count: int = 0            # responses concerned
    total: int = 0            # responses of the school, link or window
    school_code: str | None = None  # the school (of a link: its most frequent school)
    informational: bool = False     # True: information (集中作答), not a flag
    start: str | None = None        # a window's start (wall clock, "YYYY-MM-DD HH:MM"), else None
    end: str | None = None
    rows: tuple[int, ...] = ()      # positions (0-based, in the input frame) of the answers concerned


@dataclass(frozen=True)
class Sensitivity:
    rate: float | None               # the weighted rate, as evaluated
    rate_set_aside: float | None     # the same with the flagged answers set aside
    set_aside: int                   # valid answers set aside
    by_school: dict[str, int] = field(default_factory=dict)   # valid answers set aside per school
    lower_bound: float | None = None             # the rate's one-sided 95 % lower bound, as evaluated
    lower_bound_set_aside: float | None = None   # the same with the flagged answers set aside


@dataclass(frozen=True)
class CallOut:
    """The flagged answers alone carry the county across the threshold (issue 23): information only."""
    measure: str          # "rate" (the weighted rate) or "lower_bound" (its robust 95 % lower bound)
    value: float          # as evaluated, at or above the threshold
    value_set_aside: float  # with the flagged answers set aside, below it
    threshold: float
    set_aside: int        # valid answers set aside
    schools: int          # schools they come from

    @property
    def sentence(self) -> str:
        """One Chinese sentence for the top of the integrity page, with both figures."""
        # rounded as every verdict figure: a figure below 85 % never shows as 85.0 %
        what = "加权认可度" if self.measure == "rate" else "认可度的稳健下限（单侧 95%）"
        return (f"全县{what}为 {percent(self.value)}，达到 {percent(self.threshold)}；若只把被标记的 {self.schools} 所"
                f"学校的 {self.set_aside} 份可疑答卷放在一边，为 {percent(self.value_set_aside, passed=False)}，低于 "
                f"{percent(self.threshold)}——是否达标取决于这些答卷，请优先核查（评估结果不剔除任何答卷）。")


@dataclass(frozen=True)
class IntegrityReport:
    flags: tuple[Flag, ...]          # flags, most significant first
    information: tuple[Flag, ...]    # 集中作答 windows with ordinary answers (informational)
    tests: int                       # size of the family corrected together
    sensitivity: Sensitivity | None  # None without a profile


@dataclass(frozen=True)
class IntegritySettings:
    alpha: float = 0.01
    correction: str = "holm"          # or "bh"
    min_responses: int = 10
    burst_window_minutes: float = 15.0
    wave_window_minutes: float = 90.0
    windows_per_link: int = 2
    burst_min_count: int = 10
    near_max_b: int = 2
    prior_weight: float = 20.0
    trim_z: float = 4.0
    baseline_z: float = 2.5
    busy_windows: int = 24
    trim_p: float = 0.001
    pacing_run: int = 15
    pacing_hamming: int = 1
    pattern_min_count: int = 5


def integrity_settings(profile: Profile | str | Path | None = None) -> IntegritySettings:
    """The profile's ``[integrity]`` table (national-2017 when none is given)."""
    table = load_profile(profile).integrity
    defaults = IntegritySettings()
    values = {name: type(getattr(defaults, name))(table[name])
              for name in IntegritySettings.__dataclass_fields__ if name in table}
    settings = IntegritySettings(**values)
    if settings.correction not in ("holm", "bh"):
        raise ValueError(f"[integrity] correction must be 'holm' or 'bh', not {settings.correction!r}")
    return settings


def flagged_schools(flags: tuple[Flag, ...] | list[Flag]) -> frozenset[str]:
    """Schools concerned by any flag (a link's flag concerns the link's school); information is not a flag."""
    return frozenset(f.school_code for f in flags if f.school_code is not None and not f.informational)


# ----------------------------------------------------------------- statistics

def adjust_p_values(p: np.ndarray, method: str = "holm") -> np.ndarray:
    """Holm (family-wise) or Benjamini–Hochberg (false discovery rate) adjusted p-values."""
    p = np.asarray(p, dtype=float)
    if p.size == 0:
        return p
    if method == "bh":
        return stats.false_discovery_control(p, method="bh")
    order = np.argsort(p, kind="stable")
    m = p.size
    adjusted = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = adjusted
    return out


def _leave_one_out(x: np.ndarray, n: np.ndarray, totals: dict[str, np.ndarray],
                   member: np.ndarray | bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Other units' share (half a case added) and their intra-class correlation ρ (moments).

    ``totals`` holds, over the baseline units, T = Σx, A = Σx², B = Σx·n, N = Σn, C = Σn²,
    E = Σn³ and K = the number of units; ``member`` says whether a unit is among them
    (its own contribution is then taken out). For the other units, with q their share
    Σx/Σn, E[Σ_t (x_t − n_t·q)²] = q(1−q)·[N − C/N + ρ·((C − N) − 2(E − C)/N + C(C − N)/N²)]
    (beta-binomial variance n·q(1−q)(1 + (n − 1)ρ)), solved for ρ (clipped to [0, 0.5];
    0 with fewer than four other units). Returns (p, ρ, number of other units).
    """
    own = np.asarray(member, dtype=float) * (n > 0)
    n_o = totals["N"] - own * n
    x_o = totals["T"] - own * x
    c_o = totals["C"] - own * n * n
    e_o = totals["E"] - own * n ** 3
    p = (x_o + 0.5) / (n_o + 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        q = x_o / n_o
        ss = (totals["A"] - own * x * x) - 2 * q * (totals["B"] - own * x * n) + q * q * c_o
        rho = (ss / (q * (1 - q)) - (n_o - c_o / n_o)) \
            / ((c_o - n_o) - 2 * (e_o - c_o) / n_o + c_o * (c_o - n_o) / n_o ** 2)
    others = totals["K"] - own
    rho = np.where((others >= 4) & np.isfinite(rho), rho, 0.0)
    return p, np.clip(rho, 0.0, 0.5), np.broadcast_to(others, np.shape(x))


def _upper_tail(x: np.ndarray, n: np.ndarray, p: np.ndarray, rho: np.ndarray,
                others: np.ndarray | None = None) -> np.ndarray:
    """One-sided p-value of x successes in n against mean p and between-unit correlation ρ.

    The exact tail P(X ≥ x): binomial(n, p) when ρ = 0 (what ``scipy.stats.binomtest``
    gives with ``alternative="greater"``), else beta-binomial. ρ is itself estimated
    from a few dozen units and its error would make the tail too thin, so with
    ``others`` (the number of units ρ and p come from) the p-value is at least the
    quasi-binomial one: z = (x − np)/√(np(1−p)(1 + (n−1)ρ)) on Student's t with
    others − 1 degrees of freedom.
    """
    x, n, p, rho = (np.asarray(a, dtype=float) for a in (x, n, p, rho))
    binomial = stats.binom.sf(x - 1, n, p)
    safe = np.where(rho > 0, rho, 0.5)
    scale = 1.0 / safe - 1.0
    beta = stats.betabinom.sf(x - 1, n, p * scale, (1 - p) * scale)
    exact = np.where(rho > 0, beta, binomial)
    if others is None:
        return exact
    df = np.asarray(others, dtype=float) - 1.0
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (x - n * p) / np.sqrt(n * p * (1 - p) * (1 + (n - 1) * rho))
    quasi = stats.t.sf(z, np.where(df >= 2, df, 2.0))
    return np.where(df >= 2, np.maximum(exact, quasi), exact)


def _totals(x: np.ndarray, n: np.ndarray) -> dict[str, np.ndarray]:
    return {"T": x.sum(), "A": (x * x).sum(), "B": (x * n).sum(), "N": n.sum(), "C": (n * n).sum(),
            "E": (n ** 3).sum(), "K": np.float64(len(n))}


def robust_keep(x: np.ndarray, n: np.ndarray, trim_z: float, upper_z: float | None = None,
                contamination: float = 0.3) -> np.ndarray:
    """Units kept in a baseline: the clean-looking ones, on the scale a = asin √(x/n).

    The spread of a is τ² + 1/(4n). Coaching only pushes shares up, so the robust
    SD comes from the lower half: (median − lower quartile) / 0.6745; τ² is its square
    less the median binomial part. A unit more than ``upper_z`` robust SDs above the
    centre (default ``trim_z``) or ``trim_z`` below it is set aside, and centre and
    spread are estimated again from the kept units, until nothing changes (at most ten
    times): flag, set aside, re-estimate.

    Why this holds with many coached units (issue 23). The median's breakdown point is
    50 %, and coaching only raises shares, so the lower quartile of all units lies among
    the clean ones whenever fewer than 75 % are coached. With a share ε of coached units
    all above the clean ones, the first pass's centre sits at the clean units' 50/(1 − ε)
    percentile and its spread is at most (z(0.5/(1−ε)) − z(0.25/(1−ε)))/0.6745 clean SDs:
    at ε = 30 % the 71st percentile and 1.38 SDs, so the first cut (2.5 × 1.38 + 0.57 ≈
    4 clean SDs above the clean centre) already sets aside the strongly coached units; each
    later pass, on fewer of them, cuts closer. Coached units that stay are within a few
    SDs, so they move the baseline little. Setting aside clean units above 2.5 SDs (0.6 %
    of them) narrows the kept spread by under 5 %. Tested at ε = 30 %
    (tests/test_integrity_heavy.py). Units with n = 0 are not kept; with fewer than five
    units every unit is kept.
    """
    x, n = np.asarray(x, dtype=float), np.asarray(n, dtype=float)
    upper_z = trim_z if upper_z is None else upper_z
    keep = n > 0
    if keep.sum() < 5 or not np.isfinite(trim_z):
        return keep
    a = np.where(keep, np.arcsin(np.sqrt(np.where(keep, x, 0) / np.where(keep, n, 1))), 0.0)
    binomial = 1.0 / (4.0 * np.where(keep, n, 1))
    clean = 1.0 - (contamination if upper_z != trim_z else 0.0)
    for _ in range(10):
        # The first pass reads the quantiles as if ``contamination`` of the units were coached (above every
        # clean one); later passes read the kept units as clean.
        centre = np.percentile(a[keep], 50 * clean)
        sd = (centre - np.percentile(a[keep], 25 * clean)) / 0.6745
        clean = 1.0
        tau2 = max(0.0, sd ** 2 - float(np.median(binomial[keep])))
        spread = np.sqrt(tau2 + binomial)
        new = (n > 0) & (a - centre <= upper_z * spread) & (centre - a <= trim_z * spread)
        if (new == keep).all() or new.sum() < 5:
            break
        keep = new
    return keep


def tested_keep(x: np.ndarray, n: np.ndarray, trim_p: float, among: np.ndarray | None = None,
                rounds: int = 10) -> np.ndarray:
    """Units kept in a baseline of a rare event (a few per cent): flag, set aside, re-estimate.

    Quartiles of counts that are mostly 0, 1 or 2 cannot tell a tail from an outlier, so here a
    unit is set aside when its one-sided tail against the kept units' leave-one-out baseline is
    below ``trim_p``, and the baseline is estimated again, until nothing changes. The first pass
    is binomial (ρ = 0) around the median of the units' shares (half a case added), whose breakdown
    point is 50 %: with
    30 % of the units coached it lies at the clean units' 71st percentile, and the coached units,
    far above it, are set aside; later passes use the kept units' pooled share and ρ. A unit set aside
    comes back only when it looks ordinary (tail ≥ 0.05), not merely when it clears ``trim_p``: else a
    coached unit let back in widens ρ, which lets the next one back in, until the coached units are the
    baseline again (masking). ``among``: the units eligible at all (those clean-looking in another
    category).
    """
    x, n = np.asarray(x, dtype=float), np.asarray(n, dtype=float)
    eligible = (n > 0) & (True if among is None else np.asarray(among, dtype=bool))
    keep = eligible
    if keep.sum() < 5:
        return keep
    share = x / np.where(keep, n, 1)
    # Half a case added (as in the leave-one-out share): a median of zero counts is not a share of zero.
    start = np.median(((x + 0.5) / (n + 1.0))[keep])
    p, rho, others = np.full(len(x), start), np.zeros(len(x)), None
    for _ in range(rounds):
        raw = _upper_tail(x, n, p, rho, others)
        new = eligible & ((raw >= np.where(keep, trim_p, 0.05)) | (share <= p))
        if (new == keep).all() or new.sum() < 5:
            break
        keep = new
        p, rho, others = _leave_one_out(x, n, _totals(x[keep], n[keep]), keep)
    return keep


def _mix_baselines(all_a: np.ndarray, near_a: np.ndarray, n: np.ndarray, settings: IntegritySettings
                   ) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per category, the leave-one-out (p, ρ, other kept schools) over the schools that look clean.

    Which schools look clean is read from the two categories together — the share of answers that are
    all-satisfied *or* near-all-satisfied — because every kind of coaching raises that share, while each
    category alone can fall: a school coached to nine A is low in near-all-satisfied answers, one coached
    with a B sprinkled in (or with skewed draws) is low in all-A answers, and with 90 % coaching such a
    school is ten times its size and would outweigh the clean ones in the other category's baseline. The
    combined share is common (about a third), so ``robust_keep`` (whose cut assumes coaching only raises
    shares) applies to it. Near-all-satisfied coaching raises the combined share less than its own rare
    share (a school drawing A 80 % of the time sits at 70 % combined, within the clean schools' range, and
    at 56 % near-all-satisfied against their 0–16 %), so among the kept schools those far above in the
    near-all-satisfied share are set aside too (``tested_keep``).
    """
    all_a, near_a, n = (np.asarray(v, dtype=float) for v in (all_a, near_a, n))
    first = robust_keep(all_a + near_a, n, settings.trim_z, settings.baseline_z)
    keep = tested_keep(near_a, n, settings.trim_p, among=first)
    if keep.sum() < 5:
        keep = first
    out = {}
    for category, x in (("all_a", all_a), ("near_a", near_a)):
        p, rho, others = _leave_one_out(x, n, _totals(x[keep], n[keep]), keep)
        if category == "all_a":   # the lower half's spread does not see the upper cut (see _robust_loo)
            rho = np.maximum(rho, np.minimum(4.0 * robust_tau2(x, n, keep), 0.5))
        out[category] = (p, rho, others)
    return out


def _robust_loo(x: np.ndarray, n: np.ndarray, trim_z: float, upper_z: float | None = None,
                trim_p: float | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Leave-one-out baseline (p, ρ, other kept units) over the units kept by ``robust_keep`` (or, with
    ``trim_p``, by ``tested_keep``)."""
    x, n = np.asarray(x, dtype=float), np.asarray(n, dtype=float)
    if trim_p is not None:
        keep = tested_keep(x, n, trim_p)
        return _leave_one_out(x, n, _totals(x[keep], n[keep]), keep)
    keep = robust_keep(x, n, trim_z, upper_z)
    p, rho, others = _leave_one_out(x, n, _totals(x[keep], n[keep]), keep)
    # Setting aside the clean units above the cut narrows the kept units' spread; the lower half's
    # spread does not see the cut. On a = asin √share, Var(share) ≈ 4 p(1 − p) τ², so ρ ≈ 4τ²: the
    # larger of the two is used.
    return p, np.maximum(rho, np.minimum(4.0 * robust_tau2(x, n, keep), 0.5)), others


def robust_tau2(x: np.ndarray, n: np.ndarray, keep: np.ndarray) -> float:
    """Between-unit variance τ² on a = asin √(x/n) from the kept units' lower half: ((median − lower quartile)
    / 0.6745)² less the median binomial part 1/(4n); 0 with fewer than five units."""
    if keep.sum() < 5:
        return 0.0
    a = np.arcsin(np.sqrt(x[keep] / n[keep]))
    sd = (np.median(a) - np.percentile(a, 25)) / 0.6745
    return float(max(0.0, sd ** 2 - np.median(1.0 / (4.0 * n[keep]))))
    return _leave_one_out(x, n, _totals(x[keep], n[keep]), keep)


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def _p(value: float) -> str:
    return f"{value:.2g}" if value >= 1e-4 else f"{value:.1e}"


def _seconds(column: pd.Series) -> np.ndarray:
    """Wall-clock seconds since 1970 (NaN when missing).

    Times with a zone are taken on their own wall clock; text mixing offsets is
    read in UTC and shown on Beijing time. Hours (for a link's rhythm) and the
    evidence's times are then the respondents' clock times.
    """
    times = pd.to_datetime(column, errors="coerce")
    if not pd.api.types.is_datetime64_any_dtype(times):
        times = pd.to_datetime(column, errors="coerce", utc=True).dt.tz_convert("Asia/Shanghai")
    if isinstance(times.dtype, pd.DatetimeTZDtype):
        times = times.dt.tz_localize(None)
    return (times - pd.Timestamp(0)).dt.total_seconds().to_numpy(dtype=float)


def free_text_codes(responses: pd.DataFrame) -> tuple[np.ndarray, pd.Index]:
    """Per row a code of its free text (NFKC, trimmed; missing = ""), and the texts coded."""
    if "free_text" not in responses:
        return np.zeros(len(responses), dtype=np.int64), pd.Index([""])
    # Normalised once per distinct text.
    codes, uniques = pd.factorize(responses["free_text"].astype("string").fillna(""))
    cleaned = pd.Series(uniques, dtype="string").str.normalize("NFKC").str.strip()
    recoded, texts = pd.factorize(cleaned)
    return (recoded[codes] if len(uniques) else codes), pd.Index(texts)


@dataclass(frozen=True)
class _Candidate:
    """A test of the family: its flag without the corrected p-value (filled in by ``_correct``)."""
    flag: Flag                 # p_value and the evidence's last sentence are set by the correction
    raw: float


def _correct(candidates: list[_Candidate], settings: IntegritySettings) -> tuple[Flag, ...]:
    """One correction over all candidates; the flagged ones, most significant first."""
    if not candidates:
        return ()
    raw = np.array([c.raw for c in candidates])
    adjusted = adjust_p_values(raw, settings.correction)
    flags = [replace(c.flag, p_value=float(a), raw_p_value=float(c.raw),
                     evidence=c.flag.evidence + f"检验 p = {_p(c.raw)}，全部信号与学校一并多重比较校正后 p = {_p(a)}"
                     f"（共 {len(candidates)} 项检验）。")
             for c, a in zip(candidates, adjusted) if a <= settings.alpha]
    return tuple(sorted(flags, key=lambda f: (f.p_value, f.raw_p_value)))


# ----------------------------------------------------------------- shared preparation

@dataclass(frozen=True)
class _Frame:
    """What every signal needs, computed once. Schools and groups are integer codes (pandas' str columns
    cost a conversion per frame built from them), numbered in the sorted order of their names, so
    every grouping below comes out in the order a groupby on the names gives."""
    answers: np.ndarray       # n×9 option codes (-1 unanswered)
    complete: np.ndarray      # all nine answered
    all_a: np.ndarray         # nine A
    near_a: np.ndarray        # near-all-satisfied: 9 − near_max_b to 8 A, the rest B or C
    straight: np.ndarray      # all nine alike
    school: np.ndarray        # school code's index in ``schools`` (-1 when missing)
    schools: np.ndarray       # the school codes, sorted (str)
    group: np.ndarray         # group's index in ``groups`` (-1 when missing)
    groups: np.ndarray        # the groups, sorted (str)
    status: np.ndarray        # validity (object)


def _sorted_codes(values, name=str) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes numbered in the sorted order of ``name(value)``, and those names; -1 where the value is
    missing or its name None. ``name`` is applied once per distinct value."""
    codes, uniques = pd.factorize(values)
    names = np.array([name(u) for u in uniques], dtype=object)
    recoded, sorted_names = pd.factorize(names, sort=True)
    return np.append(recoded, -1)[codes].astype(np.int64), np.asarray(sorted_names, dtype=object)


def _prepare(responses: pd.DataFrame, validity, settings: IntegritySettings) -> _Frame:
    answers = answer_codes(responses).astype(np.int64)
    complete = (answers >= 0).all(axis=1)
    n_a = (answers == 0).sum(axis=1)
    a_to_c = ((answers >= 0) & (answers <= 2)).all(axis=1)
    school, schools = _sorted_codes(responses["school_code"], lambda s: s if isinstance(s, str) and s else None)
    group, groups = _sorted_codes(responses["group"] if "group" in responses
                                  else np.full(len(responses), "", dtype=object))
    status = np.asarray(validity, dtype=object) if validity is not None and len(validity) == len(responses) \
        else np.full(len(responses), "valid", dtype=object)
    return _Frame(answers, complete, complete & (answers == 0).all(axis=1),
                  complete & a_to_c & (n_a < len(ITEMS)) & (n_a >= len(ITEMS) - settings.near_max_b),
                  complete & (answers == answers[:, :1]).all(axis=1) if len(answers) else complete,
                  school, schools, group, groups, status)


@dataclass(frozen=True)
class _GroupCounts:
    """One group's complete answers per school (the schools with any, sorted) and their county baselines."""
    code: int                 # the group's index (into _Frame.groups)
    group: str
    schools: np.ndarray       # school indexes (into _Frame.schools)
    n: np.ndarray             # complete answers
    x: dict[str, np.ndarray]  # per category ("all_a", "near_a"): how many of them
    baselines: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]  # per category: (p, ρ, other schools)


def _group_counts(f: _Frame, settings: IntegritySettings) -> list[_GroupCounts]:
    """Per group (sorted), its schools' all- and near-all-satisfied counts and ``_mix_baselines``."""
    use = f.complete & (f.school >= 0) & (f.group >= 0)
    if not use.any():
        return []
    width = len(f.schools)
    key = f.group[use] * width + f.school[use]
    cells = len(f.groups) * width
    n = np.bincount(key, minlength=cells).reshape(-1, width)
    x = {c: np.bincount(key, weights=getattr(f, c)[use], minlength=cells).reshape(-1, width)
         for c in ("all_a", "near_a")}
    out = []
    for g in np.flatnonzero(n.sum(axis=1)):
        present = np.flatnonzero(n[g])
        size = n[g, present].astype(float)
        counts = {c: v[g, present] for c, v in x.items()}
        out.append(_GroupCounts(int(g), str(f.groups[g]), present, size, counts,
                                _mix_baselines(counts["all_a"], counts["near_a"], size, settings)))
    return out


def _county_baselines(f: _Frame, settings: IntegritySettings, by_group: list[_GroupCounts] | None = None
                      ) -> dict[tuple[str, str, str], tuple[float, float, float]]:
    """(group, category, school) → robust leave-one-out (p, ρ, other schools) of that category's share."""
    out = {}
    for g in (_group_counts(f, settings) if by_group is None else by_group):
        for category, (p, rho, others) in g.baselines.items():
            for code, values in zip(f.schools[g.schools], zip(p, rho, others)):
                out[(g.group, category, str(code))] = tuple(float(v) for v in values)
    return out


def _positions_by(key: np.ndarray, positions: np.ndarray) -> dict[int, np.ndarray]:
    """key → its positions (increasing)."""
    order = np.argsort(key, kind="stable")
    key, positions = key[order], positions[order]
    bounds = np.flatnonzero(np.diff(key)) + 1
    return {int(k[0]): p for k, p in zip(np.split(key, bounds), np.split(positions, bounds)) if len(k)}


NEAR_A_TEXT = "只有 1 至 {} 题未选“满意”且这几题选“比较满意”或“基本满意”"


def _mode(codes: np.ndarray, names: np.ndarray, skip: int = -1):
    """The most frequent name among the codes (-1 and ``skip`` left out; ties: the first in sorted order)."""
    codes = codes[(codes >= 0) & (codes != skip)]
    if not codes.size:
        return None
    return str(names[np.argmax(np.bincount(codes))])


def _school_of(f: _Frame, pos: np.ndarray):
    return _mode(f.school[pos], f.schools)


def _group_of(f: _Frame, pos: np.ndarray):
    # "" sorts first: a link's group is never the blank one
    return _mode(f.group[pos], f.groups, 0 if len(f.groups) and f.groups[0] == "" else -1)


def _links(responses: pd.DataFrame) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """Per link: (link id, positions sorted by time, their seconds)."""
    if responses.empty or "submitted_at" not in responses or "link_id" not in responses:
        return []
    t = _seconds(responses["submitted_at"])
    link, names = _sorted_codes(responses["link_id"], lambda v: str(v) or None)
    positions = np.flatnonzero(np.isfinite(t) & (link >= 0))
    if not positions.size:
        return []
    # Links in the order they first appear, each one's answers by time.
    seen, first = np.unique(link[positions], return_index=True)
    rank = np.zeros(len(names), dtype=np.int64)
    rank[seen[np.argsort(first)]] = np.arange(len(seen))
    codes = rank[link[positions]]
    order = np.lexsort((t[positions], codes))
    positions, codes = positions[order], codes[order]
    bounds = np.flatnonzero(np.diff(codes)) + 1
    return [(str(names[link[p[0]]]), p, t[p]) for p in np.split(positions, bounds)]


def _clock(seconds: float) -> pd.Timestamp:
    return pd.Timestamp(seconds, unit="s")


# ----------------------------------------------------------------- bursts: concentrated windows, their answers

def _windows(tt: np.ndarray, width: float, how_many: int, min_count: int) -> list[tuple[int, int]]:
    """The ``how_many`` busiest non-overlapping windows [tt[i], tt[i] + width): (first, past-last) indexes."""
    ends = tt + width
    count = np.searchsorted(tt, ends, side="left") - np.arange(len(tt))
    free = count.copy()   # -1 once overlapped by a chosen window
    chosen = []
    for _ in range(how_many):
        i = int(np.argmax(free)) if len(free) else 0
        if not len(free) or free[i] < min_count:
            break
        chosen.append((i, i + int(count[i])))
        # tt sorted: the windows overlapping it (tt[j] < tt[i] + width and tt[j] + width > tt[i]) are a range
        free[np.searchsorted(ends, tt[i], side="right"):np.searchsorted(tt, ends[i], side="left")] = -1
    return chosen


def _burst_candidates(responses: pd.DataFrame, f: _Frame, links, settings: IntegritySettings,
                      by_group: list[_GroupCounts] | None = None) -> tuple[list[_Candidate], list[Flag]]:
    """The content test of each chosen window (candidates) and the concentrated windows (information)."""
    county = _county_baselines(f, settings, by_group)
    candidates, information = [], []
    names = {"all_a": "九题全选“满意”(A)", "near_a": NEAR_A_TEXT.format(settings.near_max_b)}
    for link, pos, tt in links:
        school = _school_of(f, pos)
        group = _group_of(f, pos) or ""
        n_link = len(pos)
        # tt sorted, so are the clock hours: numbered by run, counted once
        hour = np.cumsum(np.r_[False, np.diff(np.floor(tt / 3600.0)) != 0])
        per_hour = np.bincount(hour)
        for minutes in sorted({settings.burst_window_minutes, settings.wave_window_minutes}):
            width = 60.0 * minutes
            # The busiest windows are set aside from the link's own reference ("outside"), the first
            # windows_per_link of them are tested: a school that coaches in many sessions is then compared
            # with its answers outside them, not with its other sessions.
            busy = _windows(tt, width, max(settings.busy_windows, settings.windows_per_link), settings.burst_min_count)
            inside_any = np.zeros(n_link, dtype=bool)
            for a, b in busy:
                inside_any[a:b] = True
            for a, b in busy[:settings.windows_per_link]:
                k = b - a
                outside = per_hour - np.bincount(hour[a:b], minlength=len(per_hour))
                expected_k = (float(outside.max(initial=0)) + 1.0) * minutes / 60.0
                rhythm = float(min(1.0, n_link * stats.poisson.sf(k - 2, expected_k)))
                win = pos[a:b][f.complete[pos[a:b]]]
                out = pos[~inside_any & f.complete[pos]]
                begin, end = _clock(tt[a]), _clock(tt[a] + width)
                where = f"二维码 {link}{f'（学校 {school}）' if school else ''}在 {begin:%m-%d %H:%M}–{end:%H:%M} 的 " \
                        f"{minutes:g} 分钟内收到 {k} 份问卷（该链接共 {n_link} 份；按其余时间最忙一小时的节奏约 " \
                        f"{expected_k:.1f} 份）"
                tests = []
                if len(win) >= settings.burst_min_count and school is not None:
                    for category in ("all_a", "near_a"):
                        hit = getattr(f, category)
                        x, kw = int(hit[win].sum()), len(win)
                        xo, no = int(hit[out].sum()), len(out)
                        pc, rho, _ = county.get((group, category, school), (0.5, 0.0, 0.0))
                        prior = min(settings.prior_weight, max(1.0, 1.0 / rho - 1.0)) if rho > 0 \
                            else settings.prior_weight
                        a_, b_ = xo + prior * pc, no - xo + prior * (1 - pc)
                        share_out = a_ / (a_ + b_)
                        p = float(stats.betabinom.sf(x - 1, kw, a_, b_)) if x / kw > share_out else 1.0
                        tests.append((p, category, x, kw, share_out, pc, rho, win[hit[win]]))
                if tests:
                    p, category, x, kw, share_out, pc, rho, rows = min(tests, key=lambda r: r[0])
                    raw = min(1.0, len(tests) * p)
                    flag = Flag("burst", "link", link, float(x), float(kw * max(pc, share_out)), 1.0,
                                f"{where}，其中 {kw} 份完整问卷里{names[category]}的 {x} 份，占 {_pct(x / kw)}；"
                                f"按其他学校的分布（{_pct(pc)}"
                                f"{'' if rho == 0 else '，校间差异 ρ = ' + format(rho, '.3f')}）与该链接其余时间的 "
                                f"{len(out)} 份完整问卷估计，本校此类问卷约占 {_pct(share_out)}。β-二项预测",
                                count=x, total=kw, school_code=school, start=f"{begin:%Y-%m-%d %H:%M}",
                                end=f"{end:%Y-%m-%d %H:%M}", rows=tuple(int(r) for r in rows))
                    candidates.append(_Candidate(flag, raw))
                if rhythm <= settings.alpha and k >= settings.burst_min_count:
                    information.append(Flag(
                        "concentrated", "link", link, float(k), float(expected_k), rhythm,
                        f"{where}。泊松检验（已按扫描窗口数校正）p = {_p(rhythm)}。所答内容与本校、全县相比并无异常，"
                        f"例如家长会上集中填写：仅供参考，不是预警。",
                        raw_p_value=rhythm, count=k, total=n_link, school_code=school, informational=True,
                        start=f"{begin:%Y-%m-%d %H:%M}", end=f"{end:%Y-%m-%d %H:%M}",
                        rows=tuple(int(r) for r in pos[a:b])))
    return candidates, information


# ----------------------------------------------------------------- pacing

def _new_devices(responses: pd.DataFrame, f: _Frame) -> np.ndarray:
    """Rows from a device not seen before in the campaign (by time); without device_hash, non-duplicates."""
    if "device_hash" not in responses:
        return f.status != "duplicate"
    device, hashes = pd.factorize(responses["device_hash"].astype("string"))
    known = (device >= 0) & np.append(np.asarray(hashes != "", dtype=bool), False)[device]
    t = _seconds(responses["submitted_at"]) if "submitted_at" in responses else np.zeros(len(responses))
    order = np.argsort(np.where(np.isfinite(t), t, np.inf), kind="stable")
    first = np.ones(len(responses), dtype=bool)
    seen = pd.Series(device[order]).duplicated(keep="first").to_numpy() & known[order]
    first[order] = ~seen
    return first


def close_counts(v: np.ndarray, hamming: int, block: int = 1024) -> np.ndarray:
    """Per row of the n×k option codes ``v``, how many rows (itself included) differ from it in at most
    ``hamming`` items.

    The n×n comparison is n²·k cells (a link of 30,000 answers: 8 GB), so for ``hamming`` 0 or 1
    rows are counted by key in O(n log n): with same(v) the rows equal to v and, for each item j,
    S_j(v) the rows equal to v except perhaps at j, a row at distance 0 is in every S_j and one at
    distance 1 in exactly one, so the count is Σ_j S_j(v) − (k − 1)·same(v). The S_j are summed over
    the distinct vectors (weighted by how often each is given), far fewer than the rows when answers
    are alike. Larger distances are compared a block of rows at a time (memory bounded, time still n²·k).
    """
    n, k = v.shape
    if not n:
        return np.zeros(0, dtype=np.int64)
    digits = v.astype(np.int64) + 1                      # 0 is free for "any option" (-1 stays apart)
    powers = (len(OPTIONS) + 2) ** np.arange(k, dtype=np.int64)
    # Counted by hashing (pandas' factorize), cheaper than sorting.
    inverse, distinct = pd.factorize(digits @ powers)
    same = np.bincount(inverse)
    if hamming <= 0:
        return same[inverse]
    if hamming == 1:
        unique_digits = (distinct[:, None] // powers) % (len(OPTIONS) + 2)
        close = -(k - 1) * same
        for j in range(k):
            group, _ = pd.factorize(distinct - unique_digits[:, j] * powers[j])
            close += np.bincount(group, weights=same).astype(np.int64)[group]
        return close[inverse]
    out = np.empty(n, dtype=np.int64)
    for start in range(0, n, block):
        part = v[start:start + block]
        distance = np.zeros((len(part), n), dtype=np.int16)
        for j in range(k):
            distance += part[:, j, None] != v[None, :, j]
        out[start:start + block] = (distance <= hamming).sum(axis=1)
    return out


def _pacing_candidates(responses: pd.DataFrame, f: _Frame, links, settings: IntegritySettings) -> list[_Candidate]:
    new = _new_devices(responses, f)
    r = settings.pacing_run
    correction = 1.0 + (r + 1.0) / (6.0 * r)
    candidates = []
    for link, pos, tt in links:
        if len(pos) < settings.min_responses:
            continue
        school = _school_of(f, pos)
        found = []
        # (a) machine-regular intervals: Moran's statistic over runs of r gaps (0.5 s for the clock's resolution).
        gaps = np.diff(tt) + 0.5
        if len(gaps) >= r:
            c1 = np.concatenate([[0.0], np.cumsum(gaps)])
            c2 = np.concatenate([[0.0], np.cumsum(np.log(gaps))])
            mean = (c1[r:] - c1[:-r]) / r
            mean_log = (c2[r:] - c2[:-r]) / r
            moran = 2.0 * r * (np.log(mean) - mean_log)
            p_run = stats.chi2.cdf(moran / correction, r - 1)
            i = int(np.argmin(p_run))
            p = float(min(1.0, len(p_run) * p_run[i]))
            cv = float(np.std(gaps[i:i + r]) / np.mean(gaps[i:i + r]))
            found.append((p, f"二维码 {link}{f'（学校 {school}）' if school else ''}在 "
                             f"{_clock(tt[i]):%m-%d %H:%M}–{_clock(tt[i + r]):%H:%M} 连续 {r + 1} 份问卷的提交间隔"
                             f"过于均匀（平均 {mean[i]:.0f} 秒，变异系数 {cv:.2f}；人们各自作答时约为 1）。"
                             f"Moran 检验（已按 {len(p_run)} 个连续段校正）", r + 1, 0.0,
                          pos[i:i + r + 1]))
        # (b) new devices, one after another, with identical or near-identical (non-straight) vectors.
        seq = pos[new[pos] & f.complete[pos] & ~f.straight[pos]]
        if len(seq) >= settings.burst_min_count:
            v = f.answers[seq]
            close = close_counts(v, settings.pacing_hamming)
            pairs = (int(close.sum()) - len(seq)) // 2
            adjacent = (v[:-1] != v[1:]).sum(axis=1) <= settings.pacing_hamming
            x = int(adjacent.sum())
            expected = 2.0 * pairs / len(seq)
            # Exact mean and variance of the count under random order (M edges, T two-paths, D disjoint edge
            # pairs of the "close" graph), normal tail.
            n_ = len(seq)
            degree = close - 1.0
            two_paths = float((degree * (degree - 1)).sum())
            disjoint = 4.0 * pairs ** 2 - 4.0 * float((degree ** 2).sum()) + 4.0 * pairs
            second = expected + 2 * (n_ - 2) * two_paths / (n_ * (n_ - 1) * (n_ - 2)) \
                + 2 * ((n_ - 1) * (n_ - 2) / 2 - (n_ - 2)) * disjoint / (n_ * (n_ - 1) * (n_ - 2) * (n_ - 3))
            sd = float(np.sqrt(max(second - expected ** 2, 1e-12)))
            p = float(stats.norm.sf((x - 0.5 - expected) / sd)) if x > expected and x >= 3 else 1.0
            run_rows = np.unique(np.concatenate([seq[:-1][adjacent], seq[1:][adjacent]])) if x else seq[:0]
            found.append((p, f"二维码 {link}{f'（学校 {school}）' if school else ''}来自新设备的 {len(seq)} 份问卷"
                             f"（不含九题同选一项的）中，相邻两份九题答案相同或仅差 {settings.pacing_hamming} 题的有 "
                             f"{x} 对，按随机先后约 {expected:.1f} 对（标准差 {sd:.1f}）。置换正态", x, expected, run_rows))
        if not found:
            continue
        p, text, figure, baseline, rows = min(found, key=lambda r_: r_[0])
        total = len(pos)
        candidates.append(_Candidate(Flag(
            "pacing", "link", link, float(figure), float(baseline), 1.0,
            text + f"（该链接共 {total} 份，涉及 {len(rows)} 份）", count=int(len(rows)), total=int(total),
            school_code=school, rows=tuple(int(q) for q in rows)), min(1.0, len(found) * p)))
    return candidates


# ----------------------------------------------------------------- identical answers

def _identical_candidates(responses: pd.DataFrame, f: _Frame, settings: IntegritySettings) -> list[_Candidate]:
    """Per school: an answer vector (nine items + free text) repeated far more often than predicted.

    Schools differ in how satisfied they are, and a school's level changes the
    frequency of whole answer vectors a lot. So a vector is compared *within its
    composition* — how many A, B, C, D and E it holds: among the school's complete
    responses of that composition, the count giving exactly this arrangement and free
    text, against the other schools' share of it among theirs. Rows classified
    ``duplicate`` are left out. Two passes: school-vector cells whose first-pass raw p
    is below ``trim_p`` are left out of every other school's baseline in the second.
    """
    keep = f.complete & (f.school >= 0) & (f.status != "duplicate")
    if not keep.any():
        return []
    powers = len(OPTIONS) ** np.arange(len(ITEMS), dtype=np.int64)
    vectors = len(OPTIONS) ** len(ITEMS)
    text_code, texts = free_text_codes(responses)
    answers = f.answers[keep]
    school = f.school[keep]
    # Integer keys sorted once, in the order a groupby on (school, composition, arrangement, text) gives:
    # a cell is a school and a composition, a pattern an arrangement and a text (its composition follows).
    cell = school * vectors + np.sort(answers, axis=1) @ powers
    pattern = (answers @ powers) * max(len(texts), 1) + text_code[keep].astype(np.int64)
    order = np.lexsort((pattern, cell))
    cell, pattern, position = cell[order], pattern[order], np.flatnonzero(keep)[order]
    starts = np.flatnonzero(np.r_[True, (cell[1:] != cell[:-1]) | (pattern[1:] != pattern[:-1])])
    ends = np.r_[starts[1:], len(order)]
    x = (ends - starts).astype(float)              # per (school, composition, arrangement, text): its count
    cell, pattern = cell[starts], pattern[starts]
    cell_of = np.cumsum(np.r_[True, cell[1:] != cell[:-1]]) - 1
    cell_m = np.bincount(cell_of, weights=x)
    m = cell_m[cell_of]                            # the school's answers of that composition
    of_school = cell // vectors
    n = np.bincount(school, minlength=len(f.schools))[of_school]
    tested = (x >= settings.pattern_min_count) & (n >= settings.min_responses)
    if not tested.any():
        return []
    composition_of_cell = np.unique(cell[np.r_[True, cell[1:] != cell[:-1]]] % vectors, return_inverse=True)[1]
    per_composition = np.stack([np.bincount(composition_of_cell, weights=w)
                                for w in (cell_m, cell_m ** 2, cell_m ** 3, np.ones_like(cell_m))], axis=1)
    per_composition = per_composition[composition_of_cell[cell_of]]
    same_pattern = pd.factorize(pattern)[0]

    def by_pattern(w: np.ndarray) -> np.ndarray:
        # sums of whole numbers: exact in any order
        return np.bincount(same_pattern, weights=w)[same_pattern]

    def totals(trimmed: np.ndarray) -> dict[str, np.ndarray]:
        kept = ~trimmed
        return {"T": by_pattern(x * kept), "A": by_pattern(x * x * kept), "B": by_pattern(x * m * kept),
                "N": per_composition[:, 0] - by_pattern(m * trimmed),
                "C": per_composition[:, 1] - by_pattern(m * m * trimmed),
                "E": per_composition[:, 2] - by_pattern(m ** 3 * trimmed),
                "K": per_composition[:, 3] - by_pattern(1.0 * trimmed)}

    trimmed = np.zeros(len(x), dtype=bool)
    for _ in range(2):
        t = {k: v[tested] for k, v in totals(trimmed).items()}
        p, rho, others = _leave_one_out(x[tested], m[tested], t, ~trimmed[tested])
        raw = _upper_tail(x[tested], m[tested], p, rho, others)
        raw = np.where(x[tested] / m[tested] > p, raw, 1.0)
        trimmed = np.zeros(len(x), dtype=bool)
        trimmed[np.flatnonzero(tested)[raw < settings.trim_p]] = True
    # The most significant vector of each school (most repeated first among equal p; then in key order).
    ranked = np.lexsort((-x[tested], raw))
    first = np.sort(np.unique(of_school[tested][ranked], return_index=True)[1])
    chosen = ranked[first]
    candidates = []
    for i, p_, rho_, raw_ in zip(np.flatnonzero(tested)[chosen], p[chosen], rho[chosen], raw[chosen]):
        arrangement, text = divmod(int(pattern[i]), max(len(texts), 1))
        digits = (arrangement // powers) % len(OPTIONS)
        letters = "".join(OPTIONS[d] for d in digits)
        makeup = "、".join(f"{letters.count(o)} 个 {o}" for o in OPTIONS if o in letters)
        comment = str(texts[text]) if len(texts) else ""
        expected = m[i] * p_
        school = str(f.schools[of_school[i]])
        candidates.append(_Candidate(Flag(
            "identical_answers", "school", school, float(x[i]), float(expected), 1.0,
            f"学校 {school} 答案构成为 {makeup} 的 {int(m[i])} 份完整问卷中，有 {int(x[i])} 份九题答案"
            f"（依次为 {letters}）与意见建议（{'“' + comment[:30] + '”' if comment else '空'}）完全相同；"
            f"其他学校（剔除离群学校后）同构成问卷中这一组合占 {_pct(p_)}，预期约 {expected:.1f} 份。"
            f"{'二项' if rho_ == 0 else 'β-二项（校间差异 ρ = ' + format(rho_, '.3f') + '）'}",
            count=int(x[i]), total=int(m[i]), school_code=school,
            rows=tuple(int(q) for q in position[starts[i]:ends[i]])),
            float(raw_)))
    return candidates


# ----------------------------------------------------------------- shares per school

def _share_candidates(kind: str, f: _Frame, hit: np.ndarray, considered: np.ndarray,
                      settings: IntegritySettings, what: str, of_what: str, trim: bool = True) -> list[_Candidate]:
    use = considered & (f.school >= 0)
    if not use.any():
        return []
    size = np.bincount(f.school[use], minlength=len(f.schools))
    present = np.flatnonzero(size)
    x = np.bincount(f.school[use], weights=hit[use], minlength=len(f.schools))[present]
    n = size[present].astype(float)
    tested = n >= settings.min_responses
    if not tested.any():
        return []
    keep = robust_keep(x, n, settings.trim_z if trim else np.inf)
    p, rho, others = _leave_one_out(x, n, _totals(x[keep], n[keep]), keep)
    raw = _upper_tail(x, n, p, rho, others)
    raw = np.where(x / n > p, raw, 1.0)  # one-sided: only shares above the county's
    hits = _positions_by(f.school[use & hit], np.flatnonzero(use & hit))
    candidates = []
    for i in np.flatnonzero(tested):
        code = str(f.schools[present[i]])
        candidates.append(_Candidate(Flag(
            kind, "school", code, float(x[i] / n[i]), float(p[i]), 1.0,
            f"学校 {code} 的 {int(n[i])} 份{of_what}中{what} {int(x[i])} 份，占 {_pct(x[i] / n[i])}；"
            f"其他学校{'（剔除离群学校后）' if trim else ''}为 {_pct(p[i])}。单侧"
            f"{'二项' if rho[i] == 0 else 'β-二项（校间差异 ρ = ' + format(rho[i], '.3f') + '）'}",
            count=int(x[i]), total=int(n[i]), school_code=code,
            rows=tuple(int(q) for q in hits.get(int(present[i]), ()))), float(raw[i])))
    return candidates


def _mix_candidates(f: _Frame, settings: IntegritySettings, by_group: list[_GroupCounts] | None = None
                    ) -> list[_Candidate]:
    """Per school and group: its all-satisfied and near-all-satisfied shares against the same group elsewhere.

    The school's complete answers of one group (its parents, say) are compared with that group's
    answers in the other schools, whose baseline (mean and between-school ρ) comes from the schools
    ``robust_keep`` finds clean (``baseline_z``). This is the comparison with the county that a
    heavily coached school cannot escape: its coached answers are its own baseline in the window
    test, not here. Both categories are tested, p = 2 · min; the flag's kind is the category.
    """
    what = {"all_a": "九题全选“满意”(A)的", "near_a": NEAR_A_TEXT.format(settings.near_max_b) + "的"}
    use = f.complete & (f.school >= 0) & (f.group >= 0)
    key = f.group * len(f.schools) + f.school
    hits = {c: _positions_by(key[use & getattr(f, c)], np.flatnonzero(use & getattr(f, c))) for c in what}
    candidates = []
    for g in (_group_counts(f, settings) if by_group is None else by_group):
        group, n = g.group, g.n
        tested = n >= settings.min_responses
        if not tested.any():
            continue
        found = {}
        for category, (p, rho, others) in g.baselines.items():
            x = g.x[category]
            raw = np.where(x / n > p, _upper_tail(x, n, p, rho, others), 1.0)
            found[category] = (x, p, rho, raw)
        who = names.GROUPS.get(str(group), str(group))
        for i in np.flatnonzero(tested):
            category = min(found, key=lambda c: found[c][3][i])
            x, p, rho, raw = (v[i] for v in found[category])
            code = str(f.schools[g.schools[i]])
            rows = hits[category].get(int(g.code * len(f.schools) + g.schools[i]), ())
            candidates.append(_Candidate(Flag(
                category, "school", code, float(x / n[i]), float(p), 1.0,
                f"学校 {code} 的 {int(n[i])} 份{who}完整问卷中{what[category]} {int(x)} 份，占 {_pct(x / n[i])}；"
                f"其他学校的{who}（剔除离群学校后）为 {_pct(p)}。单侧"
                f"{'二项' if rho == 0 else 'β-二项（校间差异 ρ = ' + format(rho, '.3f') + '）'}（两类取小，×2）",
                count=int(x), total=int(n[i]), school_code=code, rows=tuple(int(q) for q in rows)),
                float(min(1.0, 2 * raw))))
    return candidates


def _record_candidates(responses: pd.DataFrame, f: _Frame, links, settings: IntegritySettings) -> list[_Candidate]:
    """Per link: answers without the form's record (``form_trace``) against the other links.

    The form's script records how it was answered; an answer without it came from a phone without
    JavaScript or was posted without the page. The first is rare everywhere; a link where many
    answers lack the record while the campaign's others carry it had answers posted by a script.
    Only when at least half of the campaign's answers carry the record (answers stored before it
    existed have none). Baseline: the links ``tested_keep`` finds clean (a rare event).
    """
    if "form_trace" not in responses:
        return []
    has = responses["form_trace"].astype("string").fillna("").str.len().to_numpy() > 0
    if has.mean() < 0.5:
        return []
    tested = [(link, pos) for link, pos, _ in links if len(pos) >= settings.min_responses]
    if len(tested) < 5:
        return []
    x = np.array([float((~has[pos]).sum()) for _, pos in tested])
    n = np.array([float(len(pos)) for _, pos in tested])
    p, rho, others = _robust_loo(x, n, settings.trim_z, trim_p=settings.trim_p)
    raw = np.where(x / n > p, _upper_tail(x, n, p, rho, others), 1.0)
    candidates = []
    for i, (link, pos) in enumerate(tested):
        school = _school_of(f, pos)
        candidates.append(_Candidate(Flag(
            "no_record", "link", link, float(x[i] / n[i]), float(p[i]), 1.0,
            f"二维码 {link}{f'（学校 {school}）' if school else ''}的 {int(n[i])} 份问卷中有 {int(x[i])} 份没有问卷页面的"
            f"作答记录，占 {_pct(x[i] / n[i])}；其他二维码（剔除离群者后）为 {_pct(p[i])}。没有记录的答卷可能来自不支持"
            f"脚本的手机，也可能未经问卷页面直接提交。单侧"
            f"{'二项' if rho[i] == 0 else 'β-二项（二维码间差异 ρ = ' + format(rho[i], '.3f') + '）'}",
            count=int(x[i]), total=int(n[i]), school_code=school,
            rows=tuple(int(q) for q in pos[~has[pos]])), float(raw[i])))
    return candidates


def _status_candidates(f: _Frame, settings: IntegritySettings) -> list[_Candidate]:
    every = np.ones(len(f.status), dtype=bool)
    # Rare events (a few per cent): quartiles of a handful of counts cannot tell a tail from an outlier, and
    # these answers are already invalid (nothing to mask), so their baseline is the plain leave-one-out.
    return [*_share_candidates("speeder", f, f.status == "speeder", every, settings, "答题过快（用时不足下限）的", "问卷",
                               trim=False),
            *_share_candidates("duplicate", f, f.status == "duplicate", every, settings, "重复提交的", "问卷",
                               trim=False)]


# ----------------------------------------------------------------- the report

def _all_candidates(responses: pd.DataFrame, validity, settings: IntegritySettings):
    f = _prepare(responses, validity, settings)
    links = _links(responses)
    by_group = _group_counts(f, settings)   # the county baselines of both the window test and the shares
    bursts, information = _burst_candidates(responses, f, links, settings, by_group)
    candidates = [*bursts, *_pacing_candidates(responses, f, links, settings),
                  *_identical_candidates(responses, f, settings), *_mix_candidates(f, settings, by_group),
                  *_record_candidates(responses, f, links, settings), *_status_candidates(f, settings)]
    return candidates, information


def sensitivity(responses: pd.DataFrame, validity: pd.Series | np.ndarray, flags, profile: Profile | str | Path | None
                = None) -> Sensitivity:
    """The weighted rate, and the same with the flagged answers (``Flag.rows``) set aside.

    Nothing is excluded by the product: this is a figure for the inspector only.
    """
    from .recognition import evaluate_rate
    profile = profile if isinstance(profile, Profile) else load_profile(profile)
    # Categorical: counting and comparing a few codes, not a Python string per answer.
    status = pd.Series(pd.Categorical(validity), index=responses.index)
    if "set_aside" not in status.cat.categories:
        status = status.cat.add_categories("set_aside")
    rows = sorted({r for flag in flags if not flag.informational for r in flag.rows})
    aside = np.zeros(len(responses), dtype=bool)
    aside[rows] = True
    aside &= (status == "valid").to_numpy()
    answers = None if responses.empty else answer_codes(responses)
    before = evaluate_rate(responses, profile, status, answers)
    after = evaluate_rate(responses, profile, status.where(~aside, "set_aside"), answers) if aside.any() else before
    schools = pd.Series(responses["school_code"].to_numpy(dtype=object)[aside]).dropna().astype(str)
    return Sensitivity(before.rate, after.rate, int(aside.sum()),
                       {str(k): int(v) for k, v in schools.value_counts().sort_index().items()},
                       before.lower_bound_95, after.lower_bound_95)


def county_call_out(s: Sensitivity | None, profile: Profile | str | Path | None = None) -> CallOut | None:
    """Whether the flagged answers alone carry the county across the recognition threshold (85 %).

    Said when the rate is at or above the threshold and below it with the flagged answers set
    aside, or else the same of the robust lower bound (one-sided 95 %): the county's verdict then
    depends on the answers the signals point at. Nothing is excluded; None when neither holds.
    """
    profile = profile if isinstance(profile, Profile) else load_profile(profile)
    threshold = float(profile.recognition["recognition_threshold"])
    if s is None or not s.set_aside:
        return None
    for measure, value, aside in (("rate", s.rate, s.rate_set_aside),
                                  ("lower_bound", s.lower_bound, s.lower_bound_set_aside)):
        if value is not None and aside is not None and profile.at_least(value, threshold) \
                and profile.below(aside, threshold):
            return CallOut(measure, float(value), float(aside), threshold, s.set_aside, len(s.by_school))
    return None


def integrity_report(responses: pd.DataFrame, validity: pd.Series | np.ndarray,
                     settings: IntegritySettings | None = None,
                     profile: Profile | str | Path | None = None) -> IntegrityReport:
    """Flags (one correction over every signal and school), 集中作答 information, and the sensitivity figure."""
    profile = profile if isinstance(profile, Profile) else load_profile(profile)
    settings = settings or integrity_settings(profile)
    if responses.empty:
        return IntegrityReport((), (), 0, sensitivity(responses, validity, (), profile) if len(responses) else None)
    candidates, information = _all_candidates(responses, validity, settings)
    flags = _correct(candidates, settings)
    flagged_windows = {(f.scope_id, f.start) for f in flags if f.kind == "burst"}
    information = tuple(i for i in information if (i.scope_id, i.start) not in flagged_windows)
    return IntegrityReport(flags, information, len(candidates), sensitivity(responses, validity, flags, profile))


def integrity_flags(responses: pd.DataFrame, validity: pd.Series | np.ndarray,
                    settings: IntegritySettings | None = None) -> tuple[Flag, ...]:
    """Every signal's flags for a campaign (one correction over all), most significant first.

    Information (集中作答) and the sensitivity figure are in ``integrity_report``.
    """
    settings = settings or integrity_settings()
    if responses.empty:
        return ()
    candidates, _ = _all_candidates(responses, validity, settings)
    return _correct(candidates, settings)


# Each signal alone (corrected within itself): for tests and for reading one signal.

def _alone(responses: pd.DataFrame, validity, settings: IntegritySettings | None, candidates) -> tuple[Flag, ...]:
    """One signal's flags: ``candidates(prepared, settings)`` corrected within themselves."""
    settings = settings or integrity_settings()
    if responses.empty:
        return ()
    return _correct(candidates(_prepare(responses, validity, settings), settings), settings)


def burst_flags(responses: pd.DataFrame, settings: IntegritySettings | None = None,
                validity: pd.Series | np.ndarray | None = None) -> tuple[Flag, ...]:
    return _alone(responses, validity, settings,
                  lambda f, s: _burst_candidates(responses, f, _links(responses), s)[0])


def pacing_flags(responses: pd.DataFrame, settings: IntegritySettings | None = None,
                 validity: pd.Series | np.ndarray | None = None) -> tuple[Flag, ...]:
    return _alone(responses, validity, settings,
                  lambda f, s: _pacing_candidates(responses, f, _links(responses), s))


def identical_answer_flags(responses: pd.DataFrame, settings: IntegritySettings | None = None,
                           validity: pd.Series | np.ndarray | None = None) -> tuple[Flag, ...]:
    return _alone(responses, validity, settings, lambda f, s: _identical_candidates(responses, f, s))


def all_a_flags(responses: pd.DataFrame, validity: pd.Series | np.ndarray | None = None,
                settings: IntegritySettings | None = None) -> tuple[Flag, ...]:
    return _alone(responses, validity, settings, _mix_candidates)


def record_flags(responses: pd.DataFrame, validity: pd.Series | np.ndarray | None = None,
                 settings: IntegritySettings | None = None) -> tuple[Flag, ...]:
    return _alone(responses, validity, settings,
                  lambda f, s: _record_candidates(responses, f, _links(responses), s))


def share_flags(responses: pd.DataFrame, validity: pd.Series | np.ndarray,
                settings: IntegritySettings | None = None) -> tuple[Flag, ...]:
    return _alone(responses, validity, settings, _status_candidates)
