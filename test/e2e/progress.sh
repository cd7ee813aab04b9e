# A progress bar is drawn when stderr is a terminal (and only then), and
# -q turns it off. Both runs are made slow on purpose (high compression
# level; an install stopped mid-way for a moment) so the bar must appear.
source "$(dirname "$0")/lib.bash"
need_tool script
mkdir -p "$T/src"
for i in 1 2 3 4; do seq 1 1500000 >"$T/src/seq$i.txt"; done
script -qec "'$S' pack '$T/src' -o '$T/a.tar.lz4' -j 1 --level 9" "$T/tty.log" >/dev/null
grep -q "packing src \[" "$T/tty.log" || fail "no progress bar on a terminal"
script -qec "'$S' pack '$T/src' -o '$T/b.tar.lz4' -q --level 9" "$T/tty-quiet.log" >/dev/null
! grep -q "packing" "$T/tty-quiet.log" || fail "-q did not silence the progress bar"
"$S" pack "$T/src" -o "$T/c.tar.lz4" 2>"$T/err"
[[ ! -s $T/err ]] || fail "progress drawn although stderr is not a terminal"
# The install is stopped for 0.3 s mid-way, so the bar (drawn at most ten
# times a second) must appear.
mkdir -p "$T/slow"; cp "$T/src/seq1.txt" "$T/slow/"; slow_tree "$T/slow"
"$S" pack "$T/slow" -o "$T/slow.tar.lz4" -q
script -qec "sh -c 'echo \$\$ >\"$T/pid\"; exec \"$S\" unpack -j 1 \"$T/slow.tar.lz4\"'" "$T/tty-unpack.log" >/dev/null & script_pid=$!
for _ in $(seq 200); do [[ -s $T/pid ]] && break; sleep 0.05; done
stop_mid_install "$(cat "$T/pid")" || fail "the install ended before it could be stopped mid-way"
sleep 0.3
kill -CONT "$(cat "$T/pid")"
kill -CONT "$script_pid" 2>/dev/null || true   # script stops itself when its child stops
wait
grep -q "installing slow \[" "$T/tty-unpack.log" || fail "no progress bar while installing"
echo "progress ok"
