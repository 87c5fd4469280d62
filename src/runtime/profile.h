// Per-op timing of graph evaluations: wall time per computed node, summed per op type and per
// node name, to show which op or path of a model costs the time.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "backends/cpu/cpu_backend.h"
#include "graph/tensor.h"

namespace hllm {

// Time spent in one op type or one node name over every recorded evaluation.
struct ProfileEntry {
  std::string name;         // op name ("mul_mat") or profile_node_name ("ffn_up")
  std::string op;           // the op name, also for node entries
  int64_t nanoseconds = 0;  // summed wall time
  int64_t calls = 0;        // nodes computed
  double share = 0.0;       // nanoseconds / ProfileSummary::total_nanoseconds, 0 to 1
};

struct ProfileSummary {
  int64_t total_nanoseconds = 0;    // every timed node
  std::vector<ProfileEntry> ops;    // per op type, most time first
  std::vector<ProfileEntry> nodes;  // per node name, layers merged, most time first
};

// Collects node times from a NodeTimer. Not thread-safe: the CPU backend calls the timer on the
// thread that runs compute(), one node after another.
class OpProfile {
 public:
  // Adds one computed node. Views are ignored because they compute nothing.
  void record(const Tensor& node, int64_t nanoseconds);
  // Returns a timer that records into this profile, which must outlive every use of it.
  NodeTimer timer();
  void clear();

  // Sums the recorded times per op and per node name; keeps the max_nodes slowest node names.
  ProfileSummary summarize(size_t max_nodes = 10) const;

 private:
  struct Totals {
    std::string op;
    int64_t nanoseconds = 0;
    int64_t calls = 0;
  };
  std::map<std::string, Totals> by_op_;
  std::map<std::string, Totals> by_node_;
};

// Returns the name under which a node's time is summed. Per-layer names lose their layer, so the
// same node of every layer sums into one entry: "ffn_up-3" becomes "ffn_up". An unnamed node is
// named after the first weight it reads, "(reads ffn_up_exps.weight)", or else after its op:
// "(unnamed rms_norm)".
std::string profile_node_name(const Tensor& node);

}  // namespace hllm
