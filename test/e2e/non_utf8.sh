# A pack directory or an archive path that is not UTF-8 cannot be recorded
# in the JSON manifest or install.json: refused before any work, naming the
# field and the file (before, nlohmann's "invalid UTF-8 byte at index N"
# came only after the whole archive was extracted).
source "$(dirname "$0")/lib.bash"
bad=$(printf 'd\xff')
mkdir -p "$T/$bad" "$T/s"; echo x >"$T/$bad/f"; echo y >"$T/s/g"
expect_fail 1 "cannot pack '$T/$bad': in the manifest, 'source' '$T/$bad' is not valid UTF-8" \
  "$S" pack "$T/$bad" -o "$T/out.tar.lz4" --name ok
[[ ! -e $T/out.tar.lz4 ]] || fail "pack left output behind"
tar -C "$T/s" -cf "$T/$bad.tar" .
expect_fail 1 "cannot install '$T/$bad.tar': its path is not valid UTF-8 \(install.json's 'archive' is JSON text\)" \
  "$S" unpack "$T/$bad.tar"
no_leftovers
[[ $(installed_count) -eq 0 ]] || fail "a stack was installed"
echo "non-utf8 ok"
