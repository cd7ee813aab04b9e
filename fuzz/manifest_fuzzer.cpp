// libFuzzer target: a manifest's JSON text as an archive supplies it, with
// hostile sizes and strings. Besides crashes and sanitizer reports, it aborts
// when an accepted manifest breaks what the rest of shmstack relies on:
// counts within their bounds (so sums and a page per entry cannot wrap),
// disk_bytes consistent once manifest_size_problem() passes, a round trip
// through to_json that keeps every field (when its text is UTF-8), and
// printable() text without a control byte.
//
//   build-fuzz/fuzz/manifest_fuzzer -runs=1000000 fuzz/corpus-manifest
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "archive/manifest.hpp"
#include "base/error.hpp"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

void check_printable(const std::string& text) {
  std::string shown = shmstack::printable(text);
  for (std::size_t i = 0; i < shown.size(); ++i) {
    auto c = static_cast<unsigned char>(shown[i]);
    check(c >= 0x20 && c != 0x7f);
    if (c == 0xc2 && i + 1 < shown.size()) {
      auto next = static_cast<unsigned char>(shown[i + 1]);
      check(next < 0x80 || next > 0x9f);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  shmstack::Manifest m;
  try {
    m = shmstack::parse_manifest(text, "fuzz");
  } catch (const shmstack::Error&) {
    return 0;
  }
  check(m.format == shmstack::kManifestFormat);
  check(m.bytes <= shmstack::kMaxStackBytes && m.disk_bytes <= shmstack::kMaxStackBytes);
  check(m.entries <= shmstack::kMaxStackEntries);
  check(shmstack::most_disk_bytes(m) >= m.bytes);
  if (shmstack::manifest_size_problem(m).empty()) {
    check(m.disk_bytes >= m.bytes && m.disk_bytes % shmstack::kPageSize == 0);
    check(m.disk_bytes <= shmstack::most_disk_bytes(m));
  }
  for (const std::string* s : {&m.name, &m.source, &m.created, &m.host, &m.tool}) check_printable(*s);
  if (shmstack::manifest_text_problem(m).empty()) {
    shmstack::Manifest again = shmstack::parse_manifest(shmstack::to_json(m), "fuzz round trip");
    check(again.name == m.name && again.id == m.id && again.entries == m.entries && again.bytes == m.bytes &&
          again.disk_bytes == m.disk_bytes && again.source == m.source && again.host == m.host &&
          again.tool == m.tool && again.created == m.created);
  }
  return 0;
}
