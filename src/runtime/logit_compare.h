// Agreement between two sets of logits: the Kullback-Leibler divergence of one softmax from the
// other per row, and the largest absolute difference.
#pragma once

#include <cstdint>
#include <span>

namespace hllm {

struct LogitAgreement {
  double mean_kl = 0.0;    // mean over rows of KL(reference || actual)
  double max_kl = 0.0;
  int64_t max_kl_row = 0;
  double max_abs_diff = 0.0;
  int64_t max_diff_index = 0;  // flat index of the largest difference
  int64_t rows = 0;
};

// Compares row-major [rows][n_vocab] logits. KL is computed in double precision as
// sum p_ref * (log p_ref - log p_actual). Throws Error when the sizes differ.
LogitAgreement compare_logits(std::span<const float> actual, std::span<const float> reference,
                              int64_t n_vocab);

}  // namespace hllm
