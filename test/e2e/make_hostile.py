#!/usr/bin/env python3
"""Write hostile tar archives into a directory, one per case: NAME.tar.
Each case is a list of entries; the last one is the attack.

  make_hostile.py OUT [STACK.tar]
  make_hostile.py --lie STACK.tar OUT.tar KEY=N...

With STACK.tar (a real stack, decompressed: `lz4 -dc x.tar.lz4 >STACK.tar`),
also writes manifest-*.tar: that stack with a manifest that lies. --lie writes
one such archive, its manifest's KEYs set to N."""
import io, json, os, sys, tarfile


def write_lying(stack_tar, path, lie):
    """STACK.tar again, with the manifest (its first entry) updated by `lie`."""
    with tarfile.open(stack_tar) as src, tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as dst:
        for i, m in enumerate(src.getmembers()):
            data = src.extractfile(m).read() if m.isfile() else None
            if i == 0:
                data = json.dumps({**json.loads(data), **lie}).encode()
                m.size = len(data)
            dst.addfile(m, io.BytesIO(data) if data is not None else None)


if sys.argv[1] == "--lie":
    write_lying(sys.argv[2], sys.argv[3], {k: int(v) for k, v in (a.split("=", 1) for a in sys.argv[4:])})
    sys.exit(0)

out = sys.argv[1]


def entry(name, kind=tarfile.REGTYPE, data=b"", link="", mode=0o644):
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.linkname, info.mtime = kind, mode, link, 1_600_000_000
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    return info, (io.BytesIO(data) if kind == tarfile.REGTYPE else None)


cases = {
    "absolute": [entry("ok.txt", data=b"ok"), entry("/tmp/shmstack-evil-absolute", data=b"x")],
    "dotdot": [entry("ok.txt", data=b"ok"), entry("a/../../shmstack-evil-dotdot", data=b"x")],
    "symlink-then-file": [entry("esc", tarfile.SYMTYPE, link="/tmp"), entry("esc/shmstack-evil-through", data=b"x")],
    "symlink-up-then-file": [entry("up", tarfile.SYMTYPE, link=".."), entry("up/shmstack-evil-up", data=b"x")],
    "symlink-then-dir": [entry("esc", tarfile.SYMTYPE, link="/tmp"), entry("esc", tarfile.DIRTYPE, mode=0o755),
                         entry("esc/shmstack-evil-dir", data=b"x")],
    "hardlink-outside": [entry("ok.txt", data=b"ok"), entry("pw", tarfile.LNKTYPE, link="/etc/passwd")],
    "hardlink-dotdot": [entry("ok.txt", data=b"ok"), entry("pw", tarfile.LNKTYPE, link="../../../../etc/passwd")],
    "hardlink-dir": [entry("d", tarfile.DIRTYPE, mode=0o755), entry("x", tarfile.LNKTYPE, link="d")],
    "hardlink-later": [entry("x", tarfile.LNKTYPE, link="later.txt"), entry("later.txt", data=b"later")],
    "hardlink-self": [entry("self", tarfile.LNKTYPE, link="self")],
    "chardev": [entry("null", tarfile.CHRTYPE)],
    "blockdev": [entry("sda", tarfile.BLKTYPE)],
    "fifo": [entry("pipe", tarfile.FIFOTYPE)],
    "newline": [entry("bad\nname", data=b"x")],
    "escape": [entry("bad\x1b[2Jname", data=b"x")],
    "longpath": [entry("d/" * 2100 + "f", data=b"x")],
    "longname": [entry("a" * 300, data=b"x")],
    "reserved": [entry(".shmstack/install.json", data=b"{}")],
}
for name, entries in cases.items():
    with tarfile.open(os.path.join(out, name + ".tar"), "w", format=tarfile.PAX_FORMAT) as t:
        for info, data in entries:
            t.addfile(info, data)

# Not attacks: setuid/setgid bits are stripped from files and directories,
# sticky is dropped from files (it means nothing there) and kept on directories.
with tarfile.open(os.path.join(out, "modes.tar"), "w", format=tarfile.PAX_FORMAT) as t:
    t.addfile(*entry("tool", data=b"#!/bin/sh\n", mode=0o7755))
    t.addfile(*entry("shared", tarfile.DIRTYPE, mode=0o7775))


def header_only(path, name, declared, data):
    """A tar whose one entry declares `declared` bytes but carries `data`, then ends."""
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = declared, 0o644, 1_600_000_000
    with open(path, "wb") as f:
        f.write(info.tobuf(format=tarfile.PAX_FORMAT) + data)


# An entry that declares more data than the archive holds.
header_only(os.path.join(out, "short-data.tar"), "big.bin", 1 << 20, b"x" * 100)
# A tar bomb: 1 KiB of archive declaring 100 GiB of output.
header_only(os.path.join(out, "bomb.tar"), "bomb.bin", 100 << 30, b"\0" * 512)

if len(sys.argv) > 2:
    with tarfile.open(sys.argv[2]) as src:
        manifest = json.loads(src.extractfile(src.getmembers()[0]).read())
    page = lambda n: (n + 4095) // 4096 * 4096
    b, e = manifest["bytes"], manifest["entries"]
    lies = {
        # (disk_bytes kept consistent, so that extraction is what catches them)
        "bytes-under": {"bytes": b // 2, "disk_bytes": page(b // 2) + e * 4096},
        "bytes-over": {"bytes": b * 2, "disk_bytes": page(b * 2) + e * 4096},
        "entries-under": {"entries": 2, "disk_bytes": page(b) + 2 * 4096},
        "disk-huge": {"bytes": 1 << 50, "disk_bytes": 1 << 50},
        # sizes that contradict each other or their types
        "disk-zero": {"disk_bytes": 0},
        "disk-odd": {"disk_bytes": manifest["disk_bytes"] + 1},
        "disk-over": {"disk_bytes": page(b) + e * 4096 + 4096},
        "entries-wrap": {"entries": (1 << 64) - 1},
        "format-wrap": {"format": (1 << 32) + 1},
        # consistent, but less memory than the files take (each file is whole pages)
        "disk-under": {"disk_bytes": page(b)},
        # text that would clear the screen, set the title, forge lines (a C1 CSI too)
        "strings": {"source": "/x\x1b[2J\nforged: line", "host": "h\x1b]0;title\x07", "tool": "t\u009b31m",
                    "created": "\r2024"},
    }
    for name, lie in lies.items():
        write_lying(sys.argv[2], os.path.join(out, "manifest-" + name + ".tar"), lie)
