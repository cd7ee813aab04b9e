# shmstack audit and pack's leak warnings, end to end:
#  a) a venv whose .pth adds a directory on a "shared" path ($T/global stands
#     for /global): pack warns, audit lists that directory and --forbid exits
#     1 naming it; with the .pth fixed (the package copied into the stack),
#     pack is quiet, audit counts zero calls there, --forbid exits 0, and the
#     relocated venv makes no call outside the stack root and system dirs;
#  b) an ELF built with -Wl,-rpath outside the stack: pack warns, --strict
#     fails and writes no archive;
#  c) children are audited (Python subprocess: a path only the child opens);
#  d) a program killed by a signal: exit 128+N, the table still printed;
#  e) a SIGTERM to audit alone reaches the program, once;
#  f) --json -o FILE, usage errors.
# Where namespaces are allowed, it runs with a private tmpfs on /dev/shm and
# the default stack root, so that the relocated venv's count of calls outside
# the stack and system directories must be exactly zero.
source "$(dirname "$0")/private_shm.bash"
source "$E2E_DIR/plain_cc.bash"
unset PYTHONPATH PYTHONHOME  # the calls counted are the stack's, not a caller's PYTHONPATH's
need_tool python3
/usr/bin/python3 -m venv --without-pip "$T/probe" 2>/dev/null || skip "python3 -m venv is not available"
cd /  # python -c looks in its working directory first: keep it in a system directory

# a) the leaky venv
global=$T/global
mkdir -p "$global/pkgs/sharedmod"
echo 'WHERE = __file__' >"$global/pkgs/sharedmod/__init__.py"
/usr/bin/python3 -m venv --without-pip "$T/venv"
site=$(echo "$T"/venv/lib/python3*/site-packages)
echo "$global/pkgs" >"$site/shared.pth"
"$S" pack "$T/venv" -o "$T/leaky.tar.lz4" --name leaky -q -v 2>"$T/pack.err"
grep -q "^shmstack: warning: leak: 1 file names '$global/pkgs' (.pth lines), outside the stack and the system directories: every node will look there$" \
  "$T/pack.err" || { cat "$T/pack.err"; fail "pack does not warn about the .pth"; }
grep -q "^shmstack: leak: 'lib/python3[.0-9]*/site-packages/shared.pth': .pth line '$global/pkgs' is outside the stack$" \
  "$T/pack.err" || { cat "$T/pack.err"; fail "pack -v does not name the .pth file"; }
grep -q "^shmstack: warning: 1 possible leak to outside the stack in 1 file" "$T/pack.err" || fail "no leak summary: $(cat "$T/pack.err")"
"$S" unpack "$T/leaky.tar.lz4" >/dev/null
rc=0
"$S" audit leaky --forbid "$global" -- python3 -c 'import sharedmod; print(sharedmod.WHERE)' >"$T/out" 2>"$T/err" || rc=$?
[[ $rc -eq 1 ]] || { cat "$T/err"; fail "audit --forbid of the shared path exits $rc, not 1"; }
grep -qx "$global/pkgs/sharedmod/__init__.py" "$T/out" || fail "the program did not run: $(cat "$T/out")"
grep -Eq "^ +[0-9]+  outside $global/pkgs/sharedmod$" "$T/err" || { cat "$T/err"; fail "table does not list the shared directory"; }
grep -q "^FORBIDDEN: [0-9]* calls touched a --forbid prefix" "$T/err" || fail "no FORBIDDEN line: $(cat "$T/err")"
grep -q "^  $global/pkgs" "$T/err" || fail "the first forbidden paths are not named: $(cat "$T/err")"
grep -q "^program exited with status 0; audit exits with 1$" "$T/err" || fail "exit line: $(cat "$T/err")"

# ... fixed: the package is part of the stack, the .pth is gone
cp -a "$global/pkgs/sharedmod" "$site/"
rm "$site/shared.pth"
"$S" pack "$T/venv" -o "$T/fixed.tar.lz4" --name fixed -q --strict 2>"$T/pack.err" || fail "pack --strict of the fixed venv: $(cat "$T/pack.err")"
! grep -q "leak" "$T/pack.err" || fail "pack warns about the fixed venv: $(cat "$T/pack.err")"
mv "$T/venv" "$T/venv-gone"
dest=$("$S" unpack "$T/fixed.tar.lz4")
"$S" audit fixed --forbid "$global" --forbid "$T/venv" --json -o "$T/fixed.json" -- \
  python3 -c 'import sharedmod, json, email.parser; print(sharedmod.WHERE)' >"$T/out" \
  || fail "audit --forbid of the shared path and the source prefix exits $?: $(cat "$T/fixed.json")"
