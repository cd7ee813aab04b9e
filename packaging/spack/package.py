# Spack recipe for shmstack, for Spack v0.23 and v1.x (checked with 0.23.1 and 1.1.0 by
# test/install/spack.sh). v0.21 and v0.22 cannot build it: they have no `doctest` package.
# To use it before it is in a Spack repository, copy it into a repository of your own:
#
#   Spack 0.23:
#     spack repo create ~/spack-shmstack
#     mkdir -p ~/spack-shmstack/packages/shmstack
#     cp packaging/spack/package.py ~/spack-shmstack/packages/shmstack/
#     spack repo add ~/spack-shmstack
#   Spack 1.x (a repository has a namespace; packages live in spack_repo/<namespace>/packages):
#     spack repo create ~/spack-shmstack shmstack_site
#     mkdir -p ~/spack-shmstack/spack_repo/shmstack_site/packages/shmstack
#     cp packaging/spack/package.py ~/spack-shmstack/spack_repo/shmstack_site/packages/shmstack/
#     spack repo add ~/spack-shmstack/spack_repo/shmstack_site
#
# then `spack install shmstack ^mpich` (or ^openmpi, ^cray-mpich), and `spack test run shmstack`.

import os

from spack.package import *

try:  # Spack v1.x keeps the build systems in its package repository
    from spack_repo.builtin.build_systems.cmake import CMakePackage, generator
except ImportError:  # Spack v0.x: spack.package gives them
    pass


class Shmstack(CMakePackage):
    """Pack a Python environment (or any directory) once, broadcast it over MPI to
    every node's /dev/shm, and run from there instead of the shared file system:
    imports on thousands of ranks stop hammering the parallel file system's
    metadata servers. Also Slurm Prolog/Epilog/TaskProlog hooks."""

    homepage = "https://github.com/shmstack/shmstack"
    git = "https://github.com/shmstack/shmstack.git"

    maintainers("shmstack")
    license("MIT")

    # Releases are git tags vX.Y.Z; the number is CMakeLists.txt's project(VERSION),
    # which --version prints (test/install/spack_recipe.py checks that they agree).
    version("main", branch="main")
    version("0.1.0", tag="v0.1.0")

    variant("tests", default=False, description="Build the unit tests (doctest) and register ctest")

    depends_on("c", type="build")  # the end-to-end tests (--test=root) compile small C programs
    depends_on("cxx", type="build")
    depends_on("cmake@3.22:", type="build")
    depends_on("ninja", type="build")

    depends_on("mpi")
    depends_on("libarchive@3.4:")
    depends_on("lz4")
    depends_on("xxhash")
    depends_on("boost@1.74: +program_options")
    depends_on("nlohmann-json@3.10:")
    depends_on("doctest", type="test")
    depends_on("doctest", type="build", when="+tests")

    conflicts("%gcc@:9", msg="shmstack needs C++20 (GCC 10 or newer)")
    conflicts("platform=darwin", msg="shmstack installs into Linux's /dev/shm (tmpfs)")

    generator("ninja")

    def _mpicxx(self):
        """The chosen MPI's own C++ wrapper. An external MPI in /usr (Debian, Ubuntu) has a
        bin/mpicxx that follows the system's alternatives, which may name another MPI
        installed beside it; its own wrapper is mpicxx.<name> (or mpic++.<name>) there."""
        mpi = self.spec["mpi"]
        bindir = os.path.dirname(mpi.mpicxx)
        for own in (f"{mpi.mpicxx}.{mpi.name}", join_path(bindir, f"mpicxx.{mpi.name}")):
            if os.path.exists(own):
                return own
        return mpi.mpicxx

    def cmake_args(self):
        # CMake fails (naming what it found) unless the MPI behind the wrapper is the one
        # the spec asked for; other MPIs (cray-mpich, intel-oneapi-mpi, ...) are not checked.
        flavor = {"mpich": "mpich", "openmpi": "openmpi"}.get(self.spec["mpi"].name, "")
        return [
            self.define("SHMSTACK_BUILD_TESTS", self.run_tests or self.spec.satisfies("+tests")),
            self.define("SHMSTACK_WERROR", False),
            self.define("MPI_CXX_COMPILER", self._mpicxx()),
            self.define("SHMSTACK_EXPECT_MPI", flavor),
        ]

    def check(self):
        # Unit tests and the single-node end-to-end tests; the multi-node (mpi)
        # and Slurm tests need root and network namespaces. Spack v1.x gives the
        # package build_directory; v0.23 keeps it on the builder only.
        build_directory = getattr(self, "build_directory", None) or self.builder.build_directory
        with working_dir(build_directory):
            ctest("--output-on-failure", "-L", "unit|e2e")

    def setup_run_environment(self, env):
        # As packaging/lmod/shmstack.lua: the batch script examples. Spack puts bin/ on
        # PATH and share/man on MANPATH itself; bash-completion (2.10 and later) loads
        # PREFIX/share/bash-completion/completions/shmstack for a command found in
        # PREFIX/bin, so the completion needs no variable of its own.
        env.set("SHMSTACK_EXAMPLES", self.prefix.share.shmstack.examples)
        # The PMI plugin srun gives shmstack's own MPI steps in those examples
        # (srun --mpi="$SHMSTACK_SRUN_MPI"): Open MPI speaks PMIx, MPICH and most others PMI-2.
        env.set("SHMSTACK_SRUN_MPI", "pmix" if self.spec["mpi"].name == "openmpi" else "pmi2")

    # Stand-alone tests: `spack test run shmstack` (and `spack install --test=root`
    # after the install, through check_installed).

    def test_version(self):
        """shmstack --version names the installed version"""
        out = Executable(self.prefix.bin.shmstack)("--version", output=str, error=str)
        assert out.startswith("shmstack "), out
        if not self.spec.satisfies("@main"):
            assert out.strip() == f"shmstack {self.spec.version}", out

    def test_help(self):
        """shmstack --help lists the commands, and the man page is installed"""
        out = Executable(self.prefix.bin.shmstack)("--help", output=str, error=str)
        for command in ("pack", "unpack", "exec", "bcast", "slurm"):
            assert f"  {command}" in out, out
        page = join_path(self.prefix.share.man.man1, "shmstack.1")
        assert os.path.isfile(page), f"{page} is not installed"

    def test_pack_unpack(self):
        """a directory packed, unpacked into a private root, comes back the same"""
        shmstack = Executable(self.prefix.bin.shmstack)
        mkdirp("tree/pkg")
        with open("tree/pkg/__init__.py", "w") as f:
            f.write("WHERE = __file__\n")
        mkdirp("root")
        root = os.path.abspath("root")
        shmstack("pack", "tree", "-o", "tree.tar.lz4", "--name", "spacktest", "-q")
        dest = shmstack("unpack", "-q", "--root", root, "tree.tar.lz4", output=str).strip()
        assert dest.startswith(root + "/"), dest
        with open(join_path(dest, "pkg", "__init__.py")) as f:
            assert f.read() == "WHERE = __file__\n"
        shmstack("rm", "--root", root, "spacktest")

    @run_after("install")
    @on_package_attributes(run_tests=True)
    def check_installed(self):
        self.test_version()
        self.test_help()
        with working_dir(join_path(self.stage.path, "spack-check-installed"), create=True):
            self.test_pack_unpack()
