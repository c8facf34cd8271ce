#!/usr/bin/env python3
"""Recompute evalrun's summary.json v2 (schema evalrun-stats/2) from the run's records, independently.

Usage: python3 scripts/verify_stats.py RUN_DIR        (needs numpy and scipy)

Every value under `models`, `paired` (every reference), `ranking`, `gsb`, `judge`, `human` and `panel` of
RUN_DIR/summary.json is recomputed from items.jsonl, responses.jsonl, scores.jsonl, pairwise.jsonl and
judgements.jsonl (and human.jsonl) following STATS.md v2 and the README's judge-vs-people and judge-panel definitions (not evalrun's
code), with scipy where it implements the method
(t.ppf/sf, norm.ppf, binomtest, wilcoxon, spearmanr) and numpy percentiles (inverted_cdf).

Taken from summary.json as inputs only: params.references.baseline, params.alpha, params.scales,
params.margins, params.cluster_key, the prices (models.*.cost.price_*, judge.cost.price_* of one judge;
a judge panel's prices from manifest.json's judge_model and judge_panel entries) and a configured flagship (checked against the list-price rule when it is not configured). Values agree when
|a - b| <= 1e-6 * max(1, |b|). Prints one verdict line per section and exits 1 on any mismatch.
"""

import json
import math
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
from scipy import stats as sps

TOL = 1e-6
EPS = 1e-12
Z975 = sps.norm.ppf(0.975)
Z80 = sps.norm.ppf(0.80)


# ---------------------------------------------------------------- inputs

def load_jsonl(path):
    """Records of a JSONL file; an unparseable last line is ignored."""
    if not path.exists():
        return []
    lines = [l for l in path.read_text(encoding="utf-8").split("\n")]
    while lines and not lines[-1].strip():
        lines.pop()
    out = []
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            if i == len(lines) - 1:
                break
            raise SystemExit(f"{path}:{i + 1}: invalid record")
    return out


def last_by_key(records, key):
    out = {}
    for r in records:
        out[key(r)] = r
    return out


def bkey(s):
    """Ascending byte order of item_id."""
    return s.encode("utf-8")


# ---------------------------------------------------------------- methods (STATS.md §2)

def estimate(x, labels=None):
    n = len(x)
    if n == 0:
        return dict(n=0, C=0, mean=None, sd=None, se=None, df=None)
    x = np.asarray(x, dtype=float)
    mean = float(x.mean())
    sd = float(np.std(x, ddof=1)) if n >= 2 else None
    naive = sd / math.sqrt(n) if sd is not None else None
    if labels is None:
        C, se = n, naive
    else:
        sums = defaultdict(float)
        for v, l in zip(x, labels):
            sums[l] += v - mean
        C = len(sums)
        se = None
        if C >= 2:
            se = math.sqrt(C / (C - 1) * sum(e * e for e in sums.values())) / n
            se = max(se, naive or 0.0)
    if C < 2:
        se = None
    return dict(n=n, C=C, mean=mean, sd=sd, se=se, df=C - 1 if C >= 2 else None)


def wilson(k, n):
    if n == 0:
        return None
    z2 = Z975 ** 2
    c = (k + z2 / 2) / (n + z2)
    h = Z975 * math.sqrt(k * (n - k) / n + z2 / 4) / (n + z2)
    return (0.0 if k == 0 else max(0.0, c - h), 1.0 if k == n else min(1.0, c + h))


def interval(e, kind, lo=None, hi=None):
    if e["mean"] is None or e["se"] is None:
        return None
    m, se = e["mean"], e["se"]
    if se <= EPS:
        if kind == "share" and (m <= EPS or m >= 1 - EPS):
            ci = wilson(round(e["n"] * m), e["n"])
        else:
            ci = (m, m)
    else:
        h = sps.t.ppf(0.975, e["df"]) * se
        ci = (m - h, m + h)
    if kind == "scale" and lo is not None:
        ci = (min(max(ci[0], lo), hi), min(max(ci[1], lo), hi))
    if kind == "share":
        ci = (min(max(ci[0], 0.0), 1.0), min(max(ci[1], 0.0), 1.0))
    return ci


def test0(e, x):
    """Two-sided test of 0: (status, t, p)."""
    if e["mean"] is None or e["se"] is None:
        return "not tested", None, None
    if e["se"] > EPS:
        t = e["mean"] / e["se"]
        return "run", t, float(2 * sps.t.sf(abs(t), e["df"]))
    if abs(e["mean"]) > EPS:
        pos = sum(1 for v in x if v > 0)
        neg = sum(1 for v in x if v < 0)
        return "run", None, float(sps.binomtest(pos, pos + neg, 0.5).pvalue)
    return "no variation", None, None


def holm(ps):
    """Holm over the non-None p-values; returns (adjusted list with None kept, m)."""
    idx = [i for i, p in enumerate(ps) if p is not None]
    m = len(idx)
    order = sorted(idx, key=lambda i: ps[i])
    adj = [None] * len(ps)
    run = 0.0
    for j, i in enumerate(order):
        run = max(run, min(1.0, (m - j) * ps[i]))
        adj[i] = run
    return adj, m


def mult(alpha, m):
    return sps.norm.ppf(1 - alpha / (2 * max(m, 1))) + Z80


def ceil_size(x):
    return math.ceil(x - 1e-9)


def ratio(a, b):
    return None if b == 0 else a / b


# ---------------------------------------------------------------- comparison

class Section:
    def __init__(self, name):
        self.name, self.n, self.bad = name, 0, []

    def eq(self, path, got, want):
        self.n += 1
        if isinstance(want, bool) or isinstance(got, bool) or isinstance(want, str) or isinstance(got, str) \
                or isinstance(want, list):
            ok = got == want
        elif want is None or got is None:
            ok = got is None and want is None
        else:
            ok = abs(got - want) <= TOL * max(1.0, abs(want))
        if not ok:
            self.bad.append(f"{path}: summary {got!r}, recomputed {want!r}")

    def report(self):
        status = "agree" if not self.bad else f"{len(self.bad)} MISMATCH"
        print(f"{self.name}: {self.n} values, {status}")
        for b in self.bad[:20]:
            print("   ", b)
        return not self.bad