grep -qx "$dest/lib/python3"*"/site-packages/sharedmod/__init__.py" "$T/out" || fail "fixed: $(cat "$T/out")"
python3 - "$T/fixed.json" "$ROOT" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
root = sys.argv[2].rstrip("/")
assert r["exit_status"] == 0 and r["program"] == {"exit_status": 0}, r
assert r["forbid"]["calls"] == 0, r["forbid"]
assert r["calls"]["stack"] > 20, r["calls"]
# nothing outside the stack and system directories but the stack root itself
for d in r["directories"]:
    assert d["directory"] == root or d["directory"].startswith(root + "/"), d
if root == "/dev/shm":
    assert r["calls"]["outside"] == 0, r["calls"]
PY

# b) an ELF with an absolute RPATH outside the stack
if [[ -z $plain_cc_why ]]; then
  mkdir -p "$T/elfstack/bin"
  echo 'int main(void) { return 0; }' >"$T/main.c"
  cc -o "$T/elfstack/bin/tool" "$T/main.c" -Wl,-rpath,/some/abs/outside
  "$S" pack "$T/elfstack" -o "$T/elf.tar.lz4" -q -v 2>"$T/pack.err"
  grep -Eq "^shmstack: warning: leak: 1 file names '/some/abs/outside' \((RPATH|RUNPATH) entries\), outside the stack and the system directories: every node will look there$" \
    "$T/pack.err" || fail "no RPATH warning: $(cat "$T/pack.err")"
  grep -Eq "^shmstack: leak: 'bin/tool': (RPATH|RUNPATH) entry '/some/abs/outside' is outside the stack$" \
    "$T/pack.err" || fail "-v does not name the file: $(cat "$T/pack.err")"
  [[ -s $T/elf.tar.lz4 ]] || fail "pack without --strict wrote no archive"
  rc=0
  "$S" pack "$T/elfstack" -o "$T/elf-strict.tar.lz4" -q --strict 2>"$T/pack.err" || rc=$?
  [[ $rc -eq 1 ]] || fail "pack --strict exits $rc"
  grep -q "^shmstack: error: cannot pack '$T/elfstack': 1 possible leak to outside the stack in 1 file (grouped above; -v lists each); --strict: no archive written$" \
    "$T/pack.err" || fail "pack --strict error: $(cat "$T/pack.err")"
  [[ ! -e $T/elf-strict.tar.lz4 ]] || fail "pack --strict left an archive"
  [[ -z $(ls "$T" | grep 'elf-strict') ]] || fail "pack --strict left a temporary file"
else
  echo "skipping the ELF case: $plain_cc_why"
fi

# c) children: only the child opens child-only.txt
echo child >"$T/child-only.txt"
"$S" audit fixed --json -o "$T/child.json" -- python3 -c \
  'import subprocess, sys; subprocess.run(["cat", sys.argv[1]], check=True, stdout=subprocess.DEVNULL)' \
  "$T/child-only.txt" || fail "audit of the subprocess program exits $?"
python3 - "$T/child.json" "$T" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
dirs = {d["directory"]: d for d in r["directories"]}
assert sys.argv[2] in dirs and sys.argv[2] + "/child-only.txt" in dirs[sys.argv[2]]["first"], r["directories"]
assert r["processes"] >= 2, r["processes"]
assert r["syscalls"].get("execve", 0) >= 2, r["syscalls"]
PY

