# Helpers for scenarios that need a real memory cgroup (v1 or v2, whichever
# the machine has), as root. Source it after lib.bash.
#   make_memcg NAME LIMIT   creates a memory cgroup NAME-$$ limited to LIMIT
#                           bytes (memory plus swap too, so nothing escapes to
#                           swap), or skips the scenario saying why; sets MEMCG
#                           (its directory) and MEMCG_PATH (its path as
#                           /proc/self/cgroup names it). Removed at exit.
#   in_memcg CMD...         runs CMD inside it (CMD's children too)
#   memcg_usage             bytes charged to it now
#   memcg_peak              the most charged since make_memcg or memcg_reset_peak
#                           (empty where the kernel does not say)
# Where the controller is mounted and where this process sits come from
# /proc/self/mountinfo and /proc/self/cgroup, as shmstack reads them. v1: the
# cgroup is made under this process's own (so any limit above still holds);
# v2: under the root, the one cgroup that may hold processes and enable
# controllers for its children.
MEMCG="" MEMCG_PATH="" MEMCG_VERSION=""

_memcg_where() {
  python3 - <<'EOF'
import os
paths = {}
for line in open('/proc/self/cgroup'):
    num, ctl, path = line.rstrip('\n').split(':', 2)
    if num == '0' and ctl == '':
        paths[2] = path
    elif 'memory' in ctl.split(','):
        paths[1] = path
def unescape(s):
    return s.encode().decode('unicode_escape')
for version in (1, 2):
    if version not in paths:
        continue
    for line in open('/proc/self/mountinfo'):
        f = line.split()
        d = f.index('-')
        fstype, opts = f[d + 1], f[d + 3].split(',') if len(f) > d + 3 else []
        root, point = unescape(f[3]), unescape(f[4])
        if version == 1 and not (fstype == 'cgroup' and 'memory' in opts):
            continue
        if version == 2 and fstype != 'cgroup2':
            continue
        path = paths[version]
        rel = path[len(root):] if root != '/' and path.startswith(root) else path
        if version == 1:
            print(1, point + rel.rstrip('/'), path.rstrip('/'))
        else:
            print(2, point, root.rstrip('/'))
        raise SystemExit
EOF
}

make_memcg() {
  local name=$1 limit=$2 parent parent_path
  [[ $(id -u) -eq 0 ]] || skip "needs root (to make a memory cgroup)"
  need_tool python3
  read -r MEMCG_VERSION parent parent_path < <(_memcg_where) || true
  [[ -n $MEMCG_VERSION ]] || skip "no memory cgroup controller is mounted"
  if [[ $MEMCG_VERSION == 2 ]]; then
    grep -qw memory "$parent/cgroup.subtree_control" 2>/dev/null ||
      skip "cgroup v2: the memory controller is not enabled for children of $parent"
  fi
  MEMCG=$parent/$name-$$
  MEMCG_PATH=$parent_path/$name-$$
  mkdir "$MEMCG" 2>/dev/null || { MEMCG=""; skip "cannot make a memory cgroup under $parent (read-only?)"; }
  if [[ $MEMCG_VERSION == 1 ]]; then
    echo "$limit" >"$MEMCG/memory.limit_in_bytes"
    [[ -e $MEMCG/memory.memsw.limit_in_bytes ]] && echo "$limit" >"$MEMCG/memory.memsw.limit_in_bytes"
    echo 0 >"$MEMCG/memory.swappiness" 2>/dev/null || true
  else
    echo "$limit" >"$MEMCG/memory.max"
    [[ -e $MEMCG/memory.swap.max ]] && echo 0 >"$MEMCG/memory.swap.max"
  fi
  return 0
}

remove_memcg() {
  [[ -n $MEMCG && -d $MEMCG ]] || return 0
  local _
  for _ in $(seq 100); do rmdir "$MEMCG" 2>/dev/null && return 0; sleep 0.1; done
  echo "could not remove the memory cgroup $MEMCG (processes: $(cat "$MEMCG/cgroup.procs" | tr '\n' ' '))" >&2
}
eval "_memcg_prev_trap=($(trap -p EXIT))"
trap "remove_memcg; ${_memcg_prev_trap[2]:-}" EXIT

in_memcg() { bash -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$MEMCG" "$@"; }

memcg_usage() {
  if [[ $MEMCG_VERSION == 1 ]]; then cat "$MEMCG/memory.usage_in_bytes"; else cat "$MEMCG/memory.current"; fi
}
memcg_reset_peak() {
  if [[ $MEMCG_VERSION == 1 ]]; then echo 0 >"$MEMCG/memory.max_usage_in_bytes"; fi
}
memcg_peak() {
  if [[ $MEMCG_VERSION == 1 ]]; then cat "$MEMCG/memory.max_usage_in_bytes"; fi
}
