# conda-pack archives (.tar.gz, no shmstack manifest, bin/conda-unpack
# inside) get conda-unpack run where the stack finally lives; a failing
# conda-unpack leaves no stack behind and says so.
source "$(dirname "$0")/lib.bash"
make_env() {  # make_env DIR EXIT: a fake conda-pack environment
  mkdir -p "$1/bin" "$1/conda-meta" "$1/etc"
  echo "prefix=@OLD_PREFIX@" >"$1/etc/config.txt"
  cat >"$1/bin/conda-unpack" <<SCRIPT
#!/bin/sh
# like conda-unpack: find the prefix from where this script lives, rewrite it in
here=\$(cd "\$(dirname "\$0")/.." && pwd)
sed -i "s|@OLD_PREFIX@|\$here|" "\$here/etc/config.txt"
echo "\$here \$PWD" >"\$here/unpacked-at"
exit $2
SCRIPT
  chmod 755 "$1/bin/conda-unpack"
}
make_env "$T/env" 0
tar -C "$T/env" -czf "$T/env.tar.gz" .
dest=$("$S" unpack "$T/env.tar.gz")
[[ $(cat "$dest/unpacked-at") == "$dest $dest" ]] || fail "conda-unpack did not run in the final location: $(cat "$dest/unpacked-at" 2>&1)"
[[ $(cat "$dest/etc/config.txt") == "prefix=$dest" ]] || fail "conda-unpack's rewrite is missing"
"$S" list | grep -q "^env " || fail "the conda-pack stack is not listed"
# a second install reuses it (conda-unpack does not run again)
rm "$dest/unpacked-at"
"$S" unpack "$T/env.tar.gz" >/dev/null
[[ ! -e $dest/unpacked-at ]] || fail "conda-unpack ran again on reuse"

make_env "$T/bad" 3
tar -C "$T/bad" -czf "$T/bad.tar.gz" .
expect_fail 1 "conda-unpack failed in '$ROOT/shmstack-$(id -u)/bad-[0-9a-f]{12}': it exited with status 3" "$S" unpack "$T/bad.tar.gz"
"$S" list | grep -q "^bad " && fail "a stack whose conda-unpack failed is listed"
[[ -z $(compgen -G "$ROOT/shmstack-$(id -u)/bad-*") ]] || fail "a stack whose conda-unpack failed is left behind"
no_leftovers
echo "conda-pack ok"
