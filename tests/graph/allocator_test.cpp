#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <unordered_map>
#include <vector>

#include "graph/allocator.h"
#include "graph/graph.h"
#include "graph/ops.h"
#include "util/error.h"

namespace hllm {
namespace {

constexpr int kForever = 1 << 30;

struct Placement {
  const Tensor* tensor;
  size_t offset;
  size_t bytes;
  int first;  // index in graph.nodes() of the node that writes it
  int last;   // index of the last node that reads it, kForever for outputs
};

// Every tensor a node reads, following views down to the tensor that owns the storage. Written
// independently of the allocator so that the check does not share its mistakes.
std::vector<const Tensor*> storage_read_by(const Tensor& node) {
  std::vector<const Tensor*> read;
  if (node.is_view()) return read;
  for (int s = 0; s < node.n_src; ++s) {
    for (const Tensor* t = node.src[s]; t != nullptr; t = t->view_source)
      read.push_back(t);
  }
  return read;
}

// Computes each placed tensor's live interval by brute force over the node list.
std::vector<Placement> live_intervals(const Graph& g, const ArenaPlan& plan) {
  const auto& nodes = g.nodes();
  std::vector<Placement> placements;
  for (const auto& [tensor, offset] : plan.offsets) {
    Placement p{tensor, offset, tensor->n_bytes(), -1, -1};
    for (int i = 0; i < static_cast<int>(nodes.size()); ++i) {
      if (nodes[i] == tensor) p.first = i;
      const auto read = storage_read_by(*nodes[i]);
      if (std::find(read.begin(), read.end(), tensor) != read.end()) p.last = i;
    }
    for (const Tensor* output : g.outputs()) {
      if (output->storage_owner() == tensor) p.last = kForever;
    }
    p.last = std::max(p.last, p.first);
    placements.push_back(p);
  }
  return placements;
}

void expect_no_live_overlap(const Graph& g, const ArenaPlan& plan) {
  const auto placements = live_intervals(g, plan);
  for (const auto& p : placements) {
    EXPECT_EQ(p.offset % kArenaAlignment, 0u) << "tensor " << p.tensor->id;
    EXPECT_LE(p.offset + p.bytes, plan.size) << "tensor " << p.tensor->id;
  }
  for (size_t a = 0; a < placements.size(); ++a) {
    for (size_t b = a + 1; b < placements.size(); ++b) {
      const Placement& x = placements[a];
      const Placement& y = placements[b];
      // A node's output must not overlap its sources, so intervals touching at one node count
      // as overlapping.
      const bool live_together = x.first <= y.last && y.first <= x.last;
      const bool memory_overlaps = x.offset < y.offset + y.bytes && y.offset < x.offset + x.bytes;
      EXPECT_FALSE(live_together && memory_overlaps && x.bytes > 0 && y.bytes > 0)
          << "tensors " << x.tensor->id << " [" << x.first << ", " << x.last << "] at " << x.offset
          << "+" << x.bytes << " and " << y.tensor->id << " [" << y.first << ", " << y.last
          << "] at " << y.offset << "+" << y.bytes;
    }
  }
}

// Builds a random graph of element-wise ops, reductions and views over a few leaves.
void build_random_graph(Graph& g, std::mt19937& rng, int n_nodes) {
  std::vector<Tensor*> pool;
  for (int i = 0; i < 3; ++i) {
    pool.push_back(g.input(fmt::format("x{}", i), GgmlType::F32, {16, 8}));
  }
  auto pick = [&] { return pool[std::uniform_int_distribution<size_t>(0, pool.size() - 1)(rng)]; };
  for (int i = 0; i < n_nodes; ++i) {
    Tensor* a = pick();
    Tensor* made = nullptr;
    switch (std::uniform_int_distribution<int>(0, 6)(rng)) {
      case 0:
        made = ops::silu(g, a);
        break;
      case 1:
        made = ops::add(g, a, pick());
        break;
      case 2:
        made = ops::mul(g, a, pick());
        break;
      case 3:
        made = ops::transpose(g, ops::transpose(g, a));
        break;
      case 4:
        made = ops::reshape(g, ops::copy(g, a), {16, 8});
        break;
      case 5:
        made = ops::concat(g, ops::view_2d(g, a, 16, 4, a->nb[1], 0),
                           ops::view_2d(g, pick(), 16, 4, a->nb[1], 4 * a->nb[1]), 1);
        break;
      default:
        made = ops::rms_norm(g, ops::scale(g, a, 0.5f), 1e-5f);
        break;
    }
    pool.push_back(made);
    if (std::uniform_int_distribution<int>(0, 9)(rng) == 0) g.mark_output(made);
  }
}

TEST(Allocator, RandomGraphsNeverOverlapLiveTensors) {
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    SCOPED_TRACE(fmt::format("seed {}", seed));
    std::mt19937 rng(seed);
    Graph g;
    build_random_graph(g, rng, 60);
    const ArenaPlan plan = plan_arena(g);
    expect_no_live_overlap(g, plan);

    size_t total = 0;
    for (const auto& [tensor, offset] : plan.offsets)
      total += tensor->n_bytes();
    EXPECT_LT(plan.size, total) << "no memory was reused";
  }
}

TEST(Allocator, RandomSubsetsNeverOverlap) {
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    SCOPED_TRACE(fmt::format("seed {}", seed));
    std::mt19937 rng(seed);
    Graph g;
    build_random_graph(g, rng, 50);
    const ArenaPlan plan = plan_arena(g, [](const Tensor& t) { return t.id % 3 != 0; });
    for (const auto& [tensor, offset] : plan.offsets)
      EXPECT_NE(tensor->id % 3, 0);
    expect_no_live_overlap(g, plan);
  }
}

