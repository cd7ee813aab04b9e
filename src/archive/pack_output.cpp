#include "archive/pack_output.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/error.hpp"
#include "base/path_check.hpp"
#include "base/path_class.hpp"

namespace shmstack {
namespace {

struct Suffix {
  const char* text;
  const char* format;  // "" when it is pack's own
};

// Longest first where one ends another (".tar.gz" before ".gz").
const Suffix kSuffixes[] = {
    {".tar.lz4", ""},  {".tlz4", ""},         {".lz4", ""},          {".tar.gz", "gzip"},  {".tgz", "gzip"},
    {".gz", "gzip"},   {".tar.bz2", "bzip2"}, {".tbz2", "bzip2"},    {".tbz", "bzip2"},    {".bz2", "bzip2"},
    {".tar.xz", "xz"}, {".txz", "xz"},        {".xz", "xz"},         {".tar.zst", "zstd"}, {".tzst", "zstd"},
    {".zst", "zstd"},  {".zstd", "zstd"},     {".tar.lzma", "lzma"}, {".lzma", "lzma"},    {".tar.Z", "compress"},
    {".zip", "zip"},   {".7z", "7-Zip"},      {".tar", "plain tar"},
};

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() > suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

const Suffix* suffix_of(std::string_view output) {
  std::size_t slash = output.rfind('/');
  std::string_view base = slash == std::string_view::npos ? output : output.substr(slash + 1);
  for (const Suffix& s : kSuffixes)
    if (ends_with(base, s.text)) return &s;
  return nullptr;
}

}  // namespace

std::string foreign_archive_suffix(std::string_view output) {
  const Suffix* s = suffix_of(output);
  return s ? s->format : "";
}

std::string lz4_output_name(std::string_view output) {
  const Suffix* s = suffix_of(output);
  std::string_view stem = s ? output.substr(0, output.size() - std::strlen(s->text)) : output;
  return std::string(stem) + ".tar.lz4";
}

void check_pack_output(const std::string& dir, const std::string& output, bool replace) {
  std::string what = "cannot write the archive " + quote(output);
  std::size_t slash = output.rfind('/');
  std::string parent = slash == std::string::npos ? "." : slash == 0 ? "/" : output.substr(0, slash);
  std::string base = slash == std::string::npos ? output : output.substr(slash + 1);
  struct stat st {};
  bool exists = ::lstat(output.c_str(), &st) == 0;
  struct stat target {};
  if (exists && ::stat(output.c_str(), &target) == 0 && S_ISDIR(target.st_mode)) {
    std::string tree = normalize_path(lexically_absolute(dir));
    std::string name = sanitize_stack_name(tree.substr(tree.rfind('/') + 1));
    throw Error(what, "it is a directory; name the archive file, e.g. -o " +
                          quote(normalize_path(output + "/" + name + ".tar.lz4")));
  }
  struct stat pst {};
  if (::stat(parent.c_str(), &pst) != 0) {
    int e = errno;
    throw Error(what, "its directory " + quote(parent) +
                          (e == ENOENT ? std::string(" does not exist") : ": " + std::string(std::strerror(e))));
  }
  if (!S_ISDIR(pst.st_mode)) throw Error(what, quote(parent) + " is not a directory");
  if (::access(parent.c_str(), W_OK | X_OK) != 0)
    throw Error(what, "cannot create files in " + quote(parent) + ": " + std::strerror(errno));
  if (is_under(normalize_path(resolved_path(parent) + "/" + base), resolved_path(dir)))
    throw Error(what, "it is inside " + quote(dir) + ", the directory being packed; write it elsewhere");
  if (exists && !replace) throw Error(what, "it exists; pass --force to replace it");
}

}  // namespace shmstack
