#include "audit/tracer.hpp"

#include <fcntl.h>
#include <sched.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>

#include "audit/syscalls.hpp"
#include "base/cancel.hpp"
#include "base/error.hpp"
#include "base/log.hpp"
#include "base/path_class.hpp"

namespace shmstack::audit {
namespace {

constexpr std::size_t kMaxPath = 4096;

// What the child reports through its close-on-exec pipe when it cannot get
// as far as execve.
struct ChildFailure {
  int stage;  // 1: PTRACE_TRACEME, 2: seccomp filter, 3: execve
  int error;
};

bool seccomp_trace_available() {
  if (std::getenv("SHMSTACK_AUDIT_NO_SECCOMP")) return false;
  if (seccomp_program().empty()) return false;
  std::uint32_t action = SECCOMP_RET_TRACE;
  return ::syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0;
}

[[noreturn]] void child_fail(int fd, int stage) {
  ChildFailure failure{stage, errno};
  ssize_t ignored = ::write(fd, &failure, sizeof failure);
  (void)ignored;
  ::_exit(127);
}

// Between fork and execve: async-signal-safe calls only.
[[noreturn]] void run_child(const char* program, char* const* argv, char* const* envp, const sock_fprog* filter,
                            int report_fd) {
  if (::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) != 0) child_fail(report_fd, 1);
  ::raise(SIGSTOP);  // the tracer sets its options before anything is traced
  if (filter) {
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) child_fail(report_fd, 2);
    if (::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, filter) != 0) child_fail(report_fd, 2);
  }
  ::execve(program, argv, envp);
  child_fail(report_fd, 3);
}

// Reads a NUL-terminated string of at most kMaxPath bytes at `address`.
std::string read_string(pid_t pid, std::uint64_t address) {
  std::string out;
  static const std::uint64_t page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  char buffer[kMaxPath];
  bool use_peek = false;
  while (out.size() < kMaxPath) {
    std::size_t want = static_cast<std::size_t>(page - address % page);  // never across a page we may not read
    want = std::min(want, kMaxPath - out.size());
    ssize_t got = -1;
    if (!use_peek) {
      iovec local{buffer, want};
      iovec remote{reinterpret_cast<void*>(address), want};
      got = ::process_vm_readv(pid, &local, 1, &remote, 1, 0);
      if (got < 0 && (errno == ENOSYS || errno == EPERM)) use_peek = true;
    }
    if (use_peek) {
      errno = 0;
      long word = ::ptrace(PTRACE_PEEKDATA, pid, reinterpret_cast<void*>(address & ~std::uint64_t{7}), nullptr);
      if (errno != 0) break;
      std::size_t skip = address & 7;
      got = static_cast<ssize_t>(sizeof word - skip);
      std::memcpy(buffer, reinterpret_cast<const char*>(&word) + skip, static_cast<std::size_t>(got));
    }
    if (got <= 0) break;
    const char* end = static_cast<const char*>(std::memchr(buffer, '\0', static_cast<std::size_t>(got)));
    if (end) {
      out.append(buffer, static_cast<std::size_t>(end - buffer));
      return out;
    }
    out.append(buffer, static_cast<std::size_t>(got));
    address += static_cast<std::uint64_t>(got);
  }
  return out;
}

std::string proc_link(pid_t pid, const std::string& what) {
  std::string link = "/proc/" + std::to_string(pid) + "/" + what;
  char target[kMaxPath];
  ssize_t n = ::readlink(link.c_str(), target, sizeof target);
  if (n <= 0) return {};
  return std::string(target, static_cast<std::size_t>(n));
}

// The absolute path the call looks up, or "" when it looks nothing up.
std::string call_path(pid_t pid, const TracedCall& call, const std::uint64_t* args) {
  if (call.path_arg < 0) {
    std::string dir = proc_link(pid, "fd/" + std::to_string(static_cast<int>(args[call.fd_arg])));
    return !dir.empty() && dir[0] == '/' ? normalize_path(dir) : std::string();
  }
  std::string path = read_string(pid, args[call.path_arg]);
  if (path.empty()) return {};  // AT_EMPTY_PATH (fstat) or ENOENT: no lookup
  if (path[0] == '/') return normalize_path(path);
  int dirfd = call.dirfd_arg < 0 ? AT_FDCWD : static_cast<int>(args[call.dirfd_arg]);
  std::string base = dirfd == AT_FDCWD ? proc_link(pid, "cwd") : proc_link(pid, "fd/" + std::to_string(dirfd));
  if (base.empty() || base[0] != '/') return normalize_path("?/" + path);  // classified as outside
  return normalize_path(base + "/" + path);
}

