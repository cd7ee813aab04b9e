#include <unistd.h>

#include <ctime>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/cli_support.hpp"
#include "cli/commands.hpp"
#include "base/error.hpp"
#include "install/gc.hpp"
#include "base/log.hpp"
#include "install/node_root.hpp"
#include "base/path_check.hpp"
#include "base/progress.hpp"

namespace shmstack::cli {

const CommandSpec kListSpec = {"list", "list [options]", "List the stacks installed on this node.",
                               "SIZE is the bytes of the stack's files, MEMORY what they take in the tmpfs\n"
                               "(whole pages): memory of the node, charged to the memory cgroup of the\n"
                               "process that installed them."};

const CommandSpec kRmSpec = {
    "rm", "rm NAME|ID|ARCHIVE... [options]", "Remove installed stacks from this node.",
    "NAME, or the path of the archive they came from, removes every installed stack\n"
    "it names; ID (a prefix of at least 4 hex digits, or NAME-ID12 as 'list' prints\n"
    "it) removes one. A stack being installed or removed by another process is\n"
    "waited for. A stack in use by a program started with 'shmstack exec' (or run)\n"
    "is not removed: rm fails naming its pids, unless --force."};

const CommandSpec kGcSpec = {
    "gc", "gc [options]", "Remove what interrupted work left in this node's stack root.",
    "Removes abandoned staging and removal directories, and stacks whose install\n"
    "died before it completed; with --older-than, also installed stacks installed\n"
    "more than DAYS days ago (0 to 100000). Never touches a stack that another\n"
    "process is installing or removing (its lock is held, whatever PID namespace\n"
    "that process runs in), nor one in use by a program started with\n"
    "'shmstack exec'. Prints what it removes."};

namespace {

std::string age(std::int64_t since) {
  std::int64_t s = static_cast<std::int64_t>(std::time(nullptr)) - since;
  if (s < 0) s = 0;
  if (s < 120) return std::to_string(s) + "s";
  if (s < 7200) return std::to_string(s / 60) + "m";
  if (s < 172800) return std::to_string(s / 3600) + "h";
  return std::to_string(s / 86400) + "d";
}

}  // namespace

int cmd_list(const Args& args) {
  po::options_description options("Options");
  options.add_options()("json", "print a JSON array");
  add_root_option(options);
  po::variables_map vm;
  if (!parse(kListSpec, args, options, {}, {}, vm)) return 0;

  UserRoot root(root_from(vm), false);
  std::vector<InstalledStack> stacks = root.list();
  if (vm.count("json")) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const InstalledStack& s : stacks) {
      out.push_back({{"name", s.manifest.name},
                     {"id", s.manifest.id},
                     {"path", s.path},
                     {"entries", s.manifest.entries},
                     {"bytes", s.manifest.bytes},
                     {"memory_bytes", s.manifest.disk_bytes},
                     {"source", s.manifest.source},
                     {"archive", s.record.archive},
                     {"job_id", s.record.job_id},
                     {"via", s.record.via},
                     {"installed", s.record.installed}});
    }
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  if (stacks.empty()) {
    std::cerr << "no stacks installed in " << root.path() << "\n";
    return 0;
  }
  std::printf("%-24s %-12s %10s %10s %8s %5s  %s\n", "NAME", "ID", "SIZE", "MEMORY", "FILES", "AGE", "SOURCE");
  for (const InstalledStack& s : stacks) {
    // name and source come from the archive: printed with controls escaped
    std::printf("%-24s %-12s %10s %10s %8llu %5s  %s\n", printable(s.manifest.name).c_str(), s.manifest.id12().c_str(),
                human_bytes(s.manifest.bytes).c_str(), human_bytes(s.manifest.disk_bytes).c_str(),
                static_cast<unsigned long long>(s.manifest.entries),
                age(s.record.installed_epoch).c_str(), printable(s.manifest.source).c_str());
  }
  return 0;
}

int cmd_gc(const Args& args) {
  po::options_description options("Options");
  double days = -1;
  options.add_options()
      ("older-than", po::value(&days)->value_name("DAYS"), "also remove stacks installed more than DAYS days ago")
      ("dry-run,n", "only print what would be removed");
  add_root_option(options);
  po::variables_map vm;
  if (!parse(kGcSpec, args, options, {}, {}, vm)) return 0;
  std::optional<std::int64_t> older;
  if (vm.count("older-than") && !(older = gc_age_seconds(days)))
    throw UsageError("gc: --older-than wants a number of days from 0 to " +
                     std::to_string(static_cast<long>(kMaxGcDays)));

  UserRoot root(root_from(vm), false);
  bool dry = vm.count("dry-run") > 0;
  for (const GcItem& item : collect_garbage(root, older, dry))
    std::cout << (dry ? "would remove " : "removed ") << item.path << " (" << item.why << ")\n";
  return 0;
}

int cmd_rm(const Args& args) {
  po::options_description options("Options");
  std::vector<std::string> keys;
  po::options_description arguments;
  arguments.add_options()("stack", po::value(&keys)->required()->value_name("NAME|ID|ARCHIVE"), "stacks to remove");
  options.add_options()("force,f", "remove stacks even while programs started with 'shmstack exec' use them");
  add_root_option(options);
  po::positional_options_description positional;
  positional.add("stack", -1);
  po::variables_map vm;
  if (!parse(kRmSpec, args, options, arguments, positional, vm)) return 0;
  bool force = vm.count("force") > 0;

  UserRoot root(root_from(vm), false);
  std::vector<InstalledStack> stacks = root.list();
  for (const std::string& key : keys) {
    bool any = false;
    std::string absolute_key = lexically_absolute(key);
    for (const InstalledStack& s : stacks) {
      if (!stack_matches(s, key, absolute_key)) continue;
      any = true;
      StackLock lock(root, s.manifest.id12());
      RemovalGuard guard(root, s.manifest.id12());
      if (guard.in_use() && !force)
        throw Error("cannot remove " + quote(s.path), "in use by " + guard.holders() +
                                                          " (started with 'shmstack exec'); wait for it to end, or "
                                                          "use --force");
      if (remove_stack(root, s.dir_name)) log::info("removed %s", s.path.c_str());  // else: someone else did
    }
    if (!any) throw Error("cannot remove " + quote(key), "no installed stack matches it in " + quote(root.path()));
  }
  return 0;
}

}  // namespace shmstack::cli
