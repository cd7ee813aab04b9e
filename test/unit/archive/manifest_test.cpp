// Tests manifest: JSON round trip and validation, fingerprint, sizes, activation, synthesized manifests.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "archive/manifest.hpp"
#include "temp_dir.hpp"

using shmstack::Manifest;
using shmstack::WalkEntry;
using Type = WalkEntry::Type;

namespace {

WalkEntry entry(std::string path, Type type, std::uint64_t size = 0, std::string link = {}) {
  WalkEntry e;
  e.path = std::move(path);
  e.type = type;
  e.mode = type == Type::directory ? 0755 : 0644;
  e.size = size;
  e.mtime_sec = 1700000000;
  e.mtime_nsec = 123456789;
  e.link = std::move(link);
  return e;
}

std::vector<WalkEntry> sample_tree() {
  return {
      entry("bin", Type::directory),
      entry("bin/python", Type::symlink, 0, "python3.11"),
      entry("bin/python3.11", Type::file, 6000000),
      entry("lib", Type::directory),
      entry("lib/python3.11", Type::directory),
      entry("lib/python3.11/os.py", Type::file, 40000),
      entry("lib/python3.11/os_again.py", Type::hardlink, 0, "lib/python3.11/os.py"),
      entry("lib/python3.11/site-packages", Type::directory),
  };
}

// True when `text` has the shape of `pattern`: '9' stands for a decimal
// digit, 'f' for a lowercase hex digit, anything else for itself.
bool has_shape(const std::string& text, const std::string& pattern) {
  if (text.size() != pattern.size()) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    bool digit = c >= '0' && c <= '9';
    if (pattern[i] == '9' ? !digit : pattern[i] == 'f' ? !(digit || (c >= 'a' && c <= 'f')) : c != pattern[i])
      return false;
  }
  return true;
}

const std::string kHex16 = "ffffffffffffffff";

Manifest full_manifest() {
  Manifest m;
  m.name = "torch-2.1.0+cu121";
  m.id = "0123456789abcdef";
  m.entries = 123456;
  m.bytes = (std::uint64_t{1} << 40) + 3;
  m.disk_bytes = (std::uint64_t{1} << 40) + 4096;
  m.source = "/data/stacks/my \"torch\" envé";
  m.created = "2024-01-02T03:04:05Z";
  m.host = "node17";
  m.tool = "shmstack 0.1.0";
  m.activation.kind = "prefix";
  m.activation.path = {"bin", "sbin"};
  m.activation.pythonpath = {".", "lib/extra"};
  m.synthesized = true;
  return m;
}

void check_same(const Manifest& a, const Manifest& b) {
  CHECK(a.format == b.format);
  CHECK(a.name == b.name);
  CHECK(a.id == b.id);
  CHECK(a.entries == b.entries);
  CHECK(a.bytes == b.bytes);
  CHECK(a.disk_bytes == b.disk_bytes);
  CHECK(a.source == b.source);
  CHECK(a.created == b.created);
  CHECK(a.host == b.host);
  CHECK(a.tool == b.tool);
  CHECK(a.activation.kind == b.activation.kind);
  CHECK(a.activation.path == b.activation.path);
  CHECK(a.activation.pythonpath == b.activation.pythonpath);
  CHECK(a.synthesized == b.synthesized);
  CHECK(a.id_basis == b.id_basis);
}

// parse_manifest must throw an Error naming `where`; returns its reason.
std::string rejection(const std::string& text) {
  const std::string where = "stack.tar.lz4";
  try {
    shmstack::parse_manifest(text, where);
  } catch (const shmstack::Error& error) {
    CHECK(error.operation().find(where) != std::string::npos);
    return error.reason();
  }
  FAIL("parse_manifest accepted: ", text);
  return "";
}

std::string valid_json_with(const std::string& key, const std::string& value) {
  std::string text = shmstack::to_json(full_manifest(), false);
  std::size_t at = text.find("\"" + key + "\":");
  REQUIRE(at != std::string::npos);
  std::size_t start = at + key.size() + 3;
  std::size_t end = text.find_first_of(",}", start);
  if (text[start] == '"') end = text.find('"', start + 1) + 1;
  if (text[start] == '{') end = text.find('}', start) + 1;
  return text.substr(0, start) + value + text.substr(end);
}

}  // namespace