# ---------------------------------------------------------------- per model

def cluster_labels(items, cluster_key):
    if not cluster_key:
        return None
    out = {}
    for it in items:
        v = it
        for part in cluster_key.split("."):
            v = v.get(part) if isinstance(v, dict) else None
            if v is None:
                break
        if v is not None:
            out[it["id"]] = "v" + json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return out


def labels_for(items, clusters):
    if clusters is None:
        return None
    return [clusters.get(i, "i" + i) for i in items]


def item_table(scores):
    """(model, dim) → {item: [non-null sample scores]} (item with only nulls → empty list)."""
    t = defaultdict(lambda: defaultdict(list))
    for (m, item, _s), r in scores.items():
        for d, v in (r.get("dimensions") or {}).items():
            lst = t[(m, d)][item]
            if v.get("score") is not None:
                lst.append(float(v["score"]))
    return t


def item_scores(table, m, d):
    """Sorted [(item, score, k, samples)] for items with a non-null sample."""
    out = []
    for item in sorted(table.get((m, d), {}), key=bkey):
        xs = table[(m, d)][item]
        if xs:
            out.append((item, sum(xs) / len(xs), len(xs), xs))
    return out


def var_within(rows):
    ss = sum(sum((x - s) ** 2 for x in xs) for _i, s, k, xs in rows if k >= 2)
    dof = sum(k - 1 for _i, _s, k, _xs in rows if k >= 2)
    return ss / dof if dof > 0 else None


def check_models(S, responses, scores, table, dims, clusters, sec):
    scales = S["params"]["scales"]
    overall = {}
    for m, ms in S["models"].items():
        for d in dims:
            rows = item_scores(table, m, d)
            got = ms["dimensions"].get(d)
            if got is None:
                sec.eq(f"models.{m}.dimensions.{d}", None, "present")
                continue
            x = [r[1] for r in rows]
            e = estimate(x, labels_for([r[0] for r in rows], clusters))
            lo, hi = scales.get(d, (None, None))
            ci = interval(e, "scale" if d in scales else "free", lo, hi)
            n_scores = sum(1 for (mm, _i, _s), r in scores.items() if mm == m
                           for dd, v in (r.get("dimensions") or {}).items() if dd == d and v.get("score") is not None)
            n_null = sum(1 for (mm, _i, _s), r in scores.items() if mm == m
                         for dd, v in (r.get("dimensions") or {}).items() if dd == d and v.get("score") is None)
            p = f"models.{m}.dimensions.{d}"
            for k, want in [("n_items", e["n"]), ("n_clusters", e["C"]), ("n_scores", n_scores),
                            ("n_null", n_null), ("mean", e["mean"]), ("sd", e["sd"]), ("se", e["se"]),
                            ("df", e["df"]), ("ci95_low", ci and ci[0]), ("ci95_high", ci and ci[1]),
                            ("var_within", var_within(rows))]:
                sec.eq(f"{p}.{k}", got[k], want)
        # rules
        per_rule = defaultdict(lambda: defaultdict(lambda: [0, 0]))
        for (mm, item, _s), r in scores.items():
            if mm != m:
                continue
            for rule, o in (r.get("rules") or {}).items():
                c = per_rule[rule][item]
                c[0] += 1
                c[1] += 1 if o.get("pass") else 0
        sec.eq(f"models.{m}.rules keys", sorted(ms["rules"]), sorted(per_rule))
        for rule, per_item in per_rule.items():
            n = sum(c[0] for c in per_item.values())
            passed = sum(c[1] for c in per_item.values())
            kmax = max(c[0] for c in per_item.values())
            got = ms["rules"].get(rule, {})
            p = f"models.{m}.rules.{rule}"
            if kmax == 1:
                rate, ci, method = ratio(passed, n), wilson(passed, n), "wilson"
            else:
                items = sorted(per_item, key=bkey)
                q = [per_item[i][1] / per_item[i][0] for i in items]
                e = estimate(q, labels_for(items, clusters))
                rate, ci, method = e["mean"], interval(e, "share"), "t"
            for k, want in [("n", n), ("passed", passed), ("n_items", len(per_item)), ("pass_rate", rate),
                            ("ci95_low", ci and ci[0]), ("ci95_high", ci and ci[1]), ("ci_method", method)]:
                sec.eq(f"{p}.{k}", got.get(k), want)
        # latency and errors
        resp = [r for (mm, _i, _s), r in sorted(responses.items(), key=lambda kv: (kv[0][0], bkey(kv[0][1]), kv[0][2])) if mm == m]
        for field in ("ttft_ms", "total_ms"):
            xs = sorted(float(r[field]) for r in resp
                        if r.get("error") is None and not r.get("cached") and r.get(field) is not None)
            g = ms["latency"][field]
            sec.eq(f"models.{m}.latency.{field}.n", g["n"], len(xs))
            sec.eq(f"models.{m}.latency.{field}.mean", g["mean"], float(np.mean(xs)) if xs else None)
            for P in (50, 90, 99):
                want = float(np.percentile(xs, P, method="inverted_cdf")) if xs else None
                sec.eq(f"models.{m}.latency.{field}.p{P}", g[f"p{P}"], want)
        errs = [r for r in resp if r.get("error") is not None]
        by_kind = defaultdict(int)
        for r in errs:
            by_kind[r["error"]["kind"]] += 1
        e = ms["errors"]
        sec.eq(f"models.{m}.errors.n_responses", e["n_responses"], len(resp))
        sec.eq(f"models.{m}.errors.n_errors", e["n_errors"], len(errs))
        sec.eq(f"models.{m}.errors.error_rate", e["error_rate"], ratio(len(errs), len(resp)))
        sec.eq(f"models.{m}.errors.n_cached", e["n_cached"], sum(1 for r in resp if r.get("cached")))
        sec.eq(f"models.{m}.errors.by_kind", sorted(e["by_kind"].items()), sorted(by_kind.items()))
        # cost (prices are inputs)
        c = ms["cost"]
        pt = sum(r.get("prompt_tokens") or 0 for r in resp)
        ct = sum(r.get("completion_tokens") or 0 for r in resp)
        sec.eq(f"models.{m}.cost.prompt_tokens", c["prompt_tokens"], pt)
        sec.eq(f"models.{m}.cost.completion_tokens", c["completion_tokens"], ct)
        if c["price_input_per_1k"] is not None and c["price_output_per_1k"] is not None:
            sec.eq(f"models.{m}.cost.total", c["total"],
                   (pt * c["price_input_per_1k"] + ct * c["price_output_per_1k"]) / 1000)
        # overall
        scored = [d for d in dims if any(item_scores(table, mm, d) for mm in S["models"])]
        parts = []
        for d in scored:
            rows = item_scores(table, m, d)
            if not rows or d not in scales or scales[d][1] <= scales[d][0]:
                parts = None
                break
            lo, hi = scales[d]
            parts.append((sum(r[1] for r in rows) / len(rows) - lo) / (hi - lo))
        overall[m] = float(np.mean(parts)) if parts else None
        sec.eq(f"models.{m}.overall", ms["overall"], overall[m])
    return overall


