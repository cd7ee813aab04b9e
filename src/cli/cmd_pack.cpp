#include <chrono>
#include <iostream>

#include "archive/activation.hpp"
#include "archive/leak_scan.hpp"
#include "archive/pack.hpp"
#include "archive/pack_output.hpp"
#include "base/error.hpp"
#include "base/log.hpp"
#include "base/path_check.hpp"
#include "base/progress.hpp"
#include "cli/cli_support.hpp"
#include "cli/commands.hpp"

namespace shmstack::cli {

const CommandSpec kPackSpec = {
    "pack", "pack DIR -o STACK.tar.lz4 [options]", "Pack a directory into a stack archive.",
    "The archive is a pax tar stream in independent LZ4 frames, each followed by\n"
    "an integrity trailer; 'lz4 -dc STACK | tar -x' and 'bsdtar -xf STACK' read it\n"
    "too. Its first entry, .shmstack/manifest.json, names the stack and records\n"
    "its id (XXH3 of every entry's path, type, mode, size, mtime, link target and\n"
    "contents, and of the activation and relocation settings), size and activation. mtimes are kept to the nanosecond; owners are\n"
    "not kept. The output appears under its name only when complete, and is\n"
    "checked before anything is read: not a directory, not inside DIR, not an\n"
    "existing file (unless --force), and not named for another compression\n"
    "(.tar.gz, .tgz, .tar.zst, .tar.xz, .tar.bz2, .tar, ...): name it .tar.lz4.\n"
    "pack warns about leaks it can see: .pth lines and pyvenv.cfg values naming\n"
    "absolute paths outside the stack, ELF RPATH/RUNPATH entries that are absolute\n"
    "and outside the stack, symlinks leaving the stack, scripts whose shebang runs\n"
    "an interpreter outside it; one line per place named, with the remedy\n"
    "(--old-prefix where the tree was built elsewhere), each one with -v. A venv's\n"
    "interpreter and standard library stay outside the stack, in its pyvenv.cfg\n"
    "home: pack says so. System directories (/usr, /lib*, /etc, ...) do not count.\n"
    "--strict makes them errors.\n"
    "Relocation: text files and symlinks that name DIR (or an --old-prefix) are\n"
    "rewritten to the install path when the stack is installed; ELF RPATH/RUNPATH\n"
    "entries there become $ORIGIN-relative (in place: where the new string is\n"
    "longer, pack warns instead)."};

namespace {

// One line per place the leaks name (each leak with -v), then a summary; with --strict, an error.
void report_leaks(const PackPlan& plan, const std::string& dir, bool strict) {
  if (plan.leaks.empty()) return;
  std::string summary = warn_leaks(plan.leaks, plan.entries);
  if (strict) throw Error("cannot pack " + quote(dir), summary + "; --strict: no archive written");
  log::warn("%s; check them with 'shmstack audit', or make them errors with --strict", summary.c_str());
}

}  // namespace

int cmd_pack(const Args& args) {
  po::options_description options("Options");
  std::string dir, output, name;
  unsigned threads = default_threads(16);
  int level = 1;
  std::vector<std::string> excludes, old_prefixes;
  ActivationOverrides overrides;
  std::vector<std::string> sets;
  po::options_description arguments;
  arguments.add_options()("dir", po::value(&dir)->required()->value_name("DIR"), "directory to pack");
  options.add_options()
      ("output,o", po::value(&output)->required()->value_name("STACK.tar.lz4"), "archive to write")
      ("name", po::value(&name)->value_name("N"), "stack name (default: DIR's base name)")
      ("threads,j", po::value(&threads)->value_name("T"), "threads that list the tree, read it (relocation and leak scans, digests) and compress it (default: all cores, at most 16); from 4 on, one more per 4 reads small files ahead")
      ("level", po::value(&level)->value_name("L"),
       "LZ4 level: 1 fast (default), 3-12 high compression, negative = faster")
      ("exclude", po::value(&excludes)->composing()->value_name("GLOB"),
       "skip matching entries (repeatable), as .gitignore does: a GLOB with '/' matches the "
       "relative path, otherwise each name; 'tests/' only directories, '/build' only at the top")
      ("old-prefix", po::value(&old_prefixes)->composing()->value_name("PREFIX"),
       "the tree was built or installed in PREFIX and copied to DIR: relocate what names PREFIX "
       "as what names DIR (repeatable)")
      ("force,f", "replace STACK.tar.lz4 if it exists")
      ("quiet,q", "no progress bar")
      ("strict", "make the leak warnings errors: exit 1 and write no archive")
      ("activate-as", po::value(&overrides.kind)->value_name("KIND"),
       "activation kind instead of the detected one: prefix (PATH+=bin), target (PYTHONPATH+=.), plain")
      ("path", po::value(&overrides.path)->composing()->value_name("REL"), "also prepend DIR/REL to PATH (repeatable)")
      ("pythonpath", po::value(&overrides.pythonpath)->composing()->value_name("REL"),
       "also prepend DIR/REL to PYTHONPATH (repeatable; '.' is the stack itself)")
      ("ld-library-path", po::value(&overrides.ld_library_path)->composing()->value_name("REL"),
       "also prepend DIR/REL to LD_LIBRARY_PATH (repeatable)")
      ("set", po::value(&sets)->composing()->value_name("VAR=VALUE"),
       "also set VAR; '{prefix}' in VALUE becomes the installed path (repeatable)");
  po::positional_options_description positional;
  positional.add("dir", 1);
  po::variables_map vm;
  if (!parse(kPackSpec, args, options, arguments, positional, vm)) return 0;
  if (threads == 0) throw UsageError("pack: -j must be at least 1");
  if (std::string format = foreign_archive_suffix(output); !format.empty())
    throw UsageError("pack: -o " + quote(output) + " says " + format + ", but pack writes LZ4 frames: name it " +
                     quote(lz4_output_name(output)));
  if (level < -100 || level > 12) throw UsageError("pack: --level must be between -100 and 12");
  if (std::string problem = check_stack_name(name); !name.empty() && !problem.empty())
    throw UsageError("pack: invalid --name " + quote(name) + ": " + problem);

  for (const std::string& assignment : sets) {
    std::size_t eq = assignment.find('=');
    std::string var = assignment.substr(0, eq);
    if (eq == std::string::npos || !is_env_name(var))
      throw UsageError("pack: --set wants VAR=VALUE, got " + quote(assignment));
    overrides.set.emplace_back(var, assignment.substr(eq + 1));
  }
  if (!overrides.kind.empty() && overrides.kind != "prefix" && overrides.kind != "target" && overrides.kind != "plain")
    throw UsageError("pack: --activate-as is prefix, target or plain, not " + quote(overrides.kind));
  for (const std::string& prefix : old_prefixes)
    if (prefix.size() < 2 || prefix[0] != '/') throw UsageError("pack: --old-prefix wants an absolute path other than /, got " + quote(prefix));
  PackOptions pack_options{dir,          name, threads, level, excludes,
                           old_prefixes, Progress::wanted(vm.count("quiet") > 0), overrides};
  bool force = vm.count("force") > 0;
  check_pack_output(dir, output, force);
  auto start = std::chrono::steady_clock::now();
  PackPlan plan = plan_pack(pack_options);
  report_leaks(plan, dir, vm.count("strict") > 0);
  FileSink sink(output, force);
  std::uint64_t size = write_archive(pack_options, plan, sink);
  sink.commit();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  log::info("packed %s (id %s): %llu entries, %s -> %s in %.2f s", plan.manifest.name.c_str(),
            plan.manifest.id.c_str(), static_cast<unsigned long long>(plan.manifest.entries),
            human_bytes(plan.manifest.bytes).c_str(), human_bytes(size).c_str(), seconds);
  return 0;
}

}  // namespace shmstack::cli
