"""Integrity signals for inspectors (issue 6): flags with their evidence, never exclusions.

Input is a campaign's responses frame — the normalised columns of
``scoring.responses`` plus ``submitted_at`` (timestamps), ``link_id`` (the QR link)
and optionally ``free_text`` — and the validity status of each row
(``scoring.recognition.classify_validity``). The validity rules of survey.md stay
the only exclusions: a flag only tells an inspector where to look.

Signals (each test one-sided, corrected for multiple comparisons across the units
tested — Holm by default, Benjamini–Hochberg on request — and flagged when the
corrected p-value is at most ``alpha``):

* ``burst`` (per link): the busiest ``burst_window_minutes`` window against the
  link's own rhythm outside it. Given a submission opening the window, the others
  in it are Poisson with mean λ·W, λ being the link's rate in its busiest clock hour
  outside the window (plus one submission, so that a link with nothing outside still
  has a rate). The busiest hour rather than the average keeps evening peaks and
  reminder days from counting as bursts. The scan over the link's n windows is
  Bonferroni-corrected (p = min(1, n·P)). Windows under ``burst_min_count`` are not tested.
* ``identical_answers`` (per school): an answer vector — nine items plus the free
  text (NFKC, trimmed) — given at least ``pattern_min_count`` times in a school,
  against the other schools' frequency of that vector among vectors of the same
  composition (how many A, B, C, D, E), so that a school's satisfaction level does
  not count as repetition (see ``identical_answer_flags``).
* ``all_a`` (per school): the share of complete responses answering A to all nine
  items, against the other schools' share.
* ``speeder``, ``duplicate`` (per school): the share of responses classified so.

School tests compare a school with the *other* schools (leave-one-out, so a school
does not dilute its own baseline), add half a case to the baseline (a baseline of
zero would make one case "impossible") and use the binomial tail
(= ``scipy.stats.binomtest(..., alternative="greater")``). Schools differ genuinely —
a well-liked school has more all-A answers — so when the other schools vary more
than binomial sampling allows, the tail is the beta-binomial one with the
between-school intra-class correlation ρ estimated from them by moments (with
ρ = 0 it is the binomial test); and since ρ comes from a few dozen schools, the
p-value is at least the quasi-binomial one (Student's t with schools − 2 degrees
of freedom). Schools with fewer than ``min_responses`` responses are not tested.

Figures for the synthetic benchmark (``benchmarks/integrity_signals.py``, 50 seeds,
30 schools): 100 % of coached schools flagged, 0.6 % of clean schools.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from .profile import ITEMS, Profile, load_profile
from .recognition import OPTIONS, answer_codes

KINDS = ("burst", "identical_answers", "all_a", "speeder", "duplicate")
KIND_NAMES = {"burst": "集中提交", "identical_answers": "答案雷同", "all_a": "全选满意",
              "speeder": "答题过快", "duplicate": "重复提交"}


@dataclass(frozen=True)
class Flag:
    kind: str                 # one of KINDS
    scope: str                # "school" or "link"
    scope_id: str             # school code or link id
    figure: float             # observed: a share, or a count (burst, identical_answers)
    baseline: float           # the county's share, or the expected count
    p_value: float            # the one-sided test's p-value, corrected for multiple comparisons
    evidence: str             # Chinese, for inspectors
    raw_p_value: float = 1.0  # before the correction
    count: int = 0            # responses concerned
    total: int = 0            # responses of the school or link
    school_code: str | None = None  # the school (of a link: its most frequent school)


@dataclass(frozen=True)
class IntegritySettings:
    alpha: float = 0.01
    correction: str = "holm"          # or "bh"
    min_responses: int = 10
    burst_window_minutes: float = 10.0
    burst_min_count: int = 10
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


def integrity_flags(responses: pd.DataFrame, validity: pd.Series | np.ndarray,
                    settings: IntegritySettings | None = None) -> tuple[Flag, ...]:
    """Every signal's flags for a campaign, most significant first within each kind."""
    settings = settings or integrity_settings()
    return (*burst_flags(responses, settings), *identical_answer_flags(responses, settings, validity),
            *all_a_flags(responses, validity, settings), *share_flags(responses, validity, settings))


