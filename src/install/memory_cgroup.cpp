#include "install/memory_cgroup.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "base/error.hpp"
#include "base/path_class.hpp"
#include "base/progress.hpp"

namespace shmstack {
namespace {

// v1 and v2 both write "no limit" as a huge number (v1: PAGE_COUNTER_MAX
// pages) or "max" (v2).
constexpr std::uint64_t kUnlimited = std::uint64_t{1} << 62;

std::vector<std::string> split(const std::string& text, char by) {
  std::vector<std::string> parts;
  std::string part;
  std::istringstream in(text);
  while (std::getline(in, part, by)) parts.push_back(part);
  return parts;
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape_mount(const std::string& field) {
  std::string out;
  for (std::size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size()) {
      std::string octal = field.substr(i + 1, 3);
      if (octal.size() == 3 && octal.find_first_not_of("01234567") == std::string::npos) {
        out.push_back(static_cast<char>(std::strtol(octal.c_str(), nullptr, 8)));
        i += 3;
        continue;
      }
    }
    out.push_back(field[i]);
  }
  return out;
}

struct Mount {
  std::string root;
  std::string point;
  std::string type;
  std::vector<std::string> super_options;
};

std::vector<Mount> cgroup_mounts(const std::string& mountinfo) {
  std::vector<Mount> mounts;
  std::istringstream lines(mountinfo);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::vector<std::string> fields;
    for (std::string w; words >> w;) fields.push_back(w);
    std::size_t dash = 0;
    while (dash < fields.size() && fields[dash] != "-") ++dash;
    if (dash < 5 || dash + 1 >= fields.size()) continue;
    Mount m;
    m.root = unescape_mount(fields[3]);
    m.point = unescape_mount(fields[4]);
    m.type = fields[dash + 1];
    if (dash + 3 < fields.size()) m.super_options = split(fields[dash + 3], ',');
    if (m.type == "cgroup" || m.type == "cgroup2") mounts.push_back(std::move(m));
  }
  return mounts;
}

bool has(const std::vector<std::string>& words, const std::string& word) {
  for (const std::string& w : words)
    if (w == word) return true;
  return false;
}

// The first line of a small file; nullopt when it cannot be read.
std::optional<std::string> read_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return std::nullopt;
  return line;
}

