# bcast started without a launcher (an MPI job of one rank, as srun without a
# PMI plugin starts each task): it installs like unpack, records that bcast
# installed it, prints the activation for the shell --shell names, and warns
# when Slurm says there were more tasks (each broadcasting alone). Either
# transport works; --ibcast with tree options is a usage error.
source "$(dirname "$0")/lib.bash"
mkdir -p "$T/src/alonepkg"
echo 'X = 1' >"$T/src/alonepkg/__init__.py"
"$S" pack "$T/src" -o "$T/a.tar.lz4" --name alone -q

env -u SLURM_NTASKS "$S" bcast --print-env --shell fish "$T/a.tar.lz4" >"$T/out" 2>"$T/err" || { cat "$T/err"; fail "bcast alone failed"; }
[[ ! -s $T/err ]] || { cat "$T/err"; fail "bcast alone printed on stderr"; }
grep -Eq "^set -gx PYTHONPATH '$ROOT/shmstack-$(id -u)/alone-[0-9a-f]{12}'" "$T/out" || { cat "$T/out"; fail "no fish PYTHONPATH line"; }
"$S" list --json | grep -q '"via": "bcast"' || fail "list --json does not say bcast installed it"

SLURM_NTASKS=4 "$S" bcast "$T/a.tar.lz4" >/dev/null 2>"$T/err" || fail "bcast as one of 4 srun tasks failed"
grep -q "^shmstack: warning: srun started 4 tasks, but each one is an MPI job of its own rank: run 'srun --mpi=pmi2" "$T/err" ||
  { cat "$T/err"; fail "no warning about srun without PMI"; }
# The transports: the tree (default, also by name) and MPI_Ibcast, which has no tree to shape.
"$S" bcast --ibcast "$T/a.tar.lz4" >/dev/null || fail "bcast --ibcast failed"
"$S" bcast --tree --fanout 3 "$T/a.tar.lz4" >/dev/null || fail "bcast --tree --fanout 3 failed"
"$S" bcast --two-tree "$T/a.tar.lz4" >/dev/null || fail "bcast --two-tree failed"
rc=0; "$S" bcast --two-tree --fanout 3 "$T/a.tar.lz4" >/dev/null 2>"$T/err" || rc=$?
((rc == 2)) && grep -q "bcast: --two-tree has its own shape" "$T/err" || { cat "$T/err"; fail "--two-tree --fanout was not a usage error"; }
rc=0; "$S" bcast --ibcast --fanout 3 "$T/a.tar.lz4" >/dev/null 2>"$T/err" || rc=$?
((rc == 2)) && grep -q "bcast: --ibcast sends no tree" "$T/err" || { cat "$T/err"; fail "--ibcast --fanout was not a usage error"; }
echo "bcast alone ok"
