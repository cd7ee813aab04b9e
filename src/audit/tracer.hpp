// The tracer behind 'shmstack audit': runs a program and reports every
// file-system call that it and all its descendants make.
//
// How: the child asks to be traced (PTRACE_TRACEME), stops itself, installs a
// seccomp-bpf filter that returns SECCOMP_RET_TRACE for the calls listed in
// traced_syscalls() only (every other call runs at full speed, untraced), and
// execs the program. The tracer sets PTRACE_O_TRACESECCOMP (plus
// TRACEFORK/VFORK/CLONE/EXEC, so that children are traced from their first
// instruction, and EXITKILL, so that nothing outlives a dead tracer) and, at
// each seccomp stop, reads the call's arguments (PTRACE_GET_SYSCALL_INFO),
// its path argument from the tracee's memory (process_vm_readv, else
// PTRACE_PEEKDATA), and makes the path absolute against the tracee's working
// directory or dirfd (/proc/PID/cwd, /proc/PID/fd/N). getdents64 names the
// directory behind its fd. The dynamic loader is just another caller of
// openat/newfstatat, so its lookups are seen too.
//
// Paths are reported as asked for, normalised as text, not resolved: a call
// that fails (ENOENT) counts like one that succeeds, because on a parallel
// file system a miss costs a metadata round trip too. Calls on a descriptor
// alone (fstat as newfstatat(fd, "", AT_EMPTY_PATH)) do no lookup and are not
// reported. Without seccomp (a kernel without SECCOMP_RET_TRACE, or
// SHMSTACK_AUDIT_NO_SECCOMP=1 for tests) the tracer falls back to
// PTRACE_SYSCALL, which stops at every call and is much slower.
//
// It waits for every traced process, not only the first: a descendant that
// outlives the program is still audited (like strace -f). 32-bit calls of a
// compat-mode program are not seen. The filter needs PR_SET_NO_NEW_PRIVS, so a
// setuid program started under audit does not gain privileges. Job-control stops (SIGSTOP/SIGTSTP) of
// the traced programs are passed on but not made visible to the shell. A
// SIGINT or SIGTERM to audit itself (base/cancel) is passed on to the program
// unless the program got it too (a terminal's ^C and Slurm's scancel signal
// the whole job): the events already queued are handled first, and the
// signal is not sent again if the program was just delivered it or has it
// pending.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace shmstack::audit {

struct FileCall {
  pid_t pid = 0;
  const char* syscall = "";  // "openat", "newfstatat", "getdents64", ...
  std::string path;          // absolute and normalised; a directory for getdents64
};

struct TraceOutcome {
  bool signaled = false;  // killed by signal `status`, else exited with `status`
  int status = 0;
  std::uint64_t processes = 0;  // the program and every descendant traced
  bool seccomp = true;          // false: fell back to PTRACE_SYSCALL
};

// The names of the calls that are traced (those that exist on this machine).
std::vector<std::string> traced_syscalls();

// Runs `program` (a path: no PATH search) with `argv` and `envp`, calling
// `on_call` for each file-system call, and returns how it ended. Throws
// Error when the program cannot be started under the tracer (ptrace
// forbidden, exec failed).
TraceOutcome trace_program(const std::string& program, const std::vector<std::string>& argv,
                           const std::vector<std::string>& envp, const std::function<void(const FileCall&)>& on_call);

}  // namespace shmstack::audit
