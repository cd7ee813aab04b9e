# A plain tar whose directory has mode 000 installs for an ordinary user (as
# GNU tar extracts it): the walk that learns the activation looks only at the
# top levels and passes over what it cannot enter (Python could not import
# from there either); the stack keeps the mode, `rm` removes it. (Before, the
# walk failed on the staging directory's path.)
source "$(dirname "$0")/lib.bash"
python3 - "$T/locked.tar" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT) as tar:
    for name, mode in [("bin", 0o755), ("locked", 0o000), ("locked/sub", 0o755)]:
        info = tarfile.TarInfo(name); info.type, info.mode = tarfile.DIRTYPE, mode
        tar.addfile(info)
    for name in ["bin/tool", "locked/f", "locked/sub/g"]:
        info = tarfile.TarInfo(name); info.size, info.mode = 3, 0o755
        tar.addfile(info, io.BytesIO(b"hi\n"))
PY
as_user=()
if [[ $(id -u) -eq 0 ]]; then
  need_tool setpriv
  # (a copy of the binary: the build tree may not be reachable by that user)
  install -m 755 "$S" "$T/shmstack-copy"; S=$T/shmstack-copy
  chmod 755 "$T"; chmod 644 "$T/locked.tar"; chmod 777 "$ROOT"
  as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
fi
path=$("${as_user[@]}" "$S" unpack "$T/locked.tar" -q) || fail "a tar with a mode-000 directory did not install"
[[ $(stat -c %a "$path/locked") == 0 ]] || fail "the directory's mode was not kept"
"${as_user[@]}" "$S" env locked --shell json | grep -q "$path/bin" || fail "activation: bin/ not on PATH"
"${as_user[@]}" "$S" rm locked || fail "rm of a stack with a mode-000 directory failed"
no_leftovers
echo "unreadable dir ok"
