# The Spack recipe (packaging/spack/package.py) checked by real Spack, offline,
# every dependency an external from this machine (../shared/tools/spack has
# Spack 0.23.1 and 1.1.0; skipped where it is absent). For each version:
#  - the recipe placed as its header says (spack repo create, the 1.x layout);
#  - spack spec: the default is the release (shmstack@PROJECT_VERSION, tag
#    vPROJECT_VERSION), not main;
#  - spack install shmstack@PROJECT_VERSION of the working tree as it is:
#    0.23.1 with ^mpich, 1.1.0 with ^openmpi; with --test=root for the versions
#    in SHMSTACK_SPACK_TEST_ROOT (check(): the unit and end-to-end tests inside
#    Spack's build environment, then the stand-alone tests on the prefix). The
#    suite runs 1.1.0 alone without it, to keep its time down (see below);
#  - built against the MPI asked for: CMake's "shmstack: MPI =" line and ldd;
#  - from the installed prefix: --version, --help, the man page, a pack and
#    unpack round trip; spack test run; spack load's environment (PATH,
#    MANPATH, SHMSTACK_EXAMPLES, SHMSTACK_SRUN_MPI (pmix for ^openmpi, else
#    pmi2), the completion found beside PATH's bin/).
# Each Spack is unpacked once per tarball into SHMSTACK_SPACK_CACHE (default
# TMPDIR/shmstack-spack) and left unchanged: what a run configures (its
# repository, the source to fetch, the install tree, stages, caches) is in a
# configuration scope of its own under $T (spack -C), hence repos.yaml written
# there rather than by `spack repo add`, which writes to a named scope; only
# Spack's own caches (its repository indexes) stay between runs.
source "$E2E_DIR/lib.bash"
source "$E2E_DIR/make_tree.bash"
SRC=$(cd "$E2E_DIR/../.." && pwd)
tools=${SHMSTACK_SPACK_TOOLS:-$SRC/../shared/tools/spack}
[[ -x $tools/setup ]] || skip "needs ../shared/tools/spack (Spack 0.23.1 and 1.1.0, offline) to check the recipe"
need_tool git
version=${PROJECT_VERSION:?set PROJECT_VERSION}
# The default (the suite's): Spack 1.1.0 alone, without --test=root (about 6 minutes on 2
# loaded cores). Both versions, 0.23.1 with --test=root (about 21 minutes there):
#   SHMSTACK_SPACK_VERSIONS="0.23.1 1.1.0" SHMSTACK_SPACK_TEST_ROOT=0.23.1 ctest --preset release -R install.spack
versions=${SHMSTACK_SPACK_VERSIONS:-1.1.0}
test_root=${SHMSTACK_SPACK_TEST_ROOT:-}
cache=${SHMSTACK_SPACK_CACHE:-${TMPDIR:-/tmp}/shmstack-spack}
mkdir -p "$cache"

# The source Spack fetches: the working tree (committed or not), tagged.
mkdir "$T/src"
git -C "$SRC" ls-files -z --cached --others --exclude-standard |
  tar -C "$SRC" --null -T - --ignore-failed-read -cf - 2>/dev/null | tar -C "$T/src" -xf -
git -C "$T/src" init -q -b main
git -C "$T/src" add -A
git -C "$T/src" -c user.name=test -c user.email=test@localhost commit -q -m "working tree"
git -C "$T/src" tag "v$version"

