#include "audit/syscalls.hpp"

#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>

#include <cstddef>

namespace shmstack::audit {

const std::vector<TracedCall>& traced_calls() {
  static const std::vector<TracedCall> calls = {
#ifdef SYS_open
      {SYS_open, "open", -1, 0, -1, -1},
#endif
#ifdef SYS_creat
      {SYS_creat, "creat", -1, 0, -1, -1},
#endif
      {SYS_openat, "openat", 0, 1, -1, -1},
#ifdef SYS_openat2
      {SYS_openat2, "openat2", 0, 1, -1, -1},
#endif
#ifdef SYS_stat
      {SYS_stat, "stat", -1, 0, -1, -1},
#endif
#ifdef SYS_lstat
      {SYS_lstat, "lstat", -1, 0, -1, -1},
#endif
#ifdef SYS_newfstatat
      {SYS_newfstatat, "newfstatat", 0, 1, -1, 3},
#endif
#ifdef SYS_statx
      {SYS_statx, "statx", 0, 1, -1, 2},
#endif
#ifdef SYS_access
      {SYS_access, "access", -1, 0, -1, -1},
#endif
      {SYS_faccessat, "faccessat", 0, 1, -1, -1},
#ifdef SYS_faccessat2
      {SYS_faccessat2, "faccessat2", 0, 1, -1, 3},
#endif
#ifdef SYS_readlink
      {SYS_readlink, "readlink", -1, 0, -1, -1},
#endif
      {SYS_readlinkat, "readlinkat", 0, 1, -1, -1},
#ifdef SYS_getdents
      {SYS_getdents, "getdents", -1, -1, 0, -1},
#endif
      {SYS_getdents64, "getdents64", -1, -1, 0, -1},
      {SYS_execve, "execve", -1, 0, -1, -1},
#ifdef SYS_execveat
      {SYS_execveat, "execveat", 0, 1, -1, 4},
#endif
      {SYS_chdir, "chdir", -1, 0, -1, -1},
  };
  return calls;
}

const TracedCall* find_traced_call(std::uint64_t nr) {
  for (const TracedCall& c : traced_calls())
    if (static_cast<std::uint64_t>(c.nr) == nr) return &c;
  return nullptr;
}

std::uint32_t native_arch() {
#if defined(__x86_64__)
  return AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
  return AUDIT_ARCH_AARCH64;
#else
  return 0;
#endif
}

std::vector<sock_filter> seccomp_program() {
  std::vector<sock_filter> program;
  if (native_arch() == 0) return program;
  const std::vector<TracedCall>& calls = traced_calls();
  auto n = static_cast<unsigned char>(calls.size());
  // [0] load arch, [1] other arch -> allow, [2] load nr, [3..3+n) nr -> trace,
  // [3+n] allow, [4+n] trace.
  program.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)));
  program.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, native_arch(), 0, static_cast<unsigned char>(n + 1)));
  program.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)));
  for (unsigned char i = 0; i < n; ++i)
    program.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<std::uint32_t>(calls[i].nr),
                               static_cast<unsigned char>(n - i), 0));
  program.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
  program.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE));
  return program;
}

}  // namespace shmstack::audit
