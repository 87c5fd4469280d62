#include "fixture_models.h"

#include <fmt/format.h>

namespace hllm::test {

const std::vector<FixtureModel>& fixture_models() {
  static const std::vector<FixtureModel> models = {
      {"qwen3next-tiny-f32", WeightClass::F32, "qwen3next-tiny-f32.logits.f32", -1},
      {"qwen3next-tiny-legacy-f16", WeightClass::F16, "qwen3next-tiny-legacy-f16.logits.f32", -1},
      {"qwen3next-tiny-q8_0", WeightClass::Quantized, "qwen3next-tiny-q8_0.logits.f32", -1},
      {"qwen3next-tiny-q4_k_m", WeightClass::Quantized, "qwen3next-tiny-q4_k_m.logits.f32", -1},
      {"stories260K", WeightClass::F32, "stories260K.logits.f32", -1},
      {"llama-2-tiny-random", WeightClass::F16, "llama-2-tiny-random.last16.logits.f32", 16},
  };
  return models;
}

std::string check_agreement(const LogitAgreement& agreement, WeightClass weights) {
  // Bounds from the fixtures' README: 2-10 times llama.cpp's own spread between a one-batch and
  // a token-by-token run, leaving room for a different but sound order of float operations.
  std::string problems;
  auto require = [&](bool ok, const std::string& what) {
    if (!ok) problems += what + "; ";
  };
  const std::string stats = fmt::format(" (mean KL {:.3g}, max KL {:.3g} at row {}, max |diff| {:.3g})",
                                        agreement.mean_kl, agreement.max_kl, agreement.max_kl_row,
                                        agreement.max_abs_diff);
  switch (weights) {
    case WeightClass::F32:
      require(agreement.mean_kl <= 1e-5, "mean KL above 1e-5" + stats);
      require(agreement.max_abs_diff <= 0.05, "max |logit diff| above 0.05" + stats);
      break;
    case WeightClass::F16:
      require(agreement.mean_kl <= 1e-3, "mean KL above 1e-3" + stats);
      require(agreement.max_kl <= 0.1, "max KL above 0.1" + stats);
      break;
    case WeightClass::Quantized:
      require(agreement.mean_kl <= 2e-3, "mean KL above 2e-3" + stats);
      require(agreement.max_kl <= 0.1, "max KL above 0.1" + stats);
      break;
  }
  return problems;
}

}  // namespace hllm::test
