#!/usr/bin/python3
"""Turns bcast-sim's results into bench/results/DATE-bcast-sim.json, its plot and the tables
of doc/performance-sim.md (between the <!-- sim-tables --> markers).

  report.py RESULTS.json DATE [--install-source FILE]
"""
import json
import os
import platform
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
MIB = 1 << 20


# Measured by hand on 2026-12-02 while looking for where the default's time goes (same
# simulator flags as bcast-sim; fat-tree-16.xml; SIM_PUSH printed ModelInstall::push times).
DIAGNOSTICS = [
    {"what": "the pump between two nodes (K=1, 280 MiB, 2 MiB chunks, ring 4): chunk arrival times at rank 1",
     "command": "SIM_PUSH=1 smpirun -np 2 -platform bench/platforms/fat-tree-16.xml ... sim_bcast --bytes 293601280 "
                "--fanout 1 (model.cpp printing each push)",
     "arrivals_s": [0.001395, 0.001396, 0.001397, 0.001398, 0.002666, 0.002667, 0.002668, 0.002669, 0.003937,
                    0.003938, 0.003939, 0.003940],
     "burst_cycle_s": 0.001271, "last_install_s": 0.0446110089, "effective_GB_per_s": 6.6},
    {"what": "the same with every pause capped at 20 us (SIM_PAUSE_CAP_US=20)", "burst_cycle_s": 0.001268,
     "last_install_s": 0.0445910089},
    {"what": "plain MPI: 140 x MPI_Isend/MPI_Irecv of 2,097,184 bytes, 4 in flight, MPI_Waitall, partial shared "
             "buffers as in the pump", "seconds": 0.0251733, "GB_per_s": 11.6634},
    {"what": "16-node chain (K=1, 280 MiB) under ring 4 / ring 16 / chunk 0.5 MiB / chunk 8 MiB / "
             "--cfg=smpi/bw-factor:0:1 --cfg=smpi/lat-factor:0:1",
     "last_install_s": [0.101961038, 0.0970470383, 0.102233038, 0.0969420383, 0.101836019]},
    {"what": "no pauses at all (SIM_PAUSE_CAP_US='' after ModelInstall::wait_release went through "
             "runtime::pause_for): 2 nodes K=1, 2 nodes K=2, 16 nodes K=1, 16 nodes K=2 (280 MiB)",
     "last_install_s": [0.0253310089, 0.0253310089, 0.0486760383, 0.0827300383],
     "same_with_the_install_wait_uncapped_s": [0.0446110089, 0.0446110089, 0.101961038, 0.1620]},
    {"what": "SMPI MPI_Ibcast of 8 MiB to 256 nodes under --cfg=smpi/bcast:binomial_tree and "
             "scatter_LR_allgather (flat either way: 255 x 8 MiB / 12.5 GB/s = 0.171 s)",
     "seconds": [0.182814, 0.182814]},
]


def transport(p):
    name = "ibcast (SMPI: flat)" if p["fanout"] == 0 else f"tree K={p['fanout']}"
    if p.get("order") == "subtrees":
        name += ", subtrees"
    if p.get("pause_cap_us"):
        name += f", pauses <= {p['pause_cap_us']} us"
        if p.get("pause_cap_scope") != "all":
            name += " outside the install wait"
    return name


def install_rate(source):
    d = json.load(open(os.path.join(REPO, source)))
    cmd = d["commands"]["unpack_shm"]
    size = cmd.get("sizes_bytes") or d["commands"]["pack_shm"]["sizes_bytes"]
    return {"source": source, "command": cmd["label"], "median_s": cmd["median_s"],
            "archive_bytes": size[0], "bytes_per_s": size[0] / cmd["median_s"]}


def plot(points, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    plats = ["fat-tree", "fat-tree-2to1", "dragonfly"]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.8), sharey=True)
    names = sorted({transport(p) for p in points if not p.get("pause_cap_us")})
    colors = {t: f"C{i % 10}" for i, t in enumerate(names)}
    for ax, plat in zip(axes, plats):
        for S, style in ((280 * MIB, "-o"), (4 << 30, "--s")):
            sel = [p for p in points if p["platform"] == plat and p["bytes"] == S and p.get("sim")
                   and p["fail_rank"] < 0 and p["ring"] == 4 and not p["install_rate"]
                   and not p.get("pause_cap_us") and (p["chunk"] == 2 * MIB or S != 280 * MIB)]
            for t in sorted({transport(p) for p in sel}):
                xs = sorted((p["n"], p["sim"]["last_install_s"] - p["sim"]["control_s"], p["chunk"]) for p in sel
                            if transport(p) == t)
                chunks = ", ".join(sorted({f"{c / MIB:g} MiB chunks" for _, _, c in xs}))
                ax.plot([x for x, _, _ in xs], [y for _, y, _ in xs], style, color=colors[t], ms=5,
                        label=f"{t}, {S // MIB} MiB ({chunks})")
            ns = sorted({p["n"] for p in sel})
            if ns:
                b = {p["n"]: p["bound_s"] for p in sel}
                ax.plot(ns, [b[n] for n in ns], ":x" if S == 280 * MIB else ":+", color="k", lw=2, ms=7,
                        label=f"bound S/B+log2(n)c/B, {S // MIB} MiB")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_title(plat)
        ax.set_xlabel("simulated nodes")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("data phase: to the last node's install (s, simulated)")
    handles, labels = [], []
    for ax in axes:
        for h, l in zip(*ax.get_legend_handles_labels()):
            if l not in labels:
                handles.append(h)
                labels.append(l)
    fig.legend(handles, labels, loc="lower center", ncol=4, fontsize=8)
    fig.tight_layout(rect=(0, 0.16, 1, 1))
    fig.savefig(path, dpi=110)


