// Throughput measurement in the manner of llama.cpp's llama-bench: prompt processing (ppN),
// generation (tgN) and both in turn (ppN+tgM), timed over repetitions after a warm-up run, with
// the model facts and the memory bandwidth that generation achieves.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "formats/gguf.h"
#include "runtime/model.h"
#include "runtime/profile.h"
#include "sched/placement.h"

namespace hllm {

// One test. Prompt tokens go in one decode call; generated tokens take one decode call each.
struct BenchTest {
  int64_t n_prompt = 0;
  int64_t n_gen = 0;

  // "pp512", "tg128" or "pp512+tg128", as llama-bench names its tests.
  std::string name() const;
  int64_t n_tokens() const { return n_prompt + n_gen; }
};

// The facts about a model that a benchmark report lists.
struct BenchModelInfo {
  std::string path;
  std::string arch;         // general.architecture
  std::string weight_type;  // llama.cpp's name of general.file_type: "Q8_0", "Q4_K - Medium"
  std::string type;         // arch, parameter count and weight type: "llama 292K all F32"
  uint64_t size_bytes = 0;  // tensor data of every tensor in the file
  uint64_t n_params = 0;    // elements of every tensor in the file
  // Estimated bytes of weights that one generated token reads (see weight_bytes_per_token).
  uint64_t bytes_per_token = 0;
};

BenchModelInfo describe_bench_model(const Model& model);

// Returns llama.cpp's description of the file's general.file_type ("Q4_K - Medium"). Without
// that key, or for a value llama.cpp does not name, returns the element type with the most bytes
// among the matrices (tensors of two or more dimensions), in upper case: "Q8_0".
std::string weight_type_name(const GgufFile& file);

// Formats a count with K, M or B and three significant digits: "292K", "3.85M", "80.0B".
std::string format_count(uint64_t count);

// Estimates the bytes of weights that a decode step of one token reads, from the graph of that
// step: every weight a matrix product or elementwise op reads counts fully, once per token even
// when several nodes read it. A table that get_rows reads (the token embeddings) counts only the
// rows fetched. Expert tensors of mul_mat_id count n_expert_used / n_expert of their bytes,
// because only the routed experts are read. That share is an upper bound when two routes of a
// batch pick the same expert. KV cache and recurrent state reads are not counted.
uint64_t weight_bytes_per_token(const ModelSpec& spec);

struct BenchOptions {
  int n_threads = 1;
  int64_t n_ubatch = 512;
  sched::PlacementOptions placement;
  int repetitions = 5;   // timed runs after the one warm-up run
  uint32_t seed = 1234;  // of the random prompt and generated token ids
  bool profile = false;  // time every node in one more run after the timed ones
};

struct BenchResult {
  BenchTest test;
  int n_threads = 0;
  int64_t n_ubatch = 0;
  std::string device;                // "cpu", or the --device value
  std::string plan_summary;          // the session's placement summary; empty on the CPU alone
  std::vector<double> samples_ns;    // wall time of each timed run
  std::vector<double> samples_ts;    // tokens per second of each timed run
  double avg_ns = 0, stddev_ns = 0;  // over samples_ns
  double avg_ts = 0, stddev_ts = 0;  // over samples_ts
  size_t nodes = 0;                  // of the graph evaluated last
  size_t splits = 0;                 // of the graph evaluated last; 0 when not reported
  // bytes_per_token * avg_ts / 1e9 for a generation-only test; nullopt for the others.
  std::optional<double> bandwidth_gbs;
  std::optional<ProfileSummary> profile;  // when BenchOptions::profile is set
};

// Runs one test on a fresh session: a warm-up run, then options.repetitions timed runs, each
// from an empty context with random token ids below n_vocab. Throws Error for a test without
// tokens or invalid options.
BenchResult run_benchmark(const Model& model, const BenchModelInfo& info, const BenchTest& test,
                          const BenchOptions& options);

struct SampleStats {
  double mean = 0;
  double stddev = 0;  // sample standard deviation (n - 1 in the denominator); 0 for one sample
};
SampleStats sample_stats(const std::vector<double>& samples);

}  // namespace hllm
