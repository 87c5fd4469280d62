// The benchmark library: test names, statistics, model facts, the bytes-per-token estimate, the
// per-op profile and short runs on the fixture models. Timings are never asserted: the machine
// that runs the tests is shared.
#include <gtest/gtest.h>

#include <cmath>
#include <optional>

#include "formats/gguf_writer.h"
#include "graph/graph.h"
#include "runtime/benchmark.h"
#include "runtime/profile.h"
#include "support/fixtures.h"
#include "util/error.h"

namespace hllm {
namespace {

TEST(BenchTestName, FollowsLlamaBench) {
  EXPECT_EQ((BenchTest{512, 0}.name()), "pp512");
  EXPECT_EQ((BenchTest{0, 128}.name()), "tg128");
  EXPECT_EQ((BenchTest{512, 128}.name()), "pp512+tg128");
}

TEST(SampleStats, MeanAndSampleDeviation) {
  const SampleStats stats = sample_stats({1.0, 2.0, 3.0, 4.0});
  EXPECT_DOUBLE_EQ(stats.mean, 2.5);
  // sqrt(((1.5^2 + 0.5^2) * 2) / 3): the n - 1 denominator.
  EXPECT_NEAR(stats.stddev, std::sqrt(5.0 / 3.0), 1e-12);
  EXPECT_EQ(sample_stats({7.0}).stddev, 0.0);
  EXPECT_EQ(sample_stats({7.0}).mean, 7.0);
  EXPECT_EQ(sample_stats({}).mean, 0.0);
}

TEST(FormatCount, ThreeSignificantDigits) {
  EXPECT_EQ(format_count(999), "999");
  EXPECT_EQ(format_count(292'352), "292K");
  EXPECT_EQ(format_count(3'850'000), "3.85M");
  EXPECT_EQ(format_count(12'340'000), "12.3M");
  EXPECT_EQ(format_count(80'000'000'000), "80.0B");
}

TEST(WeightTypeName, FromFileTypeKey) {
  const auto name_of = [](const std::string& model) {
    return weight_type_name(*GgufFile::open(test::fixture("models/" + model)));
  };
  EXPECT_EQ(name_of("qwen3next-tiny-q8_0.gguf"), "Q8_0");
  EXPECT_EQ(name_of("qwen3next-tiny-q4_k_m.gguf"), "Q4_K - Medium");
  EXPECT_EQ(name_of("qwen3next-tiny-f32.gguf"), "all F32");
}

// A file with a Q8_0 matrix, a smaller F32 matrix and a larger F32 vector.
std::vector<uint8_t> mixed_type_file(std::optional<uint32_t> file_type) {
  GgufWriter writer;
  if (file_type) writer.set("general.file_type", GgufValue::u32(*file_type));
  const auto zeros = [](GgmlType type, const std::vector<int64_t>& ne) {
    size_t bytes = row_size(type, ne[0]);
    for (size_t i = 1; i < ne.size(); ++i)
      bytes *= ne[i];
    return std::vector<uint8_t>(bytes, 0);
  };
  writer.add_tensor("big.weight", GgmlType::Q8_0, {256, 8}, zeros(GgmlType::Q8_0, {256, 8}));
  writer.add_tensor("small.weight", GgmlType::F32, {64, 2}, zeros(GgmlType::F32, {64, 2}));
  writer.add_tensor("norm.weight", GgmlType::F32, {1000}, zeros(GgmlType::F32, {1000}));
  return writer.serialize();
}

TEST(WeightTypeName, DominantMatrixTypeWithoutKey) {
  // Q8_0 [256, 8] takes 2176 bytes and F32 [64, 2] 512. The 4000-byte vector does not count.
  const std::vector<uint8_t> without_key = mixed_type_file(std::nullopt);
  EXPECT_EQ(weight_type_name(*GgufFile::parse(without_key.data(), without_key.size(), "mixed")),
            "Q8_0");
  const std::vector<uint8_t> unknown_value = mixed_type_file(999);
  EXPECT_EQ(weight_type_name(*GgufFile::parse(unknown_value.data(), unknown_value.size(), "mixed")),
            "Q8_0");
}

TEST(DescribeBenchModel, SizeAndParameterCount) {
  const std::unique_ptr<Model> model = Model::load(test::fixture("models/stories260K.gguf"));
  const BenchModelInfo info = describe_bench_model(*model);
  EXPECT_EQ(info.arch, "llama");
  EXPECT_EQ(info.path, test::fixture("models/stories260K.gguf"));
  ASSERT_GT(info.n_params, 0u);
  // Every tensor of this file is F32.
  EXPECT_EQ(info.size_bytes, 4 * info.n_params);
  EXPECT_EQ(info.type, "llama " + format_count(info.n_params) + " " + info.weight_type);
}

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The estimate recomputed from tensor names: the token embeddings count one row (unless the
// output projection reuses them), expert tensors n_expert_used / n_expert, everything else fully.
uint64_t expected_bytes_per_token(const Model& model) {
  const HParams& hp = model.hparams();
  const bool tied = model.spec().output_tied;
  uint64_t total = 0;
  for (const GgufTensorInfo& tensor : model.file().tensors()) {
    if (tensor.name == "token_embd.weight" && !tied) {
      total += tensor.n_bytes / static_cast<uint64_t>(tensor.ne[1]);
    } else if (ends_with(tensor.name, "_exps.weight")) {
      total += tensor.n_bytes * static_cast<uint64_t>(hp.n_expert_used) /
               static_cast<uint64_t>(hp.n_expert);
    } else {
      total += tensor.n_bytes;
    }
  }
  return total;
}

TEST(WeightBytesPerToken, DenseModel) {
  const std::unique_ptr<Model> model = Model::load(test::fixture("models/stories260K.gguf"));
  EXPECT_EQ(weight_bytes_per_token(model->spec()), expected_bytes_per_token(*model));
}

TEST(WeightBytesPerToken, ExpertsCountTheirRoutedShare) {
  const std::unique_ptr<Model> model =
      Model::load(test::fixture("models/qwen3next-tiny-q8_0.gguf"));
  ASSERT_EQ(model->hparams().n_expert, 8);
  ASSERT_EQ(model->hparams().n_expert_used, 2);
  const uint64_t estimate = weight_bytes_per_token(model->spec());
  EXPECT_EQ(estimate, expected_bytes_per_token(*model));
  uint64_t size = 0;
  for (const GgufTensorInfo& tensor : model->file().tensors())
    size += tensor.n_bytes;
  EXPECT_LT(estimate, size);
}

TEST(OpProfile, SumsPerOpAndPerNodeName) {
  Graph graph;
  Tensor* weight = graph.weight("w", GgmlType::F32, {4, 4});
  Tensor* input = graph.input("x", GgmlType::F32, {4, 1});
  Tensor* product0 = Graph::name(
      graph.node(Op::MulMat, GgmlType::F32, {4, 1, 1, 1}, {weight, input}), "ffn_up", 0);
  Tensor* product1 = Graph::name(
      graph.node(Op::MulMat, GgmlType::F32, {4, 1, 1, 1}, {weight, input}), "ffn_up", 1);
  Tensor* sum =
      Graph::name(graph.node(Op::Add, GgmlType::F32, {4, 1, 1, 1}, {product0, product1}), "sum");
  Tensor* view = graph.node(Op::Reshape, GgmlType::F32, {2, 2, 1, 1}, {sum});

  OpProfile profile;
  NodeTimer timer = profile.timer();
  timer(*product0, 300);
  timer(*product1, 500);
  timer(*sum, 200);
  timer(*view, 1000);  // views compute nothing and must be ignored

  const ProfileSummary summary = profile.summarize();
  EXPECT_EQ(summary.total_nanoseconds, 1000);
  ASSERT_EQ(summary.ops.size(), 2u);
  EXPECT_EQ(summary.ops[0].name, "mul_mat");
  EXPECT_EQ(summary.ops[0].nanoseconds, 800);
  EXPECT_EQ(summary.ops[0].calls, 2);
  EXPECT_DOUBLE_EQ(summary.ops[0].share, 0.8);
  EXPECT_EQ(summary.ops[1].name, "add");
  ASSERT_EQ(summary.nodes.size(), 2u);
  EXPECT_EQ(summary.nodes[0].name, "ffn_up");
  EXPECT_EQ(summary.nodes[0].op, "mul_mat");
  EXPECT_EQ(summary.nodes[0].calls, 2);
  EXPECT_EQ(summary.nodes[1].name, "sum");

  EXPECT_EQ(profile.summarize(1).nodes.size(), 1u);
  profile.clear();
  EXPECT_EQ(profile.summarize().total_nanoseconds, 0);
}

BenchOptions small_options(bool profile) {
  BenchOptions options;
  options.n_threads = 2;
  options.repetitions = 2;
  options.profile = profile;
  return options;
}

TEST(RunBenchmark, EveryTestKindOnDenseModel) {
  const std::unique_ptr<Model> model = Model::load(test::fixture("models/stories260K.gguf"));
  const BenchModelInfo info = describe_bench_model(*model);
  for (const BenchTest& test : {BenchTest{16, 0}, BenchTest{0, 4}, BenchTest{8, 3}}) {
    SCOPED_TRACE(test.name());
    const BenchResult result = run_benchmark(*model, info, test, small_options(false));
    EXPECT_EQ(result.test.name(), test.name());
    ASSERT_EQ(result.samples_ts.size(), 2u);
    ASSERT_EQ(result.samples_ns.size(), 2u);
    for (double rate : result.samples_ts)
      EXPECT_GT(rate, 0.0);
    EXPECT_GT(result.avg_ts, 0.0);
    EXPECT_GE(result.stddev_ts, 0.0);
    EXPECT_GT(result.nodes, 0u);
    EXPECT_EQ(result.splits, 1u) << "every node runs on the CPU";
    EXPECT_EQ(result.device, "cpu");
    EXPECT_EQ(result.n_threads, 2);
    EXPECT_EQ(result.bandwidth_gbs.has_value(), test.n_prompt == 0) << "only generation tests";
    EXPECT_FALSE(result.profile.has_value());
  }
}

TEST(RunBenchmark, ProfileSharesSumToOne) {
  const std::unique_ptr<Model> model =
      Model::load(test::fixture("models/qwen3next-tiny-q8_0.gguf"));
  const BenchModelInfo info = describe_bench_model(*model);
  for (const BenchTest& test : {BenchTest{16, 0}, BenchTest{0, 4}}) {
    SCOPED_TRACE(test.name());
    const BenchResult result = run_benchmark(*model, info, test, small_options(true));
    ASSERT_TRUE(result.profile.has_value());
    const ProfileSummary& profile = *result.profile;
    EXPECT_GT(profile.total_nanoseconds, 0);
    double share = 0;
    bool has_mul_mat = false, has_mul_mat_id = false;
    for (const ProfileEntry& entry : profile.ops) {
      share += entry.share;
      has_mul_mat |= entry.name == "mul_mat";
      has_mul_mat_id |= entry.name == "mul_mat_id";
      EXPECT_NE(entry.name, "view");
      EXPECT_NE(entry.name, "reshape");
    }
    // Shares are ratios of integer sums, so only rounding separates their sum from 1.
    EXPECT_NEAR(share, 1.0, 1e-9);
    EXPECT_TRUE(has_mul_mat);
    EXPECT_TRUE(has_mul_mat_id);
    EXPECT_FALSE(profile.nodes.empty());
    EXPECT_LE(profile.nodes.size(), 10u);
  }
}

TEST(RunBenchmark, RejectsInvalidOptions) {
  const std::unique_ptr<Model> model = Model::load(test::fixture("models/stories260K.gguf"));
  const BenchModelInfo info = describe_bench_model(*model);
  EXPECT_THROW(run_benchmark(*model, info, BenchTest{0, 0}, small_options(false)), Error);
  EXPECT_THROW(run_benchmark(*model, info, BenchTest{-1, 4}, small_options(false)), Error);
  BenchOptions no_runs = small_options(false);
  no_runs.repetitions = 0;
  EXPECT_THROW(run_benchmark(*model, info, BenchTest{4, 0}, no_runs), Error);
  BenchOptions no_threads = small_options(false);
  no_threads.n_threads = 0;
  EXPECT_THROW(run_benchmark(*model, info, BenchTest{4, 0}, no_threads), Error);
}

}  // namespace
}  // namespace hllm