# d) killed by a signal: 128+N, and the table anyway
rc=0
"$S" audit fixed -- python3 -c 'import os, signal; os.kill(os.getpid(), signal.SIGKILL)' 2>"$T/err" || rc=$?
[[ $rc -eq 137 ]] || fail "audit of a program killed by SIGKILL exits $rc, not 137"
grep -q "^shmstack audit: [0-9]* file-system calls by 1 process$" "$T/err" || fail "no table: $(cat "$T/err")"
grep -q "^program killed by signal 9; audit exits with 137$" "$T/err" || fail "exit line: $(cat "$T/err")"
rc=0
"$S" audit fixed -- sh -c 'exit 3' 2>/dev/null || rc=$?
[[ $rc -eq 3 ]] || fail "audit does not exit with the program's status: $rc"

# e) a signal to audit alone (kill PID) is passed on to the program, once
cat >"$T/sig.py" <<'PY'
import os, select, signal, sys
r, w = os.pipe()
os.set_blocking(w, False)
signal.set_wakeup_fd(w)  # one byte per signal received, however Python coalesces its handlers
for s in (signal.SIGINT, signal.SIGTERM):
    signal.signal(s, lambda n, f: None)
open(sys.argv[1], "w").close()
select.select([r], [], [], 3)
select.select([], [], [], 0.5)  # a second, doubled signal would arrive in this time
os.set_blocking(r, False)
try:
    got = len(os.read(r, 100))
except BlockingIOError:
    got = 0
sys.exit(10 + got)
PY
wait_ready() { for _ in $(seq 100); do [[ -e $1 ]] && return; sleep 0.05; done; fail "the program did not start"; }
"$S" audit fixed -- python3 "$T/sig.py" "$T/ready1" 2>/dev/null &
pid=$!
wait_ready "$T/ready1"
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
[[ $rc -eq 11 ]] || fail "SIGTERM to audit alone: the program got $((rc - 10)) signals (exit $rc), not 1"

# e2) calls that change the file system count too, so --forbid means any call
mkdir -p "$T/forb"; : >"$T/forb/old"
rc=0
"$S" audit fixed --forbid "$T/forb" --json -o "$T/mut.json" -- sh -c \
  'mkdir "$1/d" && rmdir "$1/d" && mv "$1/old" "$1/new" && chmod 600 "$1/new" && touch "$1/new" && ln -s x "$1/l" && rm "$1/new" "$1/l"' \
  _ "$T/forb" || rc=$?
[[ $rc -eq 1 ]] || fail "mutating calls under a --forbid prefix: exit $rc, not 1"
python3 - "$T/mut.json" <<'PY' || fail "mutating calls not recorded"
import json, sys
r = json.load(open(sys.argv[1]))
seen = set(r["syscalls"])
for want in (("mkdir", "mkdirat"), ("rmdir", "unlinkat"), ("rename", "renameat", "renameat2"),
             ("chmod", "fchmodat"), ("symlink", "symlinkat"), ("unlink", "unlinkat")):
    assert seen & set(want), f"none of {want} in {sorted(seen)}"
PY

# e3) what takes calls out of audit's sight is warned about, once each: an
# io_uring, a clone with CLONE_UNTRACED (made to fail: CLONE_SIGHAND without CLONE_VM)
"$S" audit fixed -o "$T/esc.txt" -- python3 -c '
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.syscall(425, 8, ctypes.create_string_buffer(120))
if fd >= 0: os.close(fd)
for _ in range(2): libc.syscall(56, 0x00800000 | 0x00000800, 0, 0, 0, 0)
' 2>"$T/esc.err" || fail "audit of a program using io_uring failed"
[[ $(uname -m) != x86_64 ]] || {
  grep -q "warning: audit: process [0-9]* set up an io_uring: files it opens or stats through it are not seen" "$T/esc.err" \
    || { cat "$T/esc.err"; fail "no io_uring warning"; }
  [[ $(grep -c "CLONE_UNTRACED: that process and its children are not seen" "$T/esc.err") -eq 1 ]] \
    || { cat "$T/esc.err"; fail "no single CLONE_UNTRACED warning"; }
}

# f) errors
expect_fail 2 "audit: missing '-- PROG" "$S" audit fixed
expect_fail 1 "stack 'nope' is not installed" "$S" audit nope -- true
expect_fail 1 "cannot run 'no-such-program-here': not found in PATH" "$S" audit fixed -- no-such-program-here
expect_fail 1 "cannot write '$T/no/dir/r.json'" "$S" audit fixed -o "$T/no/dir/r.json" -- true
echo "audit ok"
