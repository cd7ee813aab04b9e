#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <iostream>

#include "cli/cli_support.hpp"
#include "cli/commands.hpp"
#include "base/error.hpp"
#include "install/install.hpp"
#include "install/node_root.hpp"
#include "base/log.hpp"
#include "base/progress.hpp"
#include "archive/tar_reader.hpp"

namespace shmstack::cli {

const CommandSpec kUnpackSpec = {
    "unpack", "unpack STACK... [options]", "Install stack archives on this node.",
    "Each STACK (an archive made by 'shmstack pack', or any tar that libarchive\n"
    "reads: .tar.gz from conda-pack, .tar.zst, .tar) is installed into\n"
    "ROOT/shmstack-<uid>/<name>-<id12>/, where ROOT is --root, else $SHMSTACK_ROOT,\n"
    "else /dev/shm. It is unpacked beside that into a staging directory and renamed\n"
    "into place when complete; on any failure or signal the staging directory is\n"
    "removed. A stack already installed is reused; concurrent installs of the same\n"
    "stack on a node install it once. Prints each stack's installed path.\n\n"
    "A stack in /dev/shm is memory: where this process's memory cgroup (Slurm's\n"
    "ConstrainRAMSpace) cannot hold the stack's size plus --memory-margin, it is\n"
    "refused before anything is written."};

const CommandSpec kInfoSpec = {"info", "info STACK [options]", "Print the manifest of a stack archive.",
                               "Reads only the archive's first entry. Archives without a manifest get one\n"
                               "made up from the file's name and identity (marked synthesized). A STACK that\n"
                               "is not a file but names a stack installed on this node (NAME, NAME-ID12, an id\n"
                               "prefix) shows that install's manifest."};

int cmd_unpack(const Args& args) {
  po::options_description options("Options");
  std::vector<std::string> stacks;
  unsigned threads = default_threads(8);
  po::options_description arguments;
  arguments.add_options()("stack", po::value(&stacks)->required()->value_name("STACK"), "archives to install");
  options.add_options()
      ("threads,j", po::value(&threads)->value_name("T"),
       "decompression threads, and as many file writers (default: all cores, at most 8)")
      ("quiet,q", "no progress bar");
  add_root_option(options);
  add_memory_margin_option(options);
  po::positional_options_description positional;
  positional.add("stack", -1);
  po::variables_map vm;
  if (!parse(kUnpackSpec, args, options, arguments, positional, vm)) return 0;
  if (threads == 0) throw UsageError("unpack: -j must be at least 1");

  InstallOptions install_options;
  install_options.root = root_from(vm);
  install_options.threads = threads;
  install_options.via = "unpack";
  install_options.memory_margin = memory_margin_from(vm, "unpack");
  install_options.progress = Progress::wanted(vm.count("quiet") > 0);
  for (const std::string& stack : stacks) {
    auto start = std::chrono::steady_clock::now();
    InstallResult r = install_file(stack, install_options);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (r.already_present) {
      log::info("%s is already installed in %s", r.stack.manifest.name.c_str(), r.stack.path.c_str());
    } else {
      log::info("installed %s (id %s, %s) in %s: %llu entries, %s in %.2f s", r.stack.manifest.name.c_str(),
                r.stack.manifest.id.c_str(), r.compression.c_str(), r.stack.path.c_str(),
                static_cast<unsigned long long>(r.entries), human_bytes(r.bytes).c_str(), seconds);
      log::info("install %s", describe_times(r.times, threads).c_str());
    }
    std::cout << r.stack.path << "\n";
  }
  return 0;
}

int cmd_info(const Args& args) {
  po::options_description options("Options");
  std::string stack;
  po::options_description arguments;
  arguments.add_options()("stack", po::value(&stack)->required()->value_name("STACK"), "archive to describe");
  options.add_options()("json", "print the manifest as JSON");
  add_root_option(options);
  po::positional_options_description positional;
  positional.add("stack", 1);
  po::variables_map vm;
  if (!parse(kInfoSpec, args, options, arguments, positional, vm)) return 0;

  struct stat st{};
  std::optional<InstalledStack> installed;
  if (::stat(stack.c_str(), &st) != 0 && errno == ENOENT)  // not a file: a stack installed here?
    installed = UserRoot(root_from(vm), false).resolve(stack);
  if (installed) {
    if (vm.count("json")) {
      std::cout << to_json(installed->manifest);
      return 0;
    }
    std::cout << "name:        " << installed->manifest.name << "\n"
              << "id:          " << installed->manifest.id << " (" << installed->manifest.id_basis << ")\n"
              << "entries:     " << installed->manifest.entries << "\n"
              << "size:        " << human_bytes(installed->manifest.bytes) << " (" << human_bytes(installed->manifest.disk_bytes)
              << " on tmpfs)\n"
              << "installed:   " << installed->path << " (" << installed->record.installed << " by "
              << installed->record.via << ")\n"
              << "archive:     " << installed->record.archive << "\n";
    return 0;
  }
  FileSource source(stack);
  TarReader reader(source, 0);
  archive_entry* first = reader.next_header();
  std::optional<Manifest> found = first ? read_manifest_entry(reader, first, stack) : std::nullopt;
  Manifest m = found ? std::move(*found) : synthesize_manifest(stack, source.size_hint(), source.mtime_ns());
  if (vm.count("json")) {
    std::cout << to_json(m);
    return 0;
  }
  auto describe = [](const Activation& a) {
    std::string s = a.kind;
    auto dirs = [&](const char* var, const std::vector<std::string>& v) {
      for (const auto& dir : v) s += std::string(", ") + var + " += <stack>" + (dir == "." ? "" : "/" + dir);
    };
    dirs("PATH", a.path);
    dirs("PYTHONPATH", a.pythonpath);
    dirs("LD_LIBRARY_PATH", a.ld_library_path);
    for (const auto& [var, value] : a.set) s += ", " + var + "=" + value;
    return printable(s);
  };
  // Every string below may come from the archive: printed with controls escaped.
  std::cout << "name:        " << printable(m.name) << "\n"
            << "id:          " << m.id << "\n";
  if (m.synthesized) {
    std::cout << "manifest:    none (synthesized from the archive's name and identity)\n";
  } else {
    std::cout << "entries:     " << m.entries << "\n"
              << "size:        " << human_bytes(m.bytes) << " (" << m.bytes << " bytes; "
              << human_bytes(m.disk_bytes) << " on tmpfs)\n"
              << "memory:      " << human_bytes(m.disk_bytes) << " of memory per node in /dev/shm, once installed\n"
              << "created:     " << printable(m.created) << " on " << printable(m.host) << " by "
              << printable(m.tool) << "\n"
              << "activation:  " << describe(m.activation) << "\n";
  }
  std::cout << "source:      " << printable(m.source) << "\n"
            << "archive:     " << printable(stack) << " (" << human_bytes(source.size_hint()) << ", "
            << reader.compression() << ")\n";
  return 0;
}

}  // namespace shmstack::cli
