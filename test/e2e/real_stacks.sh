# Three real Python stacks work from the stack root after a move (the
# originals are gone when they run):
#  a) a pip --target style tree (numpy, scipy from Debian's packages);
#  b) a relocatable CPython 3.11 interpreter tree: its sys.prefix is the new
#     location and its console scripts run (their shebangs were rewritten);
#  c) a venv with a package: bin/activate and pyvenv.cfg name the new location.
# Where namespaces are allowed, everything runs with a private tmpfs on
# /dev/shm (the real one is never touched) and the default stack root.
source "$(dirname "$0")/private_shm.bash"

# a) --target tree: exec finds scipy in the stack (python -S: nothing else on sys.path)
dist=/usr/lib/python3/dist-packages
if [[ -d $dist/numpy && -d $dist/scipy ]]; then
  mkdir -p "$T/tgt"
  cp -a "$dist/numpy" "$dist/scipy" "$T/tgt/"
  "$S" pack "$T/tgt" -o "$T/tgt.tar.lz4" --name sci
  mv "$T/tgt" "$T/tgt-gone"
  dest=$("$S" unpack "$T/tgt.tar.lz4")
  [[ $dest == "$ROOT/shmstack-$(id -u)/sci-"* ]] || fail "installed at $dest, not under $ROOT"
  out=$("$S" exec sci -- python3 -S -c 'import scipy.optimize, numpy; print(scipy.__file__); print(numpy.__file__)')
  [[ $out == "$dest/scipy/__init__.py"$'\n'"$dest/numpy/__init__.py" ]] || fail "target stack: $out"
else
  echo "skipping the --target case: python3-numpy and python3-scipy are not installed"
fi

# b) interpreter tree, made relocatable as a real install would be ($ORIGIN RUNPATH)
py=${PY311_PREFIX:-/root/.pyenv/versions/3.11.7}
if [[ -x $py/bin/python3.11 ]] && command -v patchelf >/dev/null; then
  mkdir -p "$T/py311"
  tar -C "$py" --exclude='./lib/python3.11/test' --exclude='./lib/python3.11/site-packages' -cf - . | tar -C "$T/py311" -xf -
  mkdir -p "$T/py311/lib/python3.11/site-packages"
  ( cd "$py/lib/python3.11/site-packages" && tar -cf - pip pip-*.dist-info ) | tar -C "$T/py311/lib/python3.11/site-packages" -xf -
  # as if it had been installed at $T/py311: scripts name that prefix
  grep -rlI --null "$py" "$T/py311/bin" | xargs -0 -r sed -i "s|$py|$T/py311|g"
  patchelf --set-rpath '$ORIGIN/../lib' "$T/py311/bin/python3.11"
  "$S" pack "$T/py311" -o "$T/py311.tar.lz4"
  "$S" info --json "$T/py311.tar.lz4" | python3 -c '
import json, sys
m = json.load(sys.stdin)
assert m["activation"]["kind"] == "prefix", m["activation"]
assert "bin/pip3" in m["relocate"]["files"], m.get("relocate")'
  mv "$T/py311" "$T/py311-gone"
  dest=$("$S" unpack "$T/py311.tar.lz4")
  out=$("$dest/bin/python3" -c 'import sys, ssl, sqlite3; print(sys.prefix)')
  [[ $out == "$dest" ]] || fail "interpreter tree: sys.prefix is $out"
  head -n 1 "$dest/bin/pip3" | grep -qx "#!$dest/bin/python3.11" || fail "pip3's shebang: $(head -n 1 "$dest/bin/pip3")"
  "$dest/bin/pip3" --version | grep -q "from $dest/lib/python3.11/site-packages/pip" || fail "pip3 does not run from the stack"
  out=$("$S" exec py311 -- python3 -c 'import sys; print(sys.executable)')
  [[ $out == "$dest/bin/python3" ]] || fail "exec does not find the stack's python first: $out"
else
  echo "skipping the interpreter-tree case: no CPython 3.11 tree at $py, or no patchelf"
fi

# c) venv with a package
if /usr/bin/python3 -m venv --without-pip "$T/venv" 2>/dev/null; then
  site=$(echo "$T"/venv/lib/python3*/site-packages)
  mkdir -p "$site/vpkg"; echo 'WHERE = __file__' >"$site/vpkg/__init__.py"
  "$S" pack "$T/venv" -o "$T/venv.tar.lz4"
  mv "$T/venv" "$T/venv-gone"
  dest=$("$S" unpack "$T/venv.tar.lz4")
  grep -qx "VIRTUAL_ENV=$dest" "$dest/bin/activate" || fail "bin/activate: $(grep VIRTUAL_ENV= "$dest/bin/activate")"
  grep -q "$dest" "$dest/pyvenv.cfg" && ! grep -q "$T/venv" "$dest/pyvenv.cfg" || fail "pyvenv.cfg: $(cat "$dest/pyvenv.cfg")"
  out=$(bash -c 'source "$0/bin/activate"; python -c "import sys, vpkg; print(sys.prefix); print(vpkg.WHERE)"' "$dest")
  [[ $out == "$dest"$'\n'"$dest/lib/"*"/site-packages/vpkg/__init__.py" ]] || fail "venv: $out"
else
  echo "skipping the venv case: python3 -m venv is not available"
fi
echo "real stacks ok"