TEST_CASE("to_json and parse_manifest round trip every field") {
  Manifest original = full_manifest();
  for (bool pretty : {true, false}) {
    CAPTURE(pretty);
    std::string text = shmstack::to_json(original, pretty);
    check_same(shmstack::parse_manifest(text, "test"), original);
  }
  original.synthesized = false;
  original.activation = {};
  check_same(shmstack::parse_manifest(shmstack::to_json(original), "test"), original);
}

TEST_CASE("to_json compact output is one line") {
  std::string text = shmstack::to_json(full_manifest(), false);
  CHECK(text.find('\n') == std::string::npos);
  CHECK(shmstack::to_json(full_manifest(), true).back() == '\n');
}

TEST_CASE("parse_manifest fills defaults for optional fields") {
  Manifest m = shmstack::parse_manifest(
      R"({"format": 1, "name": "numpy", "id": "00000000000000ff", "entries": 3, "bytes": 5000})", "x");
  CHECK(m.name == "numpy");
  CHECK(m.entries == 3);
  CHECK(m.bytes == 5000);
  CHECK(m.disk_bytes == 8192 + 3 * 4096);  // the most 3 entries holding 5000 bytes can take
  CHECK(shmstack::manifest_size_problem(m).empty());
  CHECK(m.activation.kind == "plain");
  CHECK(m.activation.path.empty());
  CHECK_FALSE(m.synthesized);
}

TEST_CASE("a format 1 manifest installs under its id mixed with its settings") {
  const std::string v1 = R"({"format": 1, "name": "numpy", "id": "00000000000000ff", "entries": 3, "bytes": 5000)";
  Manifest plain = shmstack::parse_manifest(v1 + "}", "x");
  Manifest with_set = shmstack::parse_manifest(
      v1 + R"(, "activation": {"kind": "plain", "set": {"OMP_NUM_THREADS": "1"}}})", "x");
  CHECK(plain.id_basis == "metadata");
  CHECK(plain.format == shmstack::kManifestFormat);
  CHECK(plain.id != "00000000000000ff");
  CHECK(plain.id != with_set.id);
  CHECK(plain.id == shmstack::upgraded_id("00000000000000ff", plain.activation, plain.relocation));
  // Kept as format 2: read back, it is not upgraded again.
  CHECK(shmstack::parse_manifest(shmstack::to_json(plain), "x").id == plain.id);
  // A synthesized one keeps its id (it never covered settings).
  Manifest synthesized = shmstack::parse_manifest(v1 + R"(, "synthesized": true})", "x");
  CHECK(synthesized.id == "00000000000000ff");
  CHECK(synthesized.id_basis == "archive");
}

TEST_CASE("stack_id covers contents and every setting") {
  const std::vector<WalkEntry> tree = sample_tree();
  const std::vector<std::uint64_t> content(tree.size(), 7);
  const shmstack::Activation activation;
  const shmstack::Relocation relocation;
  const std::string id = shmstack::stack_id(tree, content, activation, relocation);
  CHECK(has_shape(id, kHex16));
  CHECK(shmstack::stack_id(tree, content, activation, relocation) == id);
  CHECK(id != shmstack::fingerprint(tree));
  for (std::size_t i = 0; i < tree.size(); ++i) {
    std::vector<std::uint64_t> other = content;
    other[i] = 8;
    CAPTURE(i);
    CHECK(shmstack::stack_id(tree, other, activation, relocation) != id);
  }
  const std::vector<std::pair<const char*, std::function<void(shmstack::Activation&, shmstack::Relocation&)>>>
      changes = {
          {"kind", [](auto& a, auto&) { a.kind = "prefix"; }},
          {"path", [](auto& a, auto&) { a.path.push_back("bin"); }},
          {"pythonpath", [](auto& a, auto&) { a.pythonpath.push_back("."); }},
          {"ld_library_path", [](auto& a, auto&) { a.ld_library_path.push_back("lib"); }},
          {"set", [](auto& a, auto&) { a.set.emplace_back("OMP_NUM_THREADS", "1"); }},
          {"prefixes", [](auto&, auto& r) { r.prefixes.push_back("/old/prefix"); }},
          {"files", [](auto&, auto& r) { r.files.push_back("bin/pip"); }},
          {"binaries", [](auto&, auto& r) { r.binaries.push_back("bin/python3.11"); }},
      };
  for (const auto& [field, change] : changes) {
    shmstack::Activation a = activation;
    shmstack::Relocation r = relocation;
    change(a, r);
    CAPTURE(field);
    CHECK(shmstack::stack_id(tree, content, a, r) != id);
  }
}

