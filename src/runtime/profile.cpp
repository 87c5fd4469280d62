#include "runtime/profile.h"

#include <fmt/format.h>

#include <algorithm>

#include "graph/ops.h"

namespace hllm {

namespace {

std::vector<ProfileEntry> sorted_entries(const auto& totals, int64_t total_nanoseconds) {
  std::vector<ProfileEntry> entries;
  for (const auto& [name, value] : totals) {
    ProfileEntry entry;
    entry.name = name;
    entry.op = value.op;
    entry.nanoseconds = value.nanoseconds;
    entry.calls = value.calls;
    if (total_nanoseconds > 0) {
      entry.share = static_cast<double>(value.nanoseconds) / static_cast<double>(total_nanoseconds);
    }
    entries.push_back(std::move(entry));
  }
  std::stable_sort(
      entries.begin(), entries.end(),
      [](const ProfileEntry& a, const ProfileEntry& b) { return a.nanoseconds > b.nanoseconds; });
  return entries;
}

// Returns a name without the "blk.<layer>." prefix of per-layer weights or the "-<layer>" suffix
// of per-layer nodes.
std::string strip_layer(const std::string& name, int layer) {
  if (layer < 0) return name;
  const std::string prefix = fmt::format("blk.{}.", layer);
  if (name.starts_with(prefix)) return name.substr(prefix.size());
  const std::string suffix = fmt::format("-{}", layer);
  if (name.size() > suffix.size() && name.ends_with(suffix)) {
    return name.substr(0, name.size() - suffix.size());
  }
  return name;
}

}  // namespace

std::string profile_node_name(const Tensor& node) {
  if (!node.name.empty()) return strip_layer(node.name, node.layer);
  for (int i = 0; i < node.n_src; ++i) {
    const Tensor* owner = node.src[i]->storage_owner();
    if (owner->leaf == LeafKind::Weight)
      return "(reads " + strip_layer(owner->name, owner->layer) + ")";
  }
  return std::string("(unnamed ") + op_name(node.op) + ")";
}

void OpProfile::record(const Tensor& node, int64_t nanoseconds) {
  if (node.is_view()) return;
  const std::string op = op_name(node.op);
  Totals& op_totals = by_op_[op];
  op_totals.op = op;
  op_totals.nanoseconds += nanoseconds;
  op_totals.calls += 1;

  Totals& node_totals = by_node_[profile_node_name(node)];
  node_totals.op = op;
  node_totals.nanoseconds += nanoseconds;
  node_totals.calls += 1;
}

NodeTimer OpProfile::timer() {
  return [this](const Tensor& node, int64_t nanoseconds) { record(node, nanoseconds); };
}

void OpProfile::clear() {
  by_op_.clear();
  by_node_.clear();
}

ProfileSummary OpProfile::summarize(size_t max_nodes) const {
  ProfileSummary summary;
  for (const auto& [name, totals] : by_op_)
    summary.total_nanoseconds += totals.nanoseconds;
  summary.ops = sorted_entries(by_op_, summary.total_nanoseconds);
  summary.nodes = sorted_entries(by_node_, summary.total_nanoseconds);
  if (summary.nodes.size() > max_nodes) summary.nodes.resize(max_nodes);
  return summary;
}

}  // namespace hllm
