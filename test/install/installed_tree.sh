# cmake --install into a scratch prefix gives a working tree: the layout
# README documents, a man page that renders, bash completion that completes,
# Slurm wrappers that find PREFIX/bin/shmstack by themselves, and every
# end-to-end scenario (test/e2e) passing against PREFIX/bin/shmstack with
# PATH pointing there.
source "$E2E_DIR/lib.bash"
P=$T/prefix
cmake --install "$BUILD_DIR" --prefix "$P" >"$T/install.log" || { cat "$T/install.log"; fail "cmake --install failed"; }

# Layout.
for f in bin/shmstack libexec/shmstack/prolog libexec/shmstack/epilog libexec/shmstack/task-prolog; do
  [[ -x $P/$f ]] || fail "not installed (or not executable): $f"
done
for f in share/man/man1/shmstack.1 share/bash-completion/completions/shmstack \
         share/shmstack/slurm.conf.example share/shmstack/hooks.conf.example \
         share/shmstack/examples/prestep.sbatch share/shmstack/examples/task-prolog.sbatch \
         share/shmstack/examples/prolog.sbatch share/shmstack/examples/run.sbatch \
         share/shmstack/examples/mpi-program.sbatch share/shmstack/examples/gpu.sbatch \
         share/shmstack/examples/array.sbatch share/shmstack/examples/cleanup.sbatch share/doc/shmstack/README.md \
         share/doc/shmstack/doc/user-guide.md share/doc/shmstack/doc/slurm.md; do
  [[ -f $P/$f ]] || fail "not installed: $f"
done
ldd "$P/bin/shmstack" | grep -q "$BUILD_DIR" && fail "the installed binary loads a library from the build tree"
[[ $("$P/bin/shmstack" --version) == "shmstack $PROJECT_VERSION" ]] || fail "--version: $("$P/bin/shmstack" --version)"

# The man page renders (man -l: no MANPATH needed) with every command.
man -l "$P/share/man/man1/shmstack.1" >"$T/man.txt" 2>/dev/null || fail "man -l failed"
grep -q "^SYNOPSIS" "$T/man.txt" || fail "man -l does not render the page"
for cmd in pack unpack info list rm gc env exec bcast run "slurm task-prolog"; do
  grep -q "$cmd" "$T/man.txt" || fail "the rendered man page lacks '$cmd'"
done

# The wrappers find the binary installed beside them: no SHMSTACK_BIN, and a
# PATH without shmstack (skipped where the system has one of its own).
S=$P/bin/shmstack
source "$E2E_DIR/make_tree.bash"
make_tree "$T/src"
"$S" pack "$T/src" -o "$T/a.tar.lz4" --name installed -q
printf 'SHMSTACK_ROOT=%s\nSHMSTACK_LOG=%s\nSHMSTACK_TASK_LOG=%s\n' "$ROOT" "$T/hooks.log" "$T/task.log" >"$T/hooks.conf"
hook() {
  env -i PATH=/usr/bin:/bin HOME="$T" SHMSTACK_SLURM_HOOKS_CONF="$T/hooks.conf" SLURM_JOB_ID=7 \
    SLURM_JOB_UID="$(id -u)" SLURM_JOB_GID="$(id -g)" SLURM_JOB_USER="$(id -un)" "$@"
}
if ! PATH=/usr/local/bin:/usr/bin:/bin command -v shmstack >/dev/null; then
  out=$(hook SHMSTACK_STACKS="$T/a.tar.lz4" "$P/libexec/shmstack/task-prolog") ||
    { cat "$T/task.log"; fail "the installed task-prolog failed"; }
  grep -q "^export PYTHONPATH=$ROOT/shmstack-$(id -u)/installed-" <<<"$out" || fail "task-prolog printed: $out"
  hook SLURM_JOB_COMMENT="shmstack=$T/a.tar.lz4" SLURM_JOB_ID=8 "$P/libexec/shmstack/prolog" ||
    { cat "$T/hooks.log"; fail "the installed prolog failed"; }
  hook SLURM_JOB_ID=7 "$P/libexec/shmstack/epilog" || { cat "$T/hooks.log"; fail "epilog (job 7) failed"; }
  [[ $(installed_count) -eq 1 ]] || fail "job 8's claim did not keep the stack through job 7's epilog"
  hook SLURM_JOB_ID=8 "$P/libexec/shmstack/epilog" || { cat "$T/hooks.log"; fail "epilog (job 8) failed"; }
  [[ $(installed_count) -eq 0 ]] || fail "the installed epilog did not remove the stack"
else
  echo "note: a system shmstack is on PATH; the wrappers' own lookup is not checked"
fi

# Every end-to-end scenario, against the installed binary and completion.
passed=0 skipped=0
for scenario in "$E2E_DIR"/*.sh; do
  name=$(basename "$scenario" .sh)
  if ! out=$(PATH="$P/bin:$PATH" SHMSTACK="$P/bin/shmstack" \
             SHMSTACK_COMPLETION="$P/share/bash-completion/completions/shmstack" bash "$scenario" 2>&1); then
    printf '%s\n' "$out" | tail -n 20
    fail "e2e.$name fails against the installed tree"
  fi
  if grep -q '^SKIP:' <<<"$out"; then skipped=$((skipped + 1)); else passed=$((passed + 1)); fi
done
echo "installed tree ok: $passed scenarios passed, $skipped skipped"
