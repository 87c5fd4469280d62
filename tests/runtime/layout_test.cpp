// The two qwen3next weight layouts: a legacy file converted to the split layout with the GGUF
// writer gives the same logits.
#include <gtest/gtest.h>

#include <cstring>
#include <regex>

#include "formats/gguf_writer.h"
#include "models/registry.h"
#include "runtime/session.h"
#include "support/fixtures.h"

namespace hllm {
namespace {

// Rewrites each fused ssm_in [n_embd, groups * (2d + 2dr)] as attn_qkv (all q rows, then all k,
// then all v) and attn_gate (all z rows); every other tensor and all metadata are copied.
void convert_to_split_layout(const GgufFile& legacy, const std::string& out_path) {
  const ModelSpec spec = describe_model(legacy);
  const HParams& hp = spec.hp;
  const int64_t d = hp.ssm_d_state;
  const int64_t groups = hp.ssm_n_k_heads;
  const int64_t values_per_group = d * (hp.ssm_n_v_heads / groups);
  const int64_t group_rows = 2 * d + 2 * values_per_group;

  GgufWriter writer;
  writer.copy_metadata(legacy);
  std::vector<std::vector<uint8_t>> keep;
  static const std::regex fused(R"(blk\.(\d+)\.ssm_in\.weight)");
  for (const GgufTensorInfo& info : legacy.tensors()) {
    std::smatch match;
    if (!std::regex_match(info.name, match, fused)) {
      writer.add_tensor_view(info.name, info.type, {info.ne.begin(), info.ne.begin() + info.n_dims}, info.data,
                             info.n_bytes);
      continue;
    }
    const size_t row_bytes = info.n_bytes / info.ne[1];
    auto rows = [&](int64_t first_in_group, int64_t count) {
      std::vector<uint8_t> out;
      for (int64_t g = 0; g < groups; ++g) {
        const uint8_t* start = info.data + (g * group_rows + first_in_group) * row_bytes;
        out.insert(out.end(), start, start + count * row_bytes);
      }
      return out;
    };
    std::vector<uint8_t> qkv = rows(0, d);
    const std::vector<uint8_t> k = rows(d, d);
    const std::vector<uint8_t> v = rows(2 * d, values_per_group);
    qkv.insert(qkv.end(), k.begin(), k.end());
    qkv.insert(qkv.end(), v.begin(), v.end());
    const std::vector<uint8_t> z = rows(2 * d + values_per_group, values_per_group);
    const int64_t qkv_rows = static_cast<int64_t>(qkv.size() / row_bytes);
    const int64_t z_rows = static_cast<int64_t>(z.size() / row_bytes);
    const std::string layer = match[1].str();
    writer.add_tensor("blk." + layer + ".attn_qkv.weight", info.type, {info.ne[0], qkv_rows}, std::move(qkv));
    writer.add_tensor("blk." + layer + ".attn_gate.weight", info.type, {info.ne[0], z_rows}, z);
  }
  writer.write(out_path);
}

std::vector<float> prompt_logits(const Model& model) {
  const std::vector<int> ids = test::read_ids(test::fixture("reference/qwen3next-tiny-legacy-f16.tokens.txt"));
  SessionOptions options;
  options.n_ctx = 512;
  options.n_threads = 2;
  Session session(model, options);
  Batch batch;
  for (size_t i = 0; i < ids.size(); ++i) batch.add(ids[i], static_cast<int32_t>(i), 0, true);
  return session.decode(batch);
}

TEST(LayoutTest, ConvertedLegacyFileGivesSameLogits) {
  auto legacy = Model::load(test::fixture("models/qwen3next-tiny-legacy-f16.gguf"));
  ASSERT_EQ(legacy->spec().layout, Layout::FusedSsmIn);
  const std::string converted_path = test::temp_dir() + "/split.gguf";
  convert_to_split_layout(legacy->file(), converted_path);
  auto converted = Model::load(converted_path);
  ASSERT_EQ(converted->spec().layout, Layout::SplitQkvGate);

  const std::vector<float> expected = prompt_logits(*legacy);
  const std::vector<float> actual = prompt_logits(*converted);
  ASSERT_EQ(actual.size(), expected.size());
  // Identical weights and identical row-by-row products: the logits agree exactly.
  for (size_t i = 0; i < actual.size(); ++i) ASSERT_EQ(actual[i], expected[i]) << "logit " << i;
}

}  // namespace
}  // namespace hllm
