#!/usr/bin/env python3
"""Recompute evalrun's summary.json from the run's JSONL records, independently, and compare.

Usage: python3 scripts/verify_stats.py RUN_DIR        (needs numpy and scipy)

Every value under `models`, `paired` and `gsb` of RUN_DIR/summary.json is recomputed from
responses.jsonl, scores.jsonl and pairwise.jsonl, following the definitions of STATS.md (not evalrun's
code), with numpy/scipy where they implement the method:

- bootstrap: SplitMix64 in Python ints, index ((x >> 32) * n) >> 32, numpy type-7 quantiles;
- latency percentiles: numpy.percentile(method="inverted_cdf");
- Wilcoxon: scipy.stats.wilcoxon(d, zero_method="pratt", correction=False, method="asymptotic")
  (scipy reports z = -|z| and min(R+, R-), so |z| and p are compared, the sign of z against R+ - R-, and
  R+ against its own rank sum);
- sign test: scipy.stats.binomtest(G, G + B, 0.5); Wilson and Holm by formula.

Only the baseline, the margin, the bootstrap seed/resamples (params) and the prices (models.*.cost) are
taken from summary.json, as inputs. Values agree when |a - b| <= 1e-6 * max(1, |b|). Prints one verdict
line per section and exits 1 on any mismatch.
"""

import json
import math
import sys
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
from scipy import stats as sps

TOL = 1e-6
Z = sps.norm.ppf(0.975)
Z_BETA = sps.norm.ppf(0.80)
MASK = (1 << 64) - 1


# ---------------------------------------------------------------- inputs

def load_jsonl(path):
    """Records of a JSONL file; a torn (unparseable, unterminated) last line is ignored."""
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    out = []
    for i, line in enumerate(lines):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            if i == len(lines) - 1 and not text.endswith("\n"):
                break
            raise SystemExit(f"{path}:{i + 1}: invalid record")
    return out


def last_by_key(records, key):
    """A repeated key keeps the last line."""
    out = {}
    for r in records:
        out[key(r)] = r
    return out


# ---------------------------------------------------------------- methods

def splitmix64(seed):
    state = seed & MASK
    while True:
        state = (state + 0x9E3779B97F4A7C15) & MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        yield z ^ (z >> 31)


_INDEX_CACHE = {}


def boot_indices(n, seed, resamples):
    key = (n, seed, resamples)
    if key not in _INDEX_CACHE:
        g = splitmix64(seed)
        _INDEX_CACHE[key] = [((next(g) >> 32) * n) >> 32 for _ in range(n * resamples)]
    return _INDEX_CACHE[key]


def boot_ci(values, seed, resamples, confidence=0.95):
    """Percentile bootstrap of the mean (STATS.md §5); values in item order."""
    n = len(values)
    idx = boot_indices(n, seed, resamples)
    means = []
    for b in range(resamples):
        s = 0.0
        for t in range(b * n, (b + 1) * n):
            s += values[idx[t]]
        means.append(s / n)
    alpha = 1.0 - confidence
    lo, hi = np.quantile(np.array(means), [alpha / 2, 1 - alpha / 2])  # type 7
    return float(lo), float(hi)


def wilson(k, n):
    if n == 0:
        return None, None
    p = k / n
    denom = 1 + Z * Z / n
    centre = (p + Z * Z / (2 * n)) / denom
    half = Z / denom * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def holm(ps):
    m = len(ps)
    order = sorted(range(m), key=lambda i: ps[i])
    out = [0.0] * m
    running = 0.0
    for j, i in enumerate(order):
        running = max(running, min(1.0, (m - j) * ps[i]))
        out[i] = running
    return out


def describe(values):
    n = len(values)
    if n == 0:
        return None, None, None
    a = np.array(values, dtype=float)
    mean = float(np.mean(a))
    if n < 2:
        return mean, None, None
    sd = float(np.std(a, ddof=1))
    return mean, sd, sd / math.sqrt(n)


def ratio(a, b):
    return None if b == 0 else a / b


# ---------------------------------------------------------------- comparison

