#include "bcast/bcast.hpp"

#include <sys/stat.h>

#include <chrono>
#include <memory>
#include <optional>
#include <thread>

#include "base/cancel.hpp"
#include "bcast/chunk_queue.hpp"
#include "bcast/chunk_stream.hpp"
#include "base/error.hpp"
#include "install/install.hpp"
#include "base/log.hpp"
#include "bcast/mpi_comm.hpp"
#include "bcast/mpi_transport.hpp"
#include "bcast/tree_shape.hpp"
#include "install/node_root.hpp"
#include "archive/leak_scan.hpp"
#include "archive/pack.hpp"
#include "base/path_check.hpp"
#include "bcast/stream_sources.hpp"
#include "archive/tar_reader.hpp"

namespace shmstack {
namespace {

using Clock = std::chrono::steady_clock;
using mpi::Comm;

// What rank 0 reads for one stack: an archive (its first bytes recorded while
// the manifest was read) or a directory to pack on the fly.
struct Input {
  std::unique_ptr<ReplaySource> archive;
  PackOptions pack;
  PackPlan pack_plan;
};

StackPlan plan_stack(const std::string& given, const BcastOptions& options, Input& input) {
  StackPlan stack;
  stack.source_given = lexically_absolute(given);
  struct stat st {};
  if (::stat(given.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    input.pack.dir = given;
    input.pack.threads = options.pack_threads;
    input.pack.level = options.level;
    input.pack.excludes = options.excludes;
    input.pack.old_prefixes = options.old_prefixes;
    input.pack_plan = plan_pack(input.pack);
    if (!input.pack_plan.leaks.empty())
      log::warn("%s: %s; check them with 'shmstack audit'", quote(given).c_str(),
                warn_leaks(input.pack_plan.leaks, input.pack_plan.entries).c_str());
    stack.manifest = input.pack_plan.manifest;
    stack.source = resolved_path(given);
    stack.directory = true;
    return stack;
  }
  auto file = std::make_unique<FileSource>(given);
  std::uint64_t size = file->size_hint();
  Manifest fallback = fallback_manifest(given, *file);
  input.archive = std::make_unique<ReplaySource>(std::move(file));
  {
    TarReader reader(*input.archive, 0);
    archive_entry* first = reader.next_header();
    if (!first) throw Error("cannot read archive " + quote(given), "the archive has no entries");
    std::optional<Manifest> packed = read_manifest_entry(reader, first, given);
    stack.manifest = packed ? std::move(*packed) : std::move(fallback);
  }
  input.archive->rewind();
  stack.source = resolved_path(given);
  stack.archive_bytes = size;
  return stack;
}

Plan make_plan(const BcastOptions& options, int nodes, std::vector<Input>& inputs) {
  Plan plan;
  plan.chunk_bytes = options.chunk_bytes;
  plan.fanout = options.fanout;
  plan.two_tree = options.two_tree.value_or(default_two_tree(nodes));
  plan.ring = options.ring ? options.ring : default_ring(plan.two_tree, nodes);
  try {
    for (const std::string& given : options.stacks) {
      Input input;
      StackPlan stack = plan_stack(given, options, input);
      bool again = false;
      for (const StackPlan& s : plan.stacks) again = again || s.manifest.id == stack.manifest.id;
      if (again) continue;
      plan.stacks.push_back(std::move(stack));
      inputs.push_back(std::move(input));
    }
  } catch (const Error& e) {
    plan.error = e.what();
    plan.stacks.clear();
    inputs.clear();
  }
  return plan;
}

NodeAnswer answer_plan(const Plan& plan, const std::string& root_path, const MemoryMargin& margin) {
  NodeAnswer answer;
  answer.host = host_name();
  answer.needs.assign(plan.stacks.size(), Need::cannot);
  try {
    UserRoot root(root_path, true);
    for (std::size_t i = 0; i < plan.stacks.size(); ++i)
      if (std::optional<InstalledStack> found = root.find(plan.stacks[i].manifest)) {
        log::info("%s", reuse_reason(*found).c_str());
        answer.needs[i] = Need::present;
      } else {
        answer.needs[i] = Need::needs;
      }
    UserRoot::FreeSpace free = root.free_space();
    answer.why = space_problem(plan, answer.needs, answer.host, root.path(), free.bytes, free.inodes);
    Needed needed = needed_by(plan, answer.needs);
    if (answer.why.empty() && !needed.names.empty()) {
      if (std::optional<Error> problem =
              memory_problem(needed.names, answer.host, needed.bytes, margin, caller_memory_left()))
        answer.why = problem->what();
    }
  } catch (const Error& e) {
    answer.why = e.what();
  }
  return answer;
}

// A node's install of one stack, fed by the broadcast through `queue`. The
// destructor stops the queue and joins, so an exception unwinding the
// broadcast also unwinds the install (removing its staging directory).
class InstallThread {
 public:
  InstallThread(ChunkQueue& queue, const StackPlan& stack, const InstallOptions& options) : queue_(queue) {
    thread_ = std::thread([this, &stack, options] { run(stack, options); });
  }
  ~InstallThread() {
    queue_.stop();
    if (thread_.joinable()) thread_.join();
  }
  InstallThread(const InstallThread&) = delete;
  InstallThread& operator=(const InstallThread&) = delete;

  StackReport finish() {
    thread_.join();
    return report_;
  }

 private:
  void run(const StackPlan& stack, const InstallOptions& options) {
    auto start = Clock::now();
    try {
      InstallResult result = install_archive(queue_, stack.manifest, options);
      report_.outcome = result.already_present ? "present" : "installed";
      report_.entries = result.entries;
      report_.bytes = result.bytes;
      report_.times = result.times;
      report_.threads = options.threads;
    } catch (const std::exception& e) {
      report_.outcome = "failed";
      report_.error = e.what();
    }
    report_.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    queue_.stop();  // the rest of the stream is drained without us
  }

  ChunkQueue& queue_;
  StackReport report_;
  std::thread thread_;
};

// Rank 0's pack of a directory into the stream (no file anywhere).
class PackThread {
 public:
  PackThread(const Input& input, std::size_t capacity) : pipe_(input.pack.dir, capacity) {
    thread_ = std::thread([this, &input] {
      try {
        write_archive(input.pack, input.pack_plan, pipe_);
        pipe_.commit();
      } catch (...) {
        pipe_.fail(std::current_exception());
      }
    });
  }
  ~PackThread() {
    pipe_.interrupt();
    thread_.join();
  }
  PackThread(const PackThread&) = delete;
  PackThread& operator=(const PackThread&) = delete;
  ByteSource& source() { return pipe_; }

 private:
  BytePipe pipe_;
  std::thread thread_;
};

// One stack's data phase on a member of its data communicator.
StackReport send_stack(const Comm& data, const Plan& plan, std::size_t index, bool needs, Input* input,
                       const BcastOptions& options, StreamTimes& times) {
  const StackPlan& stack = plan.stacks[index];
  StreamShape shape;
  shape.chunk_bytes = plan.chunk_bytes;
  shape.ring = plan.ring;
  shape.known_chunks = stack.archive_bytes ? chunks_for(stack.archive_bytes, plan.chunk_bytes) : 0;

  std::unique_ptr<Transport> transport = mpi::make_transport(data, plan);
  ChunkQueue queue(stack.source_given, plan.ring, stack.archive_bytes);
  std::optional<InstallThread> install;
  if (needs) {
    InstallOptions install_options;
    install_options.via = "bcast";
    install_options.root = options.root;
    install_options.threads = options.threads;
    install_options.memory_margin = options.memory_margin;
    install_options.archive_path = stack.source;
    install_options.archive_given = stack.source_given;
    install.emplace(queue, stack, install_options);
  }
  std::optional<PackThread> pack;
  ByteSource* source = nullptr;
  if (input && stack.directory) {
    pack.emplace(*input, 4 * plan.chunk_bytes);
    source = &pack->source();
  } else if (input) {
    source = input->archive.get();
  }
  PumpStats stats = pump_stream(*transport, shape, source, needs ? &queue : nullptr);
  times.read_seconds = stats.read_seconds;
  times.seconds = stats.seconds;
  times.archive_bytes = stats.bytes;
  StackReport report;
  report.outcome = "present";  // rank 0 only sends what its node has
  if (install) {
    report = install->finish();
    report.received = stats.bytes;
  }
  if (data.rank() == 0 && !stats.abort_reason.empty() && report.outcome != "failed") {
    report.outcome = "failed";
    report.error = stats.abort_reason;
  }
  return report;
}

BcastOutcome run_protocol(const BcastOptions& options) {
  Comm world = Comm::world();
  Comm node = world.split_node();
  bool leader = node.rank() == 0;
  Comm leaders = world.members(leader);  // the world itself with one rank per node
  bool rank0 = world.rank() == 0;
  BcastOutcome outcome;

  // plan
  std::vector<Input> inputs;
  std::string text;
  if (rank0) {
    outcome.plan = make_plan(options, leaders.size(), inputs);
    text = to_json(outcome.plan);
  }
  world.bcast(text, 0);
  if (!rank0) outcome.plan = parse_plan(text);
  const Plan& plan = outcome.plan;
  if (!plan.error.empty()) {
    if (rank0) outcome.problems.push_back(plan.error);
    return outcome;
  }

  // control
  bool fine = true;
  NodeReport report;
  report.host = host_name();
  report.stacks.resize(plan.stacks.size());
  std::vector<StreamTimes> times(plan.stacks.size());
  if (leader) {
    NodeAnswer answer = answer_plan(plan, options.root, options.memory_margin);
    std::vector<NodeAnswer> answers;
    for (const std::string& a : leaders.gather(to_json(answer), 0)) answers.push_back(parse_answer(a));
    outcome.problems = control_problems(answers);
    fine = leaders.all_ok(answer.why.empty());
    // data
    for (std::size_t i = 0; fine && i < plan.stacks.size(); ++i) {
      bool needs = answer.needs[i] == Need::needs;
      if (!needs) report.stacks[i].outcome = "present";
      Comm data = leaders.members(needs || rank0);  // the leaders themselves unless some node has it
      if (!data.valid() || (data.size() == 1 && !needs)) continue;
      report.stacks[i] = send_stack(data, plan, i, needs, rank0 ? &inputs[i] : nullptr, options, times[i]);
    }
    // outcome
    std::vector<std::string> reports_text = leaders.gather(to_json(report), 0);
    if (rank0 && fine) {
      std::vector<NodeReport> reports;
      for (const std::string& r : reports_text) reports.push_back(parse_report(r));
      outcome.problems = install_failures(plan, reports);
      for (std::size_t i = 0; i < plan.stacks.size(); ++i) {
        std::vector<std::string> lines = stack_summary(plan, i, times[i], reports);
        outcome.summary.insert(outcome.summary.end(), lines.begin(), lines.end());
      }
    }
  }
  bool mine = fine;
  for (const StackReport& s : report.stacks) mine = mine && s.outcome != "failed";
  outcome.ok = world.all_ok(mine);
  return outcome;
}

}  // namespace

BcastOutcome broadcast(const BcastOptions& options) {
  try {
    return run_protocol(options);
  } catch (const Interrupted& e) {
    log::error("interrupted by signal %d; this node's staging was removed, ending the job", e.signal_number());
    mpi::MpiSession::abort(static_cast<int>(ExitCode::interrupted) + e.signal_number());
  } catch (const std::exception& e) {
    // Peers may be waiting in a collective this rank will never reach.
    log::error("%s; ending the job", e.what());
    mpi::MpiSession::abort(static_cast<int>(ExitCode::failure));
  }
}

}  // namespace shmstack
