// Micro-benchmarks of the gated delta rule at Qwen3-Next's linear-attention head sizes (16 key
// heads, 32 value heads, dk = dv = 128): the token-by-token recurrence and the chunked form.
//
// GFLOP/s counts 6 * dk * dv operations per value head and token: S^T k, the rank-1 update and
// S^T q, at two operations per multiply-add. The decay is not counted. Both forms are credited
// with this count, so their rates compare as token throughput, although the chunked form does
// more arithmetic.
//
//   bench_delta_rule                       both forms, whole op, T = 1 and 512
//   bench_delta_rule --benchmark_filter=Head   one head on one thread, T from 1 to 512
#include <benchmark/benchmark.h>

#include <cmath>
#include <random>
#include <vector>

#include "backends/cpu/delta_rule_internal.h"
#include "backends/cpu/kernels.h"
#include "util/thread_pool.h"

namespace hllm::cpu {
namespace {

constexpr int64_t kKeyHeads = 16;
constexpr int64_t kValueHeads = 32;
constexpr int64_t kHeadDim = 128;
constexpr int32_t kChunkSize = 64;

std::vector<float> random_values(size_t n, float low, float high, std::mt19937& rng) {
  std::uniform_real_distribution<float> uniform(low, high);
  std::vector<float> values(n);
  for (float& value : values)
    value = uniform(rng);
  return values;
}

// Scales each row of row_length values to unit length, as the model passes q and k.
void normalize_rows(std::vector<float>& values, int64_t row_length) {
  for (size_t r = 0; r < values.size(); r += row_length) {
    double norm = 0.0;
    for (int64_t i = 0; i < row_length; ++i)
      norm += values[r + i] * values[r + i];
    for (int64_t i = 0; i < row_length; ++i)
      values[r + i] /= static_cast<float>(std::sqrt(norm));
  }
}

struct Problem {
  explicit Problem(int64_t n_tokens) : n_tokens(n_tokens) {
    std::mt19937 rng(1);
    q = random_values(kHeadDim * kKeyHeads * n_tokens, -1.0f, 1.0f, rng);
    k = random_values(q.size(), -1.0f, 1.0f, rng);
    normalize_rows(q, kHeadDim);
    normalize_rows(k, kHeadDim);
    v = random_values(kHeadDim * kValueHeads * n_tokens, -1.0f, 1.0f, rng);
    g = random_values(kValueHeads * n_tokens, -0.1f, 0.0f, rng);
    beta = random_values(g.size(), 0.0f, 1.0f, rng);
    state = random_values(kHeadDim * kHeadDim * kValueHeads, -0.1f, 0.1f, rng);
    out.resize(v.size());
  }

