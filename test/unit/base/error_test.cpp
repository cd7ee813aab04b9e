// Tests error.hpp: quote(), the Error type and its helpers, the exit codes.
#include <doctest/doctest.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"

using shmstack::quote;

namespace {

// Reads quote()'s output back: '...' with \\, \' and \xNN escapes. Returns
// "<malformed>" for anything else, such as a bare quote inside.
std::string unquote(const std::string& quoted) {
  const std::string malformed = "<malformed>";
  if (quoted.size() < 2 || quoted.front() != '\'' || quoted.back() != '\'') return malformed;
  std::string out;
  for (std::size_t i = 1; i + 1 < quoted.size(); ++i) {
    char c = quoted[i];
    if (c == '\'') return malformed;
    if (c != '\\') {
      out += c;
      continue;
    }
    if (i + 2 >= quoted.size()) return malformed;
    char next = quoted[++i];
    if (next == '\\' || next == '\'') {
      out += next;
    } else if (next == 'x' && i + 3 < quoted.size()) {
      out += static_cast<char>(std::stoi(quoted.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      return malformed;
    }
  }
  return out;
}

}  // namespace

TEST_CASE("quote wraps a plain name in single quotes") {
  CHECK(quote("lib/python3.11") == "'lib/python3.11'");
  CHECK(quote("") == "''");
  CHECK(quote("with space") == "'with space'");
}

TEST_CASE("quote escapes control characters as \\xNN") {
  CHECK(quote("a\nb") == "'a\\x0ab'");
  CHECK(quote("tab\there") == "'tab\\x09here'");
  CHECK(quote("\r") == "'\\x0d'");
  CHECK(quote("\x1b[31m") == "'\\x1b[31m'");
  CHECK(quote("del\x7f") == "'del\\x7f'");
  CHECK(quote(std::string_view("nul\0end", 7)) == "'nul\\x00end'");
}

TEST_CASE("quote escapes backslash and single quote") {
  CHECK(quote("back\\slash") == "'back\\\\slash'");
  CHECK(quote("it's") == "'it\\'s'");
  CHECK(quote("\\'") == "'\\\\\\''");
}

TEST_CASE("quote passes UTF-8 through unchanged") {
  CHECK(quote("café/日本") == "'café/日本'");
}

TEST_CASE("quote never emits a control character and can be read back") {
  std::mt19937_64 random(7);
  std::vector<std::string> inputs;
  for (int byte = 0; byte < 256; ++byte) inputs.emplace_back(1, static_cast<char>(byte));
  for (int round = 0; round < 200; ++round) {
    std::string text(random() % 40, '\0');
    for (char& c : text) c = static_cast<char>(random() & 0xFF);
    inputs.push_back(text);
  }
  for (const std::string& input : inputs) {
    std::string quoted = quote(input);
    INFO("quoted as ", quoted);
    bool printable = true;
    for (unsigned char c : quoted) printable = printable && c >= 0x20 && c != 0x7f;
    CHECK(printable);
    CHECK(unquote(quoted) == input);
  }
}

TEST_CASE("Error keeps the operation and the reason") {
  shmstack::Error error("cannot open 'x'", "No such file or directory");
  CHECK(error.operation() == "cannot open 'x'");
  CHECK(error.reason() == "No such file or directory");
  CHECK(std::string(error.what()) == "cannot open 'x': No such file or directory");
  const std::runtime_error& base = error;
  CHECK(std::string(base.what()) == "cannot open 'x': No such file or directory");
}

TEST_CASE("throw_system_error uses strerror of the given errno") {
  try {
    shmstack::throw_system_error("reading the archive", ENOSPC);
    FAIL("throw_system_error returned");
  } catch (const shmstack::Error& error) {
    CHECK(error.operation() == "reading the archive");
    CHECK(error.reason() == std::strerror(ENOSPC));
  }
}

TEST_CASE("throw_errno quotes the path and keeps the current errno") {
  errno = EACCES;
  try {
    shmstack::throw_errno("cannot open", "dir/evil\nname");
    FAIL("throw_errno returned");
  } catch (const shmstack::Error& error) {
    CHECK(error.operation() == "cannot open 'dir/evil\\x0aname'");
    CHECK(error.reason() == std::strerror(EACCES));
  }
}

TEST_CASE("exit codes and Interrupted match the documented values") {
  CHECK(static_cast<int>(shmstack::ExitCode::ok) == 0);
  CHECK(static_cast<int>(shmstack::ExitCode::failure) == 1);
  CHECK(static_cast<int>(shmstack::ExitCode::usage) == 2);
  CHECK(static_cast<int>(shmstack::ExitCode::interrupted) + SIGINT == 130);
  CHECK(static_cast<int>(shmstack::ExitCode::interrupted) + SIGTERM == 143);
  shmstack::Interrupted interrupted(SIGTERM);
  CHECK(interrupted.signal_number() == SIGTERM);
}

TEST_CASE("UsageError is not an Error") {
  bool caught_as_error = false;
  try {
    throw shmstack::UsageError("bad option");
  } catch (const shmstack::Error&) {
    caught_as_error = true;
  } catch (const std::runtime_error& error) {
    CHECK(std::string(error.what()) == "bad option");
  }
  CHECK_FALSE(caught_as_error);
}

TEST_CASE("quote_entry abbreviates a long archive name and says how long it was") {
  CHECK(shmstack::quote_entry("a/b") == "'a/b'");
  std::string long_name(5000, 'x');
  long_name.front() = 'S';
  long_name.back() = 'E';
  std::string quoted = shmstack::quote_entry(long_name, 20);
  CHECK(quoted == "'Sxxxxxxxxx...xxxxxxxxxE' (5000 bytes)");
  CHECK(shmstack::quote_entry("bad\nname", 20) == "'bad\\x0aname'");
}

TEST_CASE("printable escapes C0 and C1 controls, DEL and backslashes, and keeps other UTF-8") {
  CHECK(shmstack::printable("plain /path é") == "plain /path é");
  CHECK(shmstack::printable("a\x1b[2J\nb") == "a\\x1b[2J\\x0ab");
  CHECK(shmstack::printable("x\x7f\\y") == "x\\x7f\\\\y");
  CHECK(shmstack::printable("t\xc2\x9b" "31m") == "t\\u009b31m");
  CHECK(shmstack::printable("\xc2\xa0") == "\xc2\xa0");  // a no-break space is text
}
