# SIGTERM and SIGINT during an install: the staging directory is removed, no
# stack appears, and the exit status is 128 + the signal. The archive comes
# through a FIFO whose writer stalls mid-stream, so the timing is certain.
source "$(dirname "$0")/lib.bash"
mkdir -p "$T/src"
head -c 12000000 /dev/urandom >"$T/src/a.bin"
head -c 12000000 /dev/urandom >"$T/src/b.bin"
"$S" pack "$T/src" -o "$T/s.tar.lz4"
user_root="$ROOT/shmstack-$(id -u)"

for sig in TERM INT; do
  rm -f "$T/fifo"; mkfifo "$T/fifo"
  { head -c 6000000 "$T/s.tar.lz4"; exec sleep 60; } >"$T/fifo" & writer=$!
  "$S" unpack "$T/fifo" 2>"$T/err" & pid=$!
  for _ in $(seq 100); do compgen -G "$user_root/.staging-*" >/dev/null && break; sleep 0.1; done
  compgen -G "$user_root/.staging-*" >/dev/null || fail "install did not start"
  kill -s "$sig" "$pid"
  rc=0; wait "$pid" || rc=$?
  kill "$writer" 2>/dev/null || true; wait "$writer" 2>/dev/null || true
  want=$((128 + $(kill -l "$sig")))
  [[ $rc -eq $want ]] || { cat "$T/err"; fail "SIG$sig: exit $rc, want $want"; }
  grep -q "interrupted by signal" "$T/err" || fail "SIG$sig: no message"
  no_leftovers
  [[ $(installed_count) -eq 0 ]] || fail "SIG$sig: a stack appeared"
done
echo "signals ok"
