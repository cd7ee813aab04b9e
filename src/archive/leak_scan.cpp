#include "archive/leak_scan.hpp"

#include <fcntl.h>
#include <unistd.h>

#include "archive/elf_rpath.hpp"
#include "archive/relocation.hpp"
#include "base/error.hpp"
#include "base/log.hpp"
#include "base/progress.hpp"
#include "base/path_check.hpp"
#include "base/path_class.hpp"

namespace shmstack {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool inside(const std::string& path, const std::vector<std::string>& prefixes) {
  for (const std::string& p : prefixes)
    if (is_under(path, normalize_path(p))) return true;
  return false;
}

// An absolute path that is neither in the stack nor in a system directory.
bool leaves(std::string_view raw, const std::vector<std::string>& prefixes) {
  if (raw.empty() || raw[0] != '/') return false;
  std::string path = normalize_path(raw);
  return !inside(path, prefixes) && !is_system_path(path);
}

std::string base_of(const std::string& path) {
  std::size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool read_small(const std::string& path, std::uint64_t size, std::string& out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return false;
  out.resize(static_cast<std::size_t>(size));
  ssize_t n = ::pread(fd, out.data(), out.size(), 0);
  ::close(fd);
  out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return true;
}

}  // namespace

std::vector<std::string> pth_leaks(std::string_view text, const std::vector<std::string>& prefixes) {
  std::vector<std::string> found;
  for (std::string_view line : split(text, '\n')) {
    line = trim(line);
    if (line.empty() || line[0] == '#' || line.rfind("import ", 0) == 0 || line.rfind("import\t", 0) == 0) continue;
    if (leaves(line, prefixes)) found.emplace_back(line);
  }
  return found;
}

std::vector<std::string> pyvenv_cfg_leaks(std::string_view text, const std::vector<std::string>& prefixes) {
  std::vector<std::string> found;
  for (std::string_view line : split(text, '\n')) {
    std::size_t eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view key = trim(line.substr(0, eq));
    if (key == "command" || key.rfind("version", 0) == 0) continue;
    std::string_view value = trim(line.substr(eq + 1));
    if (leaves(value, prefixes)) found.emplace_back(value);
  }
  return found;
}

std::string search_path_leak(const std::string& entry, const std::vector<std::string>& prefixes,
                             const std::string& unrelocatable) {
  if (entry.empty() || entry[0] != '/') return "";  // $ORIGIN/..., or relative to the working directory
  std::string path = normalize_path(entry);
  if (inside(path, prefixes))
    return unrelocatable.empty() ? "" : "names where the stack was packed from and cannot be relocated: " + unrelocatable;
  if (is_system_path(path)) return "";
  return "is outside the stack";
}

std::string symlink_leak(const std::string& path, const std::string& target, const std::string& root,
                         const std::vector<std::string>& prefixes) {
  if (target.empty()) return "";
  std::string where = target[0] == '/' ? normalize_path(target)
                                       : normalize_path(root + "/" + std::string(parent_of(path)) + "/" + target);
  // In the stack: relative links stay, absolute ones are relocated.
  if (inside(where, prefixes) || is_system_path(where)) return "";
  return "symlink to " + quote(target) + " leaves the stack";
}

std::vector<Leak> find_leaks(const std::string& root, const std::vector<WalkEntry>& entries,
                             const std::vector<std::string>& prefixes) {
  std::vector<Leak> leaks;
  std::string text;
  for (const WalkEntry& e : entries) {
    if (e.type == WalkEntry::Type::symlink) {
      if (std::string why = symlink_leak(e.path, e.link, root, prefixes); !why.empty()) leaks.push_back({e.path, why});
      continue;
    }
    if (e.type != WalkEntry::Type::file) continue;
    std::string base = base_of(e.path);
    bool pth = base.size() > 4 && base.compare(base.size() - 4, 4, ".pth") == 0;
    if ((pth || base == "pyvenv.cfg") && e.size <= kMaxRelocatedFile && read_small(root + "/" + e.path, e.size, text)) {
      for (const std::string& p : pth ? pth_leaks(text, prefixes) : pyvenv_cfg_leaks(text, prefixes))
        leaks.push_back({e.path, (pth ? ".pth line " : "pyvenv.cfg value ") + quote(p) + " is outside the stack"});
      continue;
    }
    if (!is_elf_candidate(e)) continue;
    ElfSearchPaths elf = read_elf_search_paths_file(root + "/" + e.path, e.size);
    if (!elf.is_elf) continue;
    if (!elf.skipped.empty())  // cannot be judged; not a leak either
      log::info("leak check: %s: ELF not read: %s", quote(e.path).c_str(), elf.skipped.c_str());
    std::string unrelocatable = e.size > kMaxRelocatedBinary ? "larger than " + human_bytes(kMaxRelocatedBinary)
                                                             : relocate_search_paths(elf, e.path, prefixes).problem;
    for (const auto* list : {&elf.rpath, &elf.runpath})
      for (const std::string& entry : *list)
        if (std::string why = search_path_leak(entry, prefixes, unrelocatable); !why.empty())
          leaks.push_back({e.path, std::string(list == &elf.rpath ? "RPATH" : "RUNPATH") + " entry " + quote(entry) +
                                       " " + why});
  }
  return leaks;
}

std::string warn_leaks(const std::vector<Leak>& leaks) {
  constexpr std::size_t kShown = 100;
  for (std::size_t i = 0; i < leaks.size() && i < kShown; ++i)
    log::warn("leak: %s: %s", quote(leaks[i].path).c_str(), leaks[i].reason.c_str());
  if (leaks.size() > kShown) log::warn("leak: ... and %zu more", leaks.size() - kShown);
  return std::to_string(leaks.size()) + " possible leak" + (leaks.size() == 1 ? "" : "s") +
         " to outside the stack (listed above)";
}

}  // namespace shmstack
