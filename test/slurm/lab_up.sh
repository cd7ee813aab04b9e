# Starts the Slurm lab for the slurm.* scenarios (scripts/slurm-lab/up; with
# LAB_JOB_CONTAINER=tmpfs, Slurm's job_container/tmpfs) and makes their
# archives. Where it cannot run (not root, no Slurm or munge, no network
# namespaces), writes why to $LAB/skipped and every scenario reports SKIP.
set -euo pipefail
S=${SHMSTACK:?set SHMSTACK to the shmstack binary}
LAB=${SHMSTACK_TEST_LAB:-/tmp/shmstack-lab-ctest}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
skip() {
  mkdir -p "$LAB"
  echo "$*" >"$LAB/skipped"
  echo "SKIP: $*"
  exit 0
}
rm -f "$LAB/skipped"
[[ $(id -u) -eq 0 ]] || skip "the Slurm lab needs root"
for daemon in slurmctld slurmd munged; do
  [[ -x /usr/sbin/$daemon ]] || skip "no /usr/sbin/$daemon (Debian packages slurm-wlm, munge)"
done
ip netns add shmstacklab-probe 2>/dev/null || skip "network namespaces are not allowed here"
ip netns del shmstacklab-probe
unshare --uts --mount true 2>/dev/null || skip "UTS and mount namespaces are not allowed here"
[[ -d /usr/lib/python3/dist-packages/numpy && -d /usr/lib/python3/dist-packages/scipy ]] || skip "needs python3-numpy and python3-scipy"

# A lab left by an interrupted run: take it down first.
[[ -f $LAB/run/lab.env ]] && "$REPO/scripts/slurm-lab/down" "$LAB" --purge
SHMSTACK=$S "$REPO/scripts/slurm-lab/up" "$LAB" 3 ${LAB_JOB_CONTAINER:+--job-container "$LAB_JOB_CONTAINER"}

# The archives: numpy + scipy (a --target style stack), the same archive
# corrupted in the middle, and a copy only root may read.
A=$LAB/shared/archives
mkdir -p "$A" "$LAB/tree"
cp -a /usr/lib/python3/dist-packages/numpy /usr/lib/python3/dist-packages/scipy "$LAB/tree/"
"$S" pack "$LAB/tree" -o "$A/sci.tar.lz4" --name sci -q --force  # a lab left by a finished run keeps its archives
rm -rf "$LAB/tree"
/usr/bin/python3 - "$A/sci.tar.lz4" "$A/corrupt.tar.lz4" <<'PY'
import sys
data = bytearray(open(sys.argv[1], "rb").read())
for i in range(len(data) // 2, len(data) // 2 + 4096, 7):
    data[i] ^= 0x5A
open(sys.argv[2], "wb").write(data)
PY
cp "$A/sci.tar.lz4" "$A/root-only.tar.lz4"
chmod 0644 "$A/sci.tar.lz4" "$A/corrupt.tar.lz4"
chmod 0600 "$A/root-only.tar.lz4"
chmod 0755 "$A"
echo "lab up in $LAB: $(sinfo -h -o '%D nodes %T')"
