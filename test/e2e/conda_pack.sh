# conda-pack archives (.tar.gz, no shmstack manifest, bin/conda-unpack
# inside) get conda-unpack run where the stack finally lives; a failing
# conda-unpack leaves no stack behind and says so.
source "$(dirname "$0")/lib.bash"
make_env() {  # make_env DIR EXIT: a fake conda-pack environment
  mkdir -p "$1/bin" "$1/conda-meta" "$1/etc"
  echo "prefix=@OLD_PREFIX@" >"$1/etc/config.txt"
  cat >"$1/bin/conda-unpack" <<SCRIPT
#!/bin/sh
# like conda-unpack: find the prefix from where this script lives, rewrite it in
here=\$(cd "\$(dirname "\$0")/.." && pwd)
sed -i "s|@OLD_PREFIX@|\$here|" "\$here/etc/config.txt"
echo "\$here \$PWD" >"\$here/unpacked-at"
exit $2
SCRIPT
  chmod 755 "$1/bin/conda-unpack"
}
make_env "$T/env" 0
tar -C "$T/env" -czf "$T/env.tar.gz" .
dest=$("$S" unpack "$T/env.tar.gz")
[[ $(cat "$dest/unpacked-at") == "$dest $dest" ]] || fail "conda-unpack did not run in the final location: $(cat "$dest/unpacked-at" 2>&1)"
[[ $(cat "$dest/etc/config.txt") == "prefix=$dest" ]] || fail "conda-unpack's rewrite is missing"
"$S" list | grep -q "^env " || fail "the conda-pack stack is not listed"
# a second install reuses it (conda-unpack does not run again)
rm "$dest/unpacked-at"
"$S" unpack "$T/env.tar.gz" >/dev/null
[[ ! -e $dest/unpacked-at ]] || fail "conda-unpack ran again on reuse"

make_env "$T/bad" 3
tar -C "$T/bad" -czf "$T/bad.tar.gz" .
expect_fail 1 "conda-unpack failed in '$ROOT/shmstack-$(id -u)/bad-[0-9a-f]{12}': it exited with status 3" "$S" unpack "$T/bad.tar.gz"
"$S" list | grep -q "^bad " && fail "a stack whose conda-unpack failed is listed"
[[ -z $(compgen -G "$ROOT/shmstack-$(id -u)/bad-*") ]] || fail "a stack whose conda-unpack failed is left behind"
no_leftovers

# What conda-unpack starts does not outlive it, even detached with setsid;
# its stdout goes to stderr (a TaskProlog's stdout is read by Slurm).
make_env "$T/det" 0
sed -i "2i setsid -f sh -c 'echo \\$\\$ >$T/detached.pid; exec sleep 60' </dev/null >/dev/null 2>\\&1; sleep 0.3; echo 'export EVIL=1'" "$T/det/bin/conda-unpack"
tar -C "$T/det" -czf "$T/det.tar.gz" .
timeout -k 5 30 env SHMSTACK_STACKS="$T/det.tar.gz" SLURM_JOB_ID=1 "$S" slurm task-prolog >"$T/out" 2>/dev/null || fail "task-prolog with a detaching conda-unpack failed"
! grep -q EVIL "$T/out" || fail "conda-unpack's stdout reached the TaskProlog's output"
[[ -s $T/detached.pid ]] || fail "the detached process never started"
if kill -0 "$(cat "$T/detached.pid")" 2>/dev/null; then
  kill "$(cat "$T/detached.pid")"; fail "a process conda-unpack detached with setsid outlived the install"
fi
# A time limit: killed, the stack removed, the reason given.
make_env "$T/slow" 0
sed -i '2i sleep 30' "$T/slow/bin/conda-unpack"
tar -C "$T/slow" -czf "$T/slow.tar.gz" .
rc=0; SHMSTACK_CONDA_UNPACK_TIMEOUT=1 timeout -k 5 20 "$S" unpack "$T/slow.tar.gz" >/dev/null 2>"$T/err" || rc=$?
[[ $rc -eq 1 ]] || { cat "$T/err"; fail "a conda-unpack past its time limit: exit $rc (124: no limit)"; }
grep -q "conda-unpack failed in .*: it did not finish within 1 s, and was killed" "$T/err" || { cat "$T/err"; fail "no reason given"; }
[[ -z $(compgen -G "$ROOT/shmstack-$(id -u)/slow-*") ]] || fail "the timed-out stack is left behind"
# The root-started Prolog runs no archive code without the site's opt-in.
rm -f "$T/env-unpacked"
"$S" rm env >/dev/null
env SLURM_JOB_ID=2 SLURM_JOB_UID=$(id -u) SLURM_JOB_GID=$(id -g) "$S" slurm prolog --stacks "$T/env.tar.gz" 2>"$T/err" || fail "prolog failed"
grep -q "it is a conda-pack archive, whose bin/conda-unpack must run; the Slurm Prolog runs no code from an archive unless the site allows it .*TaskProlog (SHMSTACK_STACKS) or a pre-step" "$ROOT/shmstack-$(id -u)/.jobs/2/.prolog.json" ||
  { cat "$ROOT/shmstack-$(id -u)/.jobs/2/.prolog.json"; fail "no refusal recorded"; }
[[ -z $(compgen -G "$ROOT/shmstack-$(id -u)/env-*") ]] || fail "the prolog installed a conda-pack archive without the opt-in"
env SLURM_JOB_ID=3 SLURM_JOB_UID=$(id -u) SLURM_JOB_GID=$(id -g) "$S" slurm prolog --run-conda-unpack --stacks "$T/env.tar.gz" 2>"$T/err" || fail "prolog failed"
compgen -G "$ROOT/shmstack-$(id -u)/env-*/unpacked-at" >/dev/null || { cat "$T/err"; fail "the opted-in prolog did not run conda-unpack"; }
no_leftovers
echo "conda-pack ok"
