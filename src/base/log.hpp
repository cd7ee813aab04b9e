// Whole-line diagnostics on stderr.
//
// Every message is formatted first and written with a single write(2), so
// lines from several threads (or ranks sharing a terminal) never interleave.
// When more than one process takes part (set_prefix), lines carry
// "[host:rank]". Nothing here decides policy: callers choose what to say.
#pragma once

#include <string>

namespace shmstack::log {

void set_prefix(std::string prefix);  // e.g. "[node3:5] "; empty by default
void set_verbose(bool on);
bool verbose();

// "shmstack: error: <message>"
void error(const char* format, ...) __attribute__((format(printf, 1, 2)));
// "shmstack: warning: <message>"
void warn(const char* format, ...) __attribute__((format(printf, 1, 2)));
// "shmstack: <message>", only with --verbose
void info(const char* format, ...) __attribute__((format(printf, 1, 2)));

// Writes `text` to stderr in one piece, as is (used by the progress bar).
void raw(const std::string& text);

}  // namespace shmstack::log
