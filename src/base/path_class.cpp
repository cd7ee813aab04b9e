#include "base/path_class.hpp"

namespace shmstack {

std::string normalize_path(std::string_view path) {
  bool absolute = !path.empty() && path[0] == '/';
  std::vector<std::string_view> parts;
  std::size_t i = 0;
  while (i <= path.size()) {
    std::size_t end = path.find('/', i);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(i, end - i);
    if (part.empty() || part == ".") {
      // nothing
    } else if (part == "..") {
      if (!parts.empty() && parts.back() != "..") {
        parts.pop_back();
      } else if (!absolute) {
        parts.push_back(part);
      }
    } else {
      parts.push_back(part);
    }
    i = end + 1;
  }
  if (parts.empty()) return absolute ? "/" : ".";
  std::string out;
  for (std::string_view part : parts) {
    if (absolute || !out.empty()) out.push_back('/');
    out.append(part.data(), part.size());
  }
  return out;
}

bool is_under(std::string_view path, std::string_view prefix) {
  while (prefix.size() > 1 && prefix.back() == '/') prefix.remove_suffix(1);
  if (prefix == "/") return !path.empty() && path[0] == '/';
  if (prefix.empty() || path.compare(0, prefix.size(), prefix) != 0) return false;
  return path.size() == prefix.size() || path[prefix.size()] == '/';
}

const std::vector<std::string>& system_directories() {
  static const std::vector<std::string> dirs = {"/usr",  "/lib", "/lib32", "/lib64", "/libx32", "/bin", "/sbin",
                                                "/etc",  "/proc", "/sys",  "/dev",  "/run",    "/var/cache"};
  return dirs;
}

bool is_system_path(std::string_view path) {
  if (path == "/") return true;
  if (is_under(path, "/dev/shm")) return false;
  for (const std::string& dir : system_directories())
    if (is_under(path, dir)) return true;
  return false;
}

}  // namespace shmstack