TEST_CASE("same_identity compares id, name, sizes and settings") {
  Manifest a = full_manifest();
  a.synthesized = false;
  Manifest b = a;
  CHECK(shmstack::same_identity(a, b));
  b.activation.set.emplace_back("X", "1");
  CHECK_FALSE(shmstack::same_identity(a, b));
  b = a;
  b.bytes += 1;
  CHECK_FALSE(shmstack::same_identity(a, b));
  b = a;
  b.id_basis = "metadata";
  CHECK_FALSE(shmstack::same_identity(a, b));
  // A synthesized manifest learns sizes and recipe while installing.
  a.synthesized = b.synthesized = true;
  a.id_basis = b.id_basis = "archive";
  b.entries = 0;
  b.activation = {};
  CHECK(shmstack::same_identity(a, b));
}

TEST_CASE("parse_manifest rejects bad JSON") {
  rejection("");
  rejection("not json");
  rejection("{\"format\": 1, ");
  rejection("[1, 2]");
  rejection("{}");
  rejection(R"({"format": 1, "name": "x", "id": "00000000000000ff", "entries": 1})");
  rejection(valid_json_with("entries", "\"many\""));
  rejection(valid_json_with("activation", "\"prefix\""));
}

TEST_CASE("parse_manifest rejects negative or fractional numbers") {
  rejection(valid_json_with("entries", "-1"));
  rejection(valid_json_with("bytes", "-5"));
  rejection(valid_json_with("disk_bytes", "-4096"));
  rejection(valid_json_with("format", "1.7"));
}

TEST_CASE("parse_manifest rejects an unknown format number") {
  CHECK(rejection(valid_json_with("format", "3")).find("format 3") != std::string::npos);
  rejection(valid_json_with("format", "0"));
  rejection(valid_json_with("format", "\"1\""));
}

TEST_CASE("parse_manifest reads counts at full width and bounds them") {
  CHECK(rejection(valid_json_with("format", "4294967297")).find("format 4294967297") != std::string::npos);
  CHECK(rejection(valid_json_with("entries", "18446744073709551615")) ==
        "'entries' is 18446744073709551615, more than 281474976710656");
  CHECK(rejection(valid_json_with("bytes", "1152921504606846977")).rfind("'bytes' is ", 0) == 0);
  CHECK(rejection(valid_json_with("disk_bytes", "18446744073709551615")).rfind("'disk_bytes' is ", 0) == 0);
  rejection(valid_json_with("entries", "18446744073709551616"));  // past uint64: a float to nlohmann
}

TEST_CASE("manifest_size_problem holds disk_bytes to bytes and entries") {
  Manifest m = full_manifest();  // 123456 entries, 2^40 + 3 bytes, 2^40 + 4096 on disk
  CHECK(shmstack::manifest_size_problem(m).empty());
  m.disk_bytes = 0;
  CHECK(shmstack::manifest_size_problem(m) == "'disk_bytes' (0) is less than 'bytes' (1099511627779)");
  m.disk_bytes = (std::uint64_t{1} << 40) + 4097;
  CHECK(shmstack::manifest_size_problem(m).find("not a whole number of 4096-byte pages") != std::string::npos);
  m.disk_bytes = shmstack::most_disk_bytes(m);
  CHECK(shmstack::manifest_size_problem(m).empty());
  m.disk_bytes += 4096;
  CHECK(shmstack::manifest_size_problem(m).find("is more than 123456 entries holding") != std::string::npos);
  Manifest empty;
  CHECK(shmstack::manifest_size_problem(empty).empty());
  // found by manifest_fuzzer: no disk_bytes, counts at their bounds
  Manifest most = shmstack::parse_manifest(
      R"({"format": 1, "name": "x", "id": "00000000000000ff", "entries": 281474976710656, "bytes": 1152921504606846976})",
      "x");
  CHECK(most.disk_bytes == shmstack::kMaxStackBytes);
  CHECK(shmstack::manifest_size_problem(most).empty());
}

