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
#ifdef SYS_io_uring_setup
      {SYS_io_uring_setup, "io_uring_setup", -1, kEscapeCall, -1, -1},
#endif
      {SYS_clone, "clone", -1, kEscapeCall, -1, -1},
#ifdef SYS_clone3
      {SYS_clone3, "clone3", -1, kEscapeCall, -1, -1},
#endif
      // Calls that change the file system (or read its metadata), so that --forbid
      // means any call: for rename and link, the path looked up first (the source).
#ifdef SYS_mkdir
      {SYS_mkdir, "mkdir", -1, 0, -1, -1},
#endif
#ifdef SYS_mkdirat
      {SYS_mkdirat, "mkdirat", 0, 1, -1, -1},
#endif
#ifdef SYS_rmdir
      {SYS_rmdir, "rmdir", -1, 0, -1, -1},
#endif
#ifdef SYS_unlink
      {SYS_unlink, "unlink", -1, 0, -1, -1},
#endif
#ifdef SYS_unlinkat
      {SYS_unlinkat, "unlinkat", 0, 1, -1, -1},
#endif
#ifdef SYS_rename
      {SYS_rename, "rename", -1, 0, -1, -1},
#endif
#ifdef SYS_renameat
      {SYS_renameat, "renameat", 0, 1, -1, -1},
#endif
#ifdef SYS_renameat2
      {SYS_renameat2, "renameat2", 0, 1, -1, -1},
#endif
#ifdef SYS_link
      {SYS_link, "link", -1, 0, -1, -1},
#endif
#ifdef SYS_linkat
      {SYS_linkat, "linkat", 0, 1, -1, 4},
#endif
#ifdef SYS_symlink
      {SYS_symlink, "symlink", -1, 1, -1, -1},
#endif
#ifdef SYS_symlinkat
      {SYS_symlinkat, "symlinkat", 1, 2, -1, -1},
#endif
#ifdef SYS_mknod
      {SYS_mknod, "mknod", -1, 0, -1, -1},
#endif
#ifdef SYS_mknodat
      {SYS_mknodat, "mknodat", 0, 1, -1, -1},
#endif
#ifdef SYS_truncate
      {SYS_truncate, "truncate", -1, 0, -1, -1},
#endif
#ifdef SYS_chmod
      {SYS_chmod, "chmod", -1, 0, -1, -1},
#endif
#ifdef SYS_fchmodat
      {SYS_fchmodat, "fchmodat", 0, 1, -1, -1},
#endif
#ifdef SYS_chown
      {SYS_chown, "chown", -1, 0, -1, -1},
#endif
#ifdef SYS_lchown
      {SYS_lchown, "lchown", -1, 0, -1, -1},
#endif
#ifdef SYS_fchownat
      {SYS_fchownat, "fchownat", 0, 1, -1, 4},
#endif
#ifdef SYS_utime
      {SYS_utime, "utime", -1, 0, -1, -1},
#endif
#ifdef SYS_utimes
      {SYS_utimes, "utimes", -1, 0, -1, -1},
#endif
#ifdef SYS_futimesat
      {SYS_futimesat, "futimesat", 0, 1, -1, -1},
#endif
#ifdef SYS_utimensat
      {SYS_utimensat, "utimensat", 0, 1, -1, 3},
#endif
#ifdef SYS_statfs
      {SYS_statfs, "statfs", -1, 0, -1, -1},
#endif
#ifdef SYS_getxattr
      {SYS_getxattr, "getxattr", -1, 0, -1, -1},
#endif
#ifdef SYS_lgetxattr
      {SYS_lgetxattr, "lgetxattr", -1, 0, -1, -1},
#endif
#ifdef SYS_setxattr
      {SYS_setxattr, "setxattr", -1, 0, -1, -1},
#endif
#ifdef SYS_lsetxattr
      {SYS_lsetxattr, "lsetxattr", -1, 0, -1, -1},
#endif
#ifdef SYS_listxattr
      {SYS_listxattr, "listxattr", -1, 0, -1, -1},
#endif
#ifdef SYS_llistxattr
      {SYS_llistxattr, "llistxattr", -1, 0, -1, -1},
#endif
#ifdef SYS_removexattr
      {SYS_removexattr, "removexattr", -1, 0, -1, -1},
#endif
#ifdef SYS_lremovexattr
      {SYS_lremovexattr, "lremovexattr", -1, 0, -1, -1},
#endif
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
