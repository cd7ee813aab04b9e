# SIGTERM and SIGINT during an install: the staging directory is removed, no
# stack appears, and the exit status is 128 + the signal. The install is
# caught in the act and stopped (SIGSTOP) before the signal, so the timing is
# certain; an install that finished before it was caught is retried.
source "$(dirname "$0")/lib.bash"
mkdir -p "$T/src"
head -c 12000000 /dev/urandom >"$T/src/a.bin"
slow_tree "$T/src"
"$S" pack "$T/src" -o "$T/s.tar.lz4"
user_root="$ROOT/shmstack-$(id -u)"

for sig in TERM INT; do
  caught=
  for _ in 1 2 3 4 5; do
    "$S" unpack -j 1 "$T/s.tar.lz4" >/dev/null 2>"$T/err" & pid=$!
    if stop_mid_install "$pid"; then caught=1; break; fi
    wait "$pid" || fail "unpack failed: $(cat "$T/err")"
    "$S" rm src >/dev/null
  done
  [[ -n $caught ]] || fail "SIG$sig: never caught the install mid-way in 5 tries"
  kill -s "$sig" "$pid"
  kill -CONT "$pid"
  rc=0; wait "$pid" || rc=$?
  want=$((128 + $(kill -l "$sig")))
  [[ $rc -eq $want ]] || { cat "$T/err"; fail "SIG$sig: exit $rc, want $want"; }
  grep -q "interrupted by signal" "$T/err" || fail "SIG$sig: no message"
  no_leftovers
  [[ $(installed_count) -eq 0 ]] || fail "SIG$sig: a stack appeared"
done
echo "signals ok"
