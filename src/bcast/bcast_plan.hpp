// What the broadcast's ranks tell each other, and the decisions rank 0 draws
// from it: plain data and pure functions, tested without MPI.
//
//   Plan        rank 0 -> every rank: the stacks (manifests, where they come
//               from, archive sizes) and how the data phase runs; or the
//               error that stops everyone before any data moves.
//   NodeAnswer  each leader -> rank 0: per stack, present / needs / cannot,
//               and why it cannot (no space, bad root).
//   NodeReport  each leader -> rank 0 at the end: what happened to each stack
//               on that node (installed, skipped, failed and why, how long).
//
// All travel as JSON: they are small, once per run, and readable in a debugger.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "archive/manifest.hpp"
#include "install/install_times.hpp"

namespace shmstack {

struct StackPlan {
  Manifest manifest;
  std::string source;               // the archive or directory, resolved
  std::string source_given;         // as the user wrote it, made absolute
  bool directory = false;           // packed on the fly by rank 0
  std::uint64_t archive_bytes = 0;  // 0 when unknown (packed on the fly, a pipe)
};

struct Plan {
  std::string error;  // set: rank 0 could not plan (every rank exits 1)
  std::vector<StackPlan> stacks;
  std::uint64_t chunk_bytes = 2 << 20;
  std::uint64_t ring = 4;
  int fanout = 2;  // k > 0: a pipelined k-ary tree (the default); 0: MPI_Ibcast
  bool two_tree = false;  // the two-tree instead of the k-ary tree (tree_shape.hpp)
};

enum class Need { present, needs, cannot };

struct NodeAnswer {
  std::string host;
  std::vector<Need> needs;  // per stack
  std::string why;          // when some stack cannot be installed
};

struct StackReport {
  std::string outcome = "skipped";  // "installed", "present", "failed", "skipped"
  std::string error;
  double seconds = 0;  // installing, on this node
  std::uint64_t entries = 0;
  std::uint64_t bytes = 0;
  std::uint64_t received = 0;  // archive bytes this node's leader took from the broadcast
  InstallTimes times;          // where the install's time went (unpack -v's breakdown)
  unsigned threads = 0;        // the install's decoders (and as many writers)
};

struct NodeReport {
  std::string host;
  std::vector<StackReport> stacks;
};

std::string to_json(const Plan& plan);
Plan parse_plan(const std::string& text);
std::string to_json(const NodeAnswer& answer);
NodeAnswer parse_answer(const std::string& text);
std::string to_json(const NodeReport& report);
NodeReport parse_report(const std::string& text);

// What a node's needs add up to: the stacks' tmpfs footprint, their inodes
// (with some slack) and their names ("stack 'a'", "stacks 'a', 'b'"); no
// names when it needs nothing.
struct Needed {
  std::uint64_t bytes = 0;
  std::uint64_t entries = 0;
  std::string names;
};
Needed needed_by(const Plan& plan, const std::vector<Need>& needs);

// The space check of a node for the stacks it needs together: "" when they
// fit in `available` bytes and `free_inodes` (0 inodes: not limited), else
// what is missing, naming the host and both figures.
std::string space_problem(const Plan& plan, const std::vector<Need>& needs, const std::string& host,
                          const std::string& root, std::uint64_t available, std::uint64_t free_inodes);

// Rank 0's lines for the user: one per node that cannot take part, or per
// node and stack that failed ("<host>: <why>"); empty when all went well.
std::vector<std::string> control_problems(const std::vector<NodeAnswer>& answers);
std::vector<std::string> install_failures(const Plan& plan, const std::vector<NodeReport>& reports);

struct StreamTimes {
  double read_seconds = 0;
  double seconds = 0;
  std::uint64_t archive_bytes = 0;
};
// The -v timing summary of stack `index`: bytes, files, nodes, read /
// broadcast / unpack times, throughput and the slowest node; then, for up to
// kNodeLines nodes, one line per node (what it did, what it received).
inline constexpr std::size_t kNodeLines = 32;
std::vector<std::string> stack_summary(const Plan& plan, std::size_t index, const StreamTimes& times,
                                       const std::vector<NodeReport>& reports);

}  // namespace shmstack
