#!/usr/bin/env python3
"""The gate's A/A false-alarm rate on Reply without HTTP: 400 seeds of sft-full-e3-lr3e-5 on the
shipped 50 items, answered and graded in-process by the simulator (the same scores the HTTP runs
record, item for item), every pair gated with the gate's Reply test recomputed with scipy (one-sided
paired t for a drop over the shared items, FAIL iff p < 0.05 and the drop ≥ the tolerance 0.05; one
primary dimension, so Holm leaves p unchanged). A benchmark, not a test: about a minute.
Usage: scripts/aa_inprocess.py"""
import json, os, subprocess, sys, tempfile

import numpy as np
from scipy import stats

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
path = os.path.join(tempfile.mkdtemp(), "scores.json")
subprocess.run(
    ["cargo", "test", "-q", "--lib", "sim::calibration::dump_reply_scores", "--", "--ignored"],
    cwd=root, env=dict(os.environ, EVALRUN_CALIBRATION_SCORES=path), check=True,
    stdout=subprocess.DEVNULL)
scores = json.load(open(path))
seeds = sorted(scores)
ids = sorted(scores[seeds[0]])
m = np.array([[np.nan if scores[s][k] is None else scores[s][k] for k in ids] for s in seeds], float)
fails = tested = below = 0
for a in range(len(seeds)):
    for b in range(a + 1, len(seeds)):
        d = m[b] - m[a]
        d = np.round(d[~np.isnan(d)], 9)
        if len(d) < 2 or d.std() == 0:
            continue
        t = d.mean() / (d.std(ddof=1) / np.sqrt(len(d)))
        p = stats.t.cdf(t, len(d) - 1)
        tested += 1
        below += p < 0.05
        fails += p < 0.05 and -d.mean() >= 0.05 - 1e-9
means = np.nanmean(m, axis=1)
predicted = np.sqrt(np.nansum(np.nanvar(m, axis=0, ddof=1))) / m.shape[1]
print(f"A/A on Reply, {len(ids)} items, every pair of {len(seeds)} seeds: {fails}/{tested} = "
      f"{fails / tested:.1%} FAIL (p < 0.05 in {below / tested:.1%}); sd of the run means "
      f"{means.std(ddof=1):.4f}, the items' spread predicts {predicted:.4f}")
