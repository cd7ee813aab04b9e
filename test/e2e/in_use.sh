# A stack in use is not removed (issue 25, item 4): a program started with
# 'shmstack exec' holds the stack's use lock until it ends (across execve, and
# in the children it forks). rm refuses with the holders' pids, --force
# overrides; gc --older-than leaves it; once the programs end, rm removes it.
# Before: 'rm' returned 0 and the running program failed with ModuleNotFoundError.
source "$(dirname "$0")/lib.bash"
mkdir -p "$T/src/late"; echo 'X = 1' >"$T/src/late/__init__.py"
"$S" pack "$T/src" -o "$T/s.tar.lz4" --name busy -q
"$S" unpack -q "$T/s.tar.lz4" >/dev/null
# Two programs use it (one through a forked child), each importing late.
"$S" exec busy -- python3 -c 'import time; open("'"$T"'/one", "w"); time.sleep(2); import late; print("one ok")' >"$T/out1" &
p1=$!
"$S" exec busy -- sh -c 'python3 -c "import time; open(\"'"$T"'/two\", \"w\"); time.sleep(2.5); import late; print(\"two ok\")"' >"$T/out2" &
p2=$!
for _ in $(seq 100); do [[ -e $T/one && -e $T/two ]] && break; sleep 0.05; done
expect_fail 1 "cannot remove '.*busy-[0-9a-f]{12}': in use by pid [0-9]+, pid [0-9]+ \(started with 'shmstack exec'\); wait for it to end, or use --force" \
  "$S" rm busy
out=$("$S" gc --older-than 0)
[[ -z $out ]] || fail "gc removed a stack in use: $out"
[[ $(installed_count) == 1 ]] || fail "the stack is gone"
wait $p1 || fail "the first program failed"
wait $p2 || fail "the second program failed"
grep -q "one ok" "$T/out1" && grep -q "two ok" "$T/out2" || fail "a program could not import from its stack"
"$S" rm busy
[[ $(installed_count) == 0 ]] || fail "rm after the programs ended did not remove it"

# --force removes it under a running program.
"$S" unpack -q "$T/s.tar.lz4" >/dev/null
"$S" exec busy -- sleep 5 &
p3=$!
for _ in $(seq 100); do grep -q "FLOCK.*READ *$p3 " /proc/locks && break; sleep 0.05; done
"$S" rm --force busy
[[ $(installed_count) == 0 ]] || fail "rm --force did not remove it"
kill $p3; wait $p3 2>/dev/null || true
no_leftovers
echo "in use ok"