# ---------------------------------------------------------------- paired, ranking

def paired_one(table, ref, cand, d, clusters, margin, alpha):
    a = {r[0]: r for r in item_scores(table, cand, d)}
    b = {r[0]: r for r in item_scores(table, ref, d)}
    items = sorted(set(a) & set(b), key=bkey)
    dd = [round(a[i][1] - b[i][1], 9) + 0.0 for i in items]
    e = estimate(dd, labels_for(items, clusters))
    status, t, p = test0(e, dd)
    ci = interval(e, "free")
    vc, vr = var_within(list(a.values())), var_within(list(b.values()))
    vb = None
    if e["sd"] is not None and vc is not None and vr is not None and items:
        noise = np.mean([vc / a[i][2] + vr / b[i][2] for i in items])
        vb = max(0.0, e["sd"] ** 2 - noise)
    if not dd:
        wp = None
    elif all(x == 0 for x in dd):
        wp = 1.0
    else:
        wp = float(sps.wilcoxon(dd, zero_method="pratt", correction=False, method="asymptotic").pvalue)
    return dict(n_pairs=e["n"], n_clusters=e["C"], df=e["df"], mean_diff=e["mean"], sd_diff=e["sd"],
                se_diff=e["se"], ci95_low=ci and ci[0], ci95_high=ci and ci[1],
                n_pos=sum(1 for x in dd if x > 0), n_neg=sum(1 for x in dd if x < 0),
                n_zero=sum(1 for x in dd if x == 0), t=t, p=p, status=status, margin=margin,
                non_inferior=None if ci is None else bool(ci[0] > -margin), var_between=vb, wilcoxon_p=wp)


def check_paired(S, table, dims, clusters, sec):
    alpha = S["params"]["alpha"]
    refs = S["params"]["references"]
    want_refs = []
    for r in (refs["baseline"], refs["flagship"], refs["top"]):
        if r is not None and r not in want_refs:
            want_refs.append(r)
    sec.eq("paired keys", sorted(S["paired"]), sorted(want_refs))
    for ref in want_refs:
        cands = [m for m in S["models"] if m != ref]
        sec.eq(f"paired.{ref} keys", sorted(S["paired"].get(ref, {})), sorted(cands))
        for c in cands:
            rows = {d: paired_one(table, ref, c, d, clusters, S["params"]["margins"][d], alpha) for d in dims}
            adj, m = holm([rows[d]["p"] for d in dims])
            for d, a in zip(dims, adj):
                r = rows[d]
                r["p_holm"], r["m_family"] = a, m
                if r["status"] == "run":
                    r["verdict"] = ("better" if r["mean_diff"] > 0 else "worse") if a < alpha \
                        else "no detectable difference"
                else:
                    r["verdict"] = r["status"]
                # mde80: null when not run, or when se = 0 (undefined, never 0)
                if r["status"] == "run" and r["se_diff"] is not None and r["se_diff"] > EPS:
                    r["mde80"] = mult(alpha, m) * r["se_diff"]
                    r["n_needed_margin"] = ceil_size(r["n_pairs"] * (r["mde80"] / r["margin"]) ** 2)
                else:
                    r["mde80"], r["n_needed_margin"] = None, None
                got = S["paired"][ref][c][d]
                for k in ("n_pairs", "n_clusters", "df", "mean_diff", "sd_diff", "se_diff", "ci95_low",
                          "ci95_high", "n_pos", "n_neg", "n_zero", "t", "p", "p_holm", "m_family", "verdict",
                          "mde80", "margin", "non_inferior", "n_needed_margin", "var_between", "wilcoxon_p"):
                    sec.eq(f"paired.{ref}.{c}.{d}.{k}", got.get(k), r[k])


def check_references(S, overall, sec):
    refs = S["params"]["references"]
    # flagship: strictly highest list price, unless configured (then it is an input)
    best, tied = None, False
    for m, ms in S["models"].items():
        c = ms["cost"]
        if c["price_input_per_1k"] is None or c["price_output_per_1k"] is None:
            continue
        lp = c["price_input_per_1k"] + c["price_output_per_1k"]
        if best is None or lp > best[1]:
            best, tied = (m, lp), False
        elif lp == best[1]:
            tied = True
    by_price = None if best is None or tied else best[0]
    if refs["flagship"] != by_price:
        print(f"note: flagship {refs['flagship']!r} is configured (list-price rule gives {by_price!r})")
    else:
        sec.eq("params.references.flagship", refs["flagship"], by_price)
    ranked = sorted([m for m in overall if overall[m] is not None], key=lambda m: (-overall[m], m))
    sec.eq("params.references.top", refs["top"], ranked[0] if ranked else None)
    return ranked


def check_ranking(S, ranked, sec):
    alpha = S["params"]["alpha"]
    top = ranked[0] if ranked else None
    tied = []
    if top is not None:
        tied.append(top)
        unranked = sorted(m for m in S["models"] if m not in ranked)
        for m in ranked[1:] + unranked:
            dims = S["paired"].get(top, {}).get(m)
            if dims is None:
                continue
            if not any(v["p_holm"] is not None and v["p_holm"] < alpha for v in dims.values()):
                tied.append(m)
    sec.eq("ranking.order", S["ranking"]["order"], ranked)
    sec.eq("ranking.top", S["ranking"]["top"], top)
    sec.eq("ranking.tied_with_top", S["ranking"]["tied_with_top"], tied)


