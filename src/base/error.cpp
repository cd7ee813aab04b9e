#include "base/error.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace shmstack {

void throw_system_error(std::string what, int errno_value) {
  throw Error(std::move(what), std::strerror(errno_value));
}

void throw_errno(std::string_view operation, std::string_view path) {
  int saved = errno;
  throw_system_error(std::string(operation) + " " + quote(path), saved);
}

std::string quote(std::string_view path) {
  std::string out = "'";
  for (unsigned char c : path) {
    if (c == '\\' || c == '\'') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '\'';
  return out;
}

std::string printable(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    unsigned char next = i + 1 < text.size() ? static_cast<unsigned char>(text[i + 1]) : 0;
    char buf[16];
    if (c == '\\') {
      out += "\\\\";
    } else if (c < 0x20 || c == 0x7f) {
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else if (c == 0xc2 && next >= 0x80 && next <= 0x9f) {  // a C1 control in UTF-8
      std::snprintf(buf, sizeof buf, "\\u%04x", next);
      out += buf;
      ++i;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string quote_entry(std::string_view path, std::size_t max) {
  if (path.size() <= max) return quote(path);
  std::size_t half = max / 2;
  return quote(std::string(path.substr(0, half)) + "..." + std::string(path.substr(path.size() - half))) + " (" +
         std::to_string(path.size()) + " bytes)";
}

}  // namespace shmstack
