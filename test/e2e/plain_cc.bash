# For scenarios that compile C programs and then look at their search paths
# (RPATH/RUNPATH): `cc` becomes a compiler that adds no search path of its own.
# A packager's compiler wrapper first on PATH does (Spack's adds the RPATHs of
# the package being built, and Spack 1.x's refuses to run for a package that
# declared no C dependency); Spack leaves the real compiler in SPACK_CC. Where
# no compiler links a plain program without search paths, `cc` is left
# undefined, and the scenario skips or leaves out its compiled cases.
# Source it after lib.bash.
plain_cc_why=""
if ! command -v "${SPACK_CC:-cc}" >/dev/null; then
  plain_cc_why="no C compiler"
else
  plain_cc=$(command -v "${SPACK_CC:-cc}")
  echo 'int main(void) { return 0; }' >"$T/plain-cc.c"
  if ! "$plain_cc" -o "$T/plain-cc" "$T/plain-cc.c" 2>"$T/plain-cc.err"; then
    plain_cc_why="$plain_cc does not link a plain program: $(head -n 1 "$T/plain-cc.err")"
  elif readelf -d "$T/plain-cc" 2>/dev/null | grep -q 'Library r[a-z]*path'; then
    plain_cc_why="$plain_cc adds search paths of its own"
  else
    cc() { "$plain_cc" "$@"; }
  fi
fi
