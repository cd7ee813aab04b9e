# Spack recipe for shmstack. To use it before it is in a Spack repository:
#   spack repo create ~/spack-shmstack && mkdir -p ~/spack-shmstack/packages/shmstack
#   cp packaging/spack/package.py ~/spack-shmstack/packages/shmstack/
#   spack repo add ~/spack-shmstack && spack install shmstack ^mpich   (or ^openmpi, ^cray-mpich)
#
# Written for Spack v0.21-0.23 (`from spack.package import *`); in Spack v1.x
# repositories, also import CMakePackage from spack_repo.builtin.build_systems.cmake.

from spack.package import *


class Shmstack(CMakePackage):
    """Pack a Python environment (or any directory) once, broadcast it over MPI to
    every node's /dev/shm, and run from there instead of the shared file system:
    imports on thousands of ranks stop hammering the parallel file system's
    metadata servers. Also Slurm Prolog/Epilog/TaskProlog hooks."""

    homepage = "https://github.com/shmstack/shmstack"
    git = "https://github.com/shmstack/shmstack.git"

    maintainers("shmstack")
    license("MIT")

    version("main", branch="main")

    variant("tests", default=False, description="Build the unit tests (doctest) and register ctest")

    depends_on("cxx", type="build")
    depends_on("cmake@3.22:", type="build")
    depends_on("ninja", type="build")
    depends_on("pkgconfig", type="build")

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

    def cmake_args(self):
        return [
            self.define("SHMSTACK_BUILD_TESTS", self.run_tests or self.spec.satisfies("+tests")),
            self.define("SHMSTACK_WERROR", False),
            self.define("MPI_CXX_COMPILER", self.spec["mpi"].mpicxx),
        ]

    def check(self):
        # Unit tests and the single-node end-to-end tests; the multi-node (mpi)
        # and Slurm tests need root and network namespaces.
        with working_dir(self.build_directory):
            ctest("--output-on-failure", "-L", "unit|e2e")

    @run_after("install")
    @on_package_attributes(run_tests=True)
    def check_installed(self):
        shmstack = Executable(self.prefix.bin.shmstack)
        shmstack("--version")
        shmstack("pack", "--help", output=str)
