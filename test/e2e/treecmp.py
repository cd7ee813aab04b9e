#!/usr/bin/env python3
"""Compare two directory trees: the set of paths, and for each path its type,
permission bits, mtime (nanoseconds), size, content or link target; and that
hard-link groups are the same. Prints every difference; exit 1 if any."""
import hashlib, os, stat, sys


def scan(root, ignore):
    entries, inodes = {}, {}
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        dirnames[:] = [d for d in dirnames if not (rel_dir == "." and d in ignore)]
        for name in dirnames + filenames:
            rel = os.path.normpath(os.path.join(rel_dir, name))
            if rel in ignore:
                continue
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            kind = stat.S_IFMT(st.st_mode)
            info = {"type": kind, "mode": stat.S_IMODE(st.st_mode), "mtime": st.st_mtime_ns}
            if stat.S_ISLNK(st.st_mode):
                info["target"] = os.readlink(path)
            elif stat.S_ISREG(st.st_mode):
                info["size"] = st.st_size
                h = hashlib.sha256()
                with open(path, "rb") as f:
                    for block in iter(lambda: f.read(1 << 20), b""):
                        h.update(block)
                info["sha256"] = h.hexdigest()
                if st.st_nlink > 1:
                    inodes.setdefault((st.st_dev, st.st_ino), []).append(rel)
            entries[rel] = info
    groups = sorted(sorted(g) for g in inodes.values() if len(g) > 1)
    return entries, groups


def main():
    args = sys.argv[1:]
    ignore = set()
    while "--ignore" in args:
        i = args.index("--ignore")
        ignore.add(args[i + 1])
        del args[i:i + 2]
    a, b = args
    ea, ga = scan(a, ignore)
    eb, gb = scan(b, ignore)
    problems = []
    for rel in sorted(set(ea) | set(eb)):
        if rel not in ea:
            problems.append(f"only in {b}: {rel!r}")
        elif rel not in eb:
            problems.append(f"only in {a}: {rel!r}")
        elif ea[rel] != eb[rel]:
            diff = {k: (ea[rel].get(k), eb[rel].get(k)) for k in set(ea[rel]) | set(eb[rel])
                    if ea[rel].get(k) != eb[rel].get(k)}
            problems.append(f"differs: {rel!r}: {diff}")
    if ga != gb:
        problems.append(f"hard-link groups differ: {ga} vs {gb}")
    for p in problems:
        print(p, file=sys.stderr)
    print(f"treecmp: {len(ea)} entries compared, {len(problems)} differences")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
