// The file-system calls audit stops at, and the seccomp-bpf filter that
// selects them (internal to audit/).
//
// Each call names its path argument and, for the *at() forms, the argument
// holding the directory descriptor it is relative to; getdents64 has only a
// descriptor. Calls that do not exist on this architecture (open, stat, ...
// on aarch64) are left out at compile time.
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <vector>

namespace shmstack::audit {

struct TracedCall {
  long nr;
  const char* name;
  int dirfd_arg;  // -1: relative to the working directory
  int path_arg;   // -1: the call names a descriptor (fd_arg) instead
  int fd_arg;     // for getdents: the directory's descriptor
  int flags_arg;  // -1 or the argument that may hold AT_EMPTY_PATH
};

// path_arg of a call that looks nothing up but takes what follows out of
// audit's sight (io_uring_setup; clone and clone3 with CLONE_UNTRACED): the
// tracer warns about it.
inline constexpr int kEscapeCall = -2;

const std::vector<TracedCall>& traced_calls();
const TracedCall* find_traced_call(std::uint64_t nr);

// The filter program: SECCOMP_RET_TRACE for traced_calls() of the native
// architecture, SECCOMP_RET_ALLOW for everything else. Empty when this
// architecture is not supported (the tracer then uses PTRACE_SYSCALL).
std::vector<sock_filter> seccomp_program();
// The AUDIT_ARCH_* value of native calls (0 when unsupported).
std::uint32_t native_arch();

}  // namespace shmstack::audit
