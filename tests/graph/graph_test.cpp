#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "graph/allocator.h"
#include "graph/graph.h"
#include "graph/ops.h"
#include "support/errors.h"
#include "util/error.h"

namespace hllm {
namespace {

using test::error_message;

TEST(Graph, LeavesAndNodesKeepOrder) {
  Graph g;
  Tensor* x = g.input("x", GgmlType::F32, {8, 3});
  Tensor* w = g.weight("blk.0.w", GgmlType::F32, {8}, 0);
  Tensor* y = ops::mul(g, x, w);
  Tensor* z = ops::silu(g, y);
  ASSERT_EQ(g.leaves().size(), 2u);
  ASSERT_EQ(g.nodes().size(), 2u);
  EXPECT_EQ(g.nodes()[0], y);
  EXPECT_EQ(g.nodes()[1], z);
  EXPECT_EQ(x->leaf, LeafKind::Input);
  EXPECT_EQ(w->leaf, LeafKind::Weight);
  EXPECT_EQ(y->op, Op::Mul);
  EXPECT_EQ(y->src[0], x);
  EXPECT_EQ(y->src[1], w);
  EXPECT_EQ(y->n_src, 2);
  EXPECT_EQ(z->id, 3);
  // A node takes the layer of its first source that has one.
  EXPECT_EQ(y->layer, 0);
}

TEST(Graph, LeafShapeAndStrides) {
  Graph g;
  Tensor* t = g.weight("t", GgmlType::F16, {6, 5, 4});
  EXPECT_EQ(t->ne, (std::array<int64_t, kMaxDims>{6, 5, 4, 1}));
  EXPECT_EQ(t->nb, (std::array<size_t, kMaxDims>{2, 12, 60, 240}));
  EXPECT_EQ(t->n_bytes(), 240u);
  EXPECT_TRUE(t->is_contiguous());
  Tensor* q = g.weight("q", GgmlType::Q8_0, {64, 3});
  EXPECT_EQ(q->nb[1], 68u);  // two 34-byte blocks per row
  EXPECT_EQ(q->n_bytes(), 204u);
  EXPECT_THROW(g.weight("bad", GgmlType::Q8_0, {40}), Error);  // not whole blocks
  EXPECT_THROW(g.input("negative", GgmlType::F32, {-1}), Error);
}

TEST(Graph, NamesCarryLayerIndex) {
  Graph g;
  Tensor* x = g.input("x", GgmlType::F32, {8});
  Tensor* norm = Graph::name(ops::rms_norm(g, x, 1e-6f), "attn_norm", 3);
  Tensor* logits = Graph::name(ops::scale(g, norm, 2.0f), "logits");
  EXPECT_EQ(norm->name, "attn_norm-3");
  EXPECT_EQ(norm->layer, 3);
  EXPECT_EQ(logits->name, "logits");
  EXPECT_EQ(logits->layer, -1);
  EXPECT_EQ(g.find("attn_norm-3"), norm);
  EXPECT_EQ(g.find("logits"), logits);
  EXPECT_EQ(g.find("x"), x);
  EXPECT_EQ(g.find("attn_norm-4"), nullptr);
  EXPECT_EQ(g.find(""), nullptr);
}

TEST(Graph, OpNamesAreDistinct) {
  std::vector<std::string> names;
  for (int op = 0; op < static_cast<int>(Op::Count); ++op) {
    const std::string name = op_name(static_cast<Op>(op));
    EXPECT_NE(name, "unknown") << "op " << op;
    for (const auto& seen : names)
      EXPECT_NE(seen, name);
    names.push_back(name);
  }
  EXPECT_STREQ(op_name(Op::MulMat), "mul_mat");
  EXPECT_STREQ(op_name(Op::SetRows), "set_rows");
}

TEST(Graph, MarkOutputOnce) {
  Graph g;
  Tensor* x = g.input("x", GgmlType::F32, {4});
  Tensor* y = ops::neg(g, x);
  g.mark_output(y);
  g.mark_output(y);
  ASSERT_EQ(g.outputs().size(), 1u);
  EXPECT_EQ(g.outputs()[0], y);
}

TEST(Views, ShareStorage) {
  Graph g;
  Tensor* x = g.input("x", GgmlType::F32, {8, 6, 2});
  std::vector<float> storage(96);
  x->data = storage.data();

  Tensor* reshaped = ops::reshape(g, x, {48, 2});
  Tensor* transposed = ops::transpose(g, x);
  Tensor* permuted = ops::permute(g, x, 0, 2, 1, 3);
  Tensor* window = ops::view_2d(g, x, 4, 3, x->nb[1], 2 * sizeof(float) + x->nb[1]);
  Tensor* window_of_window = ops::view_1d(g, window, 2, sizeof(float));
  resolve_views(g);

  EXPECT_EQ(reshaped->data, storage.data());
  EXPECT_EQ(transposed->data, storage.data());
  EXPECT_EQ(permuted->data, storage.data());
  EXPECT_EQ(window->data, storage.data() + 8 + 2);
  EXPECT_EQ(window_of_window->data, storage.data() + 8 + 3);
  EXPECT_EQ(window_of_window->storage_owner(), x);
  EXPECT_EQ(window_of_window->view_source, window);

  EXPECT_TRUE(reshaped->is_contiguous());
  EXPECT_EQ(reshaped->ne, (std::array<int64_t, kMaxDims>{48, 2, 1, 1}));
  EXPECT_FALSE(transposed->is_contiguous());
  EXPECT_EQ(transposed->ne, (std::array<int64_t, kMaxDims>{6, 8, 2, 1}));
  EXPECT_EQ(transposed->nb[0], 32u);
  EXPECT_EQ(transposed->nb[1], 4u);
  // Source dim i becomes dim axes[i]: [8, 6, 2] with axes (0, 2, 1, 3) is [8, 2, 6].
  EXPECT_EQ(permuted->ne, (std::array<int64_t, kMaxDims>{8, 2, 6, 1}));
  EXPECT_EQ(permuted->nb[1], x->nb[2]);
  EXPECT_EQ(permuted->nb[2], x->nb[1]);
  EXPECT_FALSE(window->is_contiguous());
  EXPECT_TRUE(window_of_window->is_contiguous());
}

TEST(Views, SetRowsSharesDestination) {
  Graph g;
  Tensor* cache = g.state("cache", GgmlType::F16, {16, 10}, 2);
  Tensor* rows = g.input("rows", GgmlType::F32, {16, 3});
  Tensor* ids = g.input("ids", GgmlType::I32, {3});
  Tensor* updated = ops::set_rows(g, cache, rows, ids);
  EXPECT_EQ(updated->view_source, cache);
  EXPECT_EQ(updated->storage_owner(), cache);
  EXPECT_EQ(updated->type, GgmlType::F16);
  EXPECT_EQ(updated->ne, cache->ne);
  EXPECT_FALSE(updated->is_view());  // it is computed, in place
  std::vector<uint16_t> storage(160);
  cache->data = storage.data();
  resolve_views(g);
  EXPECT_EQ(updated->data, cache->data);
}

TEST(Views, RejectInvalidViews) {
  Graph g;
  Tensor* x = g.input("x", GgmlType::F32, {8, 6});
  Tensor* q = g.weight("q", GgmlType::Q4_0, {64, 2});
  EXPECT_NE(error_message([&] { ops::view_2d(g, x, 8, 7, x->nb[1], 0); }).find("outside"),
            std::string::npos);
  EXPECT_THROW(ops::view_1d(g, x, 4, 46 * sizeof(float)), Error);
  EXPECT_NE(error_message([&] {
              ops::reshape(g, x, {5, 10});
            }).find("48 elements"),
            std::string::npos);
  EXPECT_THROW(ops::reshape(g, ops::transpose(g, x), {48}), Error);
  EXPECT_THROW(ops::permute(g, x, 0, 0, 1, 2), Error);
  EXPECT_THROW(ops::permute(g, q, 1, 0, 2, 3), Error);
  EXPECT_THROW(ops::transpose(g, q), Error);
  EXPECT_THROW(ops::view_1d(g, q, 48, 0), Error);  // not whole blocks
}

TEST(Ops, ShapeErrorsNameOpAndBothShapes) {
  Graph g;
  Tensor* a = g.input("a", GgmlType::F32, {4, 3});
  Tensor* b = g.input("b", GgmlType::F32, {5, 3});
  const std::string message = error_message([&] { ops::add(g, a, b); });
  EXPECT_NE(message.find("add"), std::string::npos) << message;
  EXPECT_NE(message.find("f32 [4, 3]"), std::string::npos) << message;
  EXPECT_NE(message.find("f32 [5, 3]"), std::string::npos) << message;
  EXPECT_NE(message.find("'a'"), std::string::npos) << message;

  Tensor* w = g.weight("w", GgmlType::F16, {64, 10});
  Tensor* x = g.input("x", GgmlType::F32, {32, 2});
  const std::string matmul = error_message([&] { ops::mul_mat(g, w, x); });
  EXPECT_NE(matmul.find("mul_mat"), std::string::npos) << matmul;
  EXPECT_NE(matmul.find("f16 [64, 10]"), std::string::npos) << matmul;
  EXPECT_NE(matmul.find("f32 [32, 2]"), std::string::npos) << matmul;
}

TEST(Ops, BuildersCheckTypesAndShapes) {
  Graph g;
  Tensor* x = g.input("x", GgmlType::F32, {64, 4, 3});
  Tensor* ids_f32 = g.input("ids_f32", GgmlType::F32, {2});
  Tensor* ids = g.input("ids", GgmlType::I32, {3});
  Tensor* positions = g.input("positions", GgmlType::I32, {3});
  Tensor* q8 = g.weight("q8", GgmlType::Q8_0, {64, 4});

  EXPECT_THROW(ops::get_rows(g, q8, ids_f32), Error);
  EXPECT_NO_THROW(ops::get_rows(g, q8, ids));
  EXPECT_THROW(ops::rope(g, x, positions, RopeParams{RopeMode::Normal, 7}), Error);   // odd
  EXPECT_THROW(ops::rope(g, x, positions, RopeParams{RopeMode::Normal, 66}), Error);  // > D
  EXPECT_THROW(ops::rope(g, x, ids_f32, RopeParams{RopeMode::Neox, 64}), Error);
  EXPECT_NO_THROW(ops::rope(g, x, positions, RopeParams{RopeMode::Neox, 32}));
  EXPECT_THROW(ops::top_k(g, x, 65), Error);
  EXPECT_THROW(ops::silu(g, q8), Error);
  EXPECT_THROW(ops::concat(g, x, q8, 1), Error);
  EXPECT_THROW(ops::concat(g, x, x, 4), Error);
  EXPECT_EQ(ops::concat(g, x, x, 2)->ne, (std::array<int64_t, kMaxDims>{64, 4, 6, 1}));
  EXPECT_EQ(ops::sum_rows(g, x)->ne, (std::array<int64_t, kMaxDims>{1, 4, 3, 1}));
  EXPECT_EQ(ops::top_k(g, x, 5)->type, GgmlType::I32);

  Tensor* mask = g.input("mask", GgmlType::F32, {64, 4});
  EXPECT_NO_THROW(ops::soft_max(g, x, mask, 0.5f));
  Tensor* bad_mask = g.input("bad_mask", GgmlType::F32, {64, 3});
  EXPECT_THROW(ops::soft_max(g, x, bad_mask), Error);

  Tensor* q = g.input("q", GgmlType::F32, {16, 6, 5});
  Tensor* k = g.input("k", GgmlType::F16, {16, 4, 9});
  Tensor* k2 = g.input("k2", GgmlType::F16, {16, 2, 9});
  Tensor* v2 = g.input("v2", GgmlType::F16, {8, 2, 9});
  Tensor* attention_mask = g.input("attention_mask", GgmlType::F32, {9, 5});
  EXPECT_THROW(ops::attention(g, q, k, v2, attention_mask, 0.25f), Error);  // 4 does not divide 6
  Tensor* out = ops::attention(g, q, k2, v2, attention_mask, 0.25f);
  EXPECT_EQ(out->ne, (std::array<int64_t, kMaxDims>{8, 6, 5, 1}));

  Tensor* cache = g.state("cache", GgmlType::F16, {16, 10});
  Tensor* rows = g.input("rows", GgmlType::F32, {16, 2});
  EXPECT_THROW(ops::set_rows(g, cache, rows, ids), Error);  // 3 ids for 2 rows
}

}  // namespace
}  // namespace hllm
