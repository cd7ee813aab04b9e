# Every link and image in the project's Markdown resolves: README.md,
# CONTRIBUTING.md, doc/*.md and src/*/README.md. A relative target must exist
# (relative to the file that links to it, inside the repository); a #anchor,
# in the same file or another Markdown file, must name one of its headings by
# GitHub's rule (lowercase, punctuation but - and _ dropped, spaces to -, a
# repeated heading gets -1, -2, ...). http(s), mailto and other URLs are not
# fetched; links inside fenced code blocks and inline code are not links.
# Each broken link is printed as "FILE:LINE: broken link TARGET (why)".
#
# The checker first runs on a small Markdown tree of its own, with good and
# broken links, and fails unless it reports exactly the broken ones: a
# checker that finds nothing cannot pass silently. Needs only python3 (no
# shmstack binary).
set -euo pipefail
E2E_DIR=${E2E_DIR:-$(cd "$(dirname "$0")" && pwd)}
repo=$(cd "$E2E_DIR/../.." && pwd)
command -v python3 >/dev/null || { echo "SKIP: needs python3"; exit 0; }

python3 - "$repo" <<'PY'
import os
import re
import sys
import tempfile
import unicodedata
from urllib.parse import unquote

FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
CODE_SPAN = re.compile(r"(`+)(.+?)(?<!`)\1(?!`)")
# [text](target "title") and ![alt](target); text may hold one level of [...].
INLINE_LINK = re.compile(
    r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*(<[^>\n]*>|[^\s()]+(?:\([^\s()]*\)[^\s()]*)*)"
    r"(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?\s*\)")
REF_DEF = re.compile(r"^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)")
HTML_ANCHOR = re.compile(r"<a\s[^>]*\b(?:name|id)\s*=\s*[\"']([^\"']+)[\"']", re.I)
URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
SOURCE_LINE_ANCHOR = re.compile(r"^L\d+(-L\d+)?$")


def text_lines(path):
    """(line number, text) of every line outside fenced code blocks, with
    inline code spans blanked out; fence lines themselves are dropped."""
    fence = None
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.rstrip("\n")
            m = FENCE.match(line)
            if fence is None and m:
                fence = m.group(1)
                continue
            if fence is not None:
                if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) \
                        and line.strip() == m.group(1):
                    fence = None
                continue
            yield number, CODE_SPAN.sub(lambda c: " " * len(c.group(0)), line)


def slug(heading):
    """GitHub's anchor for a heading's text (github-slugger)."""
    text = re.sub(r"!?\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\([^)]*\)", r"\1", heading)  # links: their text
    text = re.sub(r"<[^>]+>", "", text)  # HTML tags
    text = text.replace("`", "").replace("*", "").lower()
    kept = []
    for c in text:
        cat = unicodedata.category(c)
        if c in " -" or cat[0] in "LMN" or cat == "Pc":
            kept.append(c)
    return "".join(kept).replace(" ", "-")


def anchors(path, cache={}):
    """Every anchor a Markdown file defines: its headings' slugs (repeats
    numbered -1, -2, ... as GitHub does) and HTML name/id anchors."""
    if path in cache:
        return cache[path]
    found, seen, previous = set(), {}, None
    fence = None
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            m = FENCE.match(line)
            if fence is None and m:
                fence, previous = m.group(1), None
                continue
            if fence is not None:
                if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) \
                        and line.strip() == m.group(1):
                    fence = None
                continue
            title = None
            h = HEADING.match(line)
            if h:
                title = h.group(2) or ""
            elif previous and SETEXT.match(line) and not HEADING.match(previous) \
                    and not previous.lstrip().startswith(("-", "*", "|", ">")):
                title = previous.strip()
            if title is not None:
                base = slug(title)
                n = seen.get(base, 0)
                seen[base] = n + 1
                found.add(base if n == 0 else f"{base}-{n}")
                previous = None
            else:
                previous = line if line.strip() else None
            found.update(HTML_ANCHOR.findall(line))
    cache[path] = found
    return found


def targets(path):
    """(line, target) of every link, image and reference definition."""
    for number, line in text_lines(path):
        m = REF_DEF.match(line)
        if m:
            yield number, m.group(1)
            continue
        for m in INLINE_LINK.finditer(line):
            yield number, m.group(1)


