-- Lmod modulefile for shmstack. Install as MODULEPATH/shmstack/0.1.0.lua and
-- set `root` to the prefix given to `cmake --install` (or Spack's prefix;
-- `spack module lmod refresh shmstack` writes one like it for you).
-- shmstack links the MPI library it was built with: load that MPI's module
-- first, or add it below with depends_on().

help([[
shmstack packs a Python environment (or any directory) once, broadcasts it
over MPI to every node's /dev/shm, and runs from there instead of the shared
file system.

  shmstack pack $SCRATCH/myenv -o $SCRATCH/myenv.tar.lz4
  srun --ntasks-per-node=1 shmstack bcast $SCRATCH/myenv.tar.lz4
  srun shmstack exec $SCRATCH/myenv.tar.lz4 -- python3 train.py

See `man shmstack` and `shmstack --help`; batch script examples are in
$SHMSTACK_EXAMPLES.
]])

whatis("Name: shmstack")
whatis("Version: 0.1.0")
whatis("Category: tools, python, MPI")
whatis("Description: broadcast a Python stack to every node's /dev/shm and run from there")

local root = "/opt/shmstack/0.1.0"

prepend_path("PATH", pathJoin(root, "bin"))
prepend_path("MANPATH", pathJoin(root, "share/man"))
setenv("SHMSTACK_EXAMPLES", pathJoin(root, "share/shmstack/examples"))
-- The PMI plugin that srun must give shmstack's own MPI steps (bcast, run),
-- which the batch script examples read: pmi2 for a shmstack built with MPICH,
-- pmix for one built with Open MPI.
setenv("SHMSTACK_SRUN_MPI", "pmi2")

-- bash completion for the commands and their options.
if myShellType() == "sh" then
  source_sh("bash", pathJoin(root, "share/bash-completion/completions/shmstack"))
end
