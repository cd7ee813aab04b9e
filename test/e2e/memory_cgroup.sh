# A stack in a tmpfs is memory, charged to the installer's memory cgroup. In
# a real memory cgroup limited to 64 MiB (v1 or v2, memory plus swap):
#  - a stack larger than that is refused before a byte is written: exit 1,
#    one line naming the stack, the node, both sizes and the cgroup; no
#    staging, no stack, nothing charged (without the check it is OOM-killed);
#  - a stack that fits is installed; the margin (--memory-margin,
#    SHMSTACK_MEMORY_MARGIN, default 256 MiB or 10%) moves the decision;
#  - list and info show the footprint as memory.
# The stack root is a tmpfs of this scenario's own mount namespace.
if [[ -z ${SHMSTACK_E2E_PRIVATE_NS:-} ]]; then
  [[ $(id -u) -eq 0 ]] || { echo "SKIP: needs root (a memory cgroup and a private tmpfs)"; exit 0; }
  unshare -m --propagation private true 2>/dev/null || { echo "SKIP: cannot make a mount namespace"; exit 0; }
  exec unshare -m --propagation private env SHMSTACK_E2E_PRIVATE_NS=1 bash "$0" "$@"
fi
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/memcg.bash"
MiB=$((1 << 20))
make_memcg shmstack-e2e $((64 * MiB))
mkdir -p "$T/shm"
mount -t tmpfs -o size=512m,mode=0755 shmstack-e2e-memory "$T/shm"
trap 'rm -rf "$T/shm/root"; umount "$T/shm"; '"$(trap -p EXIT | sed "s/^trap -- '//; s/' EXIT\$//")" EXIT
ROOT=$T/shm/root
mkdir -p "$ROOT"
export SHMSTACK_ROOT=$ROOT
host=$(hostname)

mkdir -p "$T/big/pkg" "$T/small/pkg"
head -c $((96 * MiB)) /dev/zero >"$T/big/pkg/data.bin"   # compresses to almost nothing
echo "x = 1" >"$T/big/pkg/__init__.py"
head -c $((8 * MiB)) /dev/zero >"$T/small/pkg/data.bin"
echo "x = 2" >"$T/small/pkg/__init__.py"
"$S" pack "$T/big" -o "$T/big.tar.lz4" -q
"$S" pack "$T/small" -o "$T/small.tar.lz4" -q

# refused ARCHIVE REGEX [unpack options]: refused in the cgroup, as one line,
# and nothing was written or is left charged.
refused() {
  local archive=$1 regex=$2; shift 2
  memcg_reset_peak
  expect_fail 1 "$regex" in_memcg "$S" unpack "$archive" -q "$@"
  no_leftovers
  [[ $(installed_count) -eq 0 ]] || fail "a stack was installed: $(ls -A "$ROOT"/shmstack-*)"
  local now peak
  now=$(memcg_usage)
  peak=$(memcg_peak)
  ((now < 16 * MiB)) || fail "$((now / MiB)) MiB still charged to the cgroup after the refusal"
  [[ -z $peak ]] || ((peak < 32 * MiB)) || fail "$((peak / MiB)) MiB were charged during the refusal: something was written"
}

left='[0-9.]+ (KiB|MiB) left \(limit 64\.0 MiB(, memory plus swap)?\)$'
cgroup=$(printf '%s' "$MEMCG_PATH" | sed 's/[.[\*^$]/\\&/g')
refused "$T/big.tar.lz4" \
  "^shmstack: error: not enough memory for stack 'big' on $host: needs 96\.[0-9] MiB of memory in its tmpfs, the memory cgroup '$cgroup' has $left" \
  --memory-margin 0
refused "$T/big.tar.lz4" "needs 96\.[0-9] MiB of memory in its tmpfs plus a 256\.0 MiB margin \(--memory-margin default"
# The default margin (256 MiB) refuses even the small stack here ...
refused "$T/small.tar.lz4" "stack 'small' on $host: needs 8\.[0-9] MiB of memory in its tmpfs plus a 256\.0 MiB margin"
# ... an explicit one too large for what is left as well ...
refused "$T/small.tar.lz4" "plus a 60\.0 MiB margin \(--memory-margin 60M\), the memory cgroup '$cgroup'" --memory-margin 60M
SHMSTACK_MEMORY_MARGIN=1G refused "$T/small.tar.lz4" "plus a 1\.0 GiB margin \(--memory-margin 1G\)"
expect_fail 2 "unpack: SHMSTACK_MEMORY_MARGIN: 'lots' is not a size" env SHMSTACK_MEMORY_MARGIN=lots "$S" unpack "$T/small.tar.lz4"

# ... while no margin, or one that fits, installs it, charged to the cgroup.
in_memcg "$S" unpack "$T/small.tar.lz4" -q --memory-margin 0 >"$T/out" || fail "the small stack did not install without a margin"
[[ $(installed_count) -eq 1 ]] || fail "the small stack is not installed"
charged=$(memcg_usage)
((charged >= 8 * MiB)) || fail "the stack's pages ($((charged / MiB)) MiB charged) were not charged to the cgroup"
"$S" list >"$T/list"
grep -q "MEMORY" "$T/list" && grep -Eq "^small .* 8\.[0-9] MiB +[0-9]+ " "$T/list" || { cat "$T/list"; fail "list shows no memory column"; }
"$S" list --json | grep -q '"memory_bytes": ' || fail "list --json has no memory_bytes"
"$S" rm small
SHMSTACK_MEMORY_MARGIN=10% in_memcg "$S" unpack "$T/small.tar.lz4" -q >/dev/null || fail "a 10% margin refused the small stack"
"$S" rm small
in_memcg "$S" unpack "$T/small.tar.lz4" -q --memory-margin 20M >/dev/null || fail "a 20 MiB margin refused the small stack"
"$S" rm small
"$S" info "$T/big.tar.lz4" | grep -Eq "^memory: +96\.[0-9] MiB of memory per node in /dev/shm" || fail "info shows no memory line"
echo "memory cgroup ($MEMCG_VERSION) ok"
