// One broadcast on a simulated cluster (SimGrid SMPI), one rank per node,
// through the project's own code: mpi_comm (the collectives), bcast_plan
// (the plan, answers and reports, as JSON of their real sizes), chunk_stream
// (the pump and its ring) and mpi_transport (the K-ary tree, MPI_Ibcast).
// What it does mirrors bcast.cpp's run_protocol with every rank a leader:
//
//   node split, leaders' communicator; plan broadcast; answers gathered,
//   all_ok; data communicator, data phase; reports gathered; final all_ok.
//
// Modelled (model.hpp): the archive read at rank 0 and each node's install.
// Not run: the install thread, packing, the file system. Prints one JSON
// object on rank 0 (simulated seconds), read by scripts/bench/bcast-sim.
//
//   sim_bcast --bytes N [--chunk N] [--ring N (0: default_ring)] [--fanout K (0: MPI_Ibcast)]
//             [--two-tree 0|1] [--install-rate BYTES_PER_S (0: instant)] [--fail-rank R]
#include <mpi.h>
#include <simgrid/actor.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "base/error.hpp"
#include "bcast/bcast_plan.hpp"
#include "bcast/chunk_stream.hpp"
#include "bcast/tree_shape.hpp"
#include "bcast/mpi_comm.hpp"
#include "bcast/mpi_transport.hpp"
#include "model.hpp"

namespace {

using namespace shmstack;
using mpi::Comm;

struct Args {
  std::uint64_t bytes = 280ull << 20;
  std::uint64_t chunk = 2 << 20;
  std::uint64_t ring = 4;
  int fanout = 2;
  bool two_tree = false;
  double install_rate = 0;
  int fail_rank = -1;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--bytes") a.bytes = std::strtoull(v, nullptr, 10);
    else if (k == "--chunk") a.chunk = std::strtoull(v, nullptr, 10);
    else if (k == "--ring") a.ring = std::strtoull(v, nullptr, 10);
    else if (k == "--fanout") a.fanout = std::atoi(v);
    else if (k == "--two-tree") a.two_tree = std::atoi(v) != 0;
    else if (k == "--install-rate") a.install_rate = std::strtod(v, nullptr);
    else if (k == "--fail-rank") a.fail_rank = std::atoi(v);
    else throw Error("sim_bcast", "unknown option " + k);
  }
  return a;
}

Plan make_plan(const Args& a, int nodes) {
  Plan plan;
  plan.chunk_bytes = a.chunk;
  plan.ring = a.ring ? a.ring : default_ring(a.two_tree, nodes);  // --ring 0: shmstack's default
  plan.fanout = a.fanout;
  plan.two_tree = a.two_tree;
  StackPlan stack;
  stack.manifest.name = "sci-env";  // the figures of bench/corpus/sci-env
  stack.manifest.id = "0123456789abcdef";
  stack.manifest.entries = 24606;
  stack.manifest.bytes = 712177714;
  stack.manifest.source = "/work/main/bench/corpus/sci-env";
  stack.manifest.created = "2026-12-02T00:00:00Z";
  stack.manifest.host = "n0";
  stack.manifest.tool = "shmstack 0.1.0";
  stack.source = "/shared/stacks/sci-env.shm";
  stack.source_given = stack.source;
  stack.archive_bytes = a.bytes;
  plan.stacks.push_back(stack);
  return plan;
}

// Wall-clock progress on stderr (SIM_TRACE=1): where the simulator's own time goes.
void trace(const char* phase, int rank) {
  static const char* on = std::getenv("SIM_TRACE");
  static auto start = std::chrono::steady_clock::now();
  if (on && rank == 0)
    std::fprintf(stderr, "sim_bcast: %-10s wall %.2f s, simulated %.6f s\n", phase,
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), sim::now());
}

double max_over(double mine, MPI_Comm comm) {
  double all = 0;
  MPI_Allreduce(&mine, &all, 1, MPI_DOUBLE, MPI_MAX, comm);
  return all;
}

long long min_over(long long mine, MPI_Comm comm) {
  long long all = 0;
  MPI_Allreduce(&mine, &all, 1, MPI_LONG_LONG, MPI_MIN, comm);
  return all;
}

