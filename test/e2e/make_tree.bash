# make_tree DIR: a tree with every kind of entry a stack may hold (sourced).
make_tree() {
  local d=$1
  mkdir -p "$d/pkg/sub/deeper" "$d/empty" "$d/bin" "$d/odd dir ü" "$d/ro-dir"
  echo "print('hello')" >"$d/pkg/__init__.py"
  printf '#!/bin/sh\necho tool\n' >"$d/bin/tool"; chmod 755 "$d/bin/tool"
  : >"$d/pkg/zero-bytes"
  echo "spaces and UTF-8" >"$d/odd dir ü/file with spaces ñ.txt"
  printf 'x%.0s' {1..5000} >"$d/pkg/sub/5k.txt"
  head -c 3000000 /dev/urandom >"$d/pkg/sub/deeper/random-3M.bin"     # larger than one frame
  head -c 1048576 /dev/urandom >"$d/pkg/sub/exactly-1MiB.bin"
  seq 1 400000 >"$d/pkg/sub/seq.txt"                                 # compressible, ~2.6 MB
  ln -s ../__init__.py "$d/pkg/sub/link-up"                          # relative, inside
  ln -s deeper "$d/pkg/sub/dirlink"
  ln "$d/pkg/sub/5k.txt" "$d/pkg/hardlink-to-5k"
  echo ro >"$d/pkg/readonly.txt"; chmod 444 "$d/pkg/readonly.txt"
  echo in-ro >"$d/ro-dir/inside"; chmod 555 "$d/ro-dir"
  chmod 700 "$d/pkg/sub/deeper"
  touch -h -d '2001-02-03 04:05:06.123456789' "$d/pkg/sub/link-up"
  touch -d '2020-01-02 03:04:05.987654321' "$d/pkg/__init__.py" "$d/empty"
  touch -d '1999-12-31 23:59:59' "$d/pkg/sub/seq.txt"
}
