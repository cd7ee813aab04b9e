# pack's leak findings come grouped, with the remedy (issue 25, item 5):
#  a) a prefix env copied from where it was built: its RUNPATH entries and
#     absolute symlinks name the old prefix, file after file; pack says so in
#     one line with the count and "--old-prefix OLD", which fixes all of them
#     (-v still lists each file);
#  b) a path outside the stack (a .pth line): one line per place named;
#  c) a venv whose pyvenv.cfg home is outside the tree: one line saying its
#     interpreter and standard library stay outside the stack, and what makes
#     a fully node-local stack; with a system home, only a -v line;
#  d) scripts whose shebang names an interpreter outside the stack (a) has two
#     naming its own bin/python where it was built, one outside bin/: both are
#     relocated with --old-prefix): pip's long-path form too.
source "$(dirname "$0")/lib.bash"
source "$E2E_DIR/plain_cc.bash"
build=$T/build/prefix
mkdir -p "$build/lib" "$build/bin" "$build/lib/python3.11/site-packages"
echo data >"$build/lib/libdata.txt"
n=6
for i in $(seq 1 $n); do ln -s "$build/lib/libdata.txt" "$build/lib/link$i.txt"; done
printf '#!/bin/sh\necho python "$@"\n' >"$build/bin/python"
printf '#!%s/bin/python\nhello\n' "$build" >"$build/bin/hello"
mkdir -p "$build/libexec"
printf '#!%s/bin/python\nhelper\n' "$build" >"$build/libexec/helper"  # a script outside bin/
chmod +x "$build/bin/python" "$build/bin/hello" "$build/libexec/helper"
files=$((n + 2)) kinds="shebangs, symlinks"
if [[ -z $plain_cc_why ]]; then
  echo 'int main(void) { return 0; }' >"$T/main.c"
  for i in 1 2 3; do cc -o "$build/bin/tool$i" "$T/main.c" -Wl,-rpath,"$build/lib" -Wl,--enable-new-dtags; done
  files=$((n + 5)) kinds="shebangs, RUNPATH entries, symlinks"
else
  echo "no ELF files: $plain_cc_why"
fi
echo "$T/global/pkgs" >"$build/lib/python3.11/site-packages/shared.pth"
cp -a "$build" "$T/copy"
rm -rf "$T/build"

# a) and b): one line per place, then the summary; nothing per file
"$S" pack "$T/copy" -o "$T/a.tar.lz4" -q 2>"$T/err"
grep -qxF "shmstack: warning: leak: $files files name '$build' ($kinds), where the tree seems to have been built or installed: pack with --old-prefix '$build' to relocate them" \
  "$T/err" || { cat "$T/err"; fail "no grouped line with the --old-prefix remedy"; }
grep -qxF "shmstack: warning: leak: 1 file names '$T/global/pkgs' (.pth lines), outside the stack and the system directories: every node will look there" \
  "$T/err" || { cat "$T/err"; fail "no line for the .pth"; }
grep -qxF "shmstack: warning: $((files + 1)) possible leaks to outside the stack in $((files + 1)) files (grouped above; -v lists each); check them with 'shmstack audit', or make them errors with --strict" \
  "$T/err" || { cat "$T/err"; fail "summary"; }
[[ $(wc -l <"$T/err") -eq 3 ]] || { cat "$T/err"; fail "expected 3 lines, one per place and the summary"; }
# -v: each file as well
"$S" pack "$T/copy" -o "$T/v.tar.lz4" -q -v 2>"$T/err"
grep -qxF "shmstack: leak: 'lib/link3.txt': symlink to '$build/lib/libdata.txt' leaves the stack" "$T/err" ||
  { cat "$T/err"; fail "-v does not list each leak"; }
# The remedy works: nothing is left but the .pth line
"$S" pack "$T/copy" -o "$T/b.tar.lz4" -q --old-prefix "$build" 2>"$T/err"
[[ $(grep -c 'leak' "$T/err") -eq 2 ]] && grep -q "1 file names '$T/global/pkgs'" "$T/err" ||
  { cat "$T/err"; fail "--old-prefix as suggested did not fix the rest"; }
installed=$("$S" unpack "$T/b.tar.lz4" --root "$T/root" -q)
for script in bin/hello libexec/helper; do
  [[ $(head -1 "$installed/$script") == "#!$installed/bin/python" ]] ||
    { head -1 "$installed/$script"; fail "$script: the shebang was not relocated"; }
done

# d) a --target tree whose scripts run an interpreter on the shared file system
mkdir -p "$T/target/bin"
printf '#!%s/conda/bin/python3\nimport tool\n' "$T" >"$T/target/bin/tool"
long=$T/conda/$(printf 'x%.0s' $(seq 1 130))/bin/python3
printf '#!/bin/sh\n'"'''exec' \"%s\" \"\$0\" \"\$@\"\n' '''\nimport tool\n" "$long" >"$T/target/bin/long"
printf '#!/usr/bin/env python3\n' >"$T/target/bin/fine"
chmod +x "$T/target/bin/"*
"$S" pack "$T/target" -o "$T/target.tar.lz4" -q 2>"$T/err"
grep -qxF "shmstack: warning: leak: 1 file names '$T/conda/bin/python3' (shebangs), outside the stack and the system directories: every node will look there" \
  "$T/err" || { cat "$T/err"; fail "no line for a shebang outside"; }
grep -qxF "shmstack: warning: leak: 1 file names '$long' (shebangs), outside the stack and the system directories: every node will look there" \
  "$T/err" || { cat "$T/err"; fail "no line for pip's '''exec' form"; }
[[ $(wc -l <"$T/err") -eq 3 ]] || { cat "$T/err"; fail "d): two lines and the summary"; }

# c) a venv with its interpreter outside the tree
py=$T/python3.11
mkdir -p "$py/bin" "$T/venv/bin" "$T/venv/lib/python3.11/site-packages"
printf 'home = %s/bin\nexecutable = %s/bin/python3.11\nversion = 3.11.2\n' "$py" "$py" >"$T/venv/pyvenv.cfg"
ln -s "$py/bin/python3.11" "$T/venv/bin/python3"
"$S" pack "$T/venv" -o "$T/venv.tar.lz4" -q 2>"$T/err"
grep -qxF "shmstack: warning: leak: this venv's interpreter and standard library stay in '$py' (pyvenv.cfg home), outside the stack, and every node reads them from there: for a fully node-local stack, pack a conda env or a whole Python prefix with the packages installed into it (a venv, even one made with --copies, is not one)" \
  "$T/err" || { cat "$T/err"; fail "no venv line"; }
[[ $(wc -l <"$T/err") -eq 2 ]] || { cat "$T/err"; fail "a venv: one line and the summary"; }
# ... with the system's Python as home: nothing to warn about, a -v line
printf 'home = /usr/bin\n' >"$T/venv/pyvenv.cfg"
ln -sf /usr/bin/python3 "$T/venv/bin/python3"
"$S" pack "$T/venv" -o "$T/venv2.tar.lz4" -q -v 2>"$T/err"
! grep -q warning "$T/err" || { cat "$T/err"; fail "a venv of the system's Python warns"; }
grep -qxF "shmstack: venv: the interpreter and standard library stay in '/usr' (pyvenv.cfg home), a system directory that each node has" \
  "$T/err" || { cat "$T/err"; fail "no -v line for the system venv"; }
echo "leak advice ok"
