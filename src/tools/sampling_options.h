// Sampling and generation options shared by `hllm run` and `hllm chat`.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>

#include "runtime/sampler.h"

namespace hllm::tools {

struct SamplingOptions {
  SamplerParams sampler;
  int64_t seed = -1;        // -1: a random seed, logged at info level
  int64_t max_tokens = -1;  // -n; -1: until end of generation or a full context
};

// Adds -n, --temp, --top-k, --top-p, --min-p, --repeat-penalty, --repeat-last-n,
// --presence-penalty, --frequency-penalty and --seed.
void add_sampling_options(CLI::App& command, SamplingOptions& options);

// Returns the sampler parameters with the seed resolved. Throws Error for an invalid -n or
// --seed; the sampler checks its own parameters.
SamplerParams resolve_sampling(const SamplingOptions& options);

}  // namespace hllm::tools
