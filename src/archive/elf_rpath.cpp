#include "archive/elf_rpath.hpp"

#include <elf.h>
#include <endian.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "base/path_check.hpp"
#include "base/regular_file.hpp"

namespace shmstack {
namespace {

struct Elf64 {
  using Ehdr = Elf64_Ehdr;
  using Phdr = Elf64_Phdr;
  using Dyn = Elf64_Dyn;
};
struct Elf32 {
  using Ehdr = Elf32_Ehdr;
  using Phdr = Elf32_Phdr;
  using Dyn = Elf32_Dyn;
};

// `count` objects of `size` bytes at `offset` lie inside `total` bytes.
bool fits(std::uint64_t offset, std::uint64_t count, std::uint64_t size, std::uint64_t total) {
  if (offset > total) return false;
  if (size != 0 && count > (total - offset) / size) return false;
  return true;
}

template <typename T>
T load(std::string_view bytes, std::uint64_t offset) {
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof value);  // unaligned-safe
  return value;
}

void split_into(std::string_view list, std::vector<std::string>& out) {
  for (std::string_view entry : split(list, ':'))
    if (!entry.empty()) out.emplace_back(entry);
}

template <typename E>
ElfSearchPaths read_class(std::string_view bytes) {
  ElfSearchPaths result;
  result.is_elf = true;
  const std::uint64_t total = bytes.size();
  if (total < sizeof(typename E::Ehdr)) {
    result.skipped = "truncated ELF header";
    return result;
  }
  auto eh = load<typename E::Ehdr>(bytes, 0);
  if (eh.e_phnum == 0) return result;  // e.g. a relocatable object: no dynamic section to follow
  if (eh.e_phentsize != sizeof(typename E::Phdr) || !fits(eh.e_phoff, eh.e_phnum, sizeof(typename E::Phdr), total)) {
    result.skipped = "program headers out of bounds";
    return result;
  }
  std::vector<typename E::Phdr> loads;
  bool have_dynamic = false;
  typename E::Phdr dynamic{};
  for (std::uint64_t i = 0; i < eh.e_phnum; ++i) {
    auto ph = load<typename E::Phdr>(bytes, eh.e_phoff + i * sizeof(typename E::Phdr));
    if (ph.p_type == PT_LOAD) loads.push_back(ph);
    if (ph.p_type == PT_DYNAMIC && !have_dynamic) {
      dynamic = ph;
      have_dynamic = true;
    }
  }
  if (!have_dynamic) return result;  // static: no search paths
  if (!fits(dynamic.p_offset, 1, dynamic.p_filesz, total)) {
    result.skipped = "dynamic section out of bounds";
    return result;
  }
  std::uint64_t strtab_address = 0, strsz = 0;
  bool have_strtab = false;
  std::vector<std::uint64_t> rpaths, runpaths, others;  // string offsets
  std::uint64_t entries = dynamic.p_filesz / sizeof(typename E::Dyn);
  for (std::uint64_t i = 0; i < entries; ++i) {
    auto d = load<typename E::Dyn>(bytes, dynamic.p_offset + i * sizeof(typename E::Dyn));
    if (d.d_tag == DT_NULL) break;
    if (d.d_tag == DT_STRTAB) {
      strtab_address = d.d_un.d_ptr;
      have_strtab = true;
    }
    if (d.d_tag == DT_STRSZ) strsz = d.d_un.d_val;
    if (d.d_tag == DT_RPATH) rpaths.push_back(d.d_un.d_val);
    if (d.d_tag == DT_RUNPATH) runpaths.push_back(d.d_un.d_val);
    if (d.d_tag == DT_NEEDED || d.d_tag == DT_SONAME || d.d_tag == DT_AUXILIARY || d.d_tag == DT_FILTER ||
        d.d_tag == DT_CONFIG || d.d_tag == DT_DEPAUDIT || d.d_tag == DT_AUDIT)
      others.push_back(d.d_un.d_val);
  }
  if (rpaths.empty() && runpaths.empty()) return result;
  if (!have_strtab) {
    result.skipped = "RPATH/RUNPATH without a string table";
    return result;
  }
  std::uint64_t strtab_offset = 0;
  bool mapped = false;
  for (const auto& ph : loads) {
    if (strtab_address >= ph.p_vaddr && strtab_address - ph.p_vaddr < ph.p_filesz) {
      strtab_offset = ph.p_offset + (strtab_address - ph.p_vaddr);
      std::uint64_t in_segment = ph.p_filesz - (strtab_address - ph.p_vaddr);
      if (strsz == 0 || strsz > in_segment) strsz = in_segment;
      mapped = true;
      break;
    }
  }
  if (!mapped || !fits(strtab_offset, 1, strsz, total)) {
    result.skipped = "string table out of bounds";
    return result;
  }
  std::string_view strtab = bytes.substr(strtab_offset, strsz);
  auto string_at = [&](std::uint64_t offset, bool runpath) {
    if (offset >= strtab.size()) {
      result.skipped = "RPATH/RUNPATH string out of bounds";
      return;
    }
    std::string_view rest = strtab.substr(offset);
    std::size_t end = rest.find('\0');
    if (end == std::string_view::npos) {
      result.skipped = "RPATH/RUNPATH string not terminated";
      return;
    }
    split_into(rest.substr(0, end), runpath ? result.runpath : result.rpath);
    for (const ElfSearchString& known : result.strings)
      if (known.offset == strtab_offset + offset) return;
    ElfSearchString string;
    string.runpath = runpath;
    string.offset = strtab_offset + offset;
    string.value = std::string(rest.substr(0, end));
    auto starts_inside = [&](std::uint64_t other) { return other > offset && other < offset + end; };
    string.shared = std::any_of(others.begin(), others.end(), starts_inside) ||
                    std::any_of(rpaths.begin(), rpaths.end(), starts_inside) ||
                    std::any_of(runpaths.begin(), runpaths.end(), starts_inside);
    result.strings.push_back(std::move(string));
  };
  for (std::uint64_t offset : rpaths) string_at(offset, false);
  for (std::uint64_t offset : runpaths) string_at(offset, true);
  return result;
}

}  // namespace

