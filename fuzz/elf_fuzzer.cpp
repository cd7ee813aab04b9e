// libFuzzer target: pack's ELF RPATH/RUNPATH reader on arbitrary bytes. It
// must never crash or read out of bounds (ASan), and what it returns must be
// made of the input's bytes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "archive/elf_rpath.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);  // exact-size allocation
  shmstack::ElfSearchPaths paths = shmstack::read_elf_search_paths(bytes);
  for (const auto* list : {&paths.rpath, &paths.runpath})
    for (const std::string& entry : *list)
      if (entry.size() > size) __builtin_trap();
  return 0;
}
