// Tests pack's static leak checks: .pth, pyvenv.cfg, RPATH/RUNPATH entries,
// symlinks, shebangs, find_leaks over a walked tree, and how findings are grouped.
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

TEST_CASE("shebang_paths: the interpreter, an absolute argument, pip's exec line") {
  using paths = std::vector<std::string>;
  CHECK(shebang_paths("#!/opt/py/bin/python3.11\nimport sys\n") == paths{"/opt/py/bin/python3.11"});
  CHECK(shebang_paths("#! /opt/py/bin/python3 -u\r\n") == paths{"/opt/py/bin/python3"});
  CHECK(shebang_paths("#!/usr/bin/env python3\n") == paths{"/usr/bin/env"});
  CHECK(shebang_paths("#!/bin/sh /spack/bin/sbang\n#!/spack/opt/py/bin/python -s\n") ==
        paths{"/bin/sh", "/spack/bin/sbang", "/spack/opt/py/bin/python"});
  CHECK(shebang_paths("#!/bin/sh /spack/bin/sbang\nimport x\n") == paths{"/bin/sh", "/spack/bin/sbang"});
  CHECK(shebang_paths("#!/bin/sh /opt/x\n#!/opt/py/bin/python\n") == paths{"/bin/sh", "/opt/x"});  // not sbang
  CHECK(shebang_paths("#!/bin/sh\n'''exec' \"/very/long/env/bin/python\" \"$0\" \"$@\"\n' '''\n") ==
        paths{"/bin/sh", "/very/long/env/bin/python"});
  CHECK(shebang_paths("#!/bin/sh\n'''exec' /long/env/bin/python \"$0\" \"$@\"\n") ==
        paths{"/bin/sh", "/long/env/bin/python"});
  CHECK(shebang_paths("#!python\n").empty());
  CHECK(shebang_paths("#!").empty());
  CHECK(shebang_paths("\x7f" "ELF").empty());
  CHECK(shebang_paths("import os  # #!/opt/py/bin/python\n").empty());
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
  std::filesystem::create_directories(root + "/bin");
  auto script = [&](const std::string& name, const std::string& text, bool executable = true) {
    std::ofstream(root + "/bin/" + name) << text;
    if (executable) std::filesystem::permissions(root + "/bin/" + name, std::filesystem::perms::owner_exec,
                                                 std::filesystem::perm_options::add);
  };
  script("own", "#!" + root + "/bin/python\n");  // relocated with the stack
  script("system", "#!/usr/bin/python3\n");
  script("tool", "#!/global/py/bin/python3.11\nimport tool\n");
  script("not-run", "#!/global/other/bin/python\n", false);  // not executable: no one runs it as a script
  std::vector<WalkEntry> entries = walk_tree(root, {});
  std::vector<Leak> leaks = find_leaks(root, entries, {root});
  REQUIRE(leaks.size() == 3);
  CHECK(leaks[0].path == "bin/tool");
  CHECK(leaks[0].reason == "shebang names '/global/py/bin/python3.11', outside the stack");
  CHECK(leaks[0].kind == "shebangs");
  CHECK(leaks[0].names == "/global/py/bin/python3.11");
  CHECK(leaks[1].path == "data");
  CHECK(leaks[2].path == "lib/site/shared.pth");
  CHECK(leaks[2].reason == ".pth line '/global/pkgs' is outside the stack");
}

TEST_CASE("group_leaks: shebangs naming the tree's own bin/python show where it was built") {
  std::vector<WalkEntry> tree;
  for (const char* p : {"bin", "bin/python", "bin/pip", "bin/tool"}) {
    tree.emplace_back();
    tree.back().path = p;
  }
  std::vector<Leak> leaks = {
      {"bin/pip", "shebang", "shebangs", "/old/env/bin/python"},
      {"bin/tool", "shebang", "shebangs", "/old/env/bin/python"},
      {"bin/other", "shebang", "shebangs", "/global/py/bin/python3"},  // no bin/python3 here: no evidence
  };
  std::vector<LeakGroup> groups = group_leaks(leaks, tree);
  REQUIRE(groups.size() == 2);
  CHECK(describe(groups[0]) ==
        "2 files name '/old/env' (shebangs), where the tree seems to have been built or installed: pack with "
        "--old-prefix '/old/env' to relocate them");
  CHECK(groups[1].remedy == LeakGroup::Remedy::outside);
  CHECK(groups[1].prefix == "/global/py/bin/python3");
}

TEST_CASE("group_leaks: one group per place, --old-prefix where the tree's layout shows") {
  std::vector<WalkEntry> tree;
  for (const char* p : {"bin", "bin/a", "bin/b", "lib", "lib/libz.so.1", "data"}) {
    tree.emplace_back();
    tree.back().path = p;
  }
  std::vector<Leak> leaks = {
      {"bin/a", "RUNPATH entry", "RUNPATH entries", "/old/prefix/lib"},
      {"bin/b", "RUNPATH entry", "RUNPATH entries", "/old/prefix/lib"},
      {"bin/b", "RPATH entry", "RPATH entries", "/old/prefix/lib"},
      {"lib/x.so", "symlink", "symlinks", "/old/prefix/lib/libz.so.1"},
      {"lib/site/a.pth", ".pth line", ".pth lines", "/old/prefix/src/pkg"},  // under the inferred prefix
      {"lib/site/b.pth", ".pth line", ".pth lines", "/global/pkgs"},
      {"data", "symlink", "symlinks", "/global/data"},  // names itself: no evidence of /global
  };
  std::vector<LeakGroup> groups = group_leaks(leaks, tree);
  REQUIRE(groups.size() == 3);
  CHECK(groups[0].prefix == "/old/prefix");
  CHECK(groups[0].remedy == LeakGroup::Remedy::old_prefix);
  CHECK(groups[0].files == 4);
  CHECK(groups[0].leaks == 5);
  CHECK(groups[0].kinds == std::vector<std::string>{"RUNPATH entries", "RPATH entries", "symlinks", ".pth lines"});
  CHECK(describe(groups[0]) ==
        "4 files name '/old/prefix' (RUNPATH entries, RPATH entries, symlinks, .pth lines), where the tree seems to "
        "have been built or installed: pack with --old-prefix '/old/prefix' to relocate them");
  CHECK(groups[1].prefix == "/global/data");
  CHECK(groups[1].remedy == LeakGroup::Remedy::outside);
  CHECK(groups[2].prefix == "/global/pkgs");
  CHECK(describe(groups[2]) ==
        "1 file names '/global/pkgs' (.pth lines), outside the stack and the system "
        "directories: every node will look there");
}

TEST_CASE("group_leaks: a venv's home and what points into it are one line") {
  Leak home{"pyvenv.cfg", "value", "pyvenv.cfg values", "/opt/py"};
  home.venv = true;
  std::vector<Leak> leaks = {home, {"bin/python3", "symlink", "symlinks", "/opt/py/bin/python3.11"}};
  std::vector<WalkEntry> tree(1);
  tree[0].path = "bin";
  std::vector<LeakGroup> groups = group_leaks(leaks, tree);
  REQUIRE(groups.size() == 1);
  CHECK(groups[0].remedy == LeakGroup::Remedy::venv);
  CHECK(groups[0].files == 2);
  CHECK(describe(groups[0]).find("this venv's interpreter and standard library stay in '/opt/py'") == 0);
  CHECK(pyvenv_home("home = /opt/py/bin\nversion = 3.11\n") == "/opt/py/bin");
  CHECK(pyvenv_home("version = 3.11\n").empty());
}