# spack_setup V: the directory of Spack V, unpacked and configured by tools/setup once.
spack_setup() {
  local stamp dir
  stamp=$(stat -c '%s.%Y' "$tools/setup" "$tools"/*.tar.xz | cksum | cut -d ' ' -f 1)
  dir=$cache/$1-$stamp
  (
    flock 9
    if [[ ! -f $dir/.ready ]]; then
      rm -rf "$dir"
      "$tools/setup" "$1" "$dir" >"$T/setup-$1.log" 2>&1 || { cat "$T/setup-$1.log" >&2; exit 1; }
      touch "$dir/.ready"
    fi
  ) 9>"$dir.lock" || fail "setting up Spack $1 failed"
  echo "$dir"
}

# check_spack V MPI TEST_ROOT
check_spack() (
  local v=$1 mpi=$2 tests=$3 dir scope W
  dir=$(spack_setup "$v")
  W=$T/spack-$v
  scope=$W/scope
  mkdir -p "$scope"
  source "$dir/env.sh"
  sp() { spack -C "$scope" "$@"; }

  # The recipe where its header puts it.
  spack repo create "$W/repo" shmstack_site >/dev/null || fail "spack $v repo create"
  if [[ $v == 0.* ]]; then
    pkgdir=$W/repo/packages/shmstack
    printf 'repos:\n- %s\n' "$W/repo" >"$scope/repos.yaml"
  else
    pkgdir=$W/repo/spack_repo/shmstack_site/packages/shmstack
    printf 'repos:\n  shmstack_site: %s\n' "$W/repo/spack_repo/shmstack_site" >"$scope/repos.yaml"
  fi
  mkdir -p "$pkgdir" && cp "$SRC/packaging/spack/package.py" "$pkgdir/"
  printf 'packages:\n  shmstack:\n    package_attributes:\n      git: file://%s\n' "$T/src" >"$scope/packages.yaml"
  printf 'config:\n  install_tree:\n    root: %s\n  build_stage: [%s]\n  source_cache: %s\n  test_stage: %s\n' \
    "$W/opt" "$W/stage" "$W/source-cache" "$W/test-stage" >"$scope/config.yaml"

  sp spec shmstack >"$W/spec.txt" 2>&1 || { cat "$W/spec.txt"; fail "spack $v spec shmstack"; }
  grep -q "^ - *shmstack@$version\b" "$W/spec.txt" || { cat "$W/spec.txt"; fail "spack $v: the default is not shmstack@$version"; }

  local args=(install --fail-fast --no-cache)
  [[ $tests == yes ]] && args+=(--test=root)
  echo "spack $v: ${args[*]} shmstack@$version ^$mpi"
  if ! sp "${args[@]}" "shmstack@$version" "^$mpi" >"$W/install.log" 2>&1; then
    tail -n 40 "$W/install.log"
    find "$W/stage" -name spack-build-out.txt -exec tail -n 60 {} \; 2>/dev/null
    fail "spack $v install shmstack ^$mpi failed"
  fi
  local P
  P=$(sp location -i shmstack) || fail "spack $v location -i shmstack"
  [[ $P == "$W/opt/"* ]] || fail "spack $v installed into $P"

  # The MPI asked for, found by CMake and linked.
  local name=MPICH lib=libmpich
  [[ $mpi == openmpi ]] && name="Open MPI" lib=libmpi.so.40
  find "$P/.spack" -name 'spack-build*out*' -exec zcat -f {} + >"$W/build-log.txt" 2>/dev/null
  cat "$W/install.log" >>"$W/build-log.txt"
  grep -q -- "-- shmstack: MPI = $name " "$W/build-log.txt" ||
    { grep "shmstack: MPI" "$W/build-log.txt"; ls "$P/.spack"; fail "spack $v ^$mpi: CMake found another MPI (or said nothing)"; }
  ldd "$P/bin/shmstack" | grep -q "$lib" || { ldd "$P/bin/shmstack"; fail "spack $v ^$mpi: shmstack does not link $lib"; }
  if [[ $tests == yes ]]; then
    grep -q "tests passed" "$W/build-log.txt" ||
      fail "spack $v --test=root: no test summary in the build log"
  fi

  # From the installed prefix.
  [[ $("$P/bin/shmstack" --version) == "shmstack $version" ]] || fail "spack $v: --version says $("$P/bin/shmstack" --version)"
  "$P/bin/shmstack" --help | grep -q "^Commands:" || fail "spack $v: --help"
  man -l "$P/share/man/man1/shmstack.1" 2>/dev/null | grep -q "^SYNOPSIS" || fail "spack $v: no man page that renders"
  make_tree "$W/tree"
  "$P/bin/shmstack" pack "$W/tree" -o "$W/tree.tar.lz4" --name spack -q || fail "spack $v: pack"
  dest=$("$P/bin/shmstack" unpack -q "$W/tree.tar.lz4") || fail "spack $v: unpack"
  treecmp "$W/tree" "$dest" || fail "spack $v: the unpacked tree differs"

  sp test run shmstack >"$W/test-run.log" 2>&1 || { cat "$W/test-run.log"; fail "spack $v test run shmstack"; }
  grep -Eq "PASSED|passed" "$W/test-run.log" || { cat "$W/test-run.log"; fail "spack $v test run: no test passed"; }

  # spack load: what the Lmod modulefile (packaging/lmod) gives, in Spack's way.
  sp load --sh shmstack >"$W/load.sh" || fail "spack $v load --sh shmstack"
  env -i HOME="$T" PATH=/usr/bin:/bin bash -c '
    source "$1"
    [[ $(command -v shmstack) == "$2/bin/shmstack" ]] || { echo "not on PATH: $PATH"; exit 1; }
    man -w shmstack | grep -q "^$2/share/man/man1/shmstack.1" || { echo "man -w: $(man -w shmstack 2>&1)"; exit 1; }
    [[ -f $SHMSTACK_EXAMPLES/prestep.sbatch ]] || { echo "SHMSTACK_EXAMPLES: ${SHMSTACK_EXAMPLES-unset}"; exit 1; }
    [[ $SHMSTACK_SRUN_MPI == "$3" ]] || { echo "SHMSTACK_SRUN_MPI: ${SHMSTACK_SRUN_MPI-unset}, not $3"; exit 1; }
    bin=$(dirname "$(command -v shmstack)")  # bash-completion (2.10+) looks beside PATH entries
    source "${bin%/*}/share/bash-completion/completions/shmstack"
    complete -p shmstack | grep -q _shmstack || { echo "no completion"; exit 1; }
  ' bash "$W/load.sh" "$P" "$([[ $mpi == openmpi ]] && echo pmix || echo pmi2)" >"$W/load.out" 2>&1 || { cat "$W/load.out"; fail "spack $v load: the environment"; }
  echo "spack $v ok: $P"
)

for v in $versions; do
  [[ -f $tools/spack-$v.tar.xz ]] || fail "no Spack $v in $tools"
  mpi=mpich
  [[ $v == 1.* ]] && mpi=openmpi
  tests=no
  [[ " $test_root " == *" $v "* ]] && tests=yes
  check_spack "$v" "$mpi" "$tests"
done
echo "spack recipe ok with Spack $versions"
