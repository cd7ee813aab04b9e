# The site packaging: the Lmod modulefile example (packaging/lmod) loaded by a
# real Lmod over an installed tree puts shmstack, its man page and its bash
# completion in place and unloads cleanly; the Spack recipe (packaging/spack)
# matches the build's dependencies, options and version (test/install/spack_recipe.py),
# and its MPI check (SHMSTACK_EXPECT_MPI) fails a build against another MPI.
source "$E2E_DIR/lib.bash"
SRC=$E2E_DIR/../..
python3 "$SRC/test/install/spack_recipe.py" "$SRC" || fail "the Spack recipe is out of step with the build"

# The recipe names the MPI it asked for (SHMSTACK_EXPECT_MPI): configuring
# against another fails, naming what was found.
if command -v mpicxx.openmpi >/dev/null; then
  rc=0
  cmake -S "$SRC" -B "$T/expect" -G Ninja -DSHMSTACK_BUILD_TESTS=OFF -DMPI_CXX_COMPILER=mpicxx.openmpi \
    -DSHMSTACK_EXPECT_MPI=mpich >"$T/expect.log" 2>&1 || rc=$?
  [[ $rc -ne 0 ]] || fail "configuring with Open MPI's wrapper and SHMSTACK_EXPECT_MPI=mpich succeeded"
  grep -q "SHMSTACK_EXPECT_MPI is mpich, but MPI_CXX_COMPILER" "$T/expect.log" || { cat "$T/expect.log"; fail "no clear error"; }
  grep -q "gives Open MPI" "$T/expect.log" || { cat "$T/expect.log"; fail "the error does not say which MPI was found"; }
fi

lmod_init=/usr/share/lmod/lmod/init/bash
[[ -f $lmod_init ]] || skip "needs lmod (scripts/setup installs it)"
P=$T/prefix
cmake --install "$BUILD_DIR" --prefix "$P" >/dev/null || fail "cmake --install failed"
version=$(grep -oP '^whatis\("Version: \K[^"]+' "$SRC/packaging/lmod/shmstack.lua")
[[ $version == "$PROJECT_VERSION" ]] || fail "the modulefile says version $version, the project $PROJECT_VERSION"
mkdir -p "$T/modules/shmstack"
sed "s#^local root = .*#local root = \"$P\"#" "$SRC/packaging/lmod/shmstack.lua" >"$T/modules/shmstack/$version.lua"
grep -q "^local root = \"$P\"" "$T/modules/shmstack/$version.lua" || fail "the modulefile has no 'local root = ...' line"

env -i HOME="$T" PATH=/usr/bin:/bin bash -c '
  set -e
  source '"$lmod_init"'
  module use '"$T/modules"'
  module load shmstack
  [[ $(command -v shmstack) == '"$P"'/bin/shmstack ]] || { echo "not on PATH after load"; exit 1; }
  man -w shmstack | grep -q "^'"$P"'/share/man/man1/shmstack.1" || { echo "man page not found: $(man -w shmstack 2>&1)"; exit 1; }
  [[ -f $SHMSTACK_EXAMPLES/prestep.sbatch ]] || { echo "SHMSTACK_EXAMPLES: $SHMSTACK_EXAMPLES"; exit 1; }
  [[ $SHMSTACK_SRUN_MPI == pmi2 ]] || { echo "SHMSTACK_SRUN_MPI (what the examples give srun --mpi): ${SHMSTACK_SRUN_MPI:-unset}"; exit 1; }
  complete -p shmstack | grep -q _shmstack || { echo "no completion after load"; exit 1; }
  shmstack --version
  module unload shmstack
  ! command -v shmstack >/dev/null || { echo "still on PATH after unload"; exit 1; }
' >"$T/lmod.out" 2>&1 || { cat "$T/lmod.out"; fail "the Lmod modulefile does not work"; }
grep -qx "shmstack $PROJECT_VERSION" "$T/lmod.out" || { cat "$T/lmod.out"; fail "the loaded shmstack did not run"; }
echo "packaging ok"