# ---------------------------------------------------------------- GSB

def rule(first, second):
    if first == "G" and second == "G":
        return "G"
    if first == "B" and second == "B":
        return "B"
    return "S"


def check_gsb(S, pairs, clusters, sec):
    alpha = S["params"]["alpha"]
    groups = defaultdict(list)
    for (c, b, item), r in pairs.items():
        if c != b:
            groups[(b, c)].append((item, r))
    refs = sorted({b for b, _c in groups})
    sec.eq("gsb keys", sorted(S["gsb"]), refs)
    for ref in refs:
        cands = sorted(c for b, c in groups if b == ref)
        sec.eq(f"gsb.{ref} keys", sorted(S["gsb"].get(ref, {})), cands)
        rows = {}
        for c in cands:
            lines = sorted(groups[(ref, c)], key=lambda x: bkey(x[0]))
            g = [{"G": 1.0, "S": 0.5, "B": 0.0}[r["verdict"]] for _i, r in lines]
            G = sum(1 for _i, r in lines if r["verdict"] == "G")
            Sn = sum(1 for _i, r in lines if r["verdict"] == "S")
            B = sum(1 for _i, r in lines if r["verdict"] == "B")
            e = estimate(g, labels_for([i for i, _r in lines], clusters))
            ci = interval(e, "share")
            D = G + B
            both = [(r["first_order"], r["second_order"], r["verdict"]) for _i, r in lines
                    if r.get("first_order") is not None and r.get("second_order") is not None]
            rows[c] = dict(G=G, S=Sn, B=B, N=len(lines), win_rate=e["mean"], se=e["se"], df=e["df"],
                           n_clusters=e["C"], ci95_low=ci and ci[0], ci95_high=ci and ci[1],
                           sign_test_p=float(sps.binomtest(G, D, 0.5).pvalue) if D else 1.0,
                           decisive_win_share=ratio(G, D), n_both_orders=len(both),
                           n_order_disagree=sum(1 for f, s, _v in both if f != s),
                           n_verdict_rule_mismatch=sum(1 for f, s, v in both if v != rule(f, s)), D=D)
        adj, m = holm([r["sign_test_p"] if r["D"] > 0 else None for r in rows.values()])
        for (c, r), a in zip(rows.items(), adj):
            r["sign_test_p_holm"], r["m_family"] = a, m
            if r["D"] == 0:
                r["verdict"], r["mde80_win_rate"] = "no decisive items", None
            else:
                r["verdict"] = ("better" if r["G"] > r["B"] else "worse") if a < alpha else "no detectable difference"
                r["mde80_win_rate"] = None if r["se"] is None else mult(alpha, m) * r["se"]
            got = S["gsb"][ref][c]
            for k, want in r.items():
                if k != "D":
                    sec.eq(f"gsb.{ref}.{c}.{k}", got.get(k), want)


# ---------------------------------------------------------------- judge (§6)

def spearman(x, y):
    if len(x) < 3 or len(set(x)) < 2 or len(set(y)) < 2:
        return None
    return float(sps.spearmanr(x, y).statistic)


def check_judge(S, manifest, responses, scores, pairs, judgements, sec):
    J = S.get("judge")
    if J is None:
        sec.eq("judge present", None, "present" if judgements else None)
        return
    sec.eq("judge.n_calls", J["n_calls"], len(judgements))
    sec.eq("judge.n_grade_calls", J["n_grade_calls"], sum(1 for j in judgements if j["task"] == "grade"))
    sec.eq("judge.n_pair_calls", J["n_pair_calls"], sum(1 for j in judgements if j["task"] == "pair"))
    sec.eq("judge.n_call_errors", J["n_call_errors"], sum(1 for j in judgements if j.get("error") is not None))
    lengths = {k: len(r["output"]) for k, r in responses.items()
               if r.get("error") is None and r.get("output") is not None}
    models = list(S["models"]) + sorted({j["model"] for j in judgements} - set(S["models"]))
    pooled_x, pooled_y = [], []
    graded_total = 0
    for m in models:
        calls = [j for j in judgements if j["model"] == m]
        row = {}
        for task in ("grade", "pair"):
            cs = [j for j in calls if j["task"] == task]
            rep = [j for j in cs if j.get("error") is None]
            fail = [j for j in rep if j.get("parse_error") is not None]
            row[f"n_{task}_calls"] = len(cs)
            row[f"n_{task}_replies"] = len(rep)
            row[f"n_{task}_parse_failures"] = len(fail)
            row[f"{task}_parse_failure_rate"] = ratio(len(fail), len(rep))
        judged = [(k, r) for k, r in scores.items() if k[0] == m
                  and (r.get("judge_samples") is not None or r.get("judge_error") is not None)]
        row["n_graded_answers"] = len(judged)
        row["n_unjudged_answers"] = sum(1 for _k, r in judged if r.get("judge_error") is not None)
        asked = {(j["model"], j.get("baseline") or "", j["item_id"]) for j in calls if j["task"] == "pair"}
        row["n_unjudged_pairs"] = sum(1 for a in asked if a not in pairs)
        lx, ly = [], []
        for k, r in sorted(judged, key=lambda kv: (bkey(kv[0][1]), kv[0][2])):
            samples = r.get("judge_samples") or {}
            meds = [float(np.median(v)) for v in samples.values() if v]
            if meds and k in lengths:
                lx.append(lengths[k])
                ly.append(float(np.mean(meds)))
        row["length_spearman"], row["n_length"] = spearman(lx, ly), len(lx)
        pooled_x += lx
        pooled_y += ly
        if not judged and not calls:
            sec.eq(f"judge.per_model.{m} present", m in J["per_model"], False)
            continue
        graded_total += len(judged)
        got = J["per_model"].get(m, {})
        for k, want in row.items():
            sec.eq(f"judge.per_model.{m}.{k}", got.get(k), want)
    sec.eq("judge.length_spearman_pooled", J["length_spearman_pooled"], spearman(pooled_x, pooled_y))
    sec.eq("judge.n_length_pooled", J["n_length_pooled"], len(pooled_x))
    both = [r for r in pairs.values() if r.get("first_order") is not None and r.get("second_order") is not None]
    dis = sum(1 for r in both if r["first_order"] != r["second_order"])
    winners = [((j.get("parsed") or {}).get("winner")) for j in judgements if j["task"] == "pair"]
    dec = [w for w in winners if w in ("A", "B")]
    first = sum(1 for w in dec if w == "A")
    P = J["position"]
    for k, want in [("n_both_orders", len(both)), ("n_order_disagree", dis),
                    ("order_disagreement_rate", ratio(dis, len(both))), ("n_decisive_raw", len(dec)),
                    ("n_first_position_wins", first), ("first_position_win_share", ratio(first, len(dec))),
                    ("first_position_p", float(sps.binomtest(first, len(dec), 0.5).pvalue) if dec else None)]:
        sec.eq(f"judge.position.{k}", P.get(k), want)
    units = [v for r in scores.values() for v in (r.get("judge_samples") or {}).values() if len(v) >= 2]
    allv = [v for r in scores.values() for v in (r.get("judge_samples") or {}).values()]
    A = J["self_agreement"]
    agree = sum(1 for v in units if min(v) == max(v))
    for k, want in [("n_units", len(units)), ("n_exact_agree", agree),
                    ("exact_agreement_rate", ratio(agree, len(units))),
                    ("mean_range", float(np.mean([max(v) - min(v) for v in units])) if units else None),
                    ("max_samples", max((len(v) for v in allv), default=0))]:
        sec.eq(f"judge.self_agreement.{k}", A.get(k), want)
    C = J["cost"]
    pt = sum(j.get("prompt_tokens") or 0 for j in judgements)
    ct = sum(j.get("completion_tokens") or 0 for j in judgements)
    sec.eq("judge.cost.prompt_tokens", C["prompt_tokens"], pt)
    sec.eq("judge.cost.completion_tokens", C["completion_tokens"], ct)
    entries = panel_entries(manifest)
    if not entries:
        if C["price_input_per_1k"] is not None and C["price_output_per_1k"] is not None:
            total = (pt * C["price_input_per_1k"] + ct * C["price_output_per_1k"]) / 1000
            sec.eq("judge.cost.total", C["total"], total)
            sec.eq("judge.cost.per_item", C["per_item"], ratio(total, graded_total))
            sec.eq("judge.cost.per_1k_tokens", C["per_1k_tokens"], ratio(total * 1000, pt + ct))
        return
    total, shown, noted = panel_judge_cost(entries, judgements)
    for k, want in zip(("price_input_per_1k", "price_output_per_1k", "currency"), shown):
        sec.eq(f"judge.cost.{k}", C.get(k), want)
    sec.eq("judge.cost.total", C["total"], total)
    sec.eq("judge.cost.per_item", C["per_item"], None if total is None else ratio(total, graded_total))
    sec.eq("judge.cost.per_1k_tokens", C["per_1k_tokens"],
           None if total is None else ratio(total * 1000, pt + ct))
    sec.eq("judge.cost.note (present)", C.get("note") is not None, noted)