  int64_t n_tokens;
  std::vector<float> q, k, v, g, beta, state, out;
};

Tensor make_tensor(const char* name, GgmlType type, std::array<int64_t, kMaxDims> ne, void* data) {
  Tensor tensor;
  tensor.name = name;
  tensor.type = type;
  tensor.ne = ne;
  tensor.nb[0] = 4;  // F32 and I32 alike
  for (int i = 1; i < kMaxDims; ++i)
    tensor.nb[i] = tensor.nb[i - 1] * ne[i - 1];
  tensor.data = data;
  return tensor;
}

void set_flop_rate(benchmark::State& state, int64_t n_tokens, int64_t n_heads) {
  const double flops = 6.0 * kHeadDim * kHeadDim * n_heads * n_tokens;
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["tokens/s"] = benchmark::Counter(static_cast<double>(n_tokens),
                                                  benchmark::Counter::kIsIterationInvariantRate);
}

// The whole op through compute_delta_rule. Arguments: chunk size (0 = recurrence), tokens,
// threads.
void BM_DeltaRule(benchmark::State& state) {
  const int32_t chunk_size = static_cast<int32_t>(state.range(0));
  const int64_t n_tokens = state.range(1);
  const int n_threads = static_cast<int>(state.range(2));
  Problem problem(n_tokens);
  int32_t slot = 0;
  Tensor q = make_tensor("q", GgmlType::F32, {kHeadDim, kKeyHeads, n_tokens, 1}, problem.q.data());
  Tensor k = make_tensor("k", GgmlType::F32, {kHeadDim, kKeyHeads, n_tokens, 1}, problem.k.data());
  Tensor v =
      make_tensor("v", GgmlType::F32, {kHeadDim, kValueHeads, n_tokens, 1}, problem.v.data());
  Tensor g = make_tensor("g", GgmlType::F32, {kValueHeads, n_tokens, 1, 1}, problem.g.data());
  Tensor beta =
      make_tensor("beta", GgmlType::F32, {kValueHeads, n_tokens, 1, 1}, problem.beta.data());
  Tensor states = make_tensor("state", GgmlType::F32, {kHeadDim * kHeadDim * kValueHeads, 1, 1, 1},
                              problem.state.data());
  Tensor slots = make_tensor("slots", GgmlType::I32, {1, 1, 1, 1}, &slot);
  Tensor dst = make_tensor("delta_rule", GgmlType::F32, {kHeadDim, kValueHeads, n_tokens, 1},
                           problem.out.data());
  dst.op = Op::DeltaRule;
  dst.params = DeltaRuleParams{1.0f / std::sqrt(static_cast<float>(kHeadDim)), chunk_size};
  for (Tensor* source : {&q, &k, &v, &g, &beta, &states, &slots})
    dst.src[dst.n_src++] = source;

  ThreadPool pool(n_threads);
  CpuContext ctx(pool);
  for (auto _ : state) {
    compute_delta_rule(dst, ctx);
    benchmark::DoNotOptimize(problem.out.data());
  }
  set_flop_rate(state, n_tokens, kValueHeads);
}

// One head on one thread, with the form forced, to find where chunking starts to pay.
// Arguments: chunk size (0 = recurrence), tokens.
void BM_DeltaRuleHead(benchmark::State& state) {
  const int64_t chunk_size = state.range(0);
  const int64_t n_tokens = state.range(1);
  Problem problem(n_tokens);
  std::vector<float> workspace(
      delta_rule_buffers(kHeadDim, kHeadDim, chunk_size, nullptr, nullptr));
  DeltaRuleHead head;
  const size_t key_row = kHeadDim * kKeyHeads * sizeof(float);
  const size_t value_row = kHeadDim * kValueHeads * sizeof(float);
  head.q = StridedRows{reinterpret_cast<const char*>(problem.q.data()), sizeof(float), key_row};
  head.k = StridedRows{reinterpret_cast<const char*>(problem.k.data()), sizeof(float), key_row};
  head.v = StridedRows{reinterpret_cast<const char*>(problem.v.data()), sizeof(float), value_row};
  head.g =
      StridedRows{reinterpret_cast<const char*>(problem.g.data()), 0, kValueHeads * sizeof(float)};
  head.beta = StridedRows{reinterpret_cast<const char*>(problem.beta.data()), 0,
                          kValueHeads * sizeof(float)};
  head.state = problem.state.data();
  head.out = problem.out.data();
  head.out_token_stride = kHeadDim * kValueHeads;
  head.dk = kHeadDim;
  head.dv = kHeadDim;
  head.n_tokens = n_tokens;
  head.scale = 1.0f / std::sqrt(static_cast<float>(kHeadDim));
  head.chunk_size = chunk_size;
  head.workspace = workspace.data();
  for (auto _ : state) {
    run_delta_rule_head(head);
    benchmark::DoNotOptimize(problem.out.data());
  }
  set_flop_rate(state, n_tokens, 1);
}

BENCHMARK(BM_DeltaRule)
    ->ArgNames({"chunk", "T", "threads"})
    ->ArgsProduct({{0, kChunkSize}, {1, 512}, {1, 2}})
    ->UseRealTime();

BENCHMARK(BM_DeltaRuleHead)
    ->ArgNames({"chunk", "T"})
    ->ArgsProduct({{0, 16, 32, kChunkSize}, {1, 2, 4, 8, 16, 32, 64, 128, 512}});

}  // namespace
}  // namespace hllm::cpu

BENCHMARK_MAIN();
