#!/usr/bin/python3
"""Plots the second round of bcast-sim (bench/results/2026-12-02-bcast-sim-2.json):
last install vs n at 280 MiB on the fat tree (first round, default now, chain, two-tree,
bound), and the control phase vs n.

  plot_round2.py RESULTS.json OUT.png
"""
import json
import sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

d = json.load(open(sys.argv[1]))
final = [r for r in d["points"] if not r["code"].startswith("4690dc8") and r.get("sim")]
fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.2))


def series(pred):
    pts = sorted((r["n"], r["sim"]["last_install_s"]) for r in final if pred(r))
    return [p[0] for p in pts], [p[1] for p in pts]


data = [r for r in final if r["bytes"] == 293601280 and r.get("fail_rank", -1) < 0 and r["platform"] == "fat-tree"]
for label, pred in [("K=2, ring 4 (default)", lambda r: r["fanout"] == 2 and not r.get("two_tree") and r["ring"] == 4),
                    ("K=1 (chain)", lambda r: r["fanout"] == 1),
                    ("two-tree, ring 8", lambda r: r.get("two_tree") and r["ring"] == 8),
                    ("two-tree, ring 16", lambda r: r.get("two_tree") and r["ring"] == 16)]:
    x, y = series(lambda r: r in data and pred(r))
    if x:
        a.plot(x, y, "o-", label=label)
old = d["reference_old_code"]
a.plot([16, 256, 1024], [old["fat-tree 16 K2"], old["fat-tree 256 280MiB K2"], old["fat-tree 1024 280MiB K2 c2 r4"]],
       "x--", color="grey", label="K=2 first round (old pump)")
bx = sorted({r["n"]: r["bound_s"] for r in data}.items())
a.plot([p[0] for p in bx], [p[1] for p in bx], "k:", label="bound S/B + log2(n)c/B")
a.set_xscale("log", base=2)
a.set_yscale("log")
a.set_xlabel("simulated nodes (fat tree, full bisection)")
a.set_ylabel("last install (s), 280 MiB, 2 MiB chunks")
a.legend(fontsize=7)
ctrl = sorted((r["n"], r["sim"]["control_s"] * 1e3, r.get("pause_cap_us")) for r in final if r.get("fail_rank", -1) >= 0)
for cap, label in [(None, "binomial collectives, mpi_comm's waits (to 2 ms)"), (100, "the same, pauses <= 100 us")]:
    pts = [(n, ms) for n, ms, c in ctrl if c == cap]
    if pts:
        b.plot([p[0] for p in pts], [p[1] for p in pts], "o-", label=label)
fl = old["control_s flat collectives 16/64/256/1024"]
b.plot([16, 64, 256, 1024], [x * 1e3 for x in fl], "x--", color="grey", label="first round: SMPI's flat collectives")
b.set_xscale("log", base=2)
b.set_xlabel("simulated nodes")
b.set_ylabel("control phase (ms, simulated)")
b.legend(fontsize=7)
fig.tight_layout()
fig.savefig(sys.argv[2], dpi=110)
