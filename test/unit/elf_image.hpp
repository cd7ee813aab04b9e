// ELF images for tests: a minimal shared object with a given RPATH and
// RUNPATH, as the linker would lay one out, written here byte by byte.
#pragma once

#include <elf.h>

#include <cstddef>
#include <cstring>
#include <string>

namespace shmstack::test {

template <typename T>
inline void put(std::string& image, std::size_t offset, const T& value) {
  if (image.size() < offset + sizeof value) image.resize(offset + sizeof value);
  std::memcpy(image.data() + offset, &value, sizeof value);
}

// field = value, narrowed to the field's type (32-bit images).
template <typename F>
inline void set(F& field, std::size_t value) {
  field = static_cast<F>(value);
}

// A minimal shared object: header, PT_LOAD over the whole file, PT_DYNAMIC,
// the dynamic entries, then the string table. `needed_inside` > 0: also a DT_NEEDED that starts that many bytes into the
// RUNPATH string (a linker sharing a string's tail).
template <typename Ehdr, typename Phdr, typename Dyn>
std::string make_elf(unsigned char elf_class, const std::string& rpath, const std::string& runpath,
                     std::size_t needed_inside = 0) {
  std::string strtab = std::string(1, '\0') + rpath + '\0' + runpath + '\0';
  std::size_t phoff = sizeof(Ehdr), dynoff = phoff + 2 * sizeof(Phdr), ndyn = 6;
  std::size_t stroff = dynoff + ndyn * sizeof(Dyn), total = stroff + strtab.size();
  std::string image(total, '\0');
  Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = elf_class;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_type = ET_DYN;
  set(eh.e_phoff, phoff);
  eh.e_phentsize = sizeof(Phdr);
  eh.e_phnum = 2;
  put(image, 0, eh);
  Phdr load{};
  load.p_type = PT_LOAD;
  load.p_vaddr = 0x1000;  // file offset + 0x1000
  set(load.p_filesz, total);
  set(load.p_memsz, total);
  put(image, phoff, load);
  Phdr dyn{};
  dyn.p_type = PT_DYNAMIC;
  set(dyn.p_offset, dynoff);
  set(dyn.p_filesz, ndyn * sizeof(Dyn));
  put(image, phoff + sizeof(Phdr), dyn);
  Dyn entries[6] = {};
  entries[0].d_tag = DT_STRTAB;
  set(entries[0].d_un.d_ptr, 0x1000 + stroff);
  entries[1].d_tag = DT_STRSZ;
  set(entries[1].d_un.d_val, strtab.size());
  entries[2].d_tag = DT_RPATH;
  entries[2].d_un.d_val = 1;
  entries[3].d_tag = DT_RUNPATH;
  set(entries[3].d_un.d_val, 1 + rpath.size() + 1);
  entries[4].d_tag = needed_inside ? DT_NEEDED : DT_DEBUG;
  set(entries[4].d_un.d_val, 1 + rpath.size() + 1 + needed_inside);
  entries[5].d_tag = DT_NULL;
  for (std::size_t i = 0; i < ndyn; ++i) put(image, dynoff + i * sizeof(Dyn), entries[i]);
  std::memcpy(image.data() + stroff, strtab.data(), strtab.size());
  return image;
}

inline std::string elf64(const std::string& rpath, const std::string& runpath, std::size_t needed_inside = 0) {
  return make_elf<Elf64_Ehdr, Elf64_Phdr, Elf64_Dyn>(ELFCLASS64, rpath, runpath, needed_inside);
}

}  // namespace shmstack::test
