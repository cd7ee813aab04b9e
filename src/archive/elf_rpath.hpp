// The RPATH and RUNPATH of an ELF file, read from its bytes (<elf.h> only).
//
// Program headers -> PT_DYNAMIC -> DT_STRTAB, DT_STRSZ, DT_RPATH, DT_RUNPATH;
// the string table's address is mapped to a file offset through the PT_LOAD
// segment that holds it. 64- and 32-bit files of this machine's byte order
// are read; other files are skipped with a reason. Every offset and size is
// checked against the bytes given before it is used: a truncated or hostile
// file gives a reason, never a crash or a read out of bounds.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace shmstack {

struct ElfSearchPaths {
  bool is_elf = false;        // starts with the ELF magic
  std::string skipped;        // non-empty: an ELF file that could not be read, and why
  std::vector<std::string> rpath, runpath;  // entries, split at ':'
};

ElfSearchPaths read_elf_search_paths(std::string_view bytes);

// The same for a file: maps it (read-only) when it starts with the ELF magic.
// Files that cannot be opened are skipped with the reason.
ElfSearchPaths read_elf_search_paths_file(const std::string& path, std::uint64_t size);

}  // namespace shmstack