// Is `signal` pending for `pid` (its own or its thread group's queue)?
bool signal_pending(pid_t pid, int signal) {
  FILE* status = std::fopen(("/proc/" + std::to_string(pid) + "/status").c_str(), "re");
  if (!status) return false;
  char line[256];
  bool pending = false;
  while (std::fgets(line, sizeof line, status)) {
    if (std::strncmp(line, "SigPnd:", 7) != 0 && std::strncmp(line, "ShdPnd:", 7) != 0) continue;
    unsigned long long mask = std::strtoull(line + 7, nullptr, 16);
    if (signal >= 1 && signal <= 64 && (mask >> (signal - 1) & 1)) pending = true;
  }
  std::fclose(status);
  return pending;
}

class Tracer {
 public:
  Tracer(const std::function<void(const FileCall&)>& on_call, bool seccomp) : on_call_(on_call), seccomp_(seccomp) {}

  TraceOutcome run(pid_t root) {
    TraceOutcome outcome;
    outcome.seccomp = seccomp_;
    int status = 0;
    if (::waitpid(root, &status, 0) != root || !WIFSTOPPED(status)) {
      if (WIFEXITED(status) || WIFSIGNALED(status)) return finished(outcome, status);
      throw Error("cannot trace the program", "it did not stop as expected");
    }
    long options = PTRACE_O_EXITKILL | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE |
                   PTRACE_O_TRACEEXEC | (seccomp_ ? PTRACE_O_TRACESECCOMP : PTRACE_O_TRACESYSGOOD);
    if (::ptrace(PTRACE_SETOPTIONS, root, nullptr, reinterpret_cast<void*>(options)) != 0) {
      int error = errno;
      ::kill(root, SIGKILL);
      ::waitpid(root, &status, 0);
      throw Error("cannot trace the program", std::string("ptrace(PTRACE_SETOPTIONS): ") + std::strerror(error));
    }
    started_.insert(root);
    resume(root, 0);
    bool forwarded = false;
    for (;;) {
      // audit itself was signalled: pass it on, unless the program got it too
      // (a terminal's ^C and Slurm's scancel signal every process of the job).
      // First handle every event already queued, then decide.
      if (!forwarded && cancel_signal() != 0) interrupted_ = true;
      pid_t pid = ::waitpid(-1, &status, __WALL | (interrupted_ ? WNOHANG : 0));
      if (pid == 0) {
        interrupted_ = false;
        if (int signal = cancel_signal(); signal != 0 && !forwarded) {
          if (!root_got_recently(signal) && !signal_pending(root, signal)) ::kill(root, signal);
          forwarded = true;
        }
        continue;
      }
      if (pid < 0) {
        if (errno == EINTR) continue;
        break;  // ECHILD: every traced process is gone
      }
      if (WIFEXITED(status) || WIFSIGNALED(status)) {
        if (pid == root) {
          finished(outcome, status);
          forwarded = true;  // nothing left to forward to
        }
        continue;
      }
      if (WIFSTOPPED(status)) stopped(pid, status, root);
    }
    outcome.processes = started_.size();
    return outcome;
  }

 private:
  static TraceOutcome& finished(TraceOutcome& outcome, int status) {
    outcome.signaled = WIFSIGNALED(status);
    outcome.status = outcome.signaled ? WTERMSIG(status) : WEXITSTATUS(status);
    return outcome;
  }

  void resume(pid_t pid, int signal) {
    ::ptrace(seccomp_ ? PTRACE_CONT : PTRACE_SYSCALL, pid, nullptr, reinterpret_cast<void*>(static_cast<long>(signal)));
  }

  void stopped(pid_t pid, int status, pid_t root) {
    int signal = WSTOPSIG(status);
    int event = status >> 16;
    if (signal == SIGTRAP && event == PTRACE_EVENT_SECCOMP) {
      report(pid);
    } else if (signal == (SIGTRAP | 0x80)) {
      report(pid);  // PTRACE_SYSCALL mode: entry or exit, report() keeps entries
    } else if (signal == SIGTRAP && event != 0) {
      // fork/vfork/clone/exec events: the new process reports its own first stop
    } else if (!started_.count(pid)) {
      started_.insert(pid);  // a new child's initial SIGSTOP: swallow it
    } else {
      if (pid == root && signal > 0 && signal < 65) delivered_[signal] = std::chrono::steady_clock::now();
      siginfo_t info;
      bool group_stop = ::ptrace(PTRACE_GETSIGINFO, pid, nullptr, &info) != 0 && errno == EINVAL;
      resume(pid, group_stop ? 0 : signal);
      return;
    }
    resume(pid, 0);
  }

