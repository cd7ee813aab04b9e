# shmstack audit inside a Slurm job, in the one-rank form doc/audit.md shows:
# the stack is installed on the node, then 'srun -n1 shmstack audit' runs
# the imports with zero calls outside the stack and system directories
# (--forbid the lab's shared directory: exit 0), and a script kept on the
# shared directory is caught (--forbid: exit 1, the script named). The clean
# run names /usr/bin/python3: started as plain "python3", Python searches PATH
# for its own executable, and the lab's PATH starts with shmstack's build
# directory (a real leak of its own, which audit shows).
source "$(dirname "$0")/lib.bash"

shared=$LAB/shared
cat >"$W/audit.sbatch" <<JOB
#!/bin/bash
srun -N1 -n1 shmstack unpack -q "\$STACK" >/dev/null
srun -N1 -n1 --chdir=/ shmstack audit sci --forbid "$shared" -- /usr/bin/python3 -c 'import numpy, scipy.optimize'
echo "clean rc=\$?"
srun -N1 -n1 --chdir=/ shmstack audit sci --forbid "$shared" -- python3 "$W/app.py"
echo "leaky rc=\$?"
JOB
job=$(STACK=$ARCH/sci.tar.lz4 submit audit -N1 "$W/audit.sbatch")
[[ $(cat "$W/audit.rc") == 0 ]] || { show audit; fail "the audit job $job failed"; }
out=$W/audit.out
grep -qx "clean rc=0" "$out" || { show audit; fail "audit of the imports from the stack did not exit 0"; }
grep -qx "nothing outside the stacks and system directories" "$out" || { show audit; fail "calls outside the stack"; }
grep -qx "forbidden prefixes: not touched" "$out" || { show audit; fail "the shared directory was touched"; }
grep -qx "leaky rc=1" "$out" || { show audit; fail "audit of a script on the shared directory did not exit 1"; }
grep -q "^app node1 " "$out" || { show audit; fail "the script did not run under audit"; }
grep -qx "  $W/app.py" "$out" || { show audit; fail "the script on the shared directory is not named"; }
wait_gone node1 node2 node3
nodes_idle
echo "audit in a job: the imports stay in the stack and system directories; a script on the shared directory is named"
