# User-facing error text, compared with a golden file (golden/errors.txt):
# the wording of messages is part of the interface. Paths are shown as $T.
# To accept a deliberate change: UPDATE_GOLDEN=1 ctest -R errors_golden
source "$(dirname "$0")/lib.bash"
mkdir -p "$T/src"; echo x >"$T/src/f"
"$S" pack "$T/src" -o "$T/good.tar.lz4" -q
head -c 5000 /dev/urandom >"$T/random.bin"
mkfifo "$T/fifo.tar.lz4"; mkdir -p "$T/planted" "$T/elsewhere"; ln -s "$T/elsewhere" "$T/planted/shmstack-$(id -u)"
cp "$T/good.tar.lz4" "$T/bad.tar.lz4"; printf '\x00\x01' | dd of="$T/bad.tar.lz4" bs=1 seek=30 conv=notrunc status=none
run() {
  local rc=0
  "$S" "$@" >/dev/null 2>"$T/stderr" || rc=$?
  echo "\$ shmstack $*" | sed "s|$T|\$T|g"
  sed "s|$T|\$T|g; s|\.tmp\.[0-9]*|.tmp.PID|; s|shmstack-$(id -u)|shmstack-UID|g" "$T/stderr"
  echo "exit $rc"
}
{
  run frobnicate
  run pack "$T/src"
  run pack "$T/missing" -o "$T/x.tar.lz4"
  run pack "$T/src" -o "$T/x.tar.lz4" --name ".hidden"
  run pack "$T/src" -o "$T/x.tar.lz4" -j 0
  run pack "$T/src" -o "$T/good.tar.lz4"
  run pack "$T/src" -o "$T"
  run pack "$T/src" -o "$T/src/x.tar.lz4"
  run pack "$T/src" -o "$T/nodir/x.tar.lz4"
  run pack "$T/src" -o "$T/x.tar.gz"
  run unpack
  run unpack "$T/missing.tar.lz4"
  run unpack "$T/random.bin"
  run unpack "$T/bad.tar.lz4"
  run unpack "$T/good.tar.lz4" --root "$T/nowhere"
  run rm nothing-like-this
  run info "$T/fifo.tar.lz4"
  run unpack "$T/good.tar.lz4" --root "$T/planted"
} >"$T/actual.txt"
golden="$E2E_DIR/golden/errors.txt"
if [[ ${UPDATE_GOLDEN:-} == 1 ]]; then cp "$T/actual.txt" "$golden"; echo "updated $golden"; exit 0; fi
diff -u "$golden" "$T/actual.txt" || fail "error text differs from $golden (UPDATE_GOLDEN=1 to accept)"
echo "errors golden ok"