def entry_prices(e):
    """(input, output, currency) per 1k tokens of a manifest model entry; None when not configured."""
    if e is None:
        return (None, None, None)
    return (e.get("price_input_per_1k"), e.get("price_output_per_1k"), e.get("currency"))


def panel_entries(manifest):
    """A judge panel's manifest entries in panel order (judge_model, then judge_panel); [] for one judge."""
    if not manifest or not manifest.get("judge_panel"):
        return []
    return [manifest["judge_model"]] + list(manifest["judge_panel"])


def panel_judge_cost(entries, judgements):
    """README "Judge panels: statistics": each judge's tokens at its own prices, summed. Returns (total,
    (price_input, price_output, currency) shown in judge.cost, whether a note explains a null total)."""
    prices = {e["name"]: entry_prices(e) for e in entries}
    tokens = defaultdict(lambda: [0, 0])
    for j in judgements:
        t = tokens[j["judge"]]
        t[0] += j.get("prompt_tokens") or 0
        t[1] += j.get("completion_tokens") or 0
    called = {j: prices.get(j, (None, None, None)) for j in tokens}
    first = entry_prices(entries[0])
    if all(p == first for p in list(prices.values()) + list(called.values())):
        if first[0] is None or first[1] is None:
            return None, first, False
        pt = sum(t[0] for t in tokens.values())
        ct = sum(t[1] for t in tokens.values())
        return (pt * first[0] + ct * first[1]) / 1000, first, False
    currencies = {p[2] for p in list(prices.values()) + list(called.values())}
    shown = (None, None, next(iter(currencies)) if len(currencies) == 1 else None)
    priced = {j: p for j, p in called.items() if p[0] is not None and p[1] is not None}
    if len({p[2] for p in priced.values()}) > 1 or len(priced) < len(called):
        return None, shown, True
    total = sum((tokens[j][0] * p[0] + tokens[j][1] * p[1]) / 1000 for j, p in priced.items())
    return total, shown, False


# ---------------------------------------------------------------- main
# ---------------------------------------------------------------- judge vs people (README extension)

M64 = (1 << 64) - 1


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & M64

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & M64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        return z ^ (z >> 31)

    def index(self, n):
        return ((self.next() >> 32) * n) >> 32


def weighted_kappa(j, h):
    """Cohen's kappa with quadratic weights by the categorical formula: confusion matrix over the values
    seen, expected matrix from its margins, weights (a - b)^2."""
    n = len(j)
    if n < 2:
        return None
    cats = sorted(set(j) | set(h))
    ix = {c: i for i, c in enumerate(cats)}
    o = np.zeros((len(cats), len(cats)))
    for a, b in zip(j, h):
        o[ix[a], ix[b]] += 1
    e = np.outer(o.sum(1), o.sum(0)) / n
    w = np.array([[(a - b) ** 2 for b in cats] for a in cats])
    de = (w * e).sum()
    if de <= EPS * n:
        return None
    return float(1 - (w * o).sum() / de)