TEST(Allocator, ChainReusesTwoBuffers) {
  Graph g;
  Tensor* t = g.input("x", GgmlType::F32, {16});  // 64 bytes per tensor
  for (int i = 0; i < 10; ++i)
    t = ops::neg(g, t);
  const ArenaPlan plan = plan_arena(g);
  EXPECT_EQ(plan.offsets.size(), 10u);
  // Each node needs its source and itself live at once, nothing more.
  EXPECT_EQ(plan.size, 2 * kArenaAlignment);
}

TEST(Allocator, OutputsAreNeverReused) {
  Graph g;
  Tensor* x = g.input("x", GgmlType::F32, {16});
  Tensor* kept = ops::neg(g, x);
  g.mark_output(kept);
  Tensor* t = ops::neg(g, kept);
  for (int i = 0; i < 5; ++i)
    t = ops::neg(g, t);
  const ArenaPlan plan = plan_arena(g);
  size_t kept_offset = 0;
  for (const auto& [tensor, offset] : plan.offsets) {
    if (tensor == kept) kept_offset = offset;
  }
  for (const auto& [tensor, offset] : plan.offsets) {
    if (tensor == kept) continue;
    EXPECT_NE(offset, kept_offset) << "tensor " << tensor->id;
  }
}

TEST(Allocator, ViewKeepsOwnerAlive) {
  Graph g;
  Tensor* x = g.input("x", GgmlType::F32, {16, 4});
  Tensor* owner = ops::neg(g, x);
  Tensor* window = ops::view_1d(g, owner, 16, 0);
  Tensor* other = ops::neg(g, x);  // allocated while only the view still refers to owner
  Tensor* uses_view = ops::add(g, other, window);
  (void)uses_view;
  const ArenaPlan plan = plan_arena(g);
  std::unordered_map<const Tensor*, size_t> offsets(plan.offsets.begin(), plan.offsets.end());
  ASSERT_TRUE(offsets.count(owner));
  ASSERT_TRUE(offsets.count(other));
  EXPECT_FALSE(offsets.count(window)) << "views share storage and get no memory";
  EXPECT_NE(offsets[owner], offsets[other]);
  expect_no_live_overlap(g, plan);
}

TEST(Allocator, PlaceSetsDataPointers) {
  Graph g;
  Tensor* x = g.input("x", GgmlType::F32, {16, 4});
  Tensor* y = ops::neg(g, x);
  Tensor* row = ops::view_1d(g, y, 16, y->nb[1]);
  Tensor* z = ops::silu(g, row);
  g.mark_output(z);
  const ArenaPlan plan = plan_arena(g);
  alignas(kArenaAlignment) static std::byte arena[4096];
  ASSERT_LE(plan.size, sizeof arena);
  std::vector<float> input(64);
  x->data = input.data();
  place_in_arena(plan, arena);
  resolve_views(g);
  EXPECT_GE(static_cast<std::byte*>(y->data), arena);
  EXPECT_EQ(row->data, static_cast<std::byte*>(y->data) + y->nb[1]);
  EXPECT_NE(z->data, nullptr);
  EXPECT_THROW(place_in_arena(plan, arena + 4), Error);  // misaligned
}

TEST(Allocator, LastUsesFollowViews) {
  Graph g;
  Tensor* x = g.input("x", GgmlType::F32, {16, 4});
  Tensor* y = ops::neg(g, x);                         // node 0
  Tensor* v = ops::transpose(g, y);                   // node 1
  Tensor* w = ops::view_2d(g, v, 4, 4, v->nb[1], 0);  // node 2
  Tensor* z = ops::copy(g, w);                        // node 3
  const std::vector<int> last = last_uses(g);
  EXPECT_EQ(last[x->id], 0);
  EXPECT_EQ(last[y->id], 3);
  EXPECT_EQ(last[v->id], 3);
  EXPECT_EQ(last[w->id], 3);
  EXPECT_EQ(last[z->id], -1);
}

}  // namespace
}  // namespace hllm
