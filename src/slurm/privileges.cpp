#include "slurm/privileges.hpp"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "base/error.hpp"

namespace shmstack {
namespace {

std::string user_name(uid_t uid) {
  std::vector<char> buf(16384);
  passwd pw{};
  passwd* found = nullptr;
  int rc = ::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found);
  if (rc != 0) throw_system_error("cannot look up uid " + std::to_string(uid), rc);
  if (!found) throw Error("cannot look up uid " + std::to_string(uid), "no such user on this node");
  return pw.pw_name;
}

}  // namespace

void become_user(uid_t uid, gid_t gid) {
  std::string what = "cannot become uid " + std::to_string(uid) + " gid " + std::to_string(gid);
  if (::geteuid() != 0) {
    if (::getuid() == uid && ::geteuid() == uid) return;
    throw Error(what, "this process is uid " + std::to_string(::geteuid()) + " and not root");
  }
  std::string name = user_name(uid);
  if (::initgroups(name.c_str(), gid) != 0) throw_system_error(what + " (groups of " + quote(name) + ")", errno);
  if (::setresgid(gid, gid, gid) != 0) throw_system_error(what, errno);
  if (::setresuid(uid, uid, uid) != 0) throw_system_error(what, errno);
  uid_t r = 0, e = 0, s = 0;
  if (::getresuid(&r, &e, &s) != 0 || r != uid || e != uid || s != uid)
    throw Error(what, "the user IDs did not change");
  if (uid != 0 && ::setuid(0) == 0) throw Error(what, "root could be regained");
}

}  // namespace shmstack
