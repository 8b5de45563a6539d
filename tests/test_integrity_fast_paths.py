"""The integrity signals' vectorised internals (issue 25, "speed where people wait") equal a straightforward
reference — per-row Python and pandas groupbys on the school codes as written — on random counties from the
benchmark's generator, some rows made messy (no school, an empty school code, no group, no link, no device).
Compared answer by answer: every count, baseline, p-value, evidence and row of every candidate."""

import numpy as np
import pandas as pd
import pytest

from benchmarks.integrity_signals import PATTERNS, generate_campaign
from scoring import integrity as I
from scoring.profile import ITEMS, load_profile
from scoring.recognition import OPTIONS, classify_validity, evaluate_rate

PROFILE = load_profile()
SETTINGS = I.integrity_settings()


def _county(seed: int, without_group: bool = True) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    patterns = tuple((PATTERNS[(seed + k) % len(PATTERNS)], float(rng.choice([0.3, 0.6, 0.9]))) for k in range(4))
    frame = generate_campaign(seed, 14, patterns=patterns, size_scale=0.6).responses.copy()
    validity = np.asarray(classify_validity(frame, PROFILE), dtype=object)
    messy = rng.random(len(frame))
    frame.loc[messy < 0.02, "school_code"] = None
    frame.loc[(messy >= 0.02) & (messy < 0.04), "school_code"] = ""
    frame["group"] = frame["group"].astype(object)
    frame.loc[(messy >= 0.04) & (messy < 0.05) & without_group, "group"] = None
    frame.loc[(messy >= 0.05) & (messy < 0.06), "link_id"] = ""
    frame.loc[(messy >= 0.06) & (messy < 0.07), "device_hash"] = ""
    frame.loc[(messy >= 0.07) & (messy < 0.08), "device_hash"] = frame["device_hash"].iloc[0]
    return frame, validity


def _schools(frame: pd.DataFrame) -> np.ndarray:
    """School codes as written (None when missing or empty), one Python object per row."""
    return np.array([s if isinstance(s, str) and s else None for s in frame["school_code"].astype(object)],
                    dtype=object)


def _mode(values) -> str | None:
    values = [str(v) for v in values if v is not None and v == v and v != ""]
    if not values:
        return None
    codes, counts = np.unique(np.array(values, dtype=object).astype(str), return_counts=True)
    return str(codes[np.argmax(counts)])


SEEDS = [0, 1, 2, 3]


@pytest.mark.parametrize("seed", SEEDS)
def test_schools_groups_and_links_are_coded_as_written(seed):
    frame, validity = _county(seed)
    f = I._prepare(frame, validity, SETTINGS)
    school = _schools(frame)
    assert [None if c < 0 else f.schools[c] for c in f.school] == school.tolist()
    group = frame["group"].astype(str).to_numpy(dtype=object)
    assert [None if c < 0 else f.groups[c] for c in f.group] == [None if g != g else g for g in group]
    links = I._links(frame)
    # Reference: keep timed rows with a link, number the links as they first appear, sort by (link, time).
    t = I._seconds(frame["submitted_at"])
    link = frame["link_id"]
    keep = np.isfinite(t) & link.notna().to_numpy() & (link.astype(str) != "").to_numpy()
    positions = np.flatnonzero(keep)
    codes, names = pd.factorize(link.iloc[positions].astype(str))
    expected = [(str(names[c]), positions[codes == c][np.argsort(t[positions][codes == c], kind="stable")])
                for c in range(len(names))]
    assert [(name, pos.tolist()) for name, pos, _ in links] == [(name, pos.tolist()) for name, pos in expected]
    for name, pos, tt in links:
        assert I._school_of(f, pos) == _mode(school[pos])
        assert (I._group_of(f, pos) or "") == (_mode(group[pos]) or "")
        assert tt.tolist() == t[pos].tolist()


