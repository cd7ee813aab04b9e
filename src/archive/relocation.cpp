#include "archive/relocation.hpp"

#include <fcntl.h>
#include <fnmatch.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "base/error.hpp"
#include "base/parallel_for.hpp"
#include "base/path_check.hpp"
#include "base/path_class.hpp"
#include "base/regular_file.hpp"

namespace shmstack {
namespace {

bool path_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == '.' || c == '+';
}

std::vector<std::string> longest_first(std::vector<std::string> prefixes) {
  std::sort(prefixes.begin(), prefixes.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
  return prefixes;
}

// The file's text; false when it is binary (a NUL byte) or, with
// `script_only`, does not start with "#!" (then only two bytes are read).
bool read_text(const std::string& path, std::uint64_t size, std::string& out, bool script_only = false) {
  int fd = open_regular_or_throw(path, O_NOFOLLOW);
  out.resize(static_cast<std::size_t>(size));
  std::size_t got = 0;
  auto fill = [&](std::size_t upto) {
    while (got < upto) {
      ssize_t n = ::read(fd, out.data() + got, upto - got);
      if (n <= 0) return;
      got += static_cast<std::size_t>(n);
    }
  };
  fill(script_only ? std::min<std::size_t>(2, out.size()) : out.size());
  bool wanted = !script_only || (got == 2 && out[0] == '#' && out[1] == '!');
  if (wanted) fill(out.size());
  ::close(fd);
  out.resize(got);
  return wanted && out.find('\0') == std::string::npos;
}

// The paths of the entries marked 1, in the walk's order.
std::vector<std::string> paths_marked(const std::vector<WalkEntry>& entries, const std::vector<char>& marks) {
  std::vector<std::string> paths;
  for (std::size_t i = 0; i < entries.size(); ++i)
    if (marks[i]) paths.push_back(entries[i].path);
  return paths;
}

}  // namespace

bool is_script_candidate(const WalkEntry& e) {
  return e.type == WalkEntry::Type::file && (e.mode & 0111) && e.size > 2 && e.size <= kMaxRelocatedFile &&
         !is_relocation_candidate(e);
}

bool is_relocation_candidate(const WalkEntry& e) {
  if (e.type != WalkEntry::Type::file || e.size == 0 || e.size > kMaxRelocatedFile) return false;
  if (e.path.rfind("bin/", 0) == 0 && e.path.find('/', 4) == std::string::npos) return true;
  std::size_t slash = e.path.rfind('/');
  const char* base = e.path.c_str() + (slash == std::string::npos ? 0 : slash + 1);
  static const char* const patterns[] = {"activate*", "*.cfg", "*.pc",   "*.cmake", "*.pth",
                                         "*.sh",      "*.csh", "*.fish", "_sysconfigdata*.py"};
  for (const char* p : patterns)
    if (::fnmatch(p, base, 0) == 0) return true;
  return false;
}

std::vector<std::string> find_prefix_files(const std::string& root, const std::vector<WalkEntry>& entries,
                                           const std::vector<std::string>& prefixes, unsigned threads) {
  std::vector<char> names(entries.size(), 0);  // 1: entry i names a prefix
  parallel_for(entries.size(), threads, [&](std::size_t i) {
    const WalkEntry& e = entries[i];
    bool by_name = is_relocation_candidate(e);
    if (!by_name && !is_script_candidate(e)) return;
    std::string text;
    if (!read_text(root + "/" + e.path, e.size, text, !by_name)) return;  // binary, or not a script
    names[i] = std::any_of(prefixes.begin(), prefixes.end(),
                           [&](const std::string& prefix) { return text.find(prefix) != std::string::npos; });
  });
  return paths_marked(entries, names);
}

std::string relocate_text(std::string_view text, const std::vector<std::string>& prefixes,
                          const std::string& new_prefix) {
  std::vector<std::string> ordered = longest_first(prefixes);
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    bool replaced = false;
    for (const std::string& p : ordered) {
      if (p.empty() || text.compare(i, p.size(), p) != 0) continue;
      std::size_t end = i + p.size();
      if (end < text.size() && path_char(text[end])) continue;  // "/opt/env2" is not "/opt/env"
      out += new_prefix;
      i = end;
      replaced = true;
      break;
    }
    if (!replaced) out += text[i++];
  }
  return out;
}

