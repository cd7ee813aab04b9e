#include "base/spawn.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <thread>

#include "base/cancel.hpp"
#include "base/error.hpp"

extern char** environ;

namespace shmstack {
namespace {

// The processes whose parent is this process, from /proc.
std::set<pid_t> our_children() {
  std::set<pid_t> children;
  pid_t me = ::getpid();
  DIR* proc = ::opendir("/proc");
  if (!proc) return children;
  while (dirent* d = ::readdir(proc)) {
    if (d->d_name[0] < '1' || d->d_name[0] > '9') continue;
    std::ifstream stat(std::string("/proc/") + d->d_name + "/stat");
    std::string text;
    if (!std::getline(stat, text)) continue;
    // "pid (comm) state ppid ...": comm may hold anything, so parse after its last ')'.
    std::size_t close = text.rfind(')');
    if (close == std::string::npos) continue;
    char state = 0;
    long ppid = 0;
    if (std::sscanf(text.c_str() + close + 1, " %c %ld", &state, &ppid) == 2 && ppid == me)
      children.insert(static_cast<pid_t>(std::atol(d->d_name)));
  }
  ::closedir(proc);
  return children;
}

// While alive: this process adopts the orphans of its descendants.
class Subreaper {
 public:
  Subreaper() {
    int was = 0;
    if (::prctl(PR_GET_CHILD_SUBREAPER, &was) == 0 && was == 0 && ::prctl(PR_SET_CHILD_SUBREAPER, 1) == 0) set_ = true;
  }
  ~Subreaper() {
    if (set_) ::prctl(PR_SET_CHILD_SUBREAPER, 0);
  }
  Subreaper(const Subreaper&) = delete;
  Subreaper& operator=(const Subreaper&) = delete;

 private:
  bool set_ = false;
};

// Kills the helper's process group and every child this process gained since
// `before` (the helper's orphans, adopted as subreaper), until none is left.
void end_descendants(pid_t group, const std::set<pid_t>& before) {
  ::kill(-group, SIGKILL);
  for (int round = 0; round < 1000; ++round) {
    std::vector<pid_t> left;
    for (pid_t child : our_children())
      if (!before.count(child)) left.push_back(child);
    if (left.empty()) return;
    for (pid_t child : left) {
      ::kill(child, SIGKILL);
      while (::waitpid(child, nullptr, 0) < 0 && errno == EINTR) {
      }
    }
  }
}

}  // namespace

int run_program(const std::vector<std::string>& argv, const std::vector<std::string>& env, const std::string& cwd,
                std::chrono::seconds timeout) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, STDERR_FILENO, STDOUT_FILENO);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int s : {SIGINT, SIGTERM, SIGPIPE, SIGHUP, SIGCHLD}) sigaddset(&defaults, s);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setsigdefault(&attributes, &defaults);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<std::string> args = argv, vars = env;
  std::vector<char*> a, e;
  for (std::string& s : args) a.push_back(s.data());
  a.push_back(nullptr);
  for (std::string& s : vars) e.push_back(s.data());
  e.push_back(nullptr);

  Subreaper subreaper;
  std::set<pid_t> before = our_children();
  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, a[0], &actions, &attributes, a.data(), e.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (rc != 0) throw_system_error("cannot run " + quote(argv[0]), rc);

  auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  for (;;) {
    pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (done < 0 && errno != EINTR) {
      int saved = errno;
      end_descendants(pid, before);
      throw_system_error("cannot wait for " + quote(argv[0]), saved);
    }
    if (cancel_requested()) {
      end_descendants(pid, before);  // also reaps the helper itself
      check_cancelled();
    }
    if (timeout.count() > 0 && std::chrono::steady_clock::now() >= deadline) {
      end_descendants(pid, before);
      throw Error("cannot run " + quote(argv[0]),
                  "it did not finish within " + std::to_string(timeout.count()) + " s, and was killed");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  end_descendants(pid, before);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

void run_conda_unpack(const std::string& prefix, std::chrono::seconds timeout, const std::vector<std::string>& env) {
  std::string script = prefix + "/bin/conda-unpack";
  std::string python = prefix + "/bin/python";
  std::vector<std::string> argv;
  if (::access(python.c_str(), X_OK) == 0) argv.push_back(python);
  argv.push_back(script);
  std::vector<std::string> helper_env;
  std::string path = prefix + "/bin";
  auto add = [&](const char* v) {
    if (std::strncmp(v, "PATH=", 5) == 0) {
      path += std::string(":") + (v + 5);
    } else {
      helper_env.emplace_back(v);
    }
  };
  if (env.empty()) {
    for (char** v = environ; v && *v; ++v) add(*v);
  } else {
    for (const std::string& v : env) add(v.c_str());
  }
  helper_env.push_back("PATH=" + path);
  int status = 0;
  try {
    status = run_program(argv, helper_env, prefix, timeout);
  } catch (const Error& e) {
    throw Error("conda-unpack failed in " + quote(prefix), e.reason());
  }
  if (status != 0)
    throw Error("conda-unpack failed in " + quote(prefix), "it exited with status " + std::to_string(status));
}

}  // namespace shmstack
