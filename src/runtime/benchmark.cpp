#include "runtime/benchmark.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <map>
#include <random>

#include "models/model_graph.h"
#include "runtime/session.h"
#include "util/error.h"

namespace hllm {

namespace {

// llama.cpp's llama_ftype values and the names that its model loader and llama-bench print for
// them.
struct FileTypeName {
  int64_t value;
  const char* name;
};

constexpr FileTypeName kFileTypeNames[] = {
    {0, "all F32"},
    {1, "F16"},
    {2, "Q4_0"},
    {3, "Q4_1"},
    {7, "Q8_0"},
    {8, "Q5_0"},
    {9, "Q5_1"},
    {10, "Q2_K - Medium"},
    {11, "Q3_K - Small"},
    {12, "Q3_K - Medium"},
    {13, "Q3_K - Large"},
    {14, "Q4_K - Small"},
    {15, "Q4_K - Medium"},
    {16, "Q5_K - Small"},
    {17, "Q5_K - Medium"},
    {18, "Q6_K"},
    {19, "IQ2_XXS - 2.0625 bpw"},
    {20, "IQ2_XS - 2.3125 bpw"},
    {21, "Q2_K - Small"},
    {22, "IQ3_XS - 3.3 bpw"},
    {23, "IQ3_XXS - 3.0625 bpw"},
    {24, "IQ1_S - 1.5625 bpw"},
    {25, "IQ4_NL - 4.5 bpw"},
    {26, "IQ3_S - 3.4375 bpw"},
    {27, "IQ3_S mix - 3.66 bpw"},
    {28, "IQ2_S - 2.5 bpw"},
    {29, "IQ2_M - 2.7 bpw"},
    {30, "IQ4_XS - 4.25 bpw"},
    {31, "IQ1_M - 1.75 bpw"},
    {32, "BF16"},
    {36, "TQ1_0 - 1.69 bpw ternary"},
    {37, "TQ2_0 - 2.06 bpw ternary"},
    {38, "MXFP4 MoE"},
};

std::string dominant_matrix_type(const GgufFile& file) {
  std::map<GgmlType, uint64_t> bytes_by_type;
  for (const GgufTensorInfo& tensor : file.tensors()) {
    if (tensor.n_dims >= 2) bytes_by_type[tensor.type] += tensor.n_bytes;
  }
  if (bytes_by_type.empty()) return "unknown";
  const auto largest =
      std::max_element(bytes_by_type.begin(), bytes_by_type.end(),
                       [](const auto& a, const auto& b) { return a.second < b.second; });
  std::string name(type_name(largest->first));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return std::toupper(c); });
  return name;
}

// Bytes that one node reads of a weight source: the whole source, except the rows that get_rows
// fetches and the routed experts' share of a mul_mat_id expert tensor.
uint64_t bytes_read(const Tensor& node, int source_index) {
  const Tensor& source = *node.src[source_index];
  const uint64_t whole = source.n_bytes();
  if (node.op == Op::GetRows && source_index == 0) {
    const uint64_t rows = static_cast<uint64_t>(node.src[1]->n_elements());
    return std::min(whole, rows * source.nb[1]);
  }
  if (node.op == Op::MulMatId && source_index == 0) {
    const int64_t n_expert = source.ne[2];
    const int64_t n_routes = node.src[2]->ne[0] * node.src[2]->ne[1];
    if (n_expert > 0 && n_routes < n_expert) {
      return whole * static_cast<uint64_t>(n_routes) / static_cast<uint64_t>(n_expert);
    }
  }
  return whole;
}

// The decode graph of one token in one sequence, as a session builds it for generation.
std::unique_ptr<ModelGraph> one_token_graph(const ModelSpec& spec) {
  BatchShape shape;
  shape.n_seq_tokens = 1;
  shape.n_seqs = 1;
  shape.n_kv = 1;
  shape.n_outputs = 1;
  return build_model_graph(spec, shape, StateShape{1, 1});
}

double seconds_to_ts(int64_t tokens, double nanoseconds) {
  return nanoseconds > 0 ? static_cast<double>(tokens) * 1e9 / nanoseconds : 0.0;
}

// Feeds the test's tokens to an empty session: the prompt in one decode call, with only the last
// token's logits requested, then one decode call per generated token.
void run_test_once(Session& session, const BenchTest& test, std::mt19937& random) {
  std::uniform_int_distribution<int32_t> token_id(0, static_cast<int32_t>(session.n_vocab() - 1));
  int32_t position = 0;
  if (test.n_prompt > 0) {
    Batch prompt;
    for (int64_t i = 0; i < test.n_prompt; ++i) {
      prompt.add(token_id(random), position++, 0, i + 1 == test.n_prompt);
    }
    session.decode(prompt);
  }
  for (int64_t i = 0; i < test.n_gen; ++i) {
    Batch step;
    step.add(token_id(random), position++, 0, true);
    session.decode(step);
  }
}

double time_test_once(Session& session, const BenchTest& test, std::mt19937& random) {
  session.clear();
  const auto start = std::chrono::steady_clock::now();
  run_test_once(session, test, random);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  return static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count());
}

void check_options(const BenchTest& test, const BenchOptions& options) {
  HLLM_CHECK(test.n_prompt >= 0 && test.n_gen >= 0,
             "invalid benchmark test {}: token counts must not be negative", test.name());
  HLLM_CHECK(test.n_tokens() > 0, "invalid benchmark test {}: expected at least one token",
             test.name());
  HLLM_CHECK(options.repetitions >= 1, "invalid repetition count {}: expected at least 1",
             options.repetitions);
  HLLM_CHECK(options.n_threads >= 1, "invalid thread count {}: expected at least 1",
             options.n_threads);
  HLLM_CHECK(options.n_ubatch >= 1, "invalid micro-batch size {}: expected at least 1",
             options.n_ubatch);
}

}  // namespace