class Section:
    def __init__(self, name):
        self.name, self.checked, self.errors = name, 0, []

    def eq(self, path, got, want):
        self.checked += 1
        if want is None or got is None or isinstance(want, (bool, str)) or isinstance(got, (bool, str)):
            ok = got == want
        elif isinstance(want, int) and isinstance(got, int):
            ok = got == want
        else:
            ok = abs(float(got) - float(want)) <= TOL * max(1.0, abs(float(want)))
        if not ok:
            self.errors.append(f"{path}: summary {got!r}, recomputed {want!r}")

    def keys(self, path, got, want):
        self.checked += 1
        if set(got) != set(want):
            self.errors.append(f"{path}: keys {sorted(got)} != recomputed {sorted(want)}")

    def report(self):
        if self.errors:
            print(f"{self.name}: MISMATCH ({len(self.errors)} of {self.checked} checks)")
            for e in self.errors[:20]:
                print(f"    {e}")
            return False
        print(f"{self.name}: ok ({self.checked} values agree to {TOL:g})")
        return True


# ---------------------------------------------------------------- recomputation

def item_scores(scores, model):
    """{dim: {item: mean of non-null sample scores}} and {dim: (n_scores, n_null)}."""
    samples = defaultdict(lambda: defaultdict(list))
    counts = defaultdict(lambda: [0, 0])
    for (m, item, sample), rec in sorted(scores.items(), key=lambda kv: kv[0]):
        if m != model:
            continue
        for dim, ds in rec["dimensions"].items():
            s = ds.get("score")
            if s is None:
                counts[dim][1] += 1
            else:
                counts[dim][0] += 1
                samples[dim][item].append(float(s))
    out = {}
    for dim, per_item in samples.items():
        out[dim] = {}
        for item, xs in per_item.items():
            total = 0.0
            for x in xs:
                total += x
            out[dim][item] = total / len(xs)
    return out, counts


def check_models(summary, responses, scores, sec):
    seed, B = summary["params"]["seed"], summary["params"]["resamples"]
    all_dims = sorted({d for rec in scores.values() for d in rec["dimensions"]})
    with_records = {k[0] for k in responses} | {k[0] for k in scores}
    missing = with_records - set(summary["models"])
    if missing:
        sec.errors.append(f"models with records missing from summary: {sorted(missing)}")
    per_model_items = {}
    for m, got in summary["models"].items():
        iscores, counts = item_scores(scores, m)
        per_model_items[m] = iscores
        sec.keys(f"models.{m}.dimensions", got["dimensions"], all_dims)
        for dim in all_dims:
            g = got["dimensions"].get(dim, {})
            items = iscores.get(dim, {})
            values = [items[i] for i in sorted(items)]
            mean, sd, se = describe(values)
            lo, hi = boot_ci(values, seed, B) if len(values) >= 2 else (None, None)
            want = {"n_items": len(values), "n_scores": counts[dim][0], "n_null": counts[dim][1],
                    "mean": mean, "sd": sd, "se": se, "ci95_low": lo, "ci95_high": hi}
            for k, v in want.items():
                sec.eq(f"models.{m}.dimensions.{dim}.{k}", g.get(k), v)

        rules = defaultdict(lambda: [0, 0])
        for (mm, _, _), rec in scores.items():
            if mm == m:
                for rid, out in rec["rules"].items():
                    rules[rid][0] += 1
                    rules[rid][1] += bool(out["pass"])
        sec.keys(f"models.{m}.rules", got["rules"], rules)
        for rid, (n, passed) in rules.items():
            g = got["rules"].get(rid, {})
            lo, hi = wilson(passed, n)
            want = {"n": n, "passed": passed, "pass_rate": ratio(passed, n),
                    "wilson95_low": lo, "wilson95_high": hi}
            for k, v in want.items():
                sec.eq(f"models.{m}.rules.{rid}.{k}", g.get(k), v)

        mine = [r for (mm, _, _), r in responses.items() if mm == m]
        population = [r for r in mine if r.get("error") is None and r.get("cached") is not True]
        for field in ("ttft_ms", "total_ms"):
            xs = np.array([r[field] for r in population if r.get(field) is not None], dtype=float)
            g = got["latency"][field]
            sec.eq(f"models.{m}.latency.{field}.n", g["n"], len(xs))
            for k, P in (("p50", 50), ("p90", 90), ("p99", 99)):
                want = float(np.percentile(xs, P, method="inverted_cdf")) if len(xs) else None
                sec.eq(f"models.{m}.latency.{field}.{k}", g[k], want)
            sec.eq(f"models.{m}.latency.{field}.mean", g["mean"], float(np.mean(xs)) if len(xs) else None)

        errs = [r for r in mine if r.get("error") is not None]
        g = got["errors"]
        sec.eq(f"models.{m}.errors.n_responses", g["n_responses"], len(mine))
        sec.eq(f"models.{m}.errors.n_errors", g["n_errors"], len(errs))
        sec.eq(f"models.{m}.errors.error_rate", g["error_rate"], ratio(len(errs), len(mine)))
        sec.eq(f"models.{m}.errors.n_cached", g["n_cached"], sum(1 for r in mine if r.get("cached") is True))
        kinds = Counter(r["error"]["kind"] for r in errs)
        sec.keys(f"models.{m}.errors.by_kind", g["by_kind"], kinds)
        for kind, c in kinds.items():
            sec.eq(f"models.{m}.errors.by_kind.{kind}", g["by_kind"].get(kind), c)

        g = got["cost"]
        pt = sum(r.get("prompt_tokens") or 0 for r in mine)
        ct = sum(r.get("completion_tokens") or 0 for r in mine)
        sec.eq(f"models.{m}.cost.prompt_tokens", g["prompt_tokens"], pt)
        sec.eq(f"models.{m}.cost.completion_tokens", g["completion_tokens"], ct)
        pin, pout = g.get("price_input_per_1k"), g.get("price_output_per_1k")
        total = None if pin is None or pout is None else (pt * pin + ct * pout) / 1000
        n_items = len({r["item_id"] for r in mine})
        sec.eq(f"models.{m}.cost.total", g["total"], total)
        sec.eq(f"models.{m}.cost.per_item", g["per_item"], None if total is None else ratio(total, n_items))
        sec.eq(f"models.{m}.cost.per_1k_tokens", g["per_1k_tokens"],
               None if total is None else ratio(total * 1000, pt + ct))

        timed = [r for r in population if r.get("ttft_ms") is not None and r.get("total_ms") is not None
                 and r.get("completion_tokens") is not None]
        secs = sum(r["total_ms"] - r["ttft_ms"] for r in timed) / 1000
        tps = sum(r["completion_tokens"] for r in timed) / secs if timed and secs > 0 else None
        sec.eq(f"models.{m}.output_tokens_per_s", got["output_tokens_per_s"], tps)
    return all_dims, per_model_items


