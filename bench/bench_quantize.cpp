// Micro-benchmarks of quantize_row for the quantized weight types, on one thread: one row of 4096
// normally distributed floats per iteration, without and with an importance vector. The
// items-per-second counter is weights per second.
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "formats/ggml_type.h"
#include "formats/quant/quant.h"

namespace {

using hllm::GgmlType;

// A multiple of every block size (32 and 256).
constexpr int64_t kRowLength = 4096;

std::vector<float> random_floats(size_t n, uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> values(n);
  for (float& v : values)
    v = scale * normal(rng);
  return values;
}

void bench_quantize_row(benchmark::State& state, GgmlType type, bool with_importance) {
  const std::vector<float> source = random_floats(kRowLength, 1, 0.02f);
  std::vector<float> importance = random_floats(kRowLength, 2, 1.0f);
  for (float& value : importance)
    value = value * value;
  std::vector<uint8_t> target(hllm::row_size(type, kRowLength));
  for (auto _ : state) {
    hllm::quantize_row(type, source.data(), target.data(), kRowLength,
                       with_importance ? importance.data() : nullptr);
    benchmark::DoNotOptimize(target.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * kRowLength);
}

// Registers quantize_row/<type> and quantize_row/<type>/importance.
const bool kRegistered = [] {
  const GgmlType types[] = {GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1,
                            GgmlType::Q8_0, GgmlType::Q2_K, GgmlType::Q3_K, GgmlType::Q4_K,
                            GgmlType::Q5_K, GgmlType::Q6_K, GgmlType::Q8_K};
  for (const GgmlType type : types) {
    const std::string name = std::string("quantize_row/") + std::string(hllm::type_name(type));
    benchmark::RegisterBenchmark(name.c_str(), bench_quantize_row, type, false);
    benchmark::RegisterBenchmark((name + "/importance").c_str(), bench_quantize_row, type, true);
  }
  return true;
}();

}  // namespace

BENCHMARK_MAIN();
