// Float64 references of the recurrent-layer ops (ssm_conv, delta_rule), written for clarity over
// contiguous arrays. Shapes are listed fastest dimension first, as in the graph.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

namespace hllm::test {

// Sizes of one delta-rule call. Value head h reads key head h / (n_value_heads / n_key_heads).
struct DeltaRuleShape {
  int64_t dk = 32;
  int64_t dv = 32;
  int64_t n_key_heads = 2;
  int64_t n_value_heads = 4;
  int64_t n_tokens = 5;
  int64_t n_seqs = 2;
  int64_t n_slots = 3;
};

// Applies the gated delta rule token by token. q, k [dk, Hk, T, S]; v [dv, Hv, T, S]; g, beta
// [Hv, T, S]; state [dk * dv * Hv, n_slots] with each head's matrix stored dv fastest, updated in
// place for the slots listed in slots [S]. Returns the output [dv, Hv, T, S].
inline std::vector<double> reference_delta_rule(
    const DeltaRuleShape& shape, const std::vector<float>& q, const std::vector<float>& k,
    const std::vector<float>& v, const std::vector<float>& g, const std::vector<float>& beta,
    const std::vector<int32_t>& slots, double scale, std::vector<double>& state) {
  const int64_t dk = shape.dk, dv = shape.dv, hk = shape.n_key_heads, hv = shape.n_value_heads;
  const int64_t n_tokens = shape.n_tokens;
  std::vector<double> out(static_cast<size_t>(dv * hv * n_tokens * shape.n_seqs));
  std::vector<double> delta(static_cast<size_t>(dv));
  for (int64_t s = 0; s < shape.n_seqs; ++s) {
    for (int64_t h = 0; h < hv; ++h) {
      const int64_t key_head = h / (hv / hk);
      double* matrix = state.data() + slots[s] * dk * dv * hv + h * dk * dv;
      for (int64_t t = 0; t < n_tokens; ++t) {
        const float* qt = q.data() + ((s * n_tokens + t) * hk + key_head) * dk;
        const float* kt = k.data() + ((s * n_tokens + t) * hk + key_head) * dk;
        const float* vt = v.data() + ((s * n_tokens + t) * hv + h) * dv;
        const double decay = std::exp(static_cast<double>(g[(s * n_tokens + t) * hv + h]));
        const double strength = beta[(s * n_tokens + t) * hv + h];
        for (int64_t i = 0; i < dk * dv; ++i)
          matrix[i] *= decay;
        for (int64_t j = 0; j < dv; ++j) {
          double predicted = 0.0;
          for (int64_t i = 0; i < dk; ++i)
            predicted += matrix[i * dv + j] * kt[i];
          delta[j] = strength * (vt[j] - predicted);
        }
        for (int64_t i = 0; i < dk; ++i) {
          for (int64_t j = 0; j < dv; ++j)
            matrix[i * dv + j] += kt[i] * delta[j];
        }
        double* ot = out.data() + ((s * n_tokens + t) * hv + h) * dv;
        for (int64_t j = 0; j < dv; ++j) {
          double sum = 0.0;
          for (int64_t i = 0; i < dk; ++i)
            sum += matrix[i * dv + j] * qt[i];
          ot[j] = sum * scale;
        }
      }
    }
  }
  return out;
}

// Applies the causal depthwise convolution with a carried window. x [C, T, S]; kernel [K, C];
// state [(K-1) * C, n_slots] holding each channel's K-1 past inputs oldest first
// (state[c * (K-1) + j]), updated in place for the slots listed in slots [S]. Returns [C, T, S].
inline std::vector<double> reference_ssm_conv(int64_t n_channels, int64_t n_tokens, int64_t n_seqs,
                                              int64_t n_taps, const std::vector<float>& x,
                                              const std::vector<float>& kernel,
                                              const std::vector<int32_t>& slots,
                                              std::vector<double>& state) {
  const int64_t n_past = n_taps - 1;
  std::vector<double> out(static_cast<size_t>(n_channels * n_tokens * n_seqs));
  for (int64_t s = 0; s < n_seqs; ++s) {
    double* slot_state = state.data() + slots[s] * n_past * n_channels;
    for (int64_t c = 0; c < n_channels; ++c) {
      // The channel's whole input: the carried values, then this call's.
      std::vector<double> window(slot_state + c * n_past, slot_state + (c + 1) * n_past);
      for (int64_t t = 0; t < n_tokens; ++t)
        window.push_back(x[(s * n_tokens + t) * n_channels + c]);
      for (int64_t t = 0; t < n_tokens; ++t) {
        double sum = 0.0;
        for (int64_t j = 0; j < n_taps; ++j)
          sum += kernel[c * n_taps + j] * window[t + j];
        out[(s * n_tokens + t) * n_channels + c] = sum;
      }
      for (int64_t j = 0; j < n_past; ++j)
        slot_state[c * n_past + j] = window[n_tokens + j];
    }
  }
  return out;
}

}  // namespace hllm::test
