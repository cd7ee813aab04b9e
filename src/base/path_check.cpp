#include "base/path_check.hpp"

#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <vector>

#include "base/path_class.hpp"

namespace shmstack {

std::string resolved_path(const std::string& path) {
  char* real = ::realpath(path.c_str(), nullptr);
  std::string result = real ? real : path;
  std::free(real);
  return result;
}

std::vector<std::string_view> split(std::string_view s, char separator) {
  std::vector<std::string_view> parts;
  for (std::size_t pos = 0;;) {
    std::size_t end = s.find(separator, pos);
    parts.push_back(s.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos));
    if (end == std::string_view::npos) return parts;
    pos = end + 1;
  }
}

EntryPath normalize_entry_path(std::string_view raw) {
  EntryPath result;
  if (raw.empty()) {
    result.problem = "empty entry name";
    return result;
  }
  if (raw.front() == '/') {
    result.problem = "absolute path";
    return result;
  }
  if (raw.size() >= PATH_MAX) {
    result.problem = "path longer than PATH_MAX";
    return result;
  }
  for (unsigned char c : raw) {
    if (c < 0x20 || c == 0x7f) {
      result.problem = "control character in name";
      return result;
    }
  }
  for (std::string_view part : split(raw, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      result.problem = "'..' in path";
      result.path.clear();
      return result;
    }
    if (part.size() > NAME_MAX) {
      result.problem = "path component longer than NAME_MAX";
      result.path.clear();
      return result;
    }
    if (!result.path.empty()) result.path += '/';
    result.path += part;
  }
  return result;
}

std::string_view parent_of(std::string_view path) {
  std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string_view{} : path.substr(0, slash);
}

namespace {
bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '+' || c == '-';
}
}  // namespace

std::string check_stack_name(std::string_view name) {
  if (name.empty()) return "a stack name cannot be empty";
  if (name.size() > 100) return "a stack name has at most 100 characters";
  if (name.front() == '.') return "a stack name cannot start with '.'";
  for (char c : name)
    if (!name_char(c)) return "a stack name uses only letters, digits and . _ + -";
  return "";
}

std::string name_from_archive_path(std::string_view path) {
  std::size_t slash = path.rfind('/');
  std::string name(slash == std::string_view::npos ? path : path.substr(slash + 1));
  static const char* const suffixes[] = {".tar.lz4", ".tar.gz", ".tar.zst", ".tar.xz", ".tar.bz2",
                                         ".tgz",     ".tzst",   ".txz",     ".tbz2",   ".tlz4",
                                         ".tar",     ".lz4",    ".gz",      ".zst"};
  for (const char* suffix : suffixes) {
    std::string_view s(suffix);
    if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
      name.resize(name.size() - s.size());
      break;
    }
  }
  return sanitize_stack_name(name);
}

std::string sanitize_stack_name(std::string_view raw) {
  std::string name(raw);
  for (char& c : name)
    if (!name_char(c)) c = '_';
  while (!name.empty() && name.front() == '.') name.erase(0, 1);
  if (name.size() > 100) name.resize(100);
  if (name.empty()) name = "stack";
  return name;
}

std::string lexically_absolute(const std::string& path) {
  if (!path.empty() && path[0] == '/') return normalize_path(path);
  char cwd[PATH_MAX];
  return normalize_path(std::string(::getcwd(cwd, sizeof cwd) ? cwd : "") + "/" + path);
}

}  // namespace shmstack
