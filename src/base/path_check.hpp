// Lexical checks on archive entry names and paths (pure functions, no file
// system), and resolved_path(), the one place that asks the file system.
//
// An entry name is accepted only if it stays inside the stack by spelling
// alone: relative, no ".." component, no control characters, not too long.
// Leading "./" and repeated or trailing slashes are normalised away. Whether
// a *parent* is a symlink is decided by the extractor, which knows every path
// it created; this file only looks at the string.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace shmstack {

struct EntryPath {
  std::string path;     // normalised: "a/b/c"; empty means the stack root itself
  std::string problem;  // non-empty when the name is rejected
};

EntryPath normalize_entry_path(std::string_view raw);

// The pieces of `s` between separators, empty ones included ("a::b" -> a, "", b).
std::vector<std::string_view> split(std::string_view s, char separator);

// "a/b/c" -> "a/b"; "a" -> "".
std::string_view parent_of(std::string_view path);

// A stack name as used in directory names: [A-Za-z0-9._+-], not starting with
// '.', at most 100 characters. Returns the problem, or "" when valid.
std::string check_stack_name(std::string_view name);

// Replaces characters not allowed in a name by '_' and drops leading dots;
// "stack" if nothing is left.
std::string sanitize_stack_name(std::string_view raw);

// `path` made absolute against the working directory and normalised ("." and
// ".." removed) as text, without looking anything up.
std::string lexically_absolute(const std::string& path);

// realpath(3) of `path`, or `path` itself when it cannot be resolved.
std::string resolved_path(const std::string& path);

// Derives a stack name from an archive file name: strips the directory and
// the archive suffixes (.tar.lz4, .tar.gz, .tgz, .tar.zst, ...) and replaces
// characters not allowed in a name by '_'.
std::string name_from_archive_path(std::string_view path);

}  // namespace shmstack