@pytest.mark.parametrize("seed", SEEDS)
def test_busiest_windows_and_new_devices_equal_the_row_by_row_reference(seed):
    rng = np.random.default_rng(seed)
    for n in (0, 1, 30, 400):
        tt = np.sort(np.round(rng.exponential(120.0, n).cumsum() * rng.choice([1.0, 0.05], n)))
        tt.sort()
        for width, how_many, min_count in ((900.0, 24, 10), (5400.0, 2, 3), (60.0, 5, 1)):
            count = np.searchsorted(tt, tt + width, side="left") - np.arange(n)
            free, chosen = np.ones(n, dtype=bool), []
            for _ in range(how_many):
                masked = np.where(free, count, -1)
                if not n or masked.max() < min_count:
                    break
                i = int(np.argmax(masked))
                chosen.append((i, i + int(count[i])))
                free &= (tt >= tt[i] + width) | (tt + width <= tt[i])
            assert I._windows(tt, width, how_many, min_count) == chosen
    frame, validity = _county(seed)
    f = I._prepare(frame, validity, SETTINGS)
    t = I._seconds(frame["submitted_at"])
    seen, first = set(), []
    for i in sorted(range(len(frame)), key=lambda i: (t[i] if np.isfinite(t[i]) else np.inf, i)):
        device = frame["device_hash"].iloc[i]
        known = isinstance(device, str) and device != ""
        first.append((i, not (known and device in seen)))
        seen.add(device)
    assert I._new_devices(frame, f).tolist() == [new for _, new in sorted(first)]


def _identical_reference(frame, f, settings):
    """Per school, its most significant repeated vector: pandas groupbys on the school codes as written."""
    school = _schools(frame)
    keep = f.complete & np.array([s is not None for s in school]) & (f.status != "duplicate")
    powers = len(OPTIONS) ** np.arange(len(ITEMS), dtype=np.int64)
    text_code, texts = I.free_text_codes(frame)
    rows = pd.DataFrame({"school": school, "composition": np.sort(f.answers, axis=1) @ powers,
                         "arrangement": f.answers @ powers, "text": text_code,
                         "position": np.arange(len(frame))})[keep]
    cells = rows.groupby(["school", "composition"]).size().rename("m")
    pairs = rows.groupby(["school", "composition", "arrangement", "text"]).size().rename("x").reset_index()
    pairs["m"] = cells.reindex(pd.MultiIndex.from_frame(pairs[["school", "composition"]])).to_numpy()
    pairs["n"] = rows.groupby("school").size().reindex(pairs["school"]).to_numpy()
    x, m = pairs["x"].to_numpy(float), pairs["m"].to_numpy(float)
    tested = (x >= settings.pattern_min_count) & (pairs["n"].to_numpy() >= settings.min_responses)
    cell = cells.reset_index().astype({"m": float})
    per_composition = cell.assign(C=cell["m"] ** 2, E=cell["m"] ** 3, K=1.0) \
        .groupby("composition")[["m", "C", "E", "K"]].sum().reindex(pairs["composition"]).to_numpy()
    trimmed = np.zeros(len(pairs), dtype=bool)
    for _ in range(2):
        parts = pairs.assign(xx=x * ~trimmed, A=x * x * ~trimmed, B=x * m * ~trimmed, tm=m * trimmed,
                             tC=m * m * trimmed, tE=m ** 3 * trimmed, tK=1.0 * trimmed)
        per = parts.groupby(["composition", "arrangement", "text"])[["xx", "A", "B", "tm", "tC", "tE", "tK"]] \
            .transform("sum")
        t = {"T": per["xx"].to_numpy(), "A": per["A"].to_numpy(), "B": per["B"].to_numpy(),
             "N": per_composition[:, 0] - per["tm"].to_numpy(), "C": per_composition[:, 1] - per["tC"].to_numpy(),
             "E": per_composition[:, 2] - per["tE"].to_numpy(), "K": per_composition[:, 3] - per["tK"].to_numpy()}
        t = {k: v[tested] for k, v in t.items()}
        p, rho, others = I._leave_one_out(x[tested], m[tested], t, ~trimmed[tested])
        raw = np.where(x[tested] / m[tested] > p, I._upper_tail(x[tested], m[tested], p, rho, others), 1.0)
        trimmed = np.zeros(len(pairs), dtype=bool)
        trimmed[np.flatnonzero(tested)[raw < settings.trim_p]] = True
    found = pairs[tested].assign(p=p, rho=rho, raw=raw).sort_values(["raw", "x"], ascending=[True, False]) \
        .drop_duplicates("school")
    out = []
    for row in found.itertuples(index=False):
        mine = rows[(rows["school"] == row.school) & (rows["composition"] == row.composition)
                    & (rows["arrangement"] == row.arrangement) & (rows["text"] == row.text)]
        out.append((row.school, int(row.x), int(row.m), float(row.p), float(row.rho), float(row.raw),
                    str(texts[row.text]), tuple(mine["position"].tolist())))
    return out