TEST_CASE("parse_manifest rejects an invalid stack name") {
  for (std::string name : {"\"\"", "\"../../etc\"", "\".hidden\"", "\"a/b\"", "\"bad\\nname\""}) {
    CAPTURE(name);
    CHECK(rejection(valid_json_with("name", name)).rfind("name ", 0) == 0);
  }
  CHECK(rejection(valid_json_with("name", "\"" + std::string(101, 'n') + "\"")).rfind("name ", 0) == 0);
}

TEST_CASE("parse_manifest rejects an id that is not 16 hex digits") {
  for (std::string id : {"\"\"", "\"0123456789abcde\"", "\"0123456789abcdef0\"", "\"0123456789abcdeg\"",
                         "\"../../../../tmp/\""}) {
    CAPTURE(id);
    CHECK(rejection(valid_json_with("id", id)).rfind("id ", 0) == 0);
  }
  rejection(valid_json_with("id", "12"));
}

TEST_CASE("fingerprint is 16 hex digits and stable") {
  std::vector<WalkEntry> tree = sample_tree();
  std::string id = shmstack::fingerprint(tree);
  CHECK(has_shape(id, kHex16));
  std::vector<WalkEntry> copy = tree;
  CHECK(shmstack::fingerprint(copy) == id);
  CHECK(shmstack::fingerprint(tree) == id);
}

TEST_CASE("fingerprint changes when any field of any entry changes") {
  const std::vector<WalkEntry> tree = sample_tree();
  const std::string id = shmstack::fingerprint(tree);
  const std::vector<std::pair<const char*, std::function<void(WalkEntry&)>>> changes = {
      {"path", [](WalkEntry& e) { e.path += "x"; }},
      {"type", [](WalkEntry& e) { e.type = e.type == Type::file ? Type::hardlink : Type::file; }},
      {"mode", [](WalkEntry& e) { e.mode ^= 0100; }},
      {"size", [](WalkEntry& e) { e.size += 1; }},
      {"mtime sec", [](WalkEntry& e) { e.mtime_sec += 1; }},
      {"mtime nsec", [](WalkEntry& e) { e.mtime_nsec += 1; }},
      {"link", [](WalkEntry& e) { e.link += "y"; }},
  };
  for (std::size_t index = 0; index < tree.size(); ++index) {
    for (const auto& change : changes) {
      std::vector<WalkEntry> changed = tree;
      change.second(changed[index]);
      const char* field = change.first;
      CAPTURE(index);
      CAPTURE(field);
      CHECK(shmstack::fingerprint(changed) != id);
    }
  }
  std::vector<WalkEntry> fewer(tree.begin(), tree.end() - 1);
  CHECK(shmstack::fingerprint(fewer) != id);
}

TEST_CASE("fingerprint keeps field boundaries apart") {
  WalkEntry a = entry("ab", Type::symlink, 0, "c");
  WalkEntry b = entry("a", Type::symlink, 0, "bc");
  CHECK(shmstack::fingerprint({a}) != shmstack::fingerprint({b}));
}

