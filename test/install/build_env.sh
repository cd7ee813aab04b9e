# The end-to-end scenarios that once failed inside a packager's build
# environment (Spack's, under `spack install --test=root`) pass in one like it,
# without Spack: LC_ALL=C, a PYTHONPATH of the builder's, and a `cc` first on
# PATH that adds an RPATH of its own. With the real compiler named in SPACK_CC
# (as Spack leaves it) the compiled cases run; without it they are left out,
# never failed. test/install/spack.sh meets the real thing.
source "$E2E_DIR/lib.bash"
real_cc=$(command -v cc) || skip "needs cc"
mkdir -p "$T/wrapper" "$T/site"
printf '#!/bin/sh\nexec %s "$@" -Wl,-rpath,/opt/spack/shmstack/lib\n' "$real_cc" >"$T/wrapper/cc"
chmod +x "$T/wrapper/cc"
builder() { env LC_ALL=C PYTHONPATH="$T/site" PATH="$T/wrapper:$PATH" "$@"; }

for scenario in audit relocate_binaries interop slurm_hooks; do
  out=$(builder SPACK_CC="$real_cc" bash "$E2E_DIR/$scenario.sh" 2>&1) ||
    { printf '%s\n' "$out" | tail -n 20; fail "e2e.$scenario fails in a build environment"; }
  ! grep -Eq '^SKIP:.*C compiler|skipping the ELF case' <<<"$out" || fail "e2e.$scenario did not use SPACK_CC: $out"
done
# The wrapper alone: the compiled cases are left out, with the reason.
out=$(builder bash "$E2E_DIR/relocate_binaries.sh" 2>&1) || { printf '%s\n' "$out" | tail -n 20; fail "relocate_binaries with the wrapper alone"; }
grep -q "^SKIP: needs a plain C compiler: .* adds search paths of its own" <<<"$out" || fail "relocate_binaries with the wrapper alone: $out"
out=$(builder bash "$E2E_DIR/audit.sh" 2>&1) || { printf '%s\n' "$out" | tail -n 20; fail "audit with the wrapper alone"; }
grep -q "^skipping the ELF case: .* adds search paths of its own" <<<"$out" || fail "audit with the wrapper alone: $out"
echo "build environment ok"