  void report(pid_t pid) {
    __ptrace_syscall_info info{};
    if (::ptrace(PTRACE_GET_SYSCALL_INFO, pid, reinterpret_cast<void*>(sizeof info), &info) <= 0) return;
    const std::uint64_t* args = nullptr;
    std::uint64_t nr = 0;
    if (info.op == PTRACE_SYSCALL_INFO_SECCOMP) {
      nr = info.seccomp.nr;
      args = info.seccomp.args;
    } else if (info.op == PTRACE_SYSCALL_INFO_ENTRY) {
      nr = info.entry.nr;
      args = info.entry.args;
    } else {
      return;
    }
    if (info.arch != native_arch()) return;
    const TracedCall* call = find_traced_call(nr);
    if (!call) return;
    if (call->path_arg == kEscapeCall) return warn_escape(pid, *call, args);
    std::string path = call_path(pid, *call, args);
    if (path.empty()) return;
    on_call_(FileCall{pid, call->name, std::move(path)});
  }

  // Warns (once each) when the program takes calls out of audit's sight.
  void warn_escape(pid_t pid, const TracedCall& call, const std::uint64_t* args) {
    std::string name = call.name;
    std::uint64_t flags = name == "clone" ? args[0] : 0;
    if (name == "clone3") {
      iovec local{&flags, sizeof flags};
      iovec remote{reinterpret_cast<void*>(args[0]), sizeof flags};  // clone_args.flags comes first
      if (::process_vm_readv(pid, &local, 1, &remote, 1, 0) != static_cast<ssize_t>(sizeof flags)) flags = 0;
    }
    const char* what = nullptr;
    if (name == "io_uring_setup")
      what = "set up an io_uring: files it opens or stats through it are not seen";
    else if (flags & CLONE_UNTRACED)
      what = "cloned a process with CLONE_UNTRACED: that process and its children are not seen";
    if (!what || !warned_.insert(what).second) return;
    log::warn("audit: process %d %s", static_cast<int>(pid), what);
  }

  std::set<std::string> warned_;
  const std::function<void(const FileCall&)>& on_call_;
  bool seccomp_;
  bool interrupted_ = false;  // audit got SIGINT/SIGTERM: handle the queued events first
  std::chrono::steady_clock::time_point delivered_[65] = {};  // when the program last got each signal

  // The program was delivered `signal` itself just now (by the same kill).
  bool root_got_recently(int signal) const {
    return signal > 0 && signal < 65 && std::chrono::steady_clock::now() - delivered_[signal] < std::chrono::seconds(2);
  }
  std::set<pid_t> started_;
};

}  // namespace

std::vector<std::string> traced_syscalls() {
  std::vector<std::string> names;
  for (const TracedCall& c : traced_calls()) names.emplace_back(c.name);
  return names;
}

TraceOutcome trace_program(const std::string& program, const std::vector<std::string>& argv,
                           const std::vector<std::string>& envp,
                           const std::function<void(const FileCall&)>& on_call) {
  bool seccomp = seccomp_trace_available();
  std::vector<sock_filter> filter_code = seccomp ? seccomp_program() : std::vector<sock_filter>{};
  sock_fprog filter{static_cast<unsigned short>(filter_code.size()), filter_code.data()};
  std::vector<std::string> arg_copy = argv, env_copy = envp;
  std::vector<char*> c_argv, c_envp;
  for (std::string& a : arg_copy) c_argv.push_back(a.data());
  c_argv.push_back(nullptr);
  for (std::string& e : env_copy) c_envp.push_back(e.data());
  c_envp.push_back(nullptr);

  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) throw_errno("cannot run", program);
  pid_t child = ::fork();
  if (child < 0) {
    ::close(report[0]);
    ::close(report[1]);
    throw_errno("cannot run", program);
  }
  if (child == 0) run_child(program.c_str(), c_argv.data(), c_envp.data(), seccomp ? &filter : nullptr, report[1]);
  ::close(report[1]);
  TraceOutcome outcome;
  try {
    outcome = Tracer(on_call, seccomp).run(child);
  } catch (...) {
    ::close(report[0]);
    throw;
  }
  ChildFailure failure{};
  ssize_t got = ::read(report[0], &failure, sizeof failure);
  ::close(report[0]);
  if (got == static_cast<ssize_t>(sizeof failure)) {
    std::string reason = std::strerror(failure.error);
    if (failure.stage == 1)
      throw Error("cannot trace " + quote(program), "ptrace is not permitted here (" + reason + ")");
    if (failure.stage == 2)
      throw Error("cannot trace " + quote(program), "cannot install the seccomp filter (" + reason + ")");
    throw Error("cannot run " + quote(program), reason);
  }
  return outcome;
}

}  // namespace shmstack::audit