TEST_CASE("manifest_for counts entries, bytes and page-rounded disk bytes") {
  std::vector<WalkEntry> tree = {
      entry("d", Type::directory, 4096),
      entry("d/empty", Type::file, 0),
      entry("d/one", Type::file, 1),
      entry("d/page", Type::file, 4096),
      entry("d/page_and_one", Type::file, 4097),
      entry("d/big", Type::file, (std::uint64_t{5} << 32) + 10),
      entry("d/hard", Type::hardlink, 4097, "d/page_and_one"),
      entry("d/sym", Type::symlink, 9, "page_and_one"),
  };
  Manifest m = shmstack::manifest_for(tree);
  CHECK(m.entries == 8);
  CHECK(m.bytes == 0 + 1 + 4096 + 4097 + (std::uint64_t{5} << 32) + 10);
  CHECK(m.disk_bytes == 0 + 4096 + 4096 + 8192 + (std::uint64_t{5} << 32) + 4096);
  CHECK(m.id == shmstack::fingerprint(tree));
  CHECK(m.format == shmstack::kManifestFormat);
  CHECK_FALSE(m.synthesized);
}

TEST_CASE("id12 and dir_name") {
  Manifest m = full_manifest();
  CHECK(m.id12() == "0123456789ab");
  CHECK(m.dir_name() == "torch-2.1.0+cu121-0123456789ab");
}

TEST_CASE("detect_activation: a prefix with bin/python3.x and site-packages") {
  shmstack::Activation a = shmstack::detect_activation(sample_tree());
  CHECK(a.kind == "prefix");
  CHECK(a.path == std::vector<std::string>{"bin"});
  CHECK(a.pythonpath.empty());
  CHECK(shmstack::manifest_for(sample_tree()).activation.kind == "prefix");
}

TEST_CASE("detect_activation: a target directory of top-level packages") {
  SUBCASE("a package with __init__.py") {
    shmstack::Activation a = shmstack::detect_activation({
        entry("numpy", Type::directory),
        entry("numpy/__init__.py", Type::file, 100),
        entry("numpy/core", Type::directory),
    });
    CHECK(a.kind == "target");
    CHECK(a.pythonpath == std::vector<std::string>{"."});
    CHECK(a.path.empty());
  }
  SUBCASE("a module and a dist-info, with scripts in bin") {
    shmstack::Activation a = shmstack::detect_activation({
        entry("bin", Type::directory),
        entry("bin/tool", Type::file, 10),
        entry("six-1.16.0.dist-info", Type::directory),
        entry("six.py", Type::file, 100),
    });
    CHECK(a.kind == "target");
    CHECK(a.pythonpath == std::vector<std::string>{"."});
    CHECK(a.path == std::vector<std::string>{"bin"});
  }
}

TEST_CASE("detect_activation: plain otherwise") {
  SUBCASE("no python at all") {
    shmstack::Activation a = shmstack::detect_activation({
        entry("data", Type::directory),
        entry("data/readme.txt", Type::file, 10),
        entry("lib", Type::directory),
        entry("lib/libfoo.so", Type::file, 10),
    });
    CHECK(a.kind == "plain");
    CHECK(a.path.empty());
    CHECK(a.pythonpath.empty());
  }
  SUBCASE("bin/python3.11 without site-packages, nested packages only") {
    shmstack::Activation a = shmstack::detect_activation({
        entry("bin", Type::directory),
        entry("bin/python3.11", Type::file, 10),
        entry("src", Type::directory),
        entry("src/pkg", Type::directory),
        entry("src/pkg/__init__.py", Type::file, 10),
    });
    CHECK(a.kind == "plain");
    CHECK(a.path == std::vector<std::string>{"bin"});
    CHECK(a.pythonpath.empty());
  }
  SUBCASE("empty") {
    CHECK(shmstack::detect_activation({}).kind == "plain");
  }
}

