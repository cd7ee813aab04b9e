// The RPATH and RUNPATH of an ELF file, read from its bytes (<elf.h> only).
//
// Program headers -> PT_DYNAMIC -> DT_STRTAB, DT_STRSZ, DT_RPATH, DT_RUNPATH;
// the string table's address is mapped to a file offset through the PT_LOAD
// segment that holds it. 64- and 32-bit files of this machine's byte order
// are read; other files are skipped with a reason. Every offset and size is
// checked against the bytes given before it is used: a truncated or hostile
// file gives a reason, never a crash or a read out of bounds.
//
// Each RPATH/RUNPATH string is also reported where it lies in the file, so
// that relocation (relocation.hpp) can rewrite it in place.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace shmstack {

// One DT_RPATH or DT_RUNPATH string as stored (entries joined by ':').
struct ElfSearchString {
  bool runpath = false;      // DT_RUNPATH, else DT_RPATH
  std::uint64_t offset = 0;  // of its first byte in the file; its NUL follows `value`
  std::string value;
  // Another dynamic string (DT_NEEDED, DT_SONAME, another search path...)
  // starts inside this one: a linker may share a string's tail. Rewriting
  // it in place would change that one too.
  bool shared = false;
};

struct ElfSearchPaths {
  bool is_elf = false;        // starts with the ELF magic
  std::string skipped;        // non-empty: an ELF file that could not be read, and why
  std::vector<std::string> rpath, runpath;  // entries, split at ':'
  std::vector<ElfSearchString> strings;     // each distinct string once (RPATH and RUNPATH may share one)
};

ElfSearchPaths read_elf_search_paths(std::string_view bytes);

// The same for a file: maps it (read-only) when it starts with the ELF magic.
// Files that cannot be opened are skipped with the reason.
ElfSearchPaths read_elf_search_paths_file(const std::string& path, std::uint64_t size);

}  // namespace shmstack
