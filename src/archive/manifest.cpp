#include "archive/manifest.hpp"

#include <fnmatch.h>
#include <unistd.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "archive/activation.hpp"
#include "base/error.hpp"
#include "base/path_check.hpp"
#include "base/version.hpp"

namespace shmstack {
namespace {

std::string hex64(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

void hash_field(XXH3_state_t* state, const void* data, std::size_t size) {
  XXH3_64bits_update(state, data, size);
}

template <class T>
void hash_value(XXH3_state_t* state, T value) {
  hash_field(state, &value, sizeof value);
}

void hash_string(XXH3_state_t* state, const std::string& s) {
  hash_value<std::uint64_t>(state, s.size());
  hash_field(state, s.data(), s.size());
}

void hash_entry(XXH3_state_t* state, const WalkEntry& e) {
  hash_string(state, e.path);
  hash_value<std::uint32_t>(state, static_cast<std::uint32_t>(e.type));
  hash_value<std::uint32_t>(state, e.mode);
  hash_value<std::uint64_t>(state, e.size);
  hash_value<std::int64_t>(state, e.mtime_sec);
  hash_value<std::int64_t>(state, e.mtime_nsec);
  hash_string(state, e.link);
}

void hash_strings(XXH3_state_t* state, const std::vector<std::string>& list) {
  hash_value<std::uint64_t>(state, list.size());
  for (const std::string& s : list) hash_string(state, s);
}

void hash_settings(XXH3_state_t* state, const Activation& a, const Relocation& r) {
  hash_string(state, a.kind);
  hash_strings(state, a.path);
  hash_strings(state, a.pythonpath);
  hash_strings(state, a.ld_library_path);
  hash_value<std::uint64_t>(state, a.set.size());
  for (const auto& [name, value] : a.set) {
    hash_string(state, name);
    hash_string(state, value);
  }
  hash_strings(state, r.prefixes);
  hash_strings(state, r.files);
  hash_strings(state, r.binaries);
}

// An XXH3 state that frees itself.
class Hasher {
 public:
  Hasher() : state_(XXH3_createState()) { XXH3_64bits_reset(state_); }
  ~Hasher() { XXH3_freeState(state_); }
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;
  XXH3_state_t* get() { return state_; }
  std::string hex() { return hex64(XXH3_64bits_digest(state_)); }

 private:
  XXH3_state_t* state_;
};

}  // namespace

std::string fingerprint(const std::vector<WalkEntry>& entries) {
  Hasher h;
  for (const WalkEntry& e : entries) hash_entry(h.get(), e);
  return h.hex();
}

std::string stack_id(const std::vector<WalkEntry>& entries, const std::vector<std::uint64_t>& content,
                     const Activation& activation, const Relocation& relocation) {
  Hasher h;
  hash_string(h.get(), "shmstack id 2");
  for (std::size_t i = 0; i < entries.size(); ++i) {
    hash_entry(h.get(), entries[i]);
    hash_value<std::uint64_t>(h.get(), i < content.size() ? content[i] : 0);
  }
  hash_settings(h.get(), activation, relocation);
  return h.hex();
}

std::string upgraded_id(const std::string& format1_id, const Activation& activation, const Relocation& relocation) {
  Hasher h;
  hash_string(h.get(), "shmstack id 1+settings");
  hash_string(h.get(), format1_id);
  hash_settings(h.get(), activation, relocation);
  return h.hex();
}

bool same_identity(const Manifest& installed, const Manifest& archive) {
  if (installed.id != archive.id || installed.name != archive.name || installed.id_basis != archive.id_basis ||
      installed.synthesized != archive.synthesized)
    return false;
  if (archive.synthesized) return true;  // sizes and recipe were learned while installing
  return installed.entries == archive.entries && installed.bytes == archive.bytes &&
         installed.activation == archive.activation && installed.relocation == archive.relocation;
}

namespace {

// detect_activation at the top of `entries` only.
Activation detect_at_top(const std::vector<WalkEntry>& entries) {
  bool python_bin = false, site_packages = false, top_level_python = false, bin = false, venv = false;
  for (const WalkEntry& e : entries) {
    const std::string& p = e.path;
    if (p == "bin" && e.type == WalkEntry::Type::directory) bin = true;
    if (p == "pyvenv.cfg" && e.type == WalkEntry::Type::file) venv = true;
    if (fnmatch("bin/python3*", p.c_str(), FNM_PATHNAME) == 0) python_bin = true;
    if (fnmatch("lib/python3.*/site-packages", p.c_str(), FNM_PATHNAME) == 0) site_packages = true;
    if (p.find('/') == std::string::npos &&
        (fnmatch("*.py", p.c_str(), 0) == 0 || fnmatch("*.dist-info", p.c_str(), 0) == 0 ||
         fnmatch("*.egg-info", p.c_str(), 0) == 0))
      top_level_python = true;
    if (fnmatch("*/__init__.py", p.c_str(), FNM_PATHNAME) == 0) top_level_python = true;
  }
  Activation a =
      activation_for_kind(python_bin && site_packages ? "prefix" : top_level_python ? "target" : "plain", bin);
  // A venv: set VIRTUAL_ENV as its activate script does (tools look for it).
  if (a.kind == "prefix" && venv) a.set.emplace_back("VIRTUAL_ENV", "{prefix}");
  return a;
}

}  // namespace

std::string sole_top_directory(const std::vector<WalkEntry>& entries) {
  std::string top;
  for (const WalkEntry& e : entries) {
    if (e.path.find('/') != std::string::npos) continue;
    if (!top.empty() || e.type != WalkEntry::Type::directory) return "";
    top = e.path;
  }
  return top;
}

Activation detect_activation(const std::vector<WalkEntry>& entries) {
  Activation a = detect_at_top(entries);
  std::string top = sole_top_directory(entries);
  if (a.kind != "plain" || !a.path.empty() || top.empty()) return a;
  // 'tar czf env.tar.gz env': the environment is one level down.
  std::vector<WalkEntry> inner;
  for (const WalkEntry& e : entries) {
    if (e.path.size() <= top.size() + 1 || e.path.compare(0, top.size() + 1, top + "/") != 0) continue;
    inner.push_back(e);
    inner.back().path.erase(0, top.size() + 1);
  }
  Activation nested = detect_at_top(inner);
  if (nested.kind == "plain" && nested.path.empty()) return a;
  for (auto* dirs : {&nested.path, &nested.pythonpath, &nested.ld_library_path})
    for (std::string& dir : *dirs) dir = dir == "." ? top : top + "/" + dir;
  const std::string placeholder = "{prefix}";
  for (auto& setting : nested.set)
    for (std::size_t at = setting.second.find(placeholder); at != std::string::npos;
         at = setting.second.find(placeholder, at + placeholder.size() + 1 + top.size()))
      setting.second.insert(at + placeholder.size(), "/" + top);
  return nested;
}

std::string check_activation_dir(const std::string& dir) {
  if (dir == ".") return "";
  EntryPath p = normalize_entry_path(dir);
  if (!p.problem.empty()) return "activation directory " + quote(dir) + ": " + p.problem;
  if (p.path != dir) return "activation directory " + quote(dir) + " is not in normal form";
  return "";
}

std::string check_activation(const Activation& a) {
  if (a.kind != "prefix" && a.kind != "target" && a.kind != "plain")
    return "unknown activation kind " + quote(a.kind);
  for (const auto* dirs : {&a.path, &a.pythonpath, &a.ld_library_path})
    for (const std::string& dir : *dirs)
      if (std::string problem = check_activation_dir(dir); !problem.empty()) return problem;
  for (const auto& [name, value] : a.set) {
    if (!is_env_name(name)) return "activation variable " + quote(name) + " is not a valid name";
    if (name == "PATH" || name == "PYTHONPATH" || name == "LD_LIBRARY_PATH")
      return "activation variable " + name + " is set through its directory list, not 'set'";
  }
  return "";
}

Activation activation_for_kind(const std::string& kind, bool has_bin) {
  Activation a;
  a.kind = kind;
  if (kind == "prefix") {
    a.path = {"bin"};
  } else if (kind == "target") {
    a.pythonpath = {"."};
    if (has_bin) a.path = {"bin"};
  } else if (has_bin) {
    a.path = {"bin"};
  }
  return a;
}

Manifest manifest_for(const std::vector<WalkEntry>& entries) {
  Manifest m;
  m.id = fingerprint(entries);
  m.entries = entries.size();
  for (const WalkEntry& e : entries) {
    if (e.type != WalkEntry::Type::file) continue;
    m.bytes += e.size;
    m.disk_bytes += (e.size + kPageSize - 1) / kPageSize * kPageSize;
  }
  m.activation = detect_activation(entries);
  return m;
}

bool is_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    auto c = static_cast<unsigned char>(text[i]);
    std::size_t n = c < 0x80 ? 0 : (c >> 5) == 0x6 ? 1 : (c >> 4) == 0xe ? 2 : (c >> 3) == 0x1e ? 3 : 4;
    if (n == 4 || i + n >= text.size()) return false;  // a stray or bad lead byte, or cut short
    std::uint32_t cp = n == 0 ? c : c & (0x3f >> n);
    for (std::size_t k = 1; k <= n; ++k) {
      auto cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    static constexpr std::uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += n + 1;
  }
  return true;
}

std::string manifest_text_problem(const Manifest& m) {
  auto bad = [](const char* field, const std::string& value) {
    return is_utf8(value) ? std::string() : std::string("'") + field + "' " + quote(value) + " is not valid UTF-8";
  };
  for (auto [field, value] : {std::pair<const char*, const std::string*>{"name", &m.name}, {"source", &m.source},
                              {"created", &m.created}, {"host", &m.host}, {"tool", &m.tool}})
    if (std::string problem = bad(field, *value); !problem.empty()) return problem;
  for (auto [field, list] : {std::pair<const char*, const std::vector<std::string>*>{"relocate.prefixes",
                                                                                     &m.relocation.prefixes},
                             {"relocate.files", &m.relocation.files}, {"relocate.binaries", &m.relocation.binaries},
                             {"activation.path", &m.activation.path}, {"activation.pythonpath", &m.activation.pythonpath},
                             {"activation.ld_library_path", &m.activation.ld_library_path}})
    for (const std::string& value : *list)
      if (std::string problem = bad(field, value); !problem.empty()) return problem;
  for (const auto& [name, value] : m.activation.set)
    if (std::string problem = bad("activation.set", name + "=" + value); !problem.empty()) return problem;
  return "";
}

std::string to_json(const Manifest& m, bool pretty) {
  nlohmann::ordered_json j;
  j["format"] = m.format;
  j["name"] = m.name;
  j["id"] = m.id;
  j["id_basis"] = m.id_basis;
  j["entries"] = m.entries;
  j["bytes"] = m.bytes;
  j["disk_bytes"] = m.disk_bytes;
  j["source"] = m.source;
  j["created"] = m.created;
  j["host"] = m.host;
  j["tool"] = m.tool;
  nlohmann::ordered_json set = nlohmann::ordered_json::object();
  for (const auto& [name, value] : m.activation.set) set[name] = value;
  j["activation"] = {{"kind", m.activation.kind},
                     {"path", m.activation.path},
                     {"pythonpath", m.activation.pythonpath},
                     {"ld_library_path", m.activation.ld_library_path},
                     {"set", set}};
  if (!m.relocation.prefixes.empty()) {
    j["relocate"] = {{"prefixes", m.relocation.prefixes}, {"files", m.relocation.files}};
    if (!m.relocation.binaries.empty()) j["relocate"]["binaries"] = m.relocation.binaries;
  }
  if (m.synthesized) j["synthesized"] = true;
  return pretty ? j.dump(2) + "\n" : j.dump();
}

Manifest parse_manifest(std::string_view text, const std::string& where) {
  Manifest m;
  try {
    auto j = nlohmann::ordered_json::parse(text);
    // Each count is read at its full width and bounded before it is used
    // (a format of 2^32 + 1 must not read as 1, entries + 16 must not wrap).
    auto count = [&](const char* key, std::uint64_t max) {
      const auto& value = j.at(key);
      if (!value.is_number_unsigned())
        throw Error("invalid manifest in " + where, std::string("'") + key + "' is not a non-negative integer");
      std::uint64_t n = value.get<std::uint64_t>();
      if (n > max)
        throw Error("invalid manifest in " + where,
                    std::string("'") + key + "' is " + std::to_string(n) + ", more than " + std::to_string(max));
      return n;
    };
    std::uint64_t format = count("format", UINT64_MAX);
    if (format != 1 && format != kManifestFormat)
      throw Error("invalid manifest in " + where,
                  "format " + std::to_string(format) + " is not supported by this shmstack (reads formats 1 to " +
                      std::to_string(kManifestFormat) + ")");
    m.format = static_cast<int>(format);
    m.name = j.at("name").get<std::string>();
    m.id = j.at("id").get<std::string>();
    m.entries = count("entries", kMaxStackEntries);
    m.bytes = count("bytes", kMaxStackBytes);
    m.disk_bytes = j.contains("disk_bytes") ? count("disk_bytes", kMaxStackBytes)
                                            : std::min(most_disk_bytes(m), kMaxStackBytes);
    m.source = j.value("source", "");
    m.created = j.value("created", "");
    m.host = j.value("host", "");
    m.tool = j.value("tool", "");
    m.synthesized = j.value("synthesized", false);
    m.id_basis = j.value("id_basis", m.synthesized ? "archive" : "content");
    if (m.id_basis != "content" && m.id_basis != "metadata" && m.id_basis != "archive")
      throw Error("invalid manifest in " + where, "unknown id_basis " + quote(m.id_basis));
    if (j.contains("relocate")) {
      m.relocation.prefixes = j["relocate"].value("prefixes", std::vector<std::string>{});
      m.relocation.files = j["relocate"].value("files", std::vector<std::string>{});
      m.relocation.binaries = j["relocate"].value("binaries", std::vector<std::string>{});
    }
    if (j.contains("activation")) {
      const auto& a = j["activation"];
      m.activation.kind = a.value("kind", "plain");
      m.activation.path = a.value("path", std::vector<std::string>{});
      m.activation.pythonpath = a.value("pythonpath", std::vector<std::string>{});
      m.activation.ld_library_path = a.value("ld_library_path", std::vector<std::string>{});
      if (a.contains("set"))
        for (const auto& [name, value] : a["set"].items()) m.activation.set.emplace_back(name, value.get<std::string>());
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error("invalid manifest in " + where, e.what());
  }
  if (std::string problem = check_stack_name(m.name); !problem.empty())
    throw Error("invalid manifest in " + where, "name " + quote(m.name) + ": " + problem);
  if (m.id.size() != 16 || m.id.find_first_not_of("0123456789abcdef") != std::string::npos)
    throw Error("invalid manifest in " + where, "id " + quote(m.id) + " is not 16 hex digits");
  if (std::string problem = check_activation(m.activation); !problem.empty())
    throw Error("invalid manifest in " + where, problem);
  if (m.format == 1 && !m.synthesized) {
    // Its id covers the tree's metadata only: mixed with the settings, so that
    // two format 1 archives with other settings never share an install. It is
    // kept as format 2 from here on (installed records are not upgraded twice).
    m.id = upgraded_id(m.id, m.activation, m.relocation);
    m.id_basis = "metadata";
  }
  m.format = kManifestFormat;
  for (const std::string& prefix : m.relocation.prefixes)
    if (prefix.size() < 2 || prefix[0] != '/')
      throw Error("invalid manifest in " + where, "relocation prefix " + quote(prefix) + " is not an absolute path");
  for (const auto* list : {&m.relocation.files, &m.relocation.binaries})
    for (const std::string& file : *list)
      if (normalize_entry_path(file).path != file || file.empty())
        throw Error("invalid manifest in " + where, "relocation file " + quote(file) + " is not a path in the stack");
  return m;
}

std::uint64_t most_disk_bytes(const Manifest& m) {
  return (m.bytes + kPageSize - 1) / kPageSize * kPageSize + m.entries * kPageSize;
}

std::string manifest_size_problem(const Manifest& m) {
  if (m.disk_bytes < m.bytes)
    return "'disk_bytes' (" + std::to_string(m.disk_bytes) + ") is less than 'bytes' (" + std::to_string(m.bytes) + ")";
  if (m.disk_bytes % kPageSize != 0)
    return "'disk_bytes' (" + std::to_string(m.disk_bytes) + ") is not a whole number of " +
           std::to_string(kPageSize) + "-byte pages";
  if (m.disk_bytes > most_disk_bytes(m))
    return "'disk_bytes' (" + std::to_string(m.disk_bytes) + ") is more than " + std::to_string(m.entries) +
           " entries holding " + std::to_string(m.bytes) + " bytes can take";
  return "";
}

Manifest synthesize_manifest(const std::string& archive_path, std::uint64_t size, std::int64_t mtime_ns) {
  Manifest m;
  m.name = name_from_archive_path(archive_path);
  m.source = resolved_path(archive_path);
  XXH3_state_t* state = XXH3_createState();
  XXH3_64bits_reset(state);
  hash_string(state, m.source);
  hash_value(state, size);
  hash_value(state, mtime_ns);
  m.id = hex64(XXH3_64bits_digest(state));
  XXH3_freeState(state);
  m.synthesized = true;
  m.id_basis = "archive";
  m.tool = std::string("shmstack ") + kVersion;
  return m;
}

std::string utc_now_iso8601() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

}  // namespace shmstack