def check(files, root):
    """Broken links of `files` as "FILE:LINE: broken link TARGET (why)", FILE
    relative to `root`; and how many links were checked."""
    root = os.path.realpath(root)
    broken, count = [], 0
    for md in files:
        shown = os.path.relpath(md, root)
        for number, target in targets(md):
            count += 1
            target = target[1:-1] if target.startswith("<") else target
            why = problem(md, target, root)
            if why:
                broken.append(f"{shown}:{number}: broken link {target} ({why})")
    return broken, count


def problem(md, target, root):
    if URL.match(target):
        return None  # a URL (http, https, mailto, ...): not fetched
    path, _, anchor = target.partition("#")
    path = unquote(path)
    if not path:
        dest = md
    elif path.startswith("/"):
        dest = os.path.join(root, path.lstrip("/"))  # GitHub: from the repository's root
    else:
        dest = os.path.join(os.path.dirname(md), path)
    dest = os.path.realpath(dest)
    if dest != root and not dest.startswith(root + os.sep):
        return "outside the repository"
    if not os.path.exists(dest):
        return "no such file or directory"
    if not anchor:
        return None
    if os.path.isdir(dest):
        return "an anchor into a directory"
    if not dest.endswith(".md"):
        if SOURCE_LINE_ANCHOR.match(anchor):
            return None
        return "an anchor into a file that is not Markdown"
    if unquote(anchor).lower() not in {a.lower() for a in anchors(dest)}:
        return f"no heading '{anchor}' in {os.path.relpath(dest, root)}"
    return None


def self_test():
    with tempfile.TemporaryDirectory() as d:
        os.mkdir(os.path.join(d, "sub"))
        with open(os.path.join(d, "sub", "b.md"), "w") as f:
            f.write("# B\n\n## Usage\n\n## Usage\n\n## `env`, `exec`: activation\n\n"
                    "Set-up (admins)\n---\n")
        with open(os.path.join(d, "a.md"), "w") as f:
            f.write("# A title\n\n"
                    "Good: [b](sub/b.md), [dir](sub), [top](#a-title), [second](sub/b.md#usage-1),\n"
                    "[code heading](sub/b.md#env-exec-activation) ![img](sub/b.md)\n"
                    "[setext](sub/b.md#set-up-admins) [web](https://example.org/x.md) `[not](gone.md)`\n"
                    "\n```\n[in a fence](gone.md)\n```\n\n"
                    "Broken: [missing](sub/nothere.md)\n"
                    "and [bad anchor](sub/b.md#usage-2) and [self](#nothing-here)\n"
                    "[ref]: ../../../etc/passwd\n")
        broken, count = check([os.path.join(d, "a.md")], d)
        want = ["a.md:11: broken link sub/nothere.md (no such file or directory)",
                "a.md:12: broken link sub/b.md#usage-2 (no heading 'usage-2' in sub/b.md)",
                "a.md:12: broken link #nothing-here (no heading 'nothing-here' in a.md)",
                "a.md:13: broken link ../../../etc/passwd (outside the repository)"]
        if broken != want or count != 12:
            print("FAIL: the link checker's self-test: it reported", file=sys.stderr)
            for b in broken:
                print("  " + b, file=sys.stderr)
            print(f"of {count} links; wanted exactly", file=sys.stderr)
            for w in want:
                print("  " + w, file=sys.stderr)
            sys.exit(1)


self_test()
repo = os.path.realpath(sys.argv[1])
files = [os.path.join(repo, f) for f in ("README.md", "CONTRIBUTING.md")]
for folder in ("doc", "src"):
    top = os.path.join(repo, folder)
    if os.path.isdir(top):
        names = sorted(os.listdir(top))
        if folder == "doc":
            files += [os.path.join(top, n) for n in names if n.endswith(".md")]
        else:
            files += [os.path.join(top, n, "README.md") for n in names
                      if os.path.isfile(os.path.join(top, n, "README.md"))]
files = [f for f in files if os.path.isfile(f)]
broken, count = check(files, repo)
for b in broken:
    print(b)
if broken:
    print(f"FAIL: {len(broken)} broken link(s) of {count} in {len(files)} files", file=sys.stderr)
    sys.exit(1)
print(f"doc links ok: {count} links in {len(files)} files")
PY