ElfSearchPaths read_elf_search_paths(std::string_view bytes) {
  ElfSearchPaths result;
  if (bytes.size() < EI_NIDENT || std::memcmp(bytes.data(), ELFMAG, SELFMAG) != 0) return result;
  result.is_elf = true;
  int native = __BYTE_ORDER == __LITTLE_ENDIAN ? ELFDATA2LSB : ELFDATA2MSB;
  if (bytes[EI_DATA] != native) {
    result.skipped = "byte order of another machine";
    return result;
  }
  if (bytes[EI_CLASS] == ELFCLASS64) return read_class<Elf64>(bytes);
  if (bytes[EI_CLASS] == ELFCLASS32) return read_class<Elf32>(bytes);
  result.skipped = "unknown ELF class";
  return result;
}

ElfSearchPaths read_elf_search_paths_file(const std::string& path, std::uint64_t size) {
  ElfSearchPaths result;
  if (size < EI_NIDENT) return result;
  std::string problem;
  int fd = open_regular(AT_FDCWD, path, O_NOFOLLOW, problem);
  if (fd < 0) {
    result.is_elf = true;
    result.skipped = "cannot open: " + problem;
    return result;
  }
  char magic[SELFMAG];
  if (::pread(fd, magic, sizeof magic, 0) != SELFMAG || std::memcmp(magic, ELFMAG, SELFMAG) != 0) {
    ::close(fd);
    return result;
  }
  // The size from the walk: a file that shrank since reads as SIGBUS past its
  // end, so map no more than fstat says now.
  off_t now = ::lseek(fd, 0, SEEK_END);
  std::uint64_t length = now > 0 ? std::min<std::uint64_t>(size, static_cast<std::uint64_t>(now)) : 0;
  void* map = length > 0 ? ::mmap(nullptr, length, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
  ::close(fd);
  if (map == MAP_FAILED) {
    result.is_elf = true;
    result.skipped = "cannot map";
    return result;
  }
  result = read_elf_search_paths(std::string_view(static_cast<const char*>(map), length));
  ::munmap(map, length);
  return result;
}

}  // namespace shmstack
