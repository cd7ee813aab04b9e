# Small first-day mistakes (issue 25, items 7 and 10): a relative --root or
# SHMSTACK_ROOT is made absolute (it went into PATH and shebangs as is), a
# root containing ':' is refused (it split PATH); 'exec STACK python3 -c 1'
# without '--' says to put '--' before the program; info NAME of an
# installed stack shows the install; a venv stack sets VIRTUAL_ENV.
source "$(dirname "$0")/lib.bash"
mkdir -p "$T/src/bin"; printf '#!/bin/sh\necho hi\n' >"$T/src/bin/hello"; chmod +x "$T/src/bin/hello"
"$S" pack "$T/src" -o "$T/s.tar.lz4" --name fd -q
cd "$T"
mkdir rel
out=$(SHMSTACK_ROOT=rel "$S" unpack -q s.tar.lz4)
[[ $out == "$T/rel/shmstack-$(id -u)/fd-"* ]] || fail "relative SHMSTACK_ROOT gave $out"
SHMSTACK_ROOT=rel "$S" env fd | grep -q "^export PATH='$T/rel/shmstack-" || fail "relative root in PATH: $(SHMSTACK_ROOT=rel "$S" env fd)"
[[ $("$S" exec --root rel fd -- hello) == hi ]] || fail "exec --root rel"
mkdir "a:b"
expect_fail 1 "cannot use stack root '.*a:b': it contains ':', which would split PATH and PYTHONPATH" "$S" unpack --root "a:b" s.tar.lz4
expect_fail 2 "exec: unrecognised option '-c' \(put '--' before the program: shmstack exec STACK -- python3 -c \.\.\.\)" \
  "$S" exec --root rel fd python3 -c 1
# info NAME of an installed stack shows that install (it said "cannot open archive").
"$S" info --root rel fd >"$T/info" || fail "info of an installed stack failed"
grep -q "^installed:   $T/rel/shmstack-$(id -u)/fd-" "$T/info" || { cat "$T/info"; fail "info NAME"; }
# A venv stack sets VIRTUAL_ENV to its install path, as activate does.
mkdir -p "$T/venv/bin" "$T/venv/lib/python3.11/site-packages"
ln -s "$(command -v python3)" "$T/venv/bin/python3"
printf 'home = /usr/bin\n' >"$T/venv/pyvenv.cfg"
"$S" pack "$T/venv" -o "$T/venv.tar.lz4" -q
v=$("$S" unpack --root rel -q "$T/venv.tar.lz4")
[[ $("$S" exec --root rel venv -- sh -c 'echo $VIRTUAL_ENV') == "$v" ]] || fail "VIRTUAL_ENV is not the venv stack's path"
echo "first day ok"
