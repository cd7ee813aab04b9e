# gc judges work directories by their stack's lock, never by a pid: an
# install running in another PID namespace (its pid means nothing here) is
# left alone while it holds the lock. Every removal directory is collected:
# one left by a removal that failed part-way (it is out of `list`'s sight but
# holds memory), and the names older versions made (".removing-.staging-...").
source "$(dirname "$0")/lib.bash"
need_root
need_tool flock
unshare --pid --fork --mount-proc true 2>/dev/null || skip "needs PID and mount namespaces"
mkdir -p "$T/a/sub"; echo a >"$T/a/f"
"$S" pack "$T/a" -o "$T/a.tar.lz4" -q
stack=$("$S" unpack "$T/a.tar.lz4" -q)
u="$ROOT/shmstack-0"
id=${stack##*-}

# An "install" in its own PID namespace: it holds the lock of id 0123456789ab
# and works in a staging directory named with its pid there, $P, a pid that
# no process has here.
P=30000; while [[ -e /proc/$P ]]; do P=$((P + 1)); done
unshare --pid --fork --kill-child --mount-proc bash -c '
  echo $(($1 - 1)) >/proc/sys/kernel/ns_last_pid
  bash -c "mkdir \"\$1/.staging-other-0123456789ab-\$\$\"; exec 9>\"\$1/.locks/0123456789ab.lock\"; flock 9;
           touch \"\$1/ready\"; exec sleep 60" _ "$2" & wait' _ "$P" "$u" >/dev/null 2>&1 &
holder=$!
for _ in $(seq 100); do [[ -e $u/ready ]] && break; sleep 0.05; done
[[ -d $u/.staging-other-0123456789ab-$P ]] || fail "the namespaced install did not start as planned"
"$S" gc >"$T/gc"
[[ -d $u/.staging-other-0123456789ab-$P ]] || { cat "$T/gc"; fail "gc removed an install running in another PID namespace"; }
kill -KILL "$holder"; wait "$holder" 2>/dev/null || true  # --kill-child: the namespace goes with it
for _ in $(seq 100); do flock -n "$u/.locks/0123456789ab.lock" true && break; sleep 0.05; done
"$S" gc >"$T/gc"
grep -q "^removed $u/.staging-other-0123456789ab-$P (an abandoned install" "$T/gc" || { cat "$T/gc"; fail "abandoned staging"; }

# Names that older versions left: collected; a staging name without an id is not ours.
mkdir -p "$u/.removing-.staging-x-0123456789ab-123-456/d" "$u/.removing-y-0123456789ab-789" "$u/.removing-noid" \
         "$u/.staging-noid"
"$S" gc >"$T/gc"
[[ $(grep -c "^removed $u/.removing-" "$T/gc") -eq 3 ]] || { cat "$T/gc"; fail "old removal directories"; }
[[ -d $u/.staging-noid ]] || fail "removed a staging directory that names no stack"

# A removal that fails part-way (a mount point in the stack: EBUSY) leaves a
# removal directory that gc collects once it can.
unshare -m bash -c '
  mount -t tmpfs none "$1/sub" || exit 99
  "$2" rm a 2>"$3/err"; echo $? >"$3/rc"
  umount -l "$4"/.removing-*/sub' _ "$stack" "$S" "$T" "$u"
[[ $(cat "$T/rc") -eq 1 ]] || { cat "$T/err"; fail "rm over a mount point should fail"; }
grep -q "'shmstack gc' removes it" "$T/err" || { cat "$T/err"; fail "rm does not say what becomes of the rest"; }
left=$(compgen -G "$u/.removing-$id-*") || fail "no removal directory named for its stack: $(ls -a "$u")"
"$S" gc >"$T/gc"
grep -q "^removed $left (an abandoned removal" "$T/gc" || { cat "$T/gc"; fail "interrupted removal not collected"; }
rmdir "$u/.staging-noid"; no_leftovers
echo "gc abandoned ok"
