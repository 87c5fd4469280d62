#include "tools/sampling_options.h"

#include <random>

#include "util/error.h"
#include "util/log.h"

namespace hllm::tools {

void add_sampling_options(CLI::App& command, SamplingOptions& options) {
  SamplerParams& sampler = options.sampler;
  command
      .add_option("-n,--n-predict", options.max_tokens,
                  "Maximum tokens to generate (-1: until end of generation or a full context)")
      ->capture_default_str();
  command.add_option("--temp", sampler.temperature, "Sampling temperature (0: greedy)")
      ->capture_default_str();
  command.add_option("--top-k", sampler.top_k, "Keep the k most likely tokens (0: off)")
      ->capture_default_str();
  command
      .add_option("--top-p", sampler.top_p,
                  "Keep the most likely tokens whose probabilities sum to p (1: off)")
      ->capture_default_str();
  command
      .add_option("--min-p", sampler.min_p,
                  "Drop tokens less likely than p times the most likely one (0: off)")
      ->capture_default_str();
  command
      .add_option(
          "--repeat-penalty", sampler.repeat_penalty,
          "Divide positive logits (multiply negative ones) of recent tokens by this (1: off)")
      ->capture_default_str();
  command
      .add_option("--repeat-last-n", sampler.repeat_last_n,
                  "Recent tokens that the penalties consider (0: off, -1: the whole sequence)")
      ->capture_default_str();
  command
      .add_option("--presence-penalty", sampler.presence_penalty,
                  "Subtract this from the logit of each token seen recently (0: off)")
      ->capture_default_str();
  command
      .add_option("--frequency-penalty", sampler.frequency_penalty,
                  "Subtract this times the recent count of a token from its logit (0: off)")
      ->capture_default_str();
  command.add_option("-s,--seed", options.seed, "Random seed (-1: a random seed)")
      ->capture_default_str();
}

SamplerParams resolve_sampling(const SamplingOptions& options) {
  HLLM_CHECK(options.max_tokens >= -1,
             "invalid --n-predict {}: expected -1 (no limit), 0 or a positive count",
             options.max_tokens);
  HLLM_CHECK(options.seed >= -1, "invalid --seed {}: expected -1 (random) or a seed of at least 0",
             options.seed);
  SamplerParams params = options.sampler;
  if (options.seed == -1) {
    std::random_device device;
    // 63 bits, so that the logged seed can be passed back to --seed.
    params.seed = ((static_cast<uint64_t>(device()) << 32) | device()) >> 1;
  } else {
    params.seed = static_cast<uint64_t>(options.seed);
  }
  log::info("sampling seed {}", params.seed);
  return params;
}

}  // namespace hllm::tools