def check_paired(summary, all_dims, per_model_items, sec):
    seed, B = summary["params"]["seed"], summary["params"]["resamples"]
    baseline, margin = summary["params"]["baseline"], summary["params"]["margin"]
    candidates = [m for m in summary["models"] if m != baseline]
    sec.keys("paired", summary["paired"], candidates)
    expected, family = {}, []
    for c in candidates:
        sec.keys(f"paired.{c}", summary["paired"].get(c, {}), all_dims)
        for dim in all_dims:
            sc = per_model_items.get(c, {}).get(dim, {})
            sb = per_model_items.get(baseline, {}).get(dim, {})
            common = sorted(set(sc) & set(sb))
            d = [round(sc[i] - sb[i], 9) for i in common]
            mean, sd, se = describe(d)
            lo, hi = boot_ci(d, seed, B) if len(d) >= 2 else (None, None)
            want = {"n_pairs": len(d), "mean_diff": mean, "sd_diff": sd, "se_diff": se,
                    "ci95_low": lo, "ci95_high": hi,
                    "n_pos": sum(x > 0 for x in d), "n_neg": sum(x < 0 for x in d),
                    "n_zero": sum(x == 0 for x in d),
                    "mde80": None if sd is None else (Z + Z_BETA) * sd / math.sqrt(len(d)),
                    "non_inferior": None if lo is None else lo > -margin}
            got = summary["paired"].get(c, {}).get(dim, {})
            if not d:
                want.update(wilcoxon_r_plus=None, wilcoxon_z=None, wilcoxon_p=None)
            else:
                a = np.array(d)
                ranks = sps.rankdata(np.abs(a))
                r_plus, r_minus = float(ranks[a > 0].sum()), float(ranks[a < 0].sum())
                want["wilcoxon_r_plus"] = r_plus
                if np.all(a == 0):
                    want.update(wilcoxon_z=0.0, wilcoxon_p=1.0)
                else:
                    res = sps.wilcoxon(a, zero_method="pratt", correction=False, method="asymptotic")
                    z = abs(float(res.zstatistic)) * (1 if r_plus > r_minus else -1 if r_plus < r_minus else 0)
                    want.update(wilcoxon_z=z, wilcoxon_p=float(res.pvalue))
                family.append((c, dim, want["wilcoxon_p"]))
            expected[(c, dim)] = want
            for k, v in want.items():
                sec.eq(f"paired.{c}.{dim}.{k}", got.get(k), v)
    adjusted = holm([p for _, _, p in family])
    holm_of = {(c, dim): a for (c, dim, _), a in zip(family, adjusted)}
    for (c, dim) in expected:
        got = summary["paired"].get(c, {}).get(dim, {})
        sec.eq(f"paired.{c}.{dim}.wilcoxon_p_holm", got.get("wilcoxon_p_holm"), holm_of.get((c, dim)))


