# A progress bar is drawn when stderr is a terminal (and only then), and
# -q turns it off. Both runs are made slow on purpose (high compression
# level; an archive fed through a FIFO that pauses) so the bar must appear.
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
mkfifo "$T/fifo"
half=$(($(stat -c %s "$T/a.tar.lz4") / 2))
{ head -c "$half" "$T/a.tar.lz4"; sleep 0.5; tail -c +$((half + 1)) "$T/a.tar.lz4"; } >"$T/fifo" &
script -qec "'$S' unpack '$T/fifo'" "$T/tty-unpack.log" >/dev/null
wait
grep -q "installing src \[" "$T/tty-unpack.log" || fail "no progress bar while installing"
echo "progress ok"