def flagged_schools(flags: tuple[Flag, ...] | list[Flag]) -> frozenset[str]:
    """Schools concerned by any flag (a link's flag concerns the link's school)."""
    return frozenset(f.school_code for f in flags if f.school_code is not None)


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


def _leave_one_out(x: np.ndarray, n: np.ndarray, totals: dict[str, np.ndarray]
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Other units' share (half a case added) and their intra-class correlation ρ (moments).

    ``totals`` holds, over all units, T = Σx, A = Σx², B = Σx·n, N = Σn, C = Σn²,
    E = Σn³ and K = the number of units. For the other units, with q their share
    Σx/Σn, E[Σ_t (x_t − n_t·q)²] = q(1−q)·[N − C/N + ρ·((C − N) − 2(E − C)/N + C(C − N)/N²)]
    (sums over the other units; beta-binomial variance n·q(1−q)(1 + (n − 1)ρ)),
    which is solved for ρ (clipped to [0, 0.5]; 0 with fewer than four other units).
    Returns (p, ρ, number of other units).
    """
    n_o = totals["N"] - n
    x_o = totals["T"] - x
    c_o = totals["C"] - n * n
    e_o = totals["E"] - n ** 3
    p = (x_o + 0.5) / (n_o + 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        q = x_o / n_o
        ss = (totals["A"] - x * x) - 2 * q * (totals["B"] - x * n) + q * q * c_o
        rho = (ss / (q * (1 - q)) - (n_o - c_o / n_o)) \
            / ((c_o - n_o) - 2 * (e_o - c_o) / n_o + c_o * (c_o - n_o) / n_o ** 2)
    others = totals["K"] - (n > 0)
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
    z = (x - n * p) / np.sqrt(n * p * (1 - p) * (1 + (n - 1) * rho))
    quasi = stats.t.sf(z, np.where(df >= 2, df, 2.0))
    return np.where(df >= 2, np.maximum(exact, quasi), exact)


def _totals(x: np.ndarray, n: np.ndarray) -> dict[str, np.ndarray]:
    return {"T": x.sum(), "A": (x * x).sum(), "B": (x * n).sum(), "N": n.sum(), "C": (n * n).sum(),
            "E": (n ** 3).sum(), "K": np.float64(len(n))}


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def _p(value: float) -> str:
    return f"{value:.2g}" if value >= 1e-4 else f"{value:.1e}"


# ----------------------------------------------------------------- bursts

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


def burst_flags(responses: pd.DataFrame, settings: IntegritySettings | None = None) -> tuple[Flag, ...]:
    """Per QR link: the busiest window's count against the link's busiest hour outside it."""
    settings = settings or integrity_settings()
    if responses.empty or "submitted_at" not in responses or "link_id" not in responses:
        return ()
    t = _seconds(responses["submitted_at"])
    link = responses["link_id"]
    keep = np.isfinite(t) & link.notna().to_numpy()
    if not keep.any():
        return ()
    t = t[keep]
    codes, links = pd.factorize(link[keep].astype(str))
    school = responses["school_code"][keep].to_numpy(dtype=object)
    order = np.lexsort((t, codes))
    t, codes, school = t[order], codes[order], school[order]
    width = 60.0 * settings.burst_window_minutes
    origin = t.min()
    offset = (t.max() - origin) + 2 * width + 1.0
    key = codes * offset + (t - origin)
    count = np.searchsorted(key, key + width, side="left") - np.arange(len(key))

    per_row = pd.DataFrame({"link": codes, "count": count, "t": t})
    best = per_row.groupby("link", sort=True)["count"].idxmax()   # first busiest window per link
    n_link = np.bincount(codes, minlength=len(links))
    k = count[best.to_numpy()]
    start = t[best.to_numpy()]
    link_codes = best.index.to_numpy()
    start_of = np.full(len(links), np.nan)
    start_of[link_codes] = start
    inside = (t >= start_of[codes]) & (t < start_of[codes] + width)
    hours = np.floor(t / 3600.0)
    outside = pd.DataFrame({"link": codes[~inside], "hour": hours[~inside]})
    peak = outside.groupby(["link", "hour"]).size().groupby(level="link").max()
    peak_of = np.zeros(len(links))
    peak_of[peak.index.to_numpy()] = peak.to_numpy()
    expected = (peak_of[link_codes] + 1.0) / 60.0 * settings.burst_window_minutes
    n = n_link[link_codes]
    tested = k >= settings.burst_min_count
    if not tested.any():
        return ()
    raw = np.minimum(1.0, n * stats.poisson.sf(k - 2, expected))   # others in the window: ≥ k − 1
    adjusted = np.ones_like(raw)
    adjusted[tested] = adjust_p_values(raw[tested], settings.correction)

    # A link's school: the most frequent school code among its responses.
    by_school = pd.DataFrame({"link": codes, "school": school}).dropna()
    main_school = (by_school.groupby(["link", "school"]).size().sort_values(ascending=False, kind="stable")
                   .reset_index().drop_duplicates("link").set_index("link")["school"])
    flags = []
    for i in np.flatnonzero(tested & (adjusted <= settings.alpha)):
        code = int(link_codes[i])
        begin = pd.Timestamp(start[i], unit="s")
        end = begin + pd.Timedelta(minutes=settings.burst_window_minutes)
        school_code = main_school.get(code)
        flags.append(Flag(
            "burst", "link", str(links[code]), float(k[i]), float(expected[i]), float(adjusted[i]),
            f"二维码 {links[code]}{f'（学校 {school_code}）' if school_code else ''}在 "
            f"{begin:%m-%d %H:%M}–{end:%H:%M} 的 {settings.burst_window_minutes:g} 分钟内收到 {int(k[i])} 份问卷；"
            f"按该链接其余时间最忙一小时的节奏，{settings.burst_window_minutes:g} 分钟约 {expected[i]:.1f} 份"
            f"（该链接共 {int(n[i])} 份）。泊松检验 p = {_p(raw[i])}，多重比较校正后 p = {_p(adjusted[i])}。",
            raw_p_value=float(raw[i]), count=int(k[i]), total=int(n[i]),
            school_code=None if school_code is None else str(school_code)))
    return tuple(sorted(flags, key=lambda f: f.p_value))


# ----------------------------------------------------------------- identical answers

def free_text_codes(responses: pd.DataFrame) -> tuple[np.ndarray, pd.Index]:
    """Per row a code of its free text (NFKC, trimmed; missing = ""), and the texts coded."""
    if "free_text" not in responses:
        return np.zeros(len(responses), dtype=np.int64), pd.Index([""])
    # Normalised once per distinct text.
    codes, uniques = pd.factorize(responses["free_text"].astype("string").fillna(""))
    cleaned = pd.Series(uniques, dtype="string").str.normalize("NFKC").str.strip()
    recoded, texts = pd.factorize(cleaned)
    return (recoded[codes] if len(uniques) else codes), pd.Index(texts)


def identical_answer_flags(responses: pd.DataFrame, settings: IntegritySettings | None = None,
                           validity: pd.Series | np.ndarray | None = None) -> tuple[Flag, ...]:
    """Per school: an answer vector (nine items + free text) repeated far more often than predicted.

    Schools differ in how satisfied they are, and a school's level changes the
    frequency of whole answer vectors a lot (all-D vectors cluster in an unhappy
    school). So a vector is compared *within its composition* — how many A, B, C,
    D and E it holds: among the school's complete responses of that composition,
    the count giving exactly this arrangement and free text, against the other
    schools' share of it among theirs. Coaching (everyone told the same answers)
    repeats one arrangement; genuine satisfaction shifts compositions. All-A
    vectors differ only by their text here; their share is the ``all_a`` signal.
    Rows classified ``duplicate`` (when ``validity`` is given) are left out: a
    resubmission repeating its own answers is the duplicate signal's business.
    """
    settings = settings or integrity_settings()
    if responses.empty:
        return ()
    answers = answer_codes(responses).astype(np.int64)
    keep = (answers >= 0).all(axis=1) & responses["school_code"].notna().to_numpy()
    if validity is not None:
        keep &= np.asarray(validity, dtype=object) != "duplicate"
    if not keep.any():
        return ()
    powers = len(OPTIONS) ** np.arange(len(ITEMS), dtype=np.int64)
    text_code, texts = free_text_codes(responses)
    rows = pd.DataFrame({
        "school": responses["school_code"].to_numpy(dtype=object),
        "composition": np.sort(answers, axis=1) @ powers,
        "arrangement": answers @ powers,
        "text": text_code,
    })[keep]
    n_school = rows.groupby("school").size()
    cells = rows.groupby(["school", "composition"]).size().rename("m")
    pairs = rows.groupby(["school", "composition", "arrangement", "text"]).size().rename("x").reset_index()
    pairs["m"] = cells.reindex(pd.MultiIndex.from_frame(pairs[["school", "composition"]])).to_numpy()
    pairs["n"] = n_school.reindex(pairs["school"]).to_numpy()
    x = pairs["x"].to_numpy(dtype=float)
    m = pairs["m"].to_numpy(dtype=float)
    pairs["A"], pairs["B"] = x * x, x * m
    per_pattern = pairs.groupby(["composition", "arrangement", "text"])[["x", "A", "B"]].transform("sum")
    cell = cells.reset_index().astype({"m": float})
    cell["C"], cell["E"], cell["K"] = cell["m"] ** 2, cell["m"] ** 3, 1.0
    per_composition = cell.groupby("composition")[["m", "C", "E", "K"]].sum() \
        .reindex(pairs["composition"]).to_numpy()
    tested = (x >= settings.pattern_min_count) & (pairs["n"].to_numpy() >= settings.min_responses)
    if not tested.any():
        return ()
    totals = {"T": per_pattern["x"].to_numpy(), "A": per_pattern["A"].to_numpy(), "B": per_pattern["B"].to_numpy(),
              "N": per_composition[:, 0], "C": per_composition[:, 1], "E": per_composition[:, 2],
              "K": per_composition[:, 3]}
    p, rho, others = _leave_one_out(x[tested], m[tested], {k: v[tested] for k, v in totals.items()})
    raw = _upper_tail(x[tested], m[tested], p, rho, others)
    adjusted = adjust_p_values(raw, settings.correction)
    found = pairs[tested].assign(p=p, rho=rho, raw=raw, adjusted=adjusted)
    found = found[found["adjusted"] <= settings.alpha].sort_values(["adjusted", "x"], ascending=[True, False])
    found = found.drop_duplicates("school")   # the most significant vector of each school
    flags = []
    for row in found.itertuples(index=False):
        digits = (int(row.arrangement) // powers) % len(OPTIONS)
        letters = "".join(OPTIONS[d] for d in digits)
        makeup = "、".join(f"{letters.count(o)} 个 {o}" for o in OPTIONS if o in letters)
        comment = str(texts[row.text]) if len(texts) else ""
        expected = row.m * row.p
        flags.append(Flag(
            "identical_answers", "school", str(row.school), float(row.x), float(expected), float(row.adjusted),
            f"学校 {row.school} 答案构成为 {makeup} 的 {int(row.m)} 份完整问卷中，有 {int(row.x)} 份九题答案"
            f"（依次为 {letters}）与意见建议（{'“' + comment[:30] + '”' if comment else '空'}）完全相同；"
            f"其他学校同构成问卷中这一组合占 {_pct(row.p)}，预期约 {expected:.1f} 份。"
            f"{'二项' if row.rho == 0 else 'β-二项（校间差异 ρ = ' + format(row.rho, '.3f') + '）'}检验 "
            f"p = {_p(row.raw)}，多重比较校正后 p = {_p(row.adjusted)}。",
            raw_p_value=float(row.raw), count=int(row.x), total=int(row.m), school_code=str(row.school)))
    return tuple(flags)


# ----------------------------------------------------------------- shares per school

def _share_test(kind: str, school: pd.Series, hit: np.ndarray, considered: np.ndarray,
                settings: IntegritySettings, what: str, of_what: str) -> tuple[Flag, ...]:
    frame = pd.DataFrame({"school": school.to_numpy(dtype=object)[considered], "hit": hit[considered]}).dropna()
    if frame.empty:
        return ()
    counts = frame.groupby("school")["hit"].agg(["sum", "size"])
    x = counts["sum"].to_numpy(dtype=float)
    n = counts["size"].to_numpy(dtype=float)
    tested = n >= settings.min_responses
    if not tested.any():
        return ()
    p, rho, others = _leave_one_out(x, n, _totals(x, n))
    raw = _upper_tail(x, n, p, rho, others)
    raw = np.where(x / n > p, raw, 1.0)  # one-sided: only shares above the county's
    adjusted = np.ones_like(raw)
    adjusted[tested] = adjust_p_values(raw[tested], settings.correction)
    flags = []
    for i in np.flatnonzero(tested & (adjusted <= settings.alpha)):
        code = str(counts.index[i])
        flags.append(Flag(
            kind, "school", code, float(x[i] / n[i]), float(p[i]), float(adjusted[i]),
            f"学校 {code} 的 {int(n[i])} 份{of_what}中{what} {int(x[i])} 份，占 {_pct(x[i] / n[i])}；"
            f"其他学校为 {_pct(p[i])}。单侧{'二项' if rho[i] == 0 else 'β-二项（校间差异 ρ = ' + format(rho[i], '.3f') + '）'}检验 "
            f"p = {_p(raw[i])}，多重比较校正后 p = {_p(adjusted[i])}。",
            raw_p_value=float(raw[i]), count=int(x[i]), total=int(n[i]), school_code=code))
    return tuple(sorted(flags, key=lambda f: f.p_value))


def all_a_flags(responses: pd.DataFrame, validity: pd.Series | np.ndarray,
                settings: IntegritySettings | None = None) -> tuple[Flag, ...]:
    """Per school: the share of complete responses with A on all nine items, above the other schools'.

    ``validity`` is accepted for a uniform signature; every complete response counts.
    """
    settings = settings or integrity_settings()
    if responses.empty:
        return ()
    items = responses[list(ITEMS)].astype("string")
    complete = items.notna().all(axis=1).to_numpy()
    all_a = (items == "A").fillna(False).all(axis=1).to_numpy()
    return _share_test("all_a", responses["school_code"], all_a, complete, settings,
                       "九题全选“满意”(A)的", "完整问卷")


def share_flags(responses: pd.DataFrame, validity: pd.Series | np.ndarray,
                settings: IntegritySettings | None = None) -> tuple[Flag, ...]:
    """Per school: speeder and duplicate shares (as classified) above the other schools'."""
    settings = settings or integrity_settings()
    if responses.empty:
        return ()
    status = np.asarray(validity, dtype=object)
    every = np.ones(len(responses), dtype=bool)
    return (*_share_test("speeder", responses["school_code"], status == "speeder", every, settings,
                         "答题过快（用时不足下限）的", "问卷"),
            *_share_test("duplicate", responses["school_code"], status == "duplicate", every, settings,
                         "重复提交的", "问卷"))