int run(int argc, char** argv) {
  Args a = parse(argc, argv);
  Comm world = Comm::world();
  MPI_Barrier(world.get());
  const double t0 = sim::now();
  trace("start", world.rank());
  Comm node = world.split_node();
  bool leader = node.rank() == 0;
  Comm leaders = world.members(leader);
  trace("split", world.rank());
  bool rank0 = world.rank() == 0;
  std::string host = "n" + std::to_string(world.rank());

  // plan
  std::string text;
  Plan plan;
  if (rank0) {
    plan = make_plan(a, world.size());
    text = to_json(plan);
  }
  std::size_t plan_bytes = text.size();
  world.bcast(text, 0);
  if (!rank0) plan = parse_plan(text);
  const double t_plan = sim::now();
  trace("plan", world.rank());

  // control
  NodeAnswer answer;
  answer.host = host;
  answer.needs.assign(1, rank0 ? Need::present : Need::needs);
  if (world.rank() == a.fail_rank) {
    answer.needs[0] = Need::cannot;
    answer.why = host + ": not enough space in /dev/shm/shmstack-sim: needs 769867776 bytes, 1048576 free";
  }
  std::string answer_text = to_json(answer);
  std::size_t problems = 0;
  std::vector<std::string> gathered = leaders.gather(answer_text, 0);
  if (rank0) {
    std::vector<NodeAnswer> answers;
    for (const std::string& t : gathered) answers.push_back(parse_answer(t));
    problems = control_problems(answers).size();
  }
  bool fine = leaders.all_ok(answer.why.empty());
  const double t_control = sim::now();
  trace("control", world.rank());

  // data
  NodeReport report;
  report.host = host;
  report.stacks.resize(1);
  sim::ModelInstall install(plan.ring, a.install_rate);
  double t_pumped = t_control;
  if (fine) {
    bool needs = answer.needs[0] == Need::needs;
    Comm data = leaders.members(needs || rank0);
    StreamShape shape;
    shape.chunk_bytes = plan.chunk_bytes;
    shape.ring = plan.ring;
    shape.known_chunks = chunks_for(plan.stacks[0].archive_bytes, plan.chunk_bytes);
    std::unique_ptr<Transport> transport = mpi::make_transport(data, plan);
    sim::ModelSource source(plan.stacks[0].archive_bytes);
    PumpStats stats = pump_stream(*transport, shape, rank0 ? &source : nullptr, needs ? &install : nullptr);
    t_pumped = sim::now();
    if (std::getenv("SIM_HOLD_AFTER_PUMP")) sg_actor_sleep_for(std::atof(std::getenv("SIM_HOLD_AFTER_PUMP")));
    trace("data", world.rank());
    if (const char* dir = std::getenv("SIM_CHUNK_TIMES_DIR")) {  // diagnostics: when each chunk reached this node
      if (FILE* f = std::fopen((std::string(dir) + "/" + std::to_string(world.rank())).c_str(), "w")) {
        for (double t : install.push_times()) std::fprintf(f, "%.9f\n", t);
        std::fclose(f);
      }
    }
    report.stacks[0].outcome = needs ? (install.finished() ? "installed" : "failed") : "present";
    report.stacks[0].received = stats.bytes;
    report.stacks[0].bytes = 712177714;
    report.stacks[0].entries = 24606;
    report.stacks[0].seconds = needs ? install.done_at() - install.first_at() : 0;
  }
  std::string report_text = to_json(report);
  std::vector<std::string> reports_text = leaders.gather(report_text, 0);
  std::size_t failures = 0;
  if (rank0 && fine) {
    std::vector<NodeReport> reports;
    for (const std::string& r : reports_text) reports.push_back(parse_report(r));
    failures = install_failures(plan, reports).size();
  }
  bool ok = world.all_ok(fine && report.stacks[0].outcome != "failed");
  const double t_end = sim::now();
  trace("outcome", world.rank());

  // Checks and figures, after the timed part.
  MPI_Comm w = world.get();
  bool needs = fine && answer.needs[0] == Need::needs;
  double last_install = max_over(needs ? install.done_at() : 0.0, w) - t0;
  long long got_all = min_over(!needs || (install.finished() && install.in_order() &&
                                          install.bytes() == a.bytes), w);
  long long min_pieces = min_over(needs ? static_cast<long long>(install.pieces()) : (1ll << 62), w);
  // Where SMPI put this rank: rank order must be host order (bcast-sim's host file).
  char name[MPI_MAX_PROCESSOR_NAME] = {};
  int name_length = 0;
  MPI_Get_processor_name(name, &name_length);
  long long in_order = min_over(std::string(name, static_cast<std::size_t>(name_length)) == host, w);
  double control = max_over(t_control, w) - t0;
  double plan_s = max_over(t_plan, w) - t0;
  double pumped = max_over(t_pumped, w) - t0;
  double end = max_over(t_end, w) - t0;
  if (rank0) {
    std::printf("{\"n\": %d, \"bytes\": %llu, \"chunk\": %llu, \"ring\": %llu, \"fanout\": %d, \"two_tree\": %s, "
                "\"install_rate\": %.6g, \"fail_rank\": %d, \"ok\": %s, \"problems\": %zu, \"failures\": %zu, "
                "\"every_node_got_all_in_order\": %s, \"min_chunks\": %lld, \"hosts_in_rank_order\": %s, "
                "\"plan_bytes\": %zu, \"answer_bytes\": %zu, \"report_bytes\": %zu, "
                "\"plan_s\": %.9g, \"control_s\": %.9g, \"last_install_s\": %.9g, \"pumped_s\": %.9g, "
                "\"outcome_s\": %.9g, \"total_s\": %.9g}\n",
                world.size(), static_cast<unsigned long long>(a.bytes), static_cast<unsigned long long>(a.chunk),
                static_cast<unsigned long long>(plan.ring), a.fanout, a.two_tree ? "true" : "false", a.install_rate, a.fail_rank,
                ok ? "true" : "false", problems, failures, got_all ? "true" : "false",
                min_pieces == (1ll << 62) ? 0 : min_pieces, in_order ? "true" : "false", plan_bytes, answer_text.size(), report_text.size(),
                plan_s, control, fine ? last_install : 0.0, pumped, end - pumped, end);
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Not MpiSession: SMPI grants MPI_THREAD_SINGLE only (shmstack asks for
  // FUNNELED because its install runs in other threads; here it is modelled).
  MPI_Init(&argc, &argv);
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  try {
    int rc = run(argc, argv);
    MPI_Finalize();
    return rc;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sim_bcast: error: %s\n", e.what());
    MPI_Abort(MPI_COMM_WORLD, 1);
    return 1;
  }
}
