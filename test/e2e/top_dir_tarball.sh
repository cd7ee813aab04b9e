# A tarball whose environment sits in one top-level directory ('tar czf
# env.tar.gz env', issue 25 item 9) is activated as that directory: PATH gets
# STACK/env/bin, a venv's VIRTUAL_ENV is STACK/env, and -v says why. It used
# to install with no activation at all. A --target tree one level down gets
# PYTHONPATH; a single directory with nothing to activate stays plain.
source "$(dirname "$0")/lib.bash"
need_tool python3
unset PYTHONPATH PYTHONHOME VIRTUAL_ENV
mkdir -p "$T/w"
/usr/bin/python3 -m venv --without-pip "$T/w/env" 2>/dev/null || skip "python3 -m venv is not available"
site=$(echo "$T"/w/env/lib/python3*/site-packages)
echo 'WHERE = __file__' >"$site/topmod.py"
tar czf "$T/env.tar.gz" -C "$T/w" env
"$S" unpack -v "$T/env.tar.gz" >"$T/out" 2>"$T/err" || { cat "$T/err"; fail "unpack"; }
dest=$(tail -n 1 "$T/out")
grep -qxF "shmstack: '$T/env.tar.gz': the environment is in its one top-level directory 'env', activated as a prefix stack there: PATH gets STACK/env/bin" \
  "$T/err" || { cat "$T/err"; fail "no -v line about the top-level directory"; }
"$S" env env | grep -q "^export PATH='$dest/env/bin'" || fail "PATH: $("$S" env env)"
[[ $("$S" exec env -- sh -c 'echo $VIRTUAL_ENV') == "$dest/env" ]] || fail "VIRTUAL_ENV: $("$S" exec env -- sh -c 'echo $VIRTUAL_ENV')"
where=$("$S" exec env -- python3 -c 'import topmod; print(topmod.WHERE)') || fail "python3 of the stack cannot import its module"
[[ $where == "$dest/env/lib/python3"*"/site-packages/topmod.py" ]] || fail "imported from $where"

# A --target tree one level down: PYTHONPATH gets it
mkdir -p "$T/w2/site/pkg"
echo 'X = 1' >"$T/w2/site/pkg/__init__.py"
tar cf "$T/site.tar" -C "$T/w2" site
"$S" unpack -q "$T/site.tar" >/dev/null
"$S" env site | grep -q "^export PYTHONPATH='$ROOT/shmstack-$(id -u)/site-[0-9a-f]*/site'" || fail "PYTHONPATH: $("$S" env site)"
# One directory with nothing to activate: plain, as before
mkdir -p "$T/w3/data/sub"
echo x >"$T/w3/data/sub/f"
tar cf "$T/data.tar" -C "$T/w3" data
"$S" unpack -q "$T/data.tar" >/dev/null
! "$S" env data | grep -q "PATH" || fail "a plain directory got an activation: $("$S" env data)"
echo "top-level directory tarball ok"
