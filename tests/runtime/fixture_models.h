// The reference models and the agreement each must reach with llama.cpp's logits.
#pragma once

#include <string>
#include <vector>

#include "runtime/logit_compare.h"

namespace hllm::test {

enum class WeightClass { F32, F16, Quantized };

struct FixtureModel {
  std::string name;  // file models/NAME.gguf, reference files reference/NAME.*
  WeightClass weights;
  std::string logits_file;  // under reference/
  int reference_rows;       // rows in logits_file: the last this many prompt positions
};

// Every model under models/ with its reference.
const std::vector<FixtureModel>& fixture_models();

// Checks agreement against the bounds of the fixtures' README for the weight class and returns
// a failure message, or an empty string.
std::string check_agreement(const LogitAgreement& agreement, WeightClass weights);

}  // namespace hllm::test