std::string BenchTest::name() const {
  if (n_gen == 0) return fmt::format("pp{}", n_prompt);
  if (n_prompt == 0) return fmt::format("tg{}", n_gen);
  return fmt::format("pp{}+tg{}", n_prompt, n_gen);
}

std::string weight_type_name(const GgufFile& file) {
  const std::optional<int64_t> file_type = file.find_int(key_name(Key::GeneralFileType, ""));
  if (file_type) {
    for (const FileTypeName& entry : kFileTypeNames) {
      if (entry.value == *file_type) return entry.name;
    }
  }
  return dominant_matrix_type(file);
}

std::string format_count(uint64_t count) {
  const double value = static_cast<double>(count);
  const auto three_digits = [](double scaled, const char* unit) {
    if (scaled >= 100) return fmt::format("{:.0f}{}", scaled, unit);
    if (scaled >= 10) return fmt::format("{:.1f}{}", scaled, unit);
    return fmt::format("{:.2f}{}", scaled, unit);
  };
  if (count >= 1'000'000'000) return three_digits(value / 1e9, "B");
  if (count >= 1'000'000) return three_digits(value / 1e6, "M");
  if (count >= 1'000) return three_digits(value / 1e3, "K");
  return fmt::format("{}", count);
}

uint64_t weight_bytes_per_token(const ModelSpec& spec) {
  const std::unique_ptr<ModelGraph> graph = one_token_graph(spec);
  // Bytes read per weight leaf, summed over the nodes that read it and capped at its size, so a
  // weight that several views split counts each part and a tied embedding counts once.
  std::map<const Tensor*, uint64_t> read_by_weight;
  for (const Tensor* node : graph->graph.nodes()) {
    if (node->is_view()) continue;
    for (int i = 0; i < node->n_src; ++i) {
      const Tensor* owner = node->src[i]->storage_owner();
      if (owner->leaf != LeafKind::Weight) continue;
      uint64_t& total = read_by_weight[owner];
      total = std::min<uint64_t>(owner->n_bytes(), total + bytes_read(*node, i));
    }
  }
  uint64_t total = 0;
  for (const auto& [weight, bytes] : read_by_weight)
    total += bytes;
  return total;
}

BenchModelInfo describe_bench_model(const Model& model) {
  BenchModelInfo info;
  info.path = model.path();
  info.arch = model.file().find_string(key_name(Key::GeneralArchitecture, "")).value_or("unknown");
  info.weight_type = weight_type_name(model.file());
  for (const GgufTensorInfo& tensor : model.file().tensors()) {
    info.size_bytes += tensor.n_bytes;
    info.n_params += static_cast<uint64_t>(tensor.n_elements());
  }
  info.type = fmt::format("{} {} {}", info.arch, format_count(info.n_params), info.weight_type);
  info.bytes_per_token = weight_bytes_per_token(model.spec());
  return info;
}

SampleStats sample_stats(const std::vector<double>& samples) {
  SampleStats stats;
  if (samples.empty()) return stats;
  double sum = 0;
  for (double sample : samples)
    sum += sample;
  stats.mean = sum / static_cast<double>(samples.size());
  if (samples.size() < 2) return stats;
  double squares = 0;
  for (double sample : samples)
    squares += (sample - stats.mean) * (sample - stats.mean);
  stats.stddev = std::sqrt(squares / static_cast<double>(samples.size() - 1));
  return stats;
}

BenchResult run_benchmark(const Model& model, const BenchModelInfo& info, const BenchTest& test,
                          const BenchOptions& options) {
  check_options(test, options);
  SessionOptions session_options;
  // As in llama-bench, the context has room for exactly the test's tokens.
  session_options.n_ctx = test.n_tokens();
  session_options.n_threads = options.n_threads;
  session_options.n_ubatch = options.n_ubatch;
  session_options.placement = options.placement;
  Session session(model, session_options);
  std::mt19937 random(options.seed);

  BenchResult result;
  result.test = test;
  result.n_threads = options.n_threads;
  result.n_ubatch = options.n_ubatch;
  result.device = options.placement.uses_device() ? options.placement.device : "cpu";
  result.plan_summary = session.plan_summary();

  // The warm-up run builds every graph shape that the timed runs use and faults in the weights.
  time_test_once(session, test, random);
  for (int r = 0; r < options.repetitions; ++r) {
    const double nanoseconds = time_test_once(session, test, random);
    result.samples_ns.push_back(nanoseconds);
    result.samples_ts.push_back(seconds_to_ts(test.n_tokens(), nanoseconds));
  }
  const SampleStats time_stats = sample_stats(result.samples_ns);
  const SampleStats rate_stats = sample_stats(result.samples_ts);
  result.avg_ns = time_stats.mean;
  result.stddev_ns = time_stats.stddev;
  result.avg_ts = rate_stats.mean;
  result.stddev_ts = rate_stats.stddev;
  result.nodes = session.last_graph_nodes();
  result.splits = session.last_graph_splits();
  if (test.n_prompt == 0) {
    result.bandwidth_gbs = static_cast<double>(info.bytes_per_token) * result.avg_ts / 1e9;
  }

  if (options.profile) {
    // A separate run, so that reading the clock around every node does not slow the timed ones.
    OpProfile profile;
    session.set_node_timer(profile.timer());
    time_test_once(session, test, random);
    session.set_node_timer(nullptr);
    result.profile = profile.summarize();
  }
  return result;
}

}  // namespace hllm
