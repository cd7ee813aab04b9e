# The man page documents every command and every long option that --help
# shows, renders, and the rendered page that builds install (doc/shmstack.1,
# committed) is what its source (doc/shmstack.1.scd) renders to.
source "$(dirname "$0")/lib.bash"
page_src="$E2E_DIR/../../doc/shmstack.1.scd"
[[ -f $page_src ]] || fail "no man page source at $page_src"
commands=$("$S" --help | awk '/^Commands:/{on=1; next} on && /^  [a-z]/{print $1}' | sed 's/^slurm$/slurm task-prolog\nslurm prolog\nslurm epilog/')
while read -r cmd; do
  grep -q "^\*$cmd\*" "$page_src" || fail "man page does not describe '$cmd'"
  for opt in $("$S" $cmd --help | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
    grep -q -- "\*$opt\*" "$page_src" || fail "man page does not mention $opt of '$cmd'"
  done
done <<<"$commands"
# The committed rendered page (what every build installs) is the source's.
if command -v scdoc >/dev/null; then
  "$E2E_DIR/../../doc/render-manpage" --check 2>"$T/diff" || { cat "$T/diff"; fail "doc/shmstack.1 is stale"; }
fi
if command -v man >/dev/null; then
  man -l "$E2E_DIR/../../doc/shmstack.1" 2>/dev/null | grep -q "^SYNOPSIS" || fail "man -l does not render the page"
fi
echo "manpage ok"
