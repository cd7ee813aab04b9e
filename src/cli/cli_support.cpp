#include "cli/cli_support.hpp"

#include <sched.h>

#include <algorithm>
#include <cctype>
#include <iostream>
#include <sstream>
#include <thread>

#include "base/error.hpp"
#include "base/log.hpp"
#include "install/node_root.hpp"

extern char** environ;

namespace shmstack::cli {

std::vector<std::string> current_environment() {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) env.emplace_back(*e);
  return env;
}

std::string help_text(const CommandSpec& spec, const po::options_description& options) {
  std::ostringstream out;
  out << "Usage: shmstack " << spec.usage << "\n\n" << spec.summary << "\n";
  if (spec.details && *spec.details) out << "\n" << spec.details << "\n";
  out << "\n" << options;
  return out.str();
}

namespace {

// Levenshtein distance (words are a few letters long).
std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// "STACK" for the first positional argument's name (the usage line's word).
std::string positional_word(const po::positional_options_description& positional) {
  std::string word = positional.max_total_count() > 0 ? positional.name_for_position(0) : "argument";
  for (char& c : word) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return word;
}

}  // namespace

std::string did_you_mean(const std::string& word, const std::vector<std::string>& choices) {
  std::string best;
  std::size_t best_distance = 3, prefixes = 0;
  std::string prefix_of;
  for (const std::string& choice : choices) {
    if (word.size() >= 2 && choice.compare(0, word.size(), word) == 0) {
      ++prefixes;
      prefix_of = choice;
    }
    std::size_t d = edit_distance(word, choice);
    if (d < best_distance && d < choice.size()) {
      best_distance = d;
      best = choice;
    }
  }
  if (best.empty() && prefixes == 1) best = prefix_of;
  return best.empty() ? "" : "; did you mean '" + best + "'?";
}

bool parse(const CommandSpec& spec, const std::vector<std::string>& args, po::options_description& options,
           const po::options_description& arguments, const po::positional_options_description& positional,
           po::variables_map& vm) {
  options.add_options()("help,h", "show this help and exit");
  options.add_options()("verbose,v", "say what is being done, with timings");
  po::options_description all;
  all.add(options).add(arguments);
  try {
    po::store(po::command_line_parser(args).options(all).positional(positional).run(), vm);
    if (vm.count("help")) {
      std::cout << help_text(spec, options);
      return false;
    }
    po::notify(vm);
  } catch (const po::required_option& e) {
    std::string name = e.get_option_name();  // "--stack"
    std::string bare = name.substr(name.find_first_not_of('-'));
    if (arguments.find_nothrow(bare, false)) {
      for (char& c : bare) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      throw UsageError(std::string(spec.name) + ": missing " + bare + " argument");
    }
    throw UsageError(std::string(spec.name) + ": " + e.what());
  } catch (const po::too_many_positional_options_error&) {
    unsigned most = positional.max_total_count();
    throw UsageError(std::string(spec.name) + ": too many arguments: it takes " +
                     (most == 1 ? "one " : "at most " + std::to_string(most) + " ") + positional_word(positional) +
                     " (usage: shmstack " + spec.usage + ")");
  } catch (const po::error& e) {
    throw UsageError(std::string(spec.name) + ": " + e.what());
  }
  if (vm.count("verbose")) log::set_verbose(true);
  return true;
}

unsigned default_threads(unsigned cap) {
  unsigned n = std::thread::hardware_concurrency();
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
    n = static_cast<unsigned>(CPU_COUNT(&set));
  return std::max(1u, std::min(n, cap));
}

void add_root_option(po::options_description& options) {
  options.add_options()("root", po::value<std::string>()->value_name("DIR"),
                        "stack root on this node (default: $SHMSTACK_ROOT, else /dev/shm)");
}

void add_memory_margin_option(po::options_description& options) {
  options.add_options()("memory-margin", po::value<std::string>()->value_name("SIZE|PCT%"),
                        "memory to leave free in this process's memory cgroup beside the stacks (a stack in "
                        "/dev/shm is memory): like 512M, 1G, 10% (of the stacks' size), or 0 (default: "
                        "$SHMSTACK_MEMORY_MARGIN, else 256M or 10%, whichever is more)");
}

MemoryMargin memory_margin_from(const po::variables_map& vm, const std::string& command) {
  std::optional<std::string> given;
  if (vm.count("memory-margin")) given = vm["memory-margin"].as<std::string>();
  return shmstack::memory_margin_from(given, command);
}

std::string root_from(const po::variables_map& vm) {
  return resolve_root(vm.count("root") ? vm["root"].as<std::string>() : std::string());
}

}  // namespace shmstack::cli
