// libFuzzer target: pack's ELF RPATH/RUNPATH reader on arbitrary bytes, and
// the relocation of those search paths that install applies to them. It must
// never crash or read out of bounds (ASan); what the reader returns must be
// made of the input's bytes, and every edit must lie inside the input and
// replace a string with one no longer than it.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "archive/elf_rpath.hpp"
#include "archive/relocation.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);  // exact-size allocation
  shmstack::ElfSearchPaths paths = shmstack::read_elf_search_paths(bytes);
  for (const auto* list : {&paths.rpath, &paths.runpath})
    for (const std::string& entry : *list)
      if (entry.size() > size) __builtin_trap();
  for (const auto& string : paths.strings)
    if (string.offset > size || string.value.size() >= size - string.offset ||
        bytes.compare(string.offset, string.value.size(), string.value) != 0)
      __builtin_trap();
  // "/" as the old prefix: every absolute entry is in it.
  auto moved = shmstack::relocate_search_paths(paths, "lib/python3.11/lib-dynload/x.so", {"/", "/old"});
  for (const auto& edit : moved.edits) {
    if (edit.offset > size || edit.bytes.size() > size - edit.offset) __builtin_trap();
    std::memcpy(bytes.data() + edit.offset, edit.bytes.data(), edit.bytes.size());
  }
  return 0;
}
