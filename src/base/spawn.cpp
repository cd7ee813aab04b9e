#include "base/spawn.hpp"

#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/error.hpp"

extern char** environ;

namespace shmstack {

int run_program(const std::vector<std::string>& argv, const std::vector<std::string>& env, const std::string& cwd) {
  // posix_spawn has no portable "chdir" action in glibc 2.36's public API
  // before posix_spawn_file_actions_addchdir_np; use it (glibc >= 2.29).
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  std::vector<std::string> args = argv, vars = env;
  std::vector<char*> a, e;
  for (std::string& s : args) a.push_back(s.data());
  a.push_back(nullptr);
  for (std::string& s : vars) e.push_back(s.data());
  e.push_back(nullptr);
  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, a[0], &actions, nullptr, a.data(), e.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw_system_error("cannot run " + quote(argv[0]), rc);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw_errno("cannot wait for", argv[0]);
  }
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

void run_conda_unpack(const std::string& prefix) {
  std::string script = prefix + "/bin/conda-unpack";
  std::string python = prefix + "/bin/python";
  std::vector<std::string> argv;
  if (::access(python.c_str(), X_OK) == 0) argv.push_back(python);
  argv.push_back(script);
  std::vector<std::string> env;
  std::string path = prefix + "/bin";
  for (char** v = environ; v && *v; ++v) {
    if (std::strncmp(*v, "PATH=", 5) == 0) {
      path += std::string(":") + (*v + 5);
    } else {
      env.emplace_back(*v);
    }
  }
  env.push_back("PATH=" + path);
  int status = run_program(argv, env, prefix);
  if (status != 0)
    throw Error("conda-unpack failed in " + quote(prefix), "it exited with status " + std::to_string(status));
}

}  // namespace shmstack
