#!/usr/bin/env python3
"""Write hostile tar archives into a directory, one per case: NAME.tar.
Each case is a list of entries; the last one is the attack."""
import io, os, sys, tarfile

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
    "symlink-then-dir": [entry("esc", tarfile.SYMTYPE, link="/tmp"), entry("esc", tarfile.DIRTYPE, mode=0o755),
                         entry("esc/shmstack-evil-dir", data=b"x")],
    "hardlink-outside": [entry("ok.txt", data=b"ok"), entry("pw", tarfile.LNKTYPE, link="/etc/passwd")],
    "hardlink-self": [entry("self", tarfile.LNKTYPE, link="self")],
    "chardev": [entry("null", tarfile.CHRTYPE)],
    "fifo": [entry("pipe", tarfile.FIFOTYPE)],
    "newline": [entry("bad\nname", data=b"x")],
    "reserved": [entry(".shmstack/install.json", data=b"{}")],
}
for name, entries in cases.items():
    with tarfile.open(os.path.join(out, name + ".tar"), "w", format=tarfile.PAX_FORMAT) as t:
        for info, data in entries:
            t.addfile(info, data)

# Not an attack: setuid/setgid bits are stripped, the file is kept.
with tarfile.open(os.path.join(out, "setuid.tar"), "w", format=tarfile.PAX_FORMAT) as t:
    t.addfile(*entry("tool", data=b"#!/bin/sh\n", mode=0o6755))
