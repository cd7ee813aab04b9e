# srun starts shmstack bcast as one MPI job, with the PMI plugin that the MPI
# shmstack is built with speaks (doc/sites.md): MPICH's PMI-1/PMI-2 through
# --mpi=pmi2, Open MPI's PMIx through --mpi=pmix. 3 tasks on 3 nodes: one
# broadcast (rank 0 reads, 3 nodes installed), no "each one is an MPI job of
# its own" warning; the Epilog removes the stack.
source "$(dirname "$0")/lib.bash"
plugin=${SRUN_MPI:?set SRUN_MPI to pmi2 or pmix}
out=$(cd "$W" && as_user srun --mpi="$plugin" -N3 -n3 "$S" bcast -v "$ARCH/sci.tar.lz4" 2>&1) ||
  fail "srun --mpi=$plugin shmstack bcast failed: $out"
echo "$out" | grep -v '^/dev/shm' || true
[[ $(grep -c "sent to 3 nodes (0 had it)" <<<"$out") == 1 ]] || fail "not one broadcast to 3 nodes"
! grep -q "an MPI job of its own" <<<"$out" || fail "the tasks were separate MPI jobs"
for node in node1 node2 node3; do grep -q "  $node: installed in" <<<"$out" || fail "$node did not install"; done
wait_gone node1 node2 node3
nodes_idle
echo "srun --mpi=$plugin: one broadcast to 3 nodes"
