# Every command answers --help with its usage and options (exit 0); the
# overview lists every command; --version prints the version.
source "$(dirname "$0")/lib.bash"
"$S" --help >"$T/overview"
for cmd in pack unpack info list rm gc env exec bcast run; do
  grep -q "^  $cmd " "$T/overview" || fail "overview does not list $cmd"
  "$S" "$cmd" --help >"$T/help" || fail "$cmd --help failed"
  grep -q "^Usage: shmstack $cmd" "$T/help" || fail "$cmd --help has no usage line"
  grep -q -- "--help" "$T/help" || fail "$cmd --help lists no options"
done
"$S" exec --help | grep -q "^Usage: shmstack exec STACK... \[options\] -- PROG" || fail "exec --help usage line"
"$S" pack --help | grep -q -- "--exclude" || fail "pack --help misses --exclude"
"$S" unpack --help | grep -q -- "--root" || fail "unpack --help misses --root"
"$S" run --help | grep -q "^Usage: shmstack run STACK|DIR... \[options\] -- PROG" || fail "run --help usage line"
"$S" run --help | grep -q "two job steps" || fail "run --help does not say how to run MPI programs"
"$S" bcast --help | grep -q -- "--print-env" || fail "bcast --help misses --print-env"
"$S" bcast --help | grep -q -- "--shell" || fail "bcast --help misses --shell"
grep -q "^  slurm " "$T/overview" || fail "overview does not list slurm"
"$S" slurm --help | grep -q "^Usage: shmstack slurm task-prolog|prolog|epilog" || fail "slurm --help usage line"
for hook in task-prolog prolog epilog; do
  "$S" slurm "$hook" --help >"$T/help" || fail "slurm $hook --help failed"
  grep -q "^Usage: shmstack slurm $hook" "$T/help" || fail "slurm $hook --help has no usage line"
  grep -q -- "--root" "$T/help" || fail "slurm $hook --help misses --root"
done
expect_fail 2 "slurm: unknown command 'pro' \\(task-prolog, prolog or epilog\\); did you mean 'prolog'\\?$" "$S" slurm pro
# A mistyped command gets a suggestion; one too many arguments says what the command takes.
expect_fail 2 "^shmstack: error: unknown command 'unpak'; did you mean 'unpack'\\?$" "$S" unpak x
expect_fail 2 "^shmstack: error: unknown command 'bcats'; did you mean 'bcast'\\?$" "$S" bcats x
expect_fail 2 "^shmstack: error: unknown command 'frobnicate'$" "$S" frobnicate
expect_fail 2 "^shmstack: error: info: too many arguments: it takes one STACK \\(usage: shmstack info " "$S" info a.tar.lz4 b.tar.lz4
"$S" slurm --help | grep -q "doc/slurm.md" || fail "slurm --help does not say where the set-up is described"
[[ -f $E2E_DIR/../../doc/slurm.md ]] || fail "slurm --help names doc/slurm.md, which is gone"
"$S" --version | grep -Eq '^shmstack [0-9]+\.[0-9]+\.[0-9]+$' || fail "--version"
rc=0; "$S" 2>"$T/err" || rc=$?
[[ $rc -eq 2 ]] && grep -q "^Usage: shmstack COMMAND" "$T/err" || fail "no arguments: want the overview on stderr and exit 2"
echo "help ok"
