// Shared pieces of the sub-commands: option parsing with Boost.Program_options
// and the usage text every command prints for --help.
#pragma once

#include <boost/program_options.hpp>
#include <string>
#include <vector>

#include "install/memory_cgroup.hpp"

namespace shmstack::cli {

namespace po = boost::program_options;

struct CommandSpec {
  const char* name;
  const char* usage;    // "pack DIR -o STACK.tar.lz4 [options]"
  const char* summary;  // one line
  const char* details;  // paragraphs after the usage line, may be ""
};

// Parses `args` (the words after the command name). `options` are listed by
// --help; `arguments` are the positional ones, shown in the usage line only.
// Returns false when --help was given (after printing the help). Throws
// UsageError on bad input.
bool parse(const CommandSpec& spec, const std::vector<std::string>& args, po::options_description& options,
           const po::options_description& arguments, const po::positional_options_description& positional,
           po::variables_map& vm);

std::string help_text(const CommandSpec& spec, const po::options_description& options);

// "; did you mean 'unpack'?" when `word` is a likely typo of one of
// `choices` (at most two edits, or a prefix of exactly one); "" otherwise.
std::string did_you_mean(const std::string& word, const std::vector<std::string>& choices);

// Default for -j: the cores this process may run on, at most `cap` (more
// threads only cost memory once LZ4 and the file system are saturated).
unsigned default_threads(unsigned cap);

// This process's environment as "NAME=VALUE" strings (the input of the pure
// activation functions).
std::vector<std::string> current_environment();

// Options shared by commands that work on a node's stack root.
void add_root_option(po::options_description& options);
std::string root_from(const po::variables_map& vm);

// --memory-margin, for commands that install (memory_cgroup.hpp).
void add_memory_margin_option(po::options_description& options);
MemoryMargin memory_margin_from(const po::variables_map& vm, const std::string& command);

}  // namespace shmstack::cli
