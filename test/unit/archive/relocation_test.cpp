// Tests relocation of prefix stacks: which files are candidates, text and link rewriting.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "base/error.hpp"
#include "archive/manifest.hpp"
#include "archive/relocation.hpp"
#include "archive/walk.hpp"

using shmstack::relocate_link;
using shmstack::relocate_text;

TEST_CASE("relocate_text replaces the prefix where it is a whole path prefix") {
  std::vector<std::string> old = {"/opt/env"};
  CHECK(relocate_text("#!/opt/env/bin/python3\n", old, "/dev/shm/s") == "#!/dev/shm/s/bin/python3\n");
  CHECK(relocate_text("home = /opt/env\n", old, "/new") == "home = /new\n");
  CHECK(relocate_text("VIRTUAL_ENV=\"/opt/env\"", old, "/new") == "VIRTUAL_ENV=\"/new\"");
  CHECK(relocate_text("/opt/env2/bin and /opt/environment", old, "/new") == "/opt/env2/bin and /opt/environment");
  CHECK(relocate_text("a:/opt/env:/opt/env/lib", old, "/n") == "a:/n:/n/lib");
  CHECK(relocate_text("no prefix here", old, "/n") == "no prefix here");
  CHECK(relocate_text("", old, "/n").empty());
}

TEST_CASE("relocate_text prefers the longest of several prefixes") {
  std::vector<std::string> old = {"/home/u", "/home/u/env"};
  CHECK(relocate_text("/home/u/env/bin", old, "/n") == "/n/bin");
}

TEST_CASE("relocate_link moves absolute targets inside the prefix, and nothing else") {
  std::vector<std::string> old = {"/opt/env"};
  CHECK(relocate_link("/opt/env/lib/libx.so", old, "/n") == "/n/lib/libx.so");
  CHECK(relocate_link("/opt/env", old, "/n") == "/n");
  CHECK(relocate_link("/opt/env2/x", old, "/n") == "/opt/env2/x");
  CHECK(relocate_link("/usr/bin/python3", old, "/n") == "/usr/bin/python3");
  CHECK(relocate_link("../lib/x", old, "/n") == "../lib/x");
}

TEST_CASE("candidates: bin/ scripts and files named like activation or config files, not too big") {
  auto file = [](std::string path, std::uint64_t size = 100) {
    shmstack::WalkEntry e;
    e.path = std::move(path);
    e.size = size;
    return e;
  };
  for (const char* yes : {"bin/pip3", "bin/activate", "pyvenv.cfg", "lib/pkgconfig/python3.pc",
                          "lib/cmake/x/XConfig.cmake", "lib/python3.11/site-packages/distutils-precedence.pth",
                          "etc/profile.d/conda.sh", "lib/python3.11/_sysconfigdata__linux_x86_64-linux-gnu.py"}) {
    CAPTURE(yes);
    CHECK(shmstack::is_relocation_candidate(file(yes)));
  }
  for (const char* no : {"lib/python3.11/os.py", "bin/sub/x", "share/doc/README", "lib/libpython3.11.so"}) {
    CAPTURE(no);
    CHECK_FALSE(shmstack::is_relocation_candidate(file(no)));
  }
  CHECK_FALSE(shmstack::is_relocation_candidate(file("bin/huge", shmstack::kMaxRelocatedFile + 1)));
  CHECK_FALSE(shmstack::is_relocation_candidate(file("bin/empty", 0)));
  shmstack::WalkEntry script = file("libexec/helper");
  CHECK_FALSE(shmstack::is_script_candidate(script));  // not executable
  script.mode = 0755;
  CHECK(shmstack::is_script_candidate(script));
  shmstack::WalkEntry named = file("bin/pip3");
  named.mode = 0755;
  CHECK_FALSE(shmstack::is_script_candidate(named));  // a candidate by name already
  shmstack::WalkEntry link = file("bin/python3");
  link.type = shmstack::WalkEntry::Type::symlink;
  CHECK_FALSE(shmstack::is_relocation_candidate(link));
}

TEST_CASE("a manifest's relocation list is checked: absolute prefixes, files inside the stack") {
  shmstack::Manifest m;
  m.name = "x";
  m.id = "0123456789abcdef";
  m.relocation = {{"/opt/env"}, {"bin/pip3", "pyvenv.cfg"}, {"lib/libx.so"}};
  auto parsed = shmstack::parse_manifest(shmstack::to_json(m), "t").relocation;
  CHECK(parsed.files == m.relocation.files);
  CHECK(parsed.binaries == m.relocation.binaries);
  for (auto bad : std::vector<shmstack::Relocation>{{{"relative"}, {"bin/x"}, {}},
                                                    {{"/opt/env"}, {"../etc/passwd"}, {}},
                                                    {{"/opt/env"}, {"/etc/passwd"}, {}},
                                                    {{"/opt/env"}, {}, {"../lib/libx.so"}}}) {
    m.relocation = bad;
    CHECK_THROWS_AS(shmstack::parse_manifest(shmstack::to_json(m), "t"), shmstack::Error);
  }
}

TEST_CASE("origin_relative: the way from the ELF file's directory to the entry, in the stack") {
  using shmstack::origin_relative;
  std::vector<std::string> old = {"/old", "/old/nested/deeper"};
  CHECK(origin_relative("/old/lib", "lib/python3.11/lib-dynload/x.so", old) == "$ORIGIN/../..");
  CHECK(origin_relative("/old/lib", "bin/python3.11", old) == "$ORIGIN/../lib");
  CHECK(origin_relative("/old/lib", "lib/libpython3.11.so", old) == "$ORIGIN");
  CHECK(origin_relative("/old", "top.so", old) == "$ORIGIN");
  CHECK(origin_relative("/old/lib/", "lib/a/b.so", old) == "$ORIGIN/..");
  CHECK(origin_relative("/old/lib/../lib64", "bin/x", old) == "$ORIGIN/../lib64");
  CHECK(origin_relative("/old/nested/deeper/lib", "lib/x.so", old) == "$ORIGIN");  // the longest prefix wins
  CHECK(origin_relative("/older/lib", "lib/x.so", old).empty());
  CHECK(origin_relative("/usr/lib", "lib/x.so", old).empty());
  CHECK(origin_relative("$ORIGIN/../lib", "lib/x.so", old).empty());
  CHECK(origin_relative("/old/../etc", "lib/x.so", old).empty());
}

TEST_CASE("is_elf_candidate: executables and *.so*, never small or other files") {
  auto entry = [](std::string path, mode_t mode, std::uint64_t size = 4096) {
    shmstack::WalkEntry e;
    e.path = std::move(path);
    e.type = shmstack::WalkEntry::Type::file;
    e.mode = mode;
    e.size = size;
    return e;
  };
  CHECK(shmstack::is_elf_candidate(entry("bin/python3.11", 0755)));
  CHECK(shmstack::is_elf_candidate(entry("lib/libz.so.1.2.13", 0644)));
  CHECK(shmstack::is_elf_candidate(entry("lib/x.cpython-311-x86_64-linux-gnu.so", 0644)));
  CHECK_FALSE(shmstack::is_elf_candidate(entry("lib/x.py", 0644)));
  CHECK_FALSE(shmstack::is_elf_candidate(entry("lib/x.so", 0644, 10)));
}
