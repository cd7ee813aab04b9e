# lib.bash for scenarios that install into the default stack root: where
# namespaces are allowed (root), the scenario runs again, once, in its own
# mount namespace with a fresh tmpfs on /dev/shm (the real one is never
# touched), and installs there; elsewhere into lib.bash's $ROOT. Source it
# instead of lib.bash, first:
#   source "$(dirname "$0")/private_shm.bash"
if [[ -z ${SHMSTACK_PRIVATE_SHM:-} && $(id -u) -eq 0 ]] && unshare -m true 2>/dev/null; then
  exec unshare -m bash -c 'mount -t tmpfs tmpfs /dev/shm && SHMSTACK_PRIVATE_SHM=1 exec bash "$0"' "$0"
fi
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"
if [[ -n ${SHMSTACK_PRIVATE_SHM:-} ]]; then
  ROOT=/dev/shm
  unset SHMSTACK_ROOT
  echo "installing into a private /dev/shm"
fi
