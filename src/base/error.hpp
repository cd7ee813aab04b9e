// The one error type of shmstack, and the exit codes.
//
// Library code never prints and never exits: it throws `Error`, which carries
// what was being done (`what`: an operation and usually a path) and why it
// failed (`why`: strerror, archive_error_string, ...). Exactly one place turns
// an escaped Error into a line on stderr and an exit code: the command-line
// front end (cli.cpp). Usage errors are a distinct type so they map to exit 2.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace shmstack {

enum class ExitCode : int {
  ok = 0,
  failure = 1,
  usage = 2,
  interrupted = 128,  // plus the signal number: 130 for SIGINT, 143 for SIGTERM
};

class Error : public std::runtime_error {
 public:
  Error(std::string what, std::string why)
      : std::runtime_error(what + ": " + why), what_(std::move(what)), why_(std::move(why)) {}
  const std::string& operation() const { return what_; }
  const std::string& reason() const { return why_; }

 private:
  std::string what_;
  std::string why_;
};

// Bad command line: printed like Error, but exits with ExitCode::usage.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The run was stopped by SIGINT or SIGTERM; cleanup has happened by the time
// this reaches main.
class Interrupted : public std::runtime_error {
 public:
  explicit Interrupted(int signal_number)
      : std::runtime_error("interrupted by signal " + std::to_string(signal_number)),
        signal_(signal_number) {}
  int signal_number() const { return signal_; }

 private:
  int signal_;
};

// Throws Error(what, strerror(errno_value)).
[[noreturn]] void throw_system_error(std::string what, int errno_value);

// Throws Error(what + " " + quoted path, strerror(errno)) using the current errno.
[[noreturn]] void throw_errno(std::string_view operation, std::string_view path);

// A path or archive entry name made safe to print on one line: control
// characters and backslashes are escaped, the result is single-quoted.
std::string quote(std::string_view path);
// Text from an archive (a manifest's source, host, tool...) made safe to
// print: like quote() without the quotes. C0 controls, DEL and backslashes
// are escaped (\xNN, \\), and so are C1 controls (U+0080..U+009F, which
// some terminals obey), so no escape sequence or forged line gets through.
std::string printable(std::string_view text);
// quote() for a name from an archive, which may be up to PATH_MAX long: past
// `max` characters, its start and end around "...", and its length.
std::string quote_entry(std::string_view path, std::size_t max = 160);

}  // namespace shmstack
