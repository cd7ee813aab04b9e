#include "archive/leak_scan.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <iterator>
#include <map>
#include <set>
#include <unordered_set>

#include "archive/elf_rpath.hpp"
#include "archive/relocation.hpp"
#include "base/error.hpp"
#include "base/log.hpp"
#include "base/parallel_for.hpp"
#include "base/path_check.hpp"
#include "base/path_class.hpp"
#include "base/progress.hpp"
#include "base/regular_file.hpp"

namespace shmstack {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// The prefix that holds `path`, or "".
std::string holder(const std::string& path, const std::vector<std::string>& prefixes) {
  for (const std::string& p : prefixes)
    if (is_under(path, normalize_path(p))) return normalize_path(p);
  return "";
}

bool inside(const std::string& path, const std::vector<std::string>& prefixes) {
  return !holder(path, prefixes).empty();
}

// Where a venv's interpreter lives: home's prefix ("/opt/py/bin" -> "/opt/py").
std::string interpreter_prefix(const std::string& home) {
  std::string path = normalize_path(home);
  std::size_t slash = path.rfind('/');
  return slash != std::string::npos && slash > 0 && path.compare(slash, std::string::npos, "/bin") == 0
             ? path.substr(0, slash)
             : path;
}

std::string join_kinds(const std::vector<std::string>& kinds) {
  std::string out;
  for (const std::string& k : kinds) out += (out.empty() ? "" : ", ") + k;
  return out;
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

// What is read of an executable for its shebang: Linux reads 256 bytes for
// the "#!" line; pip's '''exec' line after it may name a path of PATH_MAX.
constexpr std::uint64_t kShebangBytes = 4096 + 64;

bool read_small(const std::string& path, std::uint64_t size, std::string& out) {
  std::string problem;
  int fd = open_regular(AT_FDCWD, path, O_NOFOLLOW, problem);
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

std::vector<std::string> shebang_paths(std::string_view head) {
  if (head.rfind("#!", 0) != 0) return {};
  std::vector<std::string> paths;
  auto absolute = [&](std::string_view path) {
    if (!path.empty() && path[0] == '/') paths.emplace_back(path);
  };
  auto first_word = [](std::string_view s) { return s.substr(0, s.find_first_of(" \t")); };
  std::vector<std::string_view> lines = split(head.substr(2), '\n');
  std::string_view line = trim(lines[0]);
  std::string_view interpreter = first_word(line);
  std::string_view argument = trim(line.substr(interpreter.size()));
  absolute(interpreter);
  absolute(argument);
  std::string_view second = lines.size() > 1 ? trim(lines[1]) : "";
  // Spack's sbang runs the interpreter named by the second line.
  bool sbang = argument.size() >= 6 && argument.substr(argument.size() - 6) == "/sbang";
  if (sbang && second.rfind("#!", 0) == 0) absolute(first_word(trim(second.substr(2))));
  // pip's console scripts whose interpreter path is too long for a shebang.
  if ((interpreter == "/bin/sh" || interpreter == "/usr/bin/sh") && second.rfind("'''exec' ", 0) == 0) {
    std::string_view exec = trim(second.substr(9));
    bool quoted = !exec.empty() && exec[0] == '"';
    if (quoted) exec.remove_prefix(1);
    absolute(quoted ? exec.substr(0, exec.find('"')) : first_word(exec));
  }
  return paths;
}

std::string pyvenv_home(std::string_view text) {
  for (std::string_view line : split(text, '\n')) {
    std::size_t eq = line.find('=');
    if (eq != std::string_view::npos && trim(line.substr(0, eq)) == "home")
      return std::string(trim(line.substr(eq + 1)));
  }
  return "";
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

namespace {

// What one entry of the walk leaks, and what pack says of it with -v.
struct EntryFindings {
  std::vector<Leak> leaks;
  std::vector<std::string> notes;
};

// An executable that is not ELF: a script, and what its shebang runs.
std::vector<Leak> shebang_leaks(const std::string& root, const WalkEntry& e, const std::vector<std::string>& prefixes) {
  std::vector<Leak> leaks;
  std::string head;
  if (!read_small(root + "/" + e.path, std::min(e.size, kShebangBytes), head)) return leaks;
  for (const std::string& p : shebang_paths(head))
    if (leaves(p, prefixes))
      leaks.push_back({e.path, "shebang names " + quote(p) + ", outside the stack", "shebangs", normalize_path(p)});
  return leaks;
}

EntryFindings entry_leaks(const std::string& root, const WalkEntry& e, const std::vector<std::string>& prefixes) {
  EntryFindings found;
  if (e.type == WalkEntry::Type::symlink) {
    if (std::string why = symlink_leak(e.path, e.link, root, prefixes); !why.empty()) {
      std::string where = e.link[0] == '/' ? normalize_path(e.link)
                                           : normalize_path(root + "/" + std::string(parent_of(e.path)) + "/" + e.link);
      found.leaks.push_back({e.path, why, "symlinks", where});
    }
    return found;
  }
  if (e.type != WalkEntry::Type::file) return found;
  std::string base = base_of(e.path);
  bool pth = base.size() > 4 && base.compare(base.size() - 4, 4, ".pth") == 0;
  std::string text;
  if ((pth || base == "pyvenv.cfg") && e.size <= kMaxRelocatedFile && read_small(root + "/" + e.path, e.size, text)) {
    // The stack's own pyvenv.cfg: its home is where the interpreter stays.
    bool venv = e.path == "pyvenv.cfg";
    std::string home = venv ? pyvenv_home(text) : "";
    if (!home.empty() && home[0] == '/' && is_system_path(normalize_path(home)))
      found.notes.push_back("venv: the interpreter and standard library stay in " + quote(interpreter_prefix(home)) +
                            " (pyvenv.cfg home), a system directory that each node has");
    for (const std::string& p : pth ? pth_leaks(text, prefixes) : pyvenv_cfg_leaks(text, prefixes)) {
      Leak leak{e.path, (pth ? ".pth line " : "pyvenv.cfg value ") + quote(p) + " is outside the stack",
                pth ? ".pth lines" : "pyvenv.cfg values", normalize_path(p)};
      if (venv && leaves(home, prefixes)) {
        leak.venv = true;
        leak.names = interpreter_prefix(home);
      }
      found.leaks.push_back(std::move(leak));
    }
    return found;
  }
  bool executable = e.mode & 0111;
  ElfSearchPaths elf;
  if (is_elf_candidate(e)) elf = read_elf_search_paths_file(root + "/" + e.path, e.size);
  if (!elf.is_elf) {
    if (executable) found.leaks = shebang_leaks(root, e, prefixes);
    return found;
  }
  if (!elf.skipped.empty())  // cannot be judged; not a leak either
    found.notes.push_back("leak check: " + quote(e.path) + ": ELF not read: " + elf.skipped);
  std::string unrelocatable = e.size > kMaxRelocatedBinary ? "larger than " + human_bytes(kMaxRelocatedBinary)
                                                           : relocate_search_paths(elf, e.path, prefixes).problem;
  for (const auto* list : {&elf.rpath, &elf.runpath}) {
    std::string name = list == &elf.rpath ? "RPATH" : "RUNPATH";
    for (const std::string& entry : *list) {
      std::string why = search_path_leak(entry, prefixes, unrelocatable);
      if (why.empty()) continue;
      std::string named = normalize_path(entry);
      std::string packed_from = holder(named, prefixes);
      Leak leak{e.path, name + " entry " + quote(entry) + " " + why, name + " entries",
                packed_from.empty() ? named : packed_from};
      leak.unrelocatable = !packed_from.empty();
      found.leaks.push_back(std::move(leak));
    }
  }
  return found;
}

}  // namespace

std::vector<Leak> find_leaks(const std::string& root, const std::vector<WalkEntry>& entries,
                             const std::vector<std::string>& prefixes, unsigned threads) {
  std::vector<EntryFindings> found(entries.size());
  parallel_for(entries.size(), threads, [&](std::size_t i) { found[i] = entry_leaks(root, entries[i], prefixes); });
  std::vector<Leak> leaks;
  for (EntryFindings& f : found) {
    for (const std::string& note : f.notes) log::info("%s", note.c_str());
    std::move(f.leaks.begin(), f.leaks.end(), std::back_inserter(leaks));
  }
  return leaks;
}

std::vector<LeakGroup> group_leaks(const std::vector<Leak>& leaks, const std::vector<WalkEntry>& entries) {
  std::unordered_set<std::string_view> tree;
  for (const WalkEntry& e : entries) tree.insert(e.path);
  // "/old/prefix/lib/x" in a tree holding lib/x: the tree was built in
  // /old/prefix (the longest such tail wins). Only what build systems write
  // counts as evidence (ELF search paths, symlinks, shebangs): a .pth line naming
  // ~/.local/lib/python3.X/site-packages says nothing about where a venv was.
  auto built_in = [&](const Leak& leak) -> std::string {
    const std::string& named = leak.names;
    for (std::size_t at = named.find('/', 1); at != std::string::npos; at = named.find('/', at + 1)) {
      std::string_view tail = std::string_view(named).substr(at + 1);
      if (!tail.empty() && tail != leak.path && tree.count(tail) > 0) return named.substr(0, at);
    }
    return "";
  };
  std::vector<std::string> old_prefixes, venv_homes;
  for (const Leak& leak : leaks)
    if (leak.venv) venv_homes.push_back(leak.names);
  for (const Leak& leak : leaks) {
    if (leak.venv || leak.unrelocatable ||
        (leak.kind != "symlinks" && leak.kind != "shebangs" && leak.kind.find("PATH entries") == std::string::npos))
      continue;
    if (std::string prefix = built_in(leak); !prefix.empty()) old_prefixes.push_back(prefix);
  }
  std::map<std::pair<LeakGroup::Remedy, std::string>, std::size_t> index;
  std::vector<LeakGroup> groups;
  std::vector<std::set<std::string>> files;
  for (const Leak& leak : leaks) {
    LeakGroup::Remedy remedy = leak.venv            ? LeakGroup::Remedy::venv
                               : leak.unrelocatable ? LeakGroup::Remedy::unrelocatable
                                                    : LeakGroup::Remedy::outside;
    std::string prefix = leak.names;
    for (const std::string& home : venv_homes)  // bin/python3 -> the venv's interpreter, say
      if (remedy == LeakGroup::Remedy::outside && is_under(leak.names, home)) {
        remedy = LeakGroup::Remedy::venv;
        prefix = home;
      }
    if (remedy == LeakGroup::Remedy::outside) {
      std::string best;
      for (const std::string& p : old_prefixes)
        if (is_under(leak.names, p) && p.size() > best.size()) best = p;
      if (!best.empty()) {
        remedy = LeakGroup::Remedy::old_prefix;
        prefix = best;
      }
    }
    auto [it, added] = index.emplace(std::make_pair(remedy, prefix), groups.size());
    if (added) {
      groups.push_back({prefix, remedy, {}, 0, 0});
      files.emplace_back();
    }
    LeakGroup& g = groups[it->second];
    if (std::find(g.kinds.begin(), g.kinds.end(), leak.kind) == g.kinds.end()) g.kinds.push_back(leak.kind);
    ++g.leaks;
    files[it->second].insert(leak.path);
    g.files = files[it->second].size();
  }
  std::stable_sort(groups.begin(), groups.end(), [](const LeakGroup& a, const LeakGroup& b) {
    return a.files != b.files ? a.files > b.files : a.prefix < b.prefix;
  });
  return groups;
}

std::string describe(const LeakGroup& g) {
  std::string where = quote(g.prefix);
  if (g.remedy == LeakGroup::Remedy::venv)
    return "this venv's interpreter and standard library stay in " + where +
           " (pyvenv.cfg home), outside the stack, and every node reads them from there: for a fully node-local "
           "stack, pack a conda env or a whole Python prefix with the packages installed into it (a venv, even "
           "one made with --copies, is not one)";
  std::string files = std::to_string(g.files) + (g.files == 1 ? " file names " : " files name ") + where + " (" +
                      join_kinds(g.kinds) + ")";
  std::string them = g.files == 1 ? "it" : "them";
  switch (g.remedy) {
    case LeakGroup::Remedy::old_prefix:
      return files + ", where the tree seems to have been built or installed: pack with --old-prefix " + where +
             " to relocate " + them;
    case LeakGroup::Remedy::unrelocatable:
      return files +
             ", where the stack was packed from, in ELF search paths that cannot be relocated in place "
             "(-v says why): link " +
             them + " with $ORIGIN-relative search paths";
    case LeakGroup::Remedy::outside:
    case LeakGroup::Remedy::venv:
      break;
  }
  return files + ", outside the stack and the system directories: every node will look there";
}

std::string warn_leaks(const std::vector<Leak>& leaks, const std::vector<WalkEntry>& entries) {
  std::set<std::string> files;
  for (const Leak& leak : leaks) {
    log::info("leak: %s: %s", quote(leak.path).c_str(), leak.reason.c_str());
    files.insert(leak.path);
  }
  for (const LeakGroup& group : group_leaks(leaks, entries)) log::warn("leak: %s", describe(group).c_str());
  return std::to_string(leaks.size()) + " possible leak" + (leaks.size() == 1 ? "" : "s") +
         " to outside the stack in " + std::to_string(files.size()) + (files.size() == 1 ? " file" : " files") +
         " (grouped above; -v lists each)";
}

}  // namespace shmstack
