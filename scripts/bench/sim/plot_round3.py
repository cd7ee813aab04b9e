#!/usr/bin/python3
"""Plots the third round of bcast-sim (bench/results/2026-12-03-bcast-sim-3.json): the data
phase vs n at 280 MiB on the full fat tree (binary tree and two-tree against the bound), the
two at 1,024 nodes on the other platforms, and the control phase vs n.

  plot_round3.py RESULTS.json OUT.png
"""
import json
import sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

d = json.load(open(sys.argv[1]))
pts = [r for r in d["points"] if r.get("sim")]


def data_s(r):
    return r["sim"]["last_install_s"] - r["sim"]["control_s"]


fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.2))
small = [r for r in pts if r["bytes"] == 293601280 and r["fail_rank"] < 0]
for label, plat, pred, style in [
        ("binary tree, ring 4 (the default up to 8 nodes)", "fat-tree", lambda r: r["fanout"] == 2 and not r.get("two_tree"), "o-"),
        ("two-tree, default ring (the default from 9 nodes)", "fat-tree", lambda r: r.get("two_tree"), "s-")]:
    xs = sorted((r["n"], data_s(r)) for r in small if r["platform"] == plat and pred(r))
    a.plot([x for x, _ in xs], [y for _, y in xs], style, label=label)
for plat, marker in [("fat-tree-2to1", "^"), ("dragonfly", "v"), ("crossbar", "D")]:
    for r in small:
        if r["platform"] == plat:
            a.plot([r["n"]], [data_s(r)], marker, color="C1" if r.get("two_tree") else "C0", fillstyle="none",
                   label=f"{plat}, {'two-tree' if r.get('two_tree') else 'binary tree'}")
bx = sorted({r["n"]: r["bound_s"] for r in small if r["platform"] == "fat-tree"}.items())
a.plot([n for n, _ in bx], [s for _, s in bx], "k:", label="bound S/B + log2(n) c/B")
a.set_xscale("log", base=2)
a.set_yscale("log")
a.set_xlabel("simulated nodes")
a.set_ylabel("data phase (s), 280 MiB, 2 MiB chunks")
a.legend(fontsize=6)
for label, pred in [("waits to 2 ms (before)", lambda r: not r.get("two_tree")),
                    ("waits to 200 us for 20 ms, then 2 ms (now)", lambda r: r.get("two_tree"))]:
    xs = sorted((r["n"], r["sim"]["control_s"] * 1e3) for r in pts if r["fail_rank"] >= 0 and pred(r))
    b.plot([x for x, _ in xs], [y for _, y in xs], "o-", label=label)
b.set_xscale("log", base=2)
b.set_xlabel("simulated nodes (one answers 'cannot')")
b.set_ylabel("control phase (ms, simulated)")
b.legend(fontsize=7)
fig.tight_layout()
fig.savefig(sys.argv[2], dpi=110)
