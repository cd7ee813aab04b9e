# Concurrent installs of one stack on one node install it exactly once and
# every installer sees the complete stack; an install racing an rm leaves
# either a complete stack or none, never a half one.
source "$(dirname "$0")/lib.bash"
source "$E2E_DIR/make_tree.bash"
make_tree "$T/src"
head -c 20000000 /dev/urandom >"$T/src/pkg/sub/random-20M.bin"
"$S" pack "$T/src" -o "$T/s.tar.lz4"

pids=()
for i in 1 2 3 4 5 6 7 8; do
  "$S" unpack -v "$T/s.tar.lz4" >"$T/out.$i" 2>"$T/err.$i" & pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a concurrent installer failed"; done
[[ $(sort -u "$T"/out.* | wc -l) -eq 1 ]] || fail "installers disagree on the path"
[[ $(grep -l "installed src" "$T"/err.* | wc -l) -eq 1 ]] || fail "expected exactly one real install"
[[ $(grep -l "already installed" "$T"/err.* | wc -l) -eq 7 ]] || fail "expected seven reuses"
[[ $(installed_count) -eq 1 ]] || fail "expected one stack"
treecmp "$T/src" "$(cat "$T/out.1")"
no_leftovers

for round in 1 2 3 4 5; do
  "$S" unpack "$T/s.tar.lz4" >/dev/null 2>&1 & a=$!
  "$S" rm src >/dev/null 2>&1 & b=$!
  wait $a || true; wait $b || true
  n=$(installed_count)
  ((n <= 1)) || fail "more than one stack after install/rm race"
  if ((n == 1)); then treecmp "$T/src" "$ROOT/shmstack-$(id -u)"/src-* >/dev/null || fail "half stack after race"; fi
  no_leftovers
done
echo "concurrency ok"