TEST_CASE("detect_activation: an environment in the one top-level directory") {
  SUBCASE("a venv in env/ ('tar czf env.tar.gz env')") {
    shmstack::Activation a = shmstack::detect_activation({
        entry("env", Type::directory),
        entry("env/bin", Type::directory),
        entry("env/bin/python3", Type::symlink, 0, "/usr/bin/python3"),
        entry("env/lib", Type::directory),
        entry("env/lib/python3.11", Type::directory),
        entry("env/lib/python3.11/site-packages", Type::directory),
        entry("env/pyvenv.cfg", Type::file, 30),
    });
    CHECK(a.kind == "prefix");
    CHECK(a.path == std::vector<std::string>{"env/bin"});
    CHECK(a.set == std::vector<std::pair<std::string, std::string>>{{"VIRTUAL_ENV", "{prefix}/env"}});
    CHECK(shmstack::check_activation(a).empty());
  }
  SUBCASE("a --target tree in site/") {
    shmstack::Activation a = shmstack::detect_activation({
        entry("site", Type::directory),
        entry("site/pkg", Type::directory),
        entry("site/pkg/__init__.py", Type::file, 10),
    });
    CHECK(a.kind == "target");
    CHECK(a.pythonpath == std::vector<std::string>{"site"});
  }
  SUBCASE("not when something else is at the top, or nothing is found below") {
    CHECK(shmstack::detect_activation({
                                          entry("README", Type::file, 10),
                                          entry("env", Type::directory),
                                          entry("env/bin", Type::directory),
                                          entry("env/bin/python3", Type::file, 10),
                                          entry("env/lib/python3.11/site-packages", Type::directory),
                                      })
              .kind == "plain");
    CHECK(shmstack::detect_activation({entry("data", Type::directory), entry("data/f", Type::file, 1)}).kind ==
          "plain");
    CHECK(shmstack::sole_top_directory({entry("data", Type::directory), entry("data/f", Type::file, 1)}) == "data");
    CHECK(shmstack::sole_top_directory({entry("f", Type::file, 1)}).empty());
  }
}

TEST_CASE("synthesize_manifest is deterministic and follows the archive's identity") {
  shmstack::test::TempDir dir;
  const std::string archive = dir / "my env.tar.gz";
  int fd = ::open(archive.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  REQUIRE(fd >= 0);
  ::close(fd);

  Manifest m = shmstack::synthesize_manifest(archive, 1000, 1700000000123456789);
  CHECK(m.name == "my_env");
  CHECK(m.synthesized);
  CHECK(m.source == std::filesystem::canonical(archive).string());
  CHECK(has_shape(m.id, kHex16));
  CHECK(m.entries == 0);
  CHECK(m.bytes == 0);

  CHECK(shmstack::synthesize_manifest(archive, 1000, 1700000000123456789).id == m.id);
  CHECK(shmstack::synthesize_manifest(dir.path() + "/./my env.tar.gz", 1000, 1700000000123456789).id == m.id);
  CHECK(shmstack::synthesize_manifest(archive, 1001, 1700000000123456789).id != m.id);
  CHECK(shmstack::synthesize_manifest(archive, 1000, 1700000000123456790).id != m.id);
  CHECK(shmstack::synthesize_manifest(dir / "other.tar.gz", 1000, 1700000000123456789).id != m.id);

  check_same(shmstack::parse_manifest(shmstack::to_json(m), "synthesized"), m);
}

TEST_CASE("utc_now_iso8601 is an ISO 8601 UTC time") {
  CHECK(has_shape(shmstack::utc_now_iso8601(), "9999-99-99T99:99:99Z"));
  CHECK_FALSE(has_shape("2024-01-02 03:04:05Z", "9999-99-99T99:99:99Z"));
  CHECK_FALSE(has_shape("0123456789abcdeF", kHex16));
}

TEST_CASE("is_utf8 and manifest_text_problem name the field that is not UTF-8") {
  CHECK(shmstack::is_utf8("plain é € 𝄞"));
  CHECK_FALSE(shmstack::is_utf8("d\xff"));
  CHECK_FALSE(shmstack::is_utf8("\xc3"));          // cut short
  CHECK_FALSE(shmstack::is_utf8("\xc0\xaf"));      // overlong
  CHECK_FALSE(shmstack::is_utf8("\xed\xa0\x80"));  // a surrogate
  Manifest m = full_manifest();
  CHECK(shmstack::manifest_text_problem(m).empty());
  m.relocation.files = {"ok", "bad\xfe"};
  CHECK(shmstack::manifest_text_problem(m).rfind("'relocate.files' ", 0) == 0);
  m.relocation.files.clear();
  m.source = "/x\xff";
  CHECK(shmstack::manifest_text_problem(m).rfind("'source' ", 0) == 0);
}
