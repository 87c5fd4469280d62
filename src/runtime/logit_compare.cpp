#include "runtime/logit_compare.h"

#include <cmath>
#include <vector>

#include "util/error.h"

namespace hllm {

namespace {

// Fills log_probs with log softmax(row), in double precision.
void log_softmax(const float* row, int64_t n, std::vector<double>& log_probs) {
  double max_logit = row[0];
  for (int64_t i = 1; i < n; ++i) max_logit = std::max<double>(max_logit, row[i]);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp(row[i] - max_logit);
  const double log_sum = std::log(sum) + max_logit;
  log_probs.resize(n);
  for (int64_t i = 0; i < n; ++i) log_probs[i] = row[i] - log_sum;
}

}  // namespace

LogitAgreement compare_logits(std::span<const float> actual, std::span<const float> reference,
                              int64_t n_vocab) {
  HLLM_CHECK(n_vocab > 0 && actual.size() == reference.size() && actual.size() % n_vocab == 0,
             "cannot compare logits: {} values against {} reference values with a vocabulary of {}",
             actual.size(), reference.size(), n_vocab);
  LogitAgreement result;
  result.rows = static_cast<int64_t>(actual.size()) / n_vocab;
  std::vector<double> log_p, log_q;
  for (int64_t r = 0; r < result.rows; ++r) {
    const float* a = actual.data() + r * n_vocab;
    const float* b = reference.data() + r * n_vocab;
    log_softmax(b, n_vocab, log_p);
    log_softmax(a, n_vocab, log_q);
    double kl = 0.0;
    for (int64_t i = 0; i < n_vocab; ++i) kl += std::exp(log_p[i]) * (log_p[i] - log_q[i]);
    if (std::isnan(kl)) kl = INFINITY;  // a NaN must fail every bound
    result.mean_kl += kl;
    if (kl > result.max_kl) {
      result.max_kl = kl;
      result.max_kl_row = r;
    }
    for (int64_t i = 0; i < n_vocab; ++i) {
      double diff = std::fabs(static_cast<double>(a[i]) - b[i]);
      if (std::isnan(diff)) diff = INFINITY;
      if (diff > result.max_abs_diff) {
        result.max_abs_diff = diff;
        result.max_diff_index = r * n_vocab + i;
      }
    }
  }
  result.mean_kl /= static_cast<double>(std::max<int64_t>(1, result.rows));
  return result;
}

}  // namespace hllm
