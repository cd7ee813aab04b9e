#!/usr/bin/env python3
"""Writes the SimGrid platforms of scripts/bench/bcast-sim into bench/platforms/.

Four networks, each for n = 16 ... 16384 nodes (one MPI rank per node):

  fat-tree      two-level fat tree, full bisection: each leaf switch has as
                many up-links (one to each spine) as nodes. InfiniBand EDR:
                100 Gb/s = 12.5 GB/s per link.
  fat-tree-2to1 the same leaves with half the spines: 2:1 oversubscribed
                (a leaf's up-links carry half of what its nodes can send).
  dragonfly     Slingshot-like: 16 nodes per router, routers all-to-all in a
                group, one global link between every pair of groups;
                200 Gb/s = 25 GB/s per link.
  crossbar      a reference, not a real network: every node's link goes to one
                non-blocking switch, so only the node links (EDR) can be
                congested. What the transport costs with no topology at all.

Latency: 0.25 us per link, so about 1 us node to node across a fat tree
(4 links) and 1-1.5 us across the dragonfly. Links are full duplex
(SPLITDUPLEX). Usage: platforms.py OUTDIR
"""
import math
import os
import sys

SIZES = [16, 64, 256, 1024, 4096, 16384]
EDR = "12.5GBps"
SLINGSHOT = "25GBps"
LAT = "0.25us"

HEAD = """<?xml version='1.0'?>
<!DOCTYPE platform SYSTEM "https://simgrid.org/simgrid.dtd">
<!-- {what}. Written by scripts/bench/sim/platforms.py; do not edit. -->
<platform version="4.1">
<zone id="world" routing="Full">
"""
TAIL = "</zone>\n</platform>\n"


def leaf_width(n):
    """Nodes per leaf switch: 32 (a 64-port switch), fewer for tiny n."""
    return min(32, n) if n >= 64 else max(4, int(math.sqrt(n)))


def cluster(n, what, bw, topology, params):
    """The platform file: one SimGrid <cluster> of n nodes with this topology."""
    return HEAD.format(what=what) + (
        f'<cluster id="c" prefix="n" suffix="" radical="0-{n - 1}" speed="1Gf" bw="{bw}" lat="{LAT}" '
        f'sharing_policy="SPLITDUPLEX" topology="{topology}" topo_parameters="{params}" '
        f'loopback_bw="100GBps" loopback_lat="0"/>\n') + TAIL


def fat_tree(n, oversub):
    a = leaf_width(n)
    leaves = n // a
    spines = max(1, a // oversub)
    what = (f"{n} nodes, two-level fat tree: {leaves} leaf switches of {a} nodes, {spines} spines, "
            f"{'full bisection' if oversub == 1 else f'{oversub}:1 oversubscribed'}; EDR 12.5 GB/s links, {LAT} each")
    params = f"2;{a},{leaves};1,{spines};1,1"
    return cluster(n, what, EDR, "FAT_TREE", params), params


def crossbar(n):
    what = f"{n} nodes on one non-blocking switch (a reference: no topology); EDR 12.5 GB/s links, {LAT} each"
    return HEAD.format(what=what) + (
        f'<cluster id="c" prefix="n" suffix="" radical="0-{n - 1}" speed="1Gf" bw="{EDR}" lat="{LAT}" '
        f'sharing_policy="SPLITDUPLEX" loopback_bw="100GBps" loopback_lat="0"/>\n') + TAIL, ""


def dragonfly(n):
    per_router = 16 if n >= 64 else 4
    routers = n // per_router
    groups = max(2, int(round(math.sqrt(routers / 2)))) if routers >= 4 else 1
    while routers % groups:
        groups -= 1
    per_group = routers // groups
    what = (f"{n} nodes, dragonfly: {groups} groups of {per_group} routers, {per_router} nodes each, one global link "
            f"per pair of groups; Slingshot-like 25 GB/s links, {LAT} each")
    params = f"{groups},1;1,1;{per_group},1;{per_router}"
    return cluster(n, what, SLINGSHOT, "DRAGONFLY", params), params


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for n in SIZES:
        for name, (text, _) in (("fat-tree", fat_tree(n, 1)), ("fat-tree-2to1", fat_tree(n, 2)),
                                ("dragonfly", dragonfly(n)), ("crossbar", crossbar(n))):
            with open(os.path.join(out, f"{name}-{n}.xml"), "w") as f:
                f.write(text)


if __name__ == "__main__":
    main()
