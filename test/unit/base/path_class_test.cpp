// Tests the lexical path classes shared by pack's leak checks and audit.
#include <doctest/doctest.h>

#include "base/path_class.hpp"

using shmstack::is_system_path;
using shmstack::is_under;
using shmstack::normalize_path;

TEST_CASE("normalize_path removes //, . and .. as text") {
  CHECK(normalize_path("/a//b/./c/") == "/a/b/c");
  CHECK(normalize_path("/a/b/../c") == "/a/c");
  CHECK(normalize_path("/../..") == "/");
  CHECK(normalize_path("/") == "/");
  CHECK(normalize_path("a/../../b") == "../b");
  CHECK(normalize_path("./") == ".");
  CHECK(normalize_path("") == ".");
}

TEST_CASE("is_under compares whole components") {
  CHECK(is_under("/global/x", "/global"));
  CHECK(is_under("/global", "/global"));
  CHECK(is_under("/global", "/global/"));
  CHECK_FALSE(is_under("/globalx", "/global"));
  CHECK_FALSE(is_under("/glob", "/global"));
  CHECK(is_under("/anything", "/"));
  CHECK_FALSE(is_under("relative", "/"));
  CHECK_FALSE(is_under("/a", ""));
}

TEST_CASE("system directories: the node's installation and the kernel's file systems, not /dev/shm") {
  for (const char* p : {"/", "/usr/lib/python3.13/os.py", "/lib/x86_64-linux-gnu/libc.so.6", "/lib64",
                        "/etc/ld.so.cache", "/proc/self/maps", "/sys/devices", "/dev/null", "/run/x", "/bin/sh",
                        "/var/cache/fontconfig/x.cache-8"})
    CHECK_MESSAGE(is_system_path(p), p);
  for (const char* p : {"/dev/shm", "/dev/shm/shmstack-0/x", "/tmp/x", "/home/u/.local", "/opt/site", "/global/a",
                        "/usrx", "/var/tmp", "/var/spool/x", "/var", "/var/cachex"})
    CHECK_MESSAGE(!is_system_path(p), p);
}