def kripp_ordinal(units):
    """Krippendorff's alpha, ordinal metric (Krippendorff 2011, section C): coincidence matrix of the
    pairable units, delta^2(c, k) = (sum_{g=c..k} n_g - (n_c + n_k)/2)^2."""
    units = [u for u in units if len(u) >= 2]
    if not units:
        return None
    vals = sorted({v for u in units for v in u})
    ix = {v: i for i, v in enumerate(vals)}
    o = np.zeros((len(vals), len(vals)))
    for u in units:
        for a in range(len(u)):
            for b in range(len(u)):
                if a != b:
                    o[ix[u[a]], ix[u[b]]] += 1 / (len(u) - 1)
    ng = o.sum(1)
    n = ng.sum()
    d2 = np.zeros_like(o)
    for c in range(len(vals)):
        for k in range(len(vals)):
            lo, hi = min(c, k), max(c, k)
            d2[c, k] = (ng[lo:hi + 1].sum() - (ng[c] + ng[k]) / 2) ** 2
    de = (np.outer(ng, ng) * d2).sum()
    if de <= EPS:
        return None
    return float(1 - (n - 1) * (o * d2).sum() / de)


def consensus(hs):
    counts = defaultdict(int)
    for x in hs:
        counts[x] += 1
    top = max(counts.values())
    modes = [v for v, c in counts.items() if c == top]
    return modes[0] if len(modes) == 1 else float(np.median(hs))


def majority(hs):
    for v in set(hs):
        if 2 * hs.count(v) > len(hs):
            return v
    return None


def human_stats(rows):
    """rows: (judge, people's mean, consensus) per unit -> mean_diff, exact, kappa, rho."""
    if not rows:
        return [None] * 4
    j = [r[0] for r in rows]
    m = [r[1] for r in rows]
    c = [r[2] for r in rows]
    exact = sum(1 for a, b in zip(j, c) if abs(a - b) < 1e-9) / len(j)
    return [float(np.mean(j) - np.mean(m)), exact, weighted_kappa(j, c), spearman(j, c)]


def check_human(S, run, scores, pairs, sec):
    H = S.get("human")
    path = run / "human.jsonl"
    if H is None:
        sec.eq("human (present)", path.exists(), False)
        return
    human = last_by_key(load_jsonl(path), lambda r: (r["rater"], r["model"], r["item_id"], r.get("baseline"),
                                                      r["sample"], r.get("dimension")))
    sec.eq("human.raters", H["raters"], sorted({r["rater"] for r in human.values()}))
    by_dim = defaultdict(lambda: defaultdict(list))
    verdicts = defaultdict(list)
    for r in human.values():
        if r.get("dimension") is not None and r.get("score") is not None:
            by_dim[r["dimension"]][(r["model"], r["item_id"], r["sample"])].append(r["score"])
        elif r.get("verdict") is not None:
            verdicts[(r["baseline"], r["model"], r["item_id"])].append(r["verdict"])
    for d, units in sorted(by_dim.items()):
        got = H["dimensions"][d]
        p = f"human.dimensions.{d}"
        items = defaultdict(list)
        for u in sorted(units, key=lambda u: (bkey(u[1]), bkey(u[0]), u[2])):
            sc = scores.get(u)
            j = sc["dimensions"].get(d, {}).get("score") if sc else None
            if j is None:
                continue
            hs = units[u]
            items[u[1]].append((j, float(np.mean(hs)), consensus(hs)))
        order = sorted(items, key=bkey)
        allrows = [r for i in order for r in items[i]]
        point = human_stats(allrows)
        sec.eq(f"{p}.n_units", got["n_units"], len(allrows))
        sec.eq(f"{p}.n_items", got["n_items"], len(order))
        sec.eq(f"{p}.human_mean", got["human_mean"], float(np.mean([r[1] for r in allrows])) if allrows else None)
        sec.eq(f"{p}.judge_mean", got["judge_mean"], float(np.mean([r[0] for r in allrows])) if allrows else None)
        boot = [[] for _ in range(4)]
        g = SplitMix64(42)
        n = len(order)
        for _ in range(2000 if n else 0):
            draw = [r for _ in range(n) for r in items[order[g.index(n)]]]
            for k, v in enumerate(human_stats(draw)):
                if v is not None:
                    boot[k].append(v)
        for k, name in enumerate(["mean_diff", "exact_agreement", "kappa_quadratic", "spearman"]):
            sec.eq(f"{p}.{name}.value", got[name]["value"], point[k])
            lo = hi = None
            if point[k] is not None and boot[k]:
                lo, hi = (float(x) for x in np.quantile(boot[k], [0.025, 0.975]))
            sec.eq(f"{p}.{name}.ci95_low", got[name]["ci95_low"], lo)
            sec.eq(f"{p}.{name}.ci95_high", got[name]["ci95_high"], hi)
        multi = [hs for hs in units.values() if len(hs) >= 2]
        sec.eq(f"{p}.n_multi_rated", got["n_multi_rated"], len(multi))
        sec.eq(f"{p}.alpha_ordinal", got["alpha_ordinal"], kripp_ordinal(multi))
        maj = []
        for u, hs in units.items():
            sc = scores.get(u)
            j = sc["dimensions"].get(d, {}).get("score") if sc else None
            if len(hs) >= 2 and j is not None and majority(hs) is not None:
                maj.append(abs(j - majority(hs)) < 1e-9)
        sec.eq(f"{p}.n_majority_units", got["n_majority_units"], len(maj))
        sec.eq(f"{p}.judge_majority_agreement", got["judge_majority_agreement"],
               sum(maj) / len(maj) if maj else None)
    acc = defaultdict(list)
    for (ref, cand, item), vs in verdicts.items():
        jp = pairs.get((cand, ref, item))
        if jp is None:
            continue
        people = next((v for v in "GSB" if 2 * vs.count(v) > len(vs)), "S")
        acc[(ref, cand)].append((people, jp["verdict"]))
    for (ref, cand), ps in acc.items():
        got = H["gsb"][ref][cand]
        p = f"human.gsb.{ref}.{cand}"
        sec.eq(f"{p}.n_pairs", got["n_pairs"], len(ps))
        for side, k in (("human", 0), ("judge", 1)):
            c = {v: sum(1 for x in ps if x[k] == v) for v in "GSB"}
            sec.eq(f"{p}.{side}.good", got[side]["good"], c["G"])
            sec.eq(f"{p}.{side}.bad", got[side]["bad"], c["B"])
            sec.eq(f"{p}.{side}.win_rate", got[side]["win_rate"], (c["G"] + c["S"] / 2) / len(ps))
        sec.eq(f"{p}.agreement", got["agreement"], sum(1 for a, b in ps if a == b) / len(ps))