std::optional<std::uint64_t> read_number(const std::string& path) {
  std::optional<std::string> line = read_line(path);
  if (!line) return std::nullopt;
  if (*line == "max") return kUnlimited;
  if (line->empty() || line->find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  errno = 0;
  unsigned long long value = std::strtoull(line->c_str(), nullptr, 10);
  if (errno == ERANGE) return kUnlimited;
  return value;
}

// A key's value in memory.stat ("inactive_file 12345"); 0 when absent.
std::uint64_t stat_value(const std::string& path, const std::string& key) {
  std::ifstream in(path);
  std::string name;
  unsigned long long value = 0;
  while (in >> name >> value)
    if (name == key) return value;
  return 0;
}

// limit - (usage - reclaimable), or nullopt without a limit.
std::optional<std::uint64_t> left_of(std::optional<std::uint64_t> limit, std::optional<std::uint64_t> usage,
                                     std::uint64_t reclaimable) {
  if (!limit || !usage || *limit >= kUnlimited) return std::nullopt;
  std::uint64_t used = *usage - std::min(*usage, reclaimable);
  return *limit > used ? *limit - used : 0;
}

std::string join(const std::string& root, const std::vector<std::string>& parts, std::size_t count) {
  std::string out = root == "/" ? "" : root;
  for (std::size_t i = 0; i < count; ++i) out += "/" + parts[i];
  return out.empty() ? "/" : out;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

std::optional<CgroupLocation> find_memory_cgroup(const std::string& proc_cgroup, const std::string& mountinfo) {
  std::optional<std::string> v1_path, v2_path;
  std::istringstream lines(proc_cgroup);
  std::string line;
  while (std::getline(lines, line)) {
    std::size_t first = line.find(':');
    std::size_t second = first == std::string::npos ? first : line.find(':', first + 1);
    if (second == std::string::npos) continue;
    std::string id = line.substr(0, first);
    std::string controllers = line.substr(first + 1, second - first - 1);
    std::string path = line.substr(second + 1);
    if (id == "0" && controllers.empty()) v2_path = path;
    else if (has(split(controllers, ','), "memory")) v1_path = path;
  }
  std::vector<Mount> mounts = cgroup_mounts(mountinfo);
  for (int version : {1, 2}) {
    const std::optional<std::string>& path = version == 1 ? v1_path : v2_path;
    if (!path) continue;
    for (const Mount& m : mounts) {
      bool fits = version == 1 ? m.type == "cgroup" && has(m.super_options, "memory") : m.type == "cgroup2";
      if (fits && is_under(*path, m.root)) return CgroupLocation{version, m.point, m.root, *path};
    }
  }
  return std::nullopt;
}

std::optional<CgroupMemory> memory_left(const CgroupLocation& location, const std::string& fs_root) {
  std::string relative = location.path;
  if (location.mount_root != "/" && is_under(relative, location.mount_root))
    relative = relative.substr(location.mount_root.size());
  std::vector<std::string> parts;
  for (const std::string& p : split(relative, '/'))
    if (!p.empty()) parts.push_back(p);
  std::string base = fs_root + location.mount;
  std::optional<CgroupMemory> best;
  std::size_t best_level = 0;
  // On a tie the outer level wins (the job, not its step), and at one level
  // memory alone (memory plus swap only when it is tighter).
  auto consider = [&](std::optional<std::uint64_t> left, std::optional<std::uint64_t> limit, std::size_t level,
                      bool swap) {
    if (!left || (best && (best->left < *left || (best->left == *left && best_level == level)))) return;
    best = CgroupMemory{join(location.mount_root, parts, level), *limit, *left, swap};
    best_level = level;
  };
  for (std::size_t level = parts.size() + 1; level-- > 0;) {
    std::string dir = base + (level == 0 ? "" : join("/", parts, level));
    if (location.version == 1) {
      std::uint64_t cache = stat_value(dir + "/memory.stat", "total_inactive_file");
      std::optional<std::uint64_t> limit = read_number(dir + "/memory.limit_in_bytes");
      consider(left_of(limit, read_number(dir + "/memory.usage_in_bytes"), cache), limit, level, false);
      std::optional<std::uint64_t> memsw = read_number(dir + "/memory.memsw.limit_in_bytes");
      consider(left_of(memsw, read_number(dir + "/memory.memsw.usage_in_bytes"), cache), memsw, level, true);
      // v1: a child's charges reach its parent only if the parent is hierarchical.
      if (level > 0) {
        std::string parent = base + (level == 1 ? "" : join("/", parts, level - 1));
        if (read_line(parent + "/memory.use_hierarchy") == std::optional<std::string>("0")) break;
      }
    } else {
      std::uint64_t cache = stat_value(dir + "/memory.stat", "inactive_file");
      std::optional<std::uint64_t> limit = read_number(dir + "/memory.max");
      consider(left_of(limit, read_number(dir + "/memory.current"), cache), limit, level, false);
    }
  }
  return best;
}

std::optional<CgroupMemory> caller_memory_left(const std::string& fs_root) {
  std::optional<CgroupLocation> location =
      find_memory_cgroup(read_all(fs_root + "/proc/self/cgroup"), read_all(fs_root + "/proc/self/mountinfo"));
  if (!location) return std::nullopt;
  return memory_left(*location, fs_root);
}

MemoryMargin parse_memory_margin(const std::string& text, const std::string& option) {
  auto bad = [&]() {
    return UsageError(option + ": " + quote(text) +
                      " is not a size (like 512M, 1G, 0) or a percentage of the stacks' size (like 10%)");
  };
  if (text.empty()) throw bad();
  std::size_t digits = text.find_first_not_of("0123456789.");
  std::string number = text.substr(0, digits);
  std::string unit = digits == std::string::npos ? "" : text.substr(digits);
  if (number.empty() || number.find('.') != number.rfind('.') || number == ".") throw bad();
  double value = std::strtod(number.c_str(), nullptr);
  MemoryMargin margin;
  margin.given = text;
  margin.bytes = 0;
  margin.fraction = 0;
  if (unit == "%") {
    if (value > 1000) throw bad();
    margin.fraction = value / 100;
    return margin;
  }
  static const std::string units = "KMGT";
  double scale = 1;
  if (unit.size() == 2 && (unit[1] == 'B' || unit[1] == 'b')) unit.pop_back();
  if (unit.size() == 3 && unit.compare(1, 2, "iB") == 0) unit.resize(1);
  if (unit.size() > 1) throw bad();
  if (unit.size() == 1) {
    std::size_t power = units.find(static_cast<char>(std::toupper(static_cast<unsigned char>(unit[0]))));
    if (power == std::string::npos) throw bad();
    scale = std::ldexp(1.0, 10 * static_cast<int>(power + 1));
  }
  double bytes = value * scale;
  if (bytes >= 0x1p63) throw bad();
  margin.bytes = static_cast<std::uint64_t>(bytes);
  return margin;
}

MemoryMargin memory_margin_from(const std::optional<std::string>& option, const std::string& command) {
  if (option) return parse_memory_margin(*option, command + ": --memory-margin");
  const char* env = std::getenv("SHMSTACK_MEMORY_MARGIN");
  if (env && *env) return parse_memory_margin(env, command + ": SHMSTACK_MEMORY_MARGIN");
  return MemoryMargin{};
}

std::uint64_t margin_bytes(const MemoryMargin& margin, std::uint64_t footprint) {
  auto share = static_cast<std::uint64_t>(std::ceil(static_cast<double>(footprint) * margin.fraction));
  return std::max(margin.bytes, share);
}

std::optional<Error> memory_problem(const std::string& names, const std::string& host, std::uint64_t footprint,
                                    const MemoryMargin& margin, const std::optional<CgroupMemory>& memory) {
  if (!memory) return std::nullopt;
  std::uint64_t extra = margin_bytes(margin, footprint);
  if (footprint + extra <= memory->left) return std::nullopt;
  std::string need = "needs " + human_bytes(footprint) + " of memory in its tmpfs";
  if (extra > 0)
    need += " plus a " + human_bytes(extra) + " margin (--memory-margin " +
            (margin.given.empty() ? std::string("default: 256M or 10%, whichever is more") : margin.given) + ")";
  return Error("not enough memory for " + names + " on " + host,
               need + ", the memory cgroup " + quote(memory->cgroup) + " has " + human_bytes(memory->left) +
                   " left (limit " + human_bytes(memory->limit) + (memory->swap ? ", memory plus swap" : "") + ")");
}

}  // namespace shmstack