@pytest.mark.parametrize("seed", SEEDS)
def test_identical_answers_equal_the_groupby_reference(seed):
    frame, validity = _county(seed)
    # Repeated vectors in a few schools so that some are tested and flagged.
    rng = np.random.default_rng(seed)
    for code in rng.choice(frame["school_code"].dropna().unique(), 3, replace=False):
        rows = np.flatnonzero((frame["school_code"] == code).to_numpy())[:12]
        frame.loc[frame.index[rows], list(ITEMS)] = frame.loc[frame.index[rows[0]], list(ITEMS)].to_numpy()
    f = I._prepare(frame, validity, SETTINGS)
    found = I._identical_candidates(frame, f, SETTINGS)
    got = [(c.flag.school_code, int(c.flag.figure), c.flag.total, c.flag.baseline, c.raw, c.flag.rows) for c in found]
    expected = [(s, x, m, m * p, raw, rows) for s, x, m, p, rho, raw, text, rows in _identical_reference(frame, f, SETTINGS)]
    assert got == expected
    assert any(raw < SETTINGS.trim_p for *_, raw, _ in got)


@pytest.mark.parametrize("seed", SEEDS)
def test_school_and_group_shares_equal_the_groupby_reference(seed):
    frame, validity = _county(seed)
    f = I._prepare(frame, validity, SETTINGS)
    school = _schools(frame)
    group = frame["group"].astype(str).to_numpy(dtype=object)
    use = f.complete & np.array([s is not None for s in school])
    part = pd.DataFrame({"school": school[use], "group": group[use], "all_a": f.all_a[use], "near_a": f.near_a[use],
                         "position": np.flatnonzero(use)})
    got = {(c.flag.kind, c.flag.school_code, c.flag.total): c for c in I._mix_candidates(f, SETTINGS)}
    expected = 0
    for g, rows in part.groupby("group"):
        counts = rows.groupby("school")[["all_a", "near_a"]].agg(["sum", "size"])
        n = counts[("all_a", "size")].to_numpy(dtype=float)
        baselines = I._mix_baselines(counts[("all_a", "sum")], counts[("near_a", "sum")], n, SETTINGS)
        for i, code in enumerate(counts.index):
            if n[i] < SETTINGS.min_responses:
                continue
            raws = {c: float(np.where(counts[(c, "sum")].iloc[i] / n[i] > p[i],
                                      I._upper_tail(counts[(c, "sum")].to_numpy(float), n, p, rho, others)[i], 1.0))
                    for c, (p, rho, others) in baselines.items()}
            kind = min(raws, key=raws.get)
            flag = [c for (k, s, total), c in got.items() if k == kind and s == code and total == n[i]
                    and I.names.GROUPS.get(g, g) in c.flag.evidence]
            assert len(flag) == 1
            assert flag[0].raw == min(1.0, 2 * raws[kind])
            assert flag[0].flag.baseline == baselines[kind][0][i]
            assert flag[0].flag.rows == tuple(rows.loc[(rows["school"] == code) & rows[kind], "position"])
            expected += 1
    assert expected == len(got) > 0
    for kind, hit in (("speeder", f.status == "speeder"), ("duplicate", f.status == "duplicate")):
        shares = I._share_candidates(kind, f, hit, np.ones(len(frame), dtype=bool), SETTINGS, "", "", trim=False)
        per = pd.DataFrame({"school": school, "hit": hit, "position": np.arange(len(frame))})[school != None]  # noqa: E711
        counts = per.groupby("school")["hit"].agg(["sum", "size"])
        tested = counts[counts["size"] >= SETTINGS.min_responses]
        assert [c.flag.school_code for c in shares] == tested.index.tolist()
        assert [(c.flag.count, c.flag.total) for c in shares] == list(zip(tested["sum"], tested["size"]))
        assert [c.flag.rows for c in shares] == [tuple(per.loc[(per["school"] == s) & per["hit"], "position"])
                                                 for s in tested.index]


@pytest.mark.parametrize("seed", SEEDS)
def test_the_sensitivity_figure_is_the_rate_evaluated_with_the_flagged_answers_set_aside(seed):
    frame, validity = _county(seed, without_group=False)   # the rate needs every answer's group
    report = I.integrity_report(frame, validity, SETTINGS, PROFILE)
    status = pd.Series(validity, index=frame.index, dtype=object)
    aside = np.zeros(len(frame), dtype=bool)
    aside[sorted({r for flag in report.flags for r in flag.rows})] = True
    aside &= validity == "valid"
    before, after = evaluate_rate(frame, PROFILE, status), evaluate_rate(frame, PROFILE, status.where(~aside, "set_aside"))
    s = report.sensitivity
    assert (s.rate, s.lower_bound, s.rate_set_aside, s.lower_bound_set_aside, s.set_aside) == \
        (before.rate, before.lower_bound_95, after.rate, after.lower_bound_95, int(aside.sum()))