# ---------------------------------------------------------------- judge panels (README extension)

def panel_majority(vs):
    """The verdict more judges gave than any other; S when the most frequent is shared."""
    if not vs:
        return None
    c = {v: vs.count(v) for v in "GSB"}
    if c["G"] > c["S"] and c["G"] > c["B"]:
        return "G"
    if c["B"] > c["G"] and c["B"] > c["S"]:
        return "B"
    return "S"


def capped(v, cap):
    return v if cap is None else min(v, cap)


def means_of(values):
    """(model, dim) -> {n_items, mean} from {(model, dim, item): [sample scores]}."""
    acc = defaultdict(list)
    for (m, d, _i), v in values.items():
        if v:
            acc[(m, d)].append(float(np.mean(v)))
    return {k: dict(n_items=len(x), mean=float(np.mean(x)) if x else None) for k, x in acc.items()}


def check_panel(S, manifest, scores, pairs, judgements, sec):
    P = S.get("panel")
    if P is None:
        sec.eq("panel (present)", any(r.get("panel") for r in scores.values()), False)
        return
    judges = P["judges"]
    sec.eq("panel.judges (two or more)", len(judges) >= 2, True)
    # One entry per (model, item, sample) with a panel: per dim, [(judge index, median)], cap.
    units = []
    for (m, i, _s), r in sorted(scores.items(), key=lambda kv: (kv[0][0], bkey(kv[0][1]), kv[0][2])):
        if not r.get("panel"):
            continue
        dims = {}
        for j, g in r["panel"].items():
            for d, xs in g["judge_samples"].items():
                if xs:
                    cap = r["dimensions"].get(d, {}).get("rule_cap")
                    dims.setdefault(d, ([], cap))[0].append((judges.index(j), float(np.median(xs))))
        units.append((m, i, r, dims))
        # The panel's own score: the median of the judges' scores, capped.
        for d, (vals, cap) in dims.items():
            sec.eq(f"scores {m}/{i}/{d} (panel median)", r["dimensions"][d]["score"],
                   capped(float(np.median([v for _k, v in vals])), cap))
    for k, r in pairs.items():
        if r.get("panel"):
            sec.eq(f"pairwise {k} (panel majority)", r["verdict"],
                   panel_majority([v["verdict"] for v in r["panel"].values()]))
    for ji, j in enumerate(judges):
        got = P["per_judge"][j]
        p = f"panel.per_judge.{j}"
        mine = [r["panel"][j] for (_m, _i, r, _d) in units if j in r["panel"]]
        sec.eq(f"{p}.n_graded_answers", got["n_graded_answers"], len(mine))
        sec.eq(f"{p}.n_unjudged_answers", got["n_unjudged_answers"],
               sum(1 for g in mine if g.get("judge_error") is not None))
        calls = [c for c in judgements if c["judge"] == j]
        for task in ("grade", "pair"):
            cs = [c for c in calls if c["task"] == task]
            rep = [c for c in cs if c.get("error") is None]
            fail = [c for c in rep if c.get("parse_error") is not None]
            sec.eq(f"{p}.n_{task}_calls", got[f"n_{task}_calls"], len(cs))
            sec.eq(f"{p}.n_{task}_replies", got[f"n_{task}_replies"], len(rep))
            sec.eq(f"{p}.n_{task}_parse_failures", got[f"n_{task}_parse_failures"], len(fail))
            sec.eq(f"{p}.{task}_parse_failure_rate", got[f"{task}_parse_failure_rate"], ratio(len(fail), len(rep)))
        sec.eq(f"{p}.prompt_tokens", got["prompt_tokens"], sum(c.get("prompt_tokens") or 0 for c in calls))
        sec.eq(f"{p}.completion_tokens", got["completion_tokens"], sum(c.get("completion_tokens") or 0 for c in calls))
        own = entry_prices(next((e for e in panel_entries(manifest) if e["name"] == j), None))
        for k, want in zip(("price_input_per_1k", "price_output_per_1k", "currency"), own):
            sec.eq(f"{p}.{k}", got.get(k), want)
        cost = None
        if own[0] is not None and own[1] is not None:
            cost = (sum(c.get("prompt_tokens") or 0 for c in calls) * own[0]
                    + sum(c.get("completion_tokens") or 0 for c in calls) * own[1]) / 1000
        sec.eq(f"{p}.cost", got.get("cost"), cost)
        values = defaultdict(list)
        for (m, i, _r, dims) in units:
            for d, (vals, cap) in dims.items():
                for k, v in vals:
                    if k == ji:
                        values[(m, d, i)].append(capped(v, cap))
        want = means_of(values)
        for (m, d), w in want.items():
            g = got["models"].get(m, {}).get(d)
            sec.eq(f"{p}.models.{m}.{d}.n_items", g and g["n_items"], w["n_items"])
            sec.eq(f"{p}.models.{m}.{d}.mean", g and g["mean"], w["mean"])
        sec.eq(f"{p}.models (count)", sum(len(x) for x in got["models"].values()), len(want))
        gsb = defaultdict(lambda: dict(G=0, S=0, B=0))
        for (cand, ref, _i), r in pairs.items():
            v = (r.get("panel") or {}).get(j)
            if v:
                gsb[(ref, cand)][v["verdict"]] += 1
        for (ref, cand), c in gsb.items():
            g = got["gsb"].get(ref, {}).get(cand, {})
            n = c["G"] + c["S"] + c["B"]
            for k in "GSB":
                sec.eq(f"{p}.gsb.{ref}.{cand}.{k}", g.get(k), c[k])
            sec.eq(f"{p}.gsb.{ref}.{cand}.N", g.get("N"), n)
            sec.eq(f"{p}.gsb.{ref}.{cand}.win_rate", g.get("win_rate"), (c["G"] + c["S"] / 2) / n)
    # Agreement: judges' medians before caps.
    all_dims = sorted({d for u in units for d in u[3]})
    sec.eq("panel.agreement (dimensions)", sorted(P["agreement"]), all_dims)
    for d in all_dims:
        rows = [u[3][d][0] for u in units if d in u[3]]
        got = P["agreement"][d]
        rated = [[v for _k, v in r] for r in rows if len(r) >= 2]
        sec.eq(f"panel.agreement.{d}.n_units", got["n_units"], len(rated))
        sec.eq(f"panel.agreement.{d}.alpha_ordinal", got["alpha_ordinal"], kripp_ordinal(rated))
        for a in range(len(judges)):
            for b in range(a + 1, len(judges)):
                xa, xb = [], []
                for r in rows:
                    va = [v for k, v in r if k == a]
                    vb = [v for k, v in r if k == b]
                    if va and vb:
                        xa.append(va[0])
                        xb.append(vb[0])
                key = f"{judges[a]}|{judges[b]}"
                g = got["pairs"][key]
                sec.eq(f"panel.agreement.{d}.pairs.{key}.n_units", g["n_units"], len(xa))
                sec.eq(f"panel.agreement.{d}.pairs.{key}.exact_agreement", g["exact_agreement"],
                       ratio(sum(1 for x, y in zip(xa, xb) if abs(x - y) < 1e-9), len(xa)))
                sec.eq(f"panel.agreement.{d}.pairs.{key}.kappa_quadratic", g["kappa_quadratic"],
                       weighted_kappa(xa, xb))
    # Leave one out.
    ref = S["params"]["references"].get("baseline")
    for ji, j in enumerate(judges):
        L = P["leave_one_out"][j]
        p = f"panel.leave_one_out.{j}"
        values = defaultdict(list)
        for (m, i, _r, dims) in units:
            for d, (vals, cap) in dims.items():
                rest = [v for k, v in vals if k != ji]
                if rest:
                    values[(m, d, i)].append(capped(float(np.median(rest)), cap))
        want = means_of(values)
        for (m, d), w in want.items():
            g = L["models"].get(m, {}).get(d)
            sec.eq(f"{p}.models.{m}.{d}.n_items", g and g["n_items"], w["n_items"])
            sec.eq(f"{p}.models.{m}.{d}.mean", g and g["mean"], w["mean"])
        if ref is not None:
            item_s = {k: float(np.mean(v)) for k, v in values.items() if v}
            for cand in S["models"]:
                if cand == ref:
                    continue
                for d in sorted({k[1] for k in values}):
                    its = sorted({k[2] for k in values}, key=bkey)
                    diffs = [round(item_s[(cand, d, i)] - item_s[(ref, d, i)], 9) for i in its
                             if (cand, d, i) in item_s and (ref, d, i) in item_s]
                    g = L["paired"].get(ref, {}).get(cand, {}).get(d)
                    if not diffs:
                        sec.eq(f"{p}.paired.{ref}.{cand}.{d}", g, None)
                        continue
                    e = estimate(diffs)
                    ci = interval(e, "free")
                    _st, _t, pv = test0(e, diffs)
                    q = f"{p}.paired.{ref}.{cand}.{d}"
                    sec.eq(f"{q}.n_pairs", g["n_pairs"], len(diffs))
                    sec.eq(f"{q}.mean_diff", g["mean_diff"], e["mean"])
                    sec.eq(f"{q}.ci95_low", g["ci95_low"], ci and ci[0])
                    sec.eq(f"{q}.ci95_high", g["ci95_high"], ci and ci[1])
                    sec.eq(f"{q}.p", g["p"], pv)
        gsb = defaultdict(lambda: dict(G=0, S=0, B=0))
        for (cand, r_, _i), r in pairs.items():
            rest = [v["verdict"] for k, v in (r.get("panel") or {}).items() if k != j]
            v = panel_majority(rest)
            if v:
                gsb[(r_, cand)][v] += 1
        for (r_, cand), c in gsb.items():
            g = L["gsb"].get(r_, {}).get(cand, {})
            n = c["G"] + c["S"] + c["B"]
            for k in "GSB":
                sec.eq(f"{p}.gsb.{r_}.{cand}.{k}", g.get(k), c[k])
            sec.eq(f"{p}.gsb.{r_}.{cand}.win_rate", g.get("win_rate"), (c["G"] + c["S"] / 2) / n)


