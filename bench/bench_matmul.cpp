// Micro-benchmarks of the CPU matrix product for every weight type with a kernel, on 1 and 2
// threads. A 2048 x 2048 weight matrix is multiplied by one input row, as in decoding (read as
// weight GB/s), and by 512 input rows, as in prompt processing (read as GFLOP/s).
#include <benchmark/benchmark.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "backends/cpu/kernels.h"
#include "backends/cpu/matmul_internal.h"
#include "formats/quant/quant.h"
#include "util/thread_pool.h"

namespace {

using hllm::GgmlType;

constexpr int64_t kRowLength = 2048;  // k
constexpr int64_t kRows = 2048;       // M

std::vector<float> random_floats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> values(n);
  for (float& v : values) v = normal(rng);
  return values;
}

void set_contiguous(hllm::Tensor& t, GgmlType type, std::array<int64_t, 4> ne) {
  t.type = type;
  t.ne = ne;
  t.nb[0] = hllm::type_traits(type).type_size;
  t.nb[1] = hllm::row_size(type, ne[0]);
  t.nb[2] = t.nb[1] * ne[1];
  t.nb[3] = t.nb[2] * ne[2];
}

// Returns the benchmark weights of a type, quantized once and kept for all its runs because the
// K-quant scale searches take seconds.
const std::vector<uint8_t>& quantized_weights(GgmlType type) {
  static std::map<GgmlType, std::vector<uint8_t>> cache;
  auto [entry, inserted] = cache.try_emplace(type);
  if (inserted) {
    const std::vector<float> source = random_floats(kRowLength * kRows, 1);
    entry->second.resize(hllm::row_size(type, kRowLength) * kRows);
    hllm::quantize_rows(type, source.data(), entry->second.data(), kRows, kRowLength);
  }
  return entry->second;
}

void bench_mul_mat(benchmark::State& state, GgmlType type) {
  const int64_t columns = state.range(0);
  const int threads = static_cast<int>(state.range(1));

  hllm::Tensor weights;
  set_contiguous(weights, type, {kRowLength, kRows, 1, 1});
  const std::vector<uint8_t>& weight_bytes = quantized_weights(type);
  weights.data = const_cast<uint8_t*>(weight_bytes.data());

  hllm::Tensor input;
  set_contiguous(input, GgmlType::F32, {kRowLength, columns, 1, 1});
  std::vector<float> input_values = random_floats(kRowLength * columns, 2);
  input.data = input_values.data();

  hllm::Tensor dst;
  set_contiguous(dst, GgmlType::F32, {kRows, columns, 1, 1});
  dst.op = hllm::Op::MulMat;
  dst.src[0] = &weights;
  dst.src[1] = &input;
  dst.n_src = 2;
  std::vector<float> out(kRows * columns);
  dst.data = out.data();

  hllm::ThreadPool pool(threads);
  hllm::cpu::CpuContext ctx(pool);
  for (auto _ : state) {
    hllm::cpu::compute_mul_mat(dst, ctx);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }

  const double iterations = static_cast<double>(state.iterations());
  state.counters["GB/s"] = benchmark::Counter(
      iterations * static_cast<double>(weight_bytes.size()) / 1e9, benchmark::Counter::kIsRate);
  state.counters["GFLOP/s"] = benchmark::Counter(
      iterations * 2.0 * kRowLength * kRows * static_cast<double>(columns) / 1e9,
      benchmark::Counter::kIsRate);
  state.SetLabel(hllm::cpu::matmul::kernel_target_name());
}

const GgmlType kTypes[] = {
    GgmlType::F32,  GgmlType::F16,  GgmlType::BF16, GgmlType::Q8_0, GgmlType::Q4_0,
    GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q2_K, GgmlType::Q3_K,
    GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K,
};

// Registers mul_mat/<type>/<columns>/<threads> for batch 1 and batch 512.
const bool kRegistered = [] {
  for (GgmlType type : kTypes) {
    const std::string name = "mul_mat/" + std::string(hllm::type_name(type));
    benchmark::RegisterBenchmark(name.c_str(), bench_mul_mat, type)
        ->ArgNames({"batch", "threads"})
        ->ArgsProduct({{1, 512}, {1, 2}})
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  }
  return true;
}();

}  // namespace

BENCHMARK_MAIN();
