# gc removes what dead processes left (staging, removal dirs, incomplete
# stacks) and, with --older-than, old stacks; never a staging directory or a
# stack whose lock is held (whatever the pid in its name says), or a fresh
# stack. --dry-run removes nothing. --older-than takes 0 to 100000 days only.
source "$(dirname "$0")/lib.bash"
need_tool flock
mkdir -p "$T/a" "$T/b"; echo a >"$T/a/f"; echo b >"$T/b/f"
"$S" pack "$T/a" -o "$T/a.tar.lz4"; "$S" pack "$T/b" -o "$T/b.tar.lz4"
a=$("$S" unpack "$T/a.tar.lz4"); b=$("$S" unpack "$T/b.tar.lz4")
u="$ROOT/shmstack-$(id -u)"
python3 - "$b/.shmstack/install.json" <<'PY'
import json, sys, time
p = sys.argv[1]; r = json.load(open(p)); r["installed_epoch"] = int(time.time()) - 40 * 86400
json.dump(r, open(p, "w"))
PY
dead=$(sh -c 'echo $$')   # a process that has exited
mkdir -p "$u/.staging-x-0123456789ab-$dead/sub" "$u/.removing-y-0123456789ab-$dead" \
         "$u/.staging-live-bbbbbbbbbbbb-$dead" "$u/half-aaaaaaaaaaaa/.shmstack" "$u/busy-bbbbbbbbbbbb"
mkdir -p "$u/.locks"
# hold busy's lock from one process (the subshell becomes sleep), so killing it releases it;
# .staging-live-... works under that lock, so it is live although its pid is not
# (as for an install in another PID namespace)
( exec 9>"$u/.locks/bbbbbbbbbbbb.lock"; flock 9; exec sleep 60 ) >/dev/null 2>&1 & holder=$!
sleep 0.3

"$S" gc --dry-run >"$T/dry"
[[ $(grep -c "^would remove" "$T/dry") -eq 3 ]] || { cat "$T/dry"; fail "dry run should list three items"; }
[[ -d $u/.staging-x-0123456789ab-$dead && -d $u/half-aaaaaaaaaaaa ]] || fail "--dry-run removed something"

"$S" gc >"$T/gc"
grep -q "^removed $u/.staging-x-0123456789ab-$dead (an abandoned install (its stack's lock is free))" "$T/gc" \
  || { cat "$T/gc"; fail "dead staging"; }
grep -q "^removed $u/.removing-y-0123456789ab-$dead " "$T/gc" || fail "dead removal dir"
grep -q "^removed $u/half-aaaaaaaaaaaa (incomplete install" "$T/gc" || fail "incomplete stack"
[[ -d $u/.staging-live-bbbbbbbbbbbb-$dead ]] || fail "removed a staging directory whose lock is held"
[[ -d $u/busy-bbbbbbbbbbbb ]] || fail "removed a stack whose lock is held"
[[ -d $a && -d $b ]] || fail "removed complete stacks without --older-than"
[[ -z $(compgen -G "$u/.removing-*") ]] || fail "gc left its own removal directories"

"$S" gc --older-than 30 >"$T/old"
grep -q "^removed $b (installed 40 days ago)" "$T/old" || { cat "$T/old"; fail "old stack not removed"; }
[[ ! -e $b && -d $a ]] || fail "--older-than removed the wrong stack"
kill "$holder" 2>/dev/null || true; wait "$holder" 2>/dev/null || true
for days in -1 1e20 inf nan -nan 100001; do
  expect_fail 2 "gc: --older-than wants a number of days from 0 to 100000" "$S" gc --older-than="$days"
done
[[ -d $a ]] || fail "a rejected --older-than removed a stack"
echo "gc ok"