def main(argv):
    if len(argv) != 2:
        print(__doc__)
        return 2
    run = Path(argv[1])
    S = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    if S.get("schema") != "evalrun-stats/2":
        print(f"schema {S.get('schema')!r} is not evalrun-stats/2")
        return 1
    items = load_jsonl(run / "items.jsonl")
    responses = last_by_key(load_jsonl(run / "responses.jsonl"), lambda r: (r["model"], r["item_id"], r["sample"]))
    scores = last_by_key(load_jsonl(run / "scores.jsonl"), lambda r: (r["model"], r["item_id"], r["sample"]))
    pairs = last_by_key(load_jsonl(run / "pairwise.jsonl"), lambda r: (r["candidate"], r["baseline"], r["item_id"]))
    judgements = load_jsonl(run / "judgements.jsonl")
    manifest_path = run / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.exists() else None
    clusters = cluster_labels(items, S["params"].get("cluster_key"))
    table = item_table(scores)
    dims = sorted({d for (_m, d) in table})

    sections = []
    sec = Section("models")
    overall = check_models(S, responses, scores, table, dims, clusters, sec)
    sections.append(sec)
    sec = Section("references")
    ranked = check_references(S, overall, sec)
    sections.append(sec)
    sec = Section("paired")
    check_paired(S, table, dims, clusters, sec)
    sections.append(sec)
    sec = Section("ranking")
    check_ranking(S, ranked, sec)
    sections.append(sec)
    sec = Section("gsb")
    check_gsb(S, pairs, clusters, sec)
    sections.append(sec)
    sec = Section("judge")
    check_judge(S, manifest, responses, scores, pairs, judgements, sec)
    sections.append(sec)
    sec = Section("human")
    check_human(S, run, scores, pairs, sec)
    sections.append(sec)
    sec = Section("panel")
    check_panel(S, manifest, scores, pairs, judgements, sec)
    sections.append(sec)
    ok = all([s.report() for s in sections])
    print("every section agrees" if ok else "MISMATCHES found")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
