# Which MPI shmstack is built with, and the launcher that goes with it.
#
# The MPI is chosen by its compiler wrapper, named explicitly: the presets set
# MPI_CXX_COMPILER (release: mpicxx.mpich, release-openmpi: mpicxx.openmpi),
# so a machine whose Debian alternatives point mpicxx at the other MPI still
# gets the one asked for. Without a preset, -DMPI_CXX_COMPILER=... chooses;
# left unset, FindMPI takes whatever `mpicxx` is, and this file reports it.
#
# Gives:
#   SHMSTACK_MPI_FLAVOR   mpich | openmpi | other, from the library's own version
#                         string (MPI_Get_library_version, as FindMPI reads it)
#   SHMSTACK_MPIEXEC      the launcher that matches (an explicit name such as
#                         mpiexec.hydra or mpirun.openmpi, never the alternatives'
#                         mpiexec): the tests run their jobs with it
# Takes SHMSTACK_EXPECT_MPI (mpich | openmpi): configuring fails unless the
# flavor found is that one (packaging/spack/package.py sets it).
set(MPI_DETERMINE_LIBRARY_VERSION TRUE)   # fills MPI_CXX_LIBRARY_VERSION_STRING
find_package(MPI REQUIRED COMPONENTS CXX)

set(_shmstack_mpi_version "${MPI_CXX_LIBRARY_VERSION_STRING}")
if(_shmstack_mpi_version MATCHES "Open MPI")
  set(SHMSTACK_MPI_FLAVOR openmpi)
  set(_launchers mpirun.openmpi mpiexec.openmpi mpirun)
elseif(_shmstack_mpi_version MATCHES "MPICH")
  set(SHMSTACK_MPI_FLAVOR mpich)
  set(_launchers mpiexec.hydra mpiexec.mpich mpiexec)
else()
  # Another MPI (Intel MPI, MVAPICH, ...): shmstack builds with any MPI 3; the
  # simulated-node tests know how to launch MPICH and Open MPI only.
  set(SHMSTACK_MPI_FLAVOR other)
  set(_launchers mpiexec)
endif()

# The launcher of the same installation: the wrapper's own directory first, the
# explicit names before the plain one there (a Spack MPI has only mpirun/mpiexec),
# unless -DSHMSTACK_MPIEXEC names another. Looked up per flavor, so switching
# MPI_CXX_COMPILER in a build directory switches the launcher too.
find_program(_shmstack_mpicxx NAMES "${MPI_CXX_COMPILER}" NO_CACHE)
get_filename_component(_mpi_bindir "${_shmstack_mpicxx}" DIRECTORY)
find_program(SHMSTACK_MPIEXEC_${SHMSTACK_MPI_FLAVOR} NAMES ${_launchers} NAMES_PER_DIR HINTS "${_mpi_bindir}"
  DOC "The ${SHMSTACK_MPI_FLAVOR} launcher")
mark_as_advanced(SHMSTACK_MPIEXEC_${SHMSTACK_MPI_FLAVOR})
set(SHMSTACK_MPIEXEC "" CACHE FILEPATH "The MPI launcher the tests use (default: the one of the MPI found)")
if(NOT SHMSTACK_MPIEXEC)
  set(SHMSTACK_MPIEXEC "${SHMSTACK_MPIEXEC_${SHMSTACK_MPI_FLAVOR}}")
endif()
if(NOT SHMSTACK_MPIEXEC)
  message(FATAL_ERROR "shmstack: found ${SHMSTACK_MPI_FLAVOR} but none of its launchers (${_launchers})")
endif()

if(SHMSTACK_MPI_FLAVOR STREQUAL "openmpi" AND _shmstack_mpi_version MATCHES "Open MPI v([0-9][0-9.]*)")
  set(_shown "Open MPI ${CMAKE_MATCH_1}")
elseif(_shmstack_mpi_version MATCHES "MPICH Version:[ \t]*([0-9][0-9.a-z]*)")
  set(_shown "MPICH ${CMAKE_MATCH_1}")
else()
  string(REGEX REPLACE "[\r\n].*" "" _shown "${_shmstack_mpi_version}")
  string(STRIP "${_shown}" _shown)
  set(_shown "${_shown}, not MPICH or Open MPI: the mpi tests may not launch")
endif()
message(STATUS "shmstack: MPI = ${_shown} (${_shmstack_mpicxx}; launcher ${SHMSTACK_MPIEXEC})")

# A packager who asked for one MPI (Spack's ^mpich) says so, and gets a failure,
# not a build against another MPI that an mpicxx of the same prefix leads to.
set(SHMSTACK_EXPECT_MPI "" CACHE STRING "Fail unless the MPI found is this one (mpich or openmpi; empty: any)")
if(SHMSTACK_EXPECT_MPI AND NOT SHMSTACK_EXPECT_MPI STREQUAL SHMSTACK_MPI_FLAVOR)
  message(FATAL_ERROR "shmstack: SHMSTACK_EXPECT_MPI is ${SHMSTACK_EXPECT_MPI}, but MPI_CXX_COMPILER "
    "(${_shmstack_mpicxx}) gives ${_shown}: name the wrapper of ${SHMSTACK_EXPECT_MPI} itself")
endif()