std::string relocate_link(const std::string& target, const std::vector<std::string>& prefixes,
                          const std::string& new_prefix) {
  for (const std::string& p : longest_first(prefixes)) {
    if (p.empty() || target.compare(0, p.size(), p) != 0) continue;
    if (target.size() == p.size() || target[p.size()] == '/') return new_prefix + target.substr(p.size());
  }
  return target;
}

bool is_elf_candidate(const WalkEntry& e) {
  if (e.type != WalkEntry::Type::file || e.size < 64) return false;
  if (e.mode & 0111) return true;
  std::size_t slash = e.path.rfind('/');
  const char* base = e.path.c_str() + (slash == std::string::npos ? 0 : slash + 1);
  return ::fnmatch("*.so", base, 0) == 0 || ::fnmatch("*.so.*", base, 0) == 0;
}

std::string origin_relative(const std::string& entry, const std::string& path,
                            const std::vector<std::string>& prefixes) {
  if (entry.empty() || entry[0] != '/') return "";
  std::string target = normalize_path(entry);
  std::string longest;
  for (const std::string& p : prefixes) {
    std::string prefix = normalize_path(p);
    if (is_under(target, prefix) && prefix.size() > longest.size()) longest = prefix;
  }
  if (longest.empty()) return "";
  // Both as components below the stack root, then the way from one to the other.
  std::string rest = target.substr(longest.size());
  std::vector<std::string_view> to, from;
  for (std::string_view part : split(rest, '/'))
    if (!part.empty()) to.push_back(part);
  for (std::string_view part : split(parent_of(path), '/'))
    if (!part.empty()) from.push_back(part);
  std::size_t common = 0;
  while (common < to.size() && common < from.size() && to[common] == from[common]) ++common;
  std::string out = "$ORIGIN";
  for (std::size_t i = common; i < from.size(); ++i) out += "/..";
  for (std::size_t i = common; i < to.size(); ++i) out += "/" + std::string(to[i]);
  return out;
}

BinaryRelocation relocate_search_paths(const ElfSearchPaths& elf, const std::string& path,
                                       const std::vector<std::string>& prefixes) {
  BinaryRelocation result;
  for (const ElfSearchString& string : elf.strings) {
    const char* what = string.runpath ? "RUNPATH" : "RPATH";
    std::string value;  // entries kept as they are (empty ones too), those in a prefix rewritten
    bool changed = false, first = true;
    for (std::string_view entry : split(string.value, ':')) {
      std::string moved = origin_relative(std::string(entry), path, prefixes);
      if (!first) value += ':';
      first = false;
      value += moved.empty() ? std::string(entry) : moved;
      changed = changed || !moved.empty();
    }
    if (!changed) continue;
    if (string.shared) {
      result.problem = std::string(what) + " " + quote(string.value) + " shares its bytes with another dynamic string";
      return result;
    }
    if (value.size() > string.value.size()) {
      result.problem = std::string(what) + " " + quote(value) + " would be longer than " + quote(string.value);
      return result;
    }
    value.resize(string.value.size(), '\0');
    result.edits.push_back({string.offset, std::move(value)});
  }
  return result;
}

std::vector<std::string> find_prefix_binaries(const std::string& root, const std::vector<WalkEntry>& entries,
                                              const std::vector<std::string>& prefixes, unsigned threads) {
  std::vector<char> relocatable(entries.size(), 0);  // 1: entry i's search paths move with the stack
  parallel_for(entries.size(), threads, [&](std::size_t i) {
    const WalkEntry& e = entries[i];
    if (!is_elf_candidate(e) || e.size > kMaxRelocatedBinary) return;
    ElfSearchPaths elf = read_elf_search_paths_file(root + "/" + e.path, e.size);
    if (elf.strings.empty()) return;
    BinaryRelocation moved = relocate_search_paths(elf, e.path, prefixes);
    relocatable[i] = !moved.edits.empty() && moved.problem.empty();
  });
  return paths_marked(entries, relocatable);
}

}  // namespace shmstack