def check_gsb(summary, pairs, sec):
    baseline = summary["params"]["baseline"]
    per_cand = defaultdict(list)
    for (c, b, _), rec in pairs.items():
        if b == baseline and c != baseline:
            per_cand[c].append(rec)
    sec.keys("gsb", summary["gsb"], per_cand)
    expected = {}
    for c, lines in per_cand.items():
        cnt = Counter(r["verdict"] for r in lines)
        G, S, Bn = cnt["G"], cnt["S"], cnt["B"]
        N, D = G + S + Bn, G + Bn
        lo, hi = wilson(G, D)
        both = [r for r in lines if r.get("first_order") is not None and r.get("second_order") is not None]

        def rule(f, s):
            return f if f == s and f in ("G", "B") else "S"

        want = {"baseline": baseline, "G": G, "S": S, "B": Bn, "N": N,
                "win_rate": ratio(G + 0.5 * S, N),
                "sign_test_p": float(sps.binomtest(G, D, 0.5).pvalue) if D else 1.0,
                "decisive_win_share": ratio(G, D), "wilson95_low": lo, "wilson95_high": hi,
                "win_rate_ci95_low": None if lo is None else 0.5 + (D / N) * (lo - 0.5),
                "win_rate_ci95_high": None if hi is None else 0.5 + (D / N) * (hi - 0.5),
                "mde80_win_rate": None if D == 0 else 0.5 * (Z + Z_BETA) * math.sqrt(D) / N,
                "n_both_orders": len(both),
                "n_order_disagree": sum(r["first_order"] != r["second_order"] for r in both),
                "n_verdict_rule_mismatch": sum(r["verdict"] != rule(r["first_order"], r["second_order"])
                                               for r in both)}
        expected[c] = want
        got = summary["gsb"].get(c, {})
        for k, v in want.items():
            sec.eq(f"gsb.{c}.{k}", got.get(k), v)
    names = list(expected)
    for c, a in zip(names, holm([expected[c]["sign_test_p"] for c in names])):
        sec.eq(f"gsb.{c}.sign_test_p_holm", summary["gsb"].get(c, {}).get("sign_test_p_holm"), a)


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    run = Path(argv[1])
    summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    responses = last_by_key(load_jsonl(run / "responses.jsonl"),
                            lambda r: (r["model"], r["item_id"], r["sample"]))
    scores = last_by_key(load_jsonl(run / "scores.jsonl"),
                         lambda r: (r["model"], r["item_id"], r["sample"]))
    pairs = last_by_key(load_jsonl(run / "pairwise.jsonl"),
                        lambda r: (r["candidate"], r["baseline"], r["item_id"]))

    sections = [Section("schema"), Section("models"), Section("paired"), Section("gsb")]
    sections[0].eq("schema", summary.get("schema"), "evalrun-stats/1")
    all_dims, per_model_items = check_models(summary, responses, scores, sections[1])
    check_paired(summary, all_dims, per_model_items, sections[2])
    check_gsb(summary, pairs, sections[3])
    ok = all([s.report() for s in sections])
    print("verdict: summary.json agrees with the records" if ok else "verdict: MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
