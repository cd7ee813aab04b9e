// Tests pack's static leak checks: .pth, pyvenv.cfg, RPATH/RUNPATH entries,
// symlinks, and find_leaks over a walked tree.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "archive/leak_scan.hpp"
#include "archive/walk.hpp"
#include "temp_dir.hpp"

using namespace shmstack;

TEST_CASE("pth_leaks: absolute lines outside the stack and system directories") {
  std::vector<std::string> stack = {"/src/env"};
  CHECK(pth_leaks("/global/site\n# /commented/out\nrelative/dir\nimport os; os.getcwd()\n"
                  "/src/env/lib/extra\n/usr/lib/python3/dist-packages\n  /home/u/pkgs  \r\n",
                  stack) == std::vector<std::string>{"/global/site", "/home/u/pkgs"});
  CHECK(pth_leaks("", stack).empty());
  CHECK(pth_leaks("/src/env2/x", stack) == std::vector<std::string>{"/src/env2/x"});
}

TEST_CASE("pyvenv_cfg_leaks: values that are absolute paths, not 'command'") {
  std::vector<std::string> stack = {"/src/venv"};
  std::string cfg =
      "home = /usr/bin\ninclude-system-site-packages = false\nversion = 3.13.5\n"
      "executable = /global/sw/python/3.11/bin/python3.11\n"
      "command = /global/sw/python/3.11/bin/python3 -m venv /src/venv\n";
  CHECK(pyvenv_cfg_leaks(cfg, stack) == std::vector<std::string>{"/global/sw/python/3.11/bin/python3.11"});
  CHECK(pyvenv_cfg_leaks("home = /src/venv/bin\n", stack).empty());
}

TEST_CASE("search_path_leak: absolute entries outside, or in the source directory") {
  std::vector<std::string> stack = {"/src/env"};
  CHECK(search_path_leak("$ORIGIN/../lib", stack).empty());
  CHECK(search_path_leak("/usr/lib/x86_64-linux-gnu", stack).empty());
  CHECK(search_path_leak("/some/abs/outside", stack) == "is outside the stack");
  CHECK(search_path_leak("/src/env/lib", stack).empty());  // relocated: made $ORIGIN-relative
  CHECK(search_path_leak("/src/env/lib", stack, "too long").find("names where the stack was packed from and cannot be relocated: too long") !=
        std::string::npos);
}

TEST_CASE("symlink_leak: targets outside the stack, absolute or climbing out") {
  std::vector<std::string> stack = {"/src/env"};
  CHECK(symlink_leak("bin/python", "/usr/bin/python3", "/src/env", stack).empty());
  CHECK(symlink_leak("bin/python", "python3.11", "/src/env", stack).empty());
  CHECK(symlink_leak("lib/a", "/src/env/lib/b", "/src/env", stack).empty());  // relocated
  CHECK(symlink_leak("lib/a", "/global/data", "/src/env", stack).find("leaves the stack") != std::string::npos);
  CHECK_FALSE(symlink_leak("lib/a", "../../../global/data", "/src/env", stack).empty());
  CHECK(symlink_leak("lib/a", "../../../usr/lib/x", "/src/env", stack).empty());
}

TEST_CASE("find_leaks over a tree finds each kind once") {
  test::TempDir dir;
  std::string root = dir.path();
  std::filesystem::create_directories(root + "/lib/site");
  std::ofstream(root + "/lib/site/shared.pth") << "/global/pkgs\n";
  std::ofstream(root + "/lib/site/fine.pth") << root << "/lib/other\n";
  std::ofstream(root + "/pyvenv.cfg") << "home = /usr/bin\n";
  REQUIRE(::symlink("/global/data", (root + "/data").c_str()) == 0);
  REQUIRE(::symlink("/usr/bin/python3", (root + "/python").c_str()) == 0);
  std::ofstream(root + "/script") << "#!/bin/sh\n";
  std::vector<WalkEntry> entries = walk_tree(root, {});
  std::vector<Leak> leaks = find_leaks(root, entries, {root});
  REQUIRE(leaks.size() == 2);
  CHECK(leaks[0].path == "data");
  CHECK(leaks[1].path == "lib/site/shared.pth");
  CHECK(leaks[1].reason == ".pth line '/global/pkgs' is outside the stack");
}