def mib(kib):
    return "-" if kib is None else f"{kib / 1024:.0f}"


def ms(x):
    return f"{x * 1e3:.2f}"


def tables(points, rate):
    ok = [p for p in points if p.get("sim")]
    lines = ["| platform | n | S | chunk | ring | transport | install | data phase (s) | bound (s) | ratio | "
             "tree bound (s) | backbone bound (s) | control (ms) | outcome (ms) | wall (s) | peak RSS (MiB) | "
             "private (MiB) |", "|" + "---|" * 17]
    for p in sorted((p for p in ok if p["fail_rank"] < 0),
                    key=lambda p: (p["platform"], p["bytes"], p["n"], p["fanout"] or 99, p["chunk"], p["ring"],
                                   p.get("order", ""), p["install_rate"])):
        s = p["sim"]
        data = s["last_install_s"] - s["control_s"]
        inst = f"{p['install_rate'] / 1e6:.0f} MB/s" if p["install_rate"] else "not modelled"
        backbone = f"{p['backbone_bound_s']:.4f}" if "backbone_bound_s" in p else "-"
        tree = f"{p['tree_bound_s']:.4f}" if "tree_bound_s" in p else "-"
        lines.append(
            f"| {p['platform']} | {p['n']} | {p['bytes'] // MIB} MiB | {p['chunk'] / MIB:g} MiB | {p['ring']} | "
            f"{transport(p)} | {inst} | {data:.4f} | {p['bound_s']:.4f} | {data / p['bound_s']:.2f} | "
            f"{tree} | {backbone} | ")
        lines[-1] += (f"{ms(s['control_s'])} | {ms(s['outcome_s'])} | {p['wall_s']} | "
                      f"{mib(p['max_rss_kib'])} | {mib(p['peak_private_kib'])} |")
    ctl = ["| n | split + plan broadcast (ms) | plan + answers + all_ok (ms) | outcome: reports + all_ok (ms) | "
           "answer / report JSON (bytes) | rank 0 saw problems | wall (s) | peak private (MiB) |",
           "|---|---|---|---|---|---|---|---|"]
    for p in sorted((p for p in points if p["fail_rank"] >= 0), key=lambda p: p["n"]):
        s = p.get("sim")
        if not s:
            ctl.append(f"| {p['n']} | not finished in {p['wall_s']} s | | | | | {p['wall_s']} | |")
            continue
        ctl.append(f"| {p['n']} | {ms(s['plan_s'])} | {ms(s['control_s'])} | {ms(s['outcome_s'])} | "
                   f"{s['answer_bytes']} / {s['report_bytes']} | {s['problems']} | {p['wall_s']} | "
                   f"{mib(p['peak_private_kib'])} |")
    missing = [p for p in points if not p.get("sim") and p["fail_rank"] < 0]
    miss = [f"- {p['platform']} n={p['n']} S={p['bytes'] // MIB} MiB, {transport(p)}, chunk {p['chunk'] / MIB:g} "
            f"MiB: {'timed out' if p['timed_out'] else p.get('error', 'failed')} ({p['wall_s']} s of wall time)"
            for p in missing]
    return "\n".join(lines), "\n".join(ctl), "\n".join(miss) or "- none"


def main():
    results, date = sys.argv[1], sys.argv[2]
    source = "bench/results/2026-11-21-pack-unpack-sci-env.json"
    points = json.load(open(results))
    simgrid = subprocess.run(["smpirun", "-version"], capture_output=True, text=True).stdout.strip()
    out = {"date": date, "tool": "scripts/bench/bcast-sim", "simgrid": simgrid.splitlines()[-1] if simgrid else "",
           "machine": {"nproc": os.cpu_count(), "host": platform.node(), "note": "2 cores shared with 4 other "
                       "sessions: wall times are upper bounds"},
           "smpi_flags": ["-no-privatize", "--cfg=smpi/simulate-computation:no", "--cfg=smpi/test:1e-6",
                          "--cfg=smpi/grow-injected-times:no", "--cfg=network/crosstraffic:0"],
           "install_rate_measured": install_rate(source), "diagnostics": DIAGNOSTICS, "points": points}
    json_path = os.path.join(REPO, "bench", "results", f"{date}-bcast-sim.json")
    with open(json_path, "w") as f:
        json.dump(out, f, indent=1)
    plot(points, os.path.join(REPO, "bench", "results", f"{date}-bcast-sim.png"))
    main_t, ctl_t, miss = tables(points, out["install_rate_measured"])
    doc = os.path.join(REPO, "doc", "performance-sim.md")
    text = open(doc).read()
    for marker, body in (("sim-tables", main_t), ("sim-control", ctl_t), ("sim-missing", miss)):
        a, b = f"<!-- {marker} -->", f"<!-- /{marker} -->"
        i, j = text.index(a) + len(a), text.index(b)
        text = text[:i] + "\n" + body + "\n" + text[j:]
    open(doc, "w").write(text)
    print(json_path)


if __name__ == "__main__":
    main()
