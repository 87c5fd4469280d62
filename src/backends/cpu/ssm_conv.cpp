// Causal depthwise convolution with a carried window: the short convolution in front of the gated
// DeltaNet mixers. Each channel convolves its K-1 carried inputs followed by the new inputs with
// its own K taps, and the state keeps the last K-1 inputs for the next call.

#include <algorithm>
#include <cstring>
#include <vector>

#include "backends/cpu/delta_rule_internal.h"
#include "backends/cpu/kernels.h"
#include "util/error.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "backends/cpu/ssm_conv.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"

#ifndef HLLM_SSM_CONV_ROWS_DEFINED
#define HLLM_SSM_CONV_ROWS_DEFINED
namespace hllm::cpu {

// One sequence's convolution over channels [begin, end). Rows are indexed by channel.
struct SsmConvRows {
  const float* const* window = nullptr;  // K - 1 + T rows: the carried inputs, then the new ones
  const float* taps = nullptr;           // tap j of channel c at taps[j * n_channels + c]
  size_t n_channels = 0;
  float* out = nullptr;  // T rows, out_stride floats apart
  size_t out_stride = 0;
  size_t n_taps = 0;
  size_t n_tokens = 0;
  size_t begin = 0;
  size_t end = 0;
};

}  // namespace hllm::cpu
#endif  // HLLM_SSM_CONV_ROWS_DEFINED

HWY_BEFORE_NAMESPACE();
namespace hllm::cpu {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// out[t][c] = sum_j taps[j][c] * window[t + j][c], vectorised over channels.
void ConvolveRows(const SsmConvRows& rows) {
  const hn::ScalableTag<float> d;
  const size_t lanes = hn::Lanes(d);
  size_t c = rows.begin;
  for (; c + lanes <= rows.end; c += lanes) {
    for (size_t t = 0; t < rows.n_tokens; ++t) {
      auto sum = hn::Zero(d);
      for (size_t j = 0; j < rows.n_taps; ++j) {
        const auto tap = hn::LoadU(d, rows.taps + j * rows.n_channels + c);
        sum = hn::MulAdd(tap, hn::LoadU(d, rows.window[t + j] + c), sum);
      }
      hn::StoreU(sum, d, rows.out + t * rows.out_stride + c);
    }
  }
  for (; c < rows.end; ++c) {
    for (size_t t = 0; t < rows.n_tokens; ++t) {
      float sum = 0.0f;
      for (size_t j = 0; j < rows.n_taps; ++j) {
        sum += rows.taps[j * rows.n_channels + c] * rows.window[t + j][c];
      }
      rows.out[t * rows.out_stride + c] = sum;
    }
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace hllm::cpu
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace hllm::cpu {

HWY_EXPORT(ConvolveRows);

namespace {

// Channels per unit of work: whole cache lines, so threads never write the same line of out.
constexpr int64_t kChannelGrain = 16;

size_t round_up(size_t n, size_t multiple) {
  return (n + multiple - 1) / multiple * multiple;
}

float load_float(const Tensor& tensor, size_t offset) {
  float value;
  std::memcpy(&value, static_cast<const char*>(tensor.data) + offset, sizeof(float));
  return value;
}

}  // namespace

void compute_ssm_conv(Tensor& dst, CpuContext& ctx) {
  HLLM_CHECK(dst.n_src == 4, "ssm_conv {}: expected 4 sources, found {}", dst.name, dst.n_src);
  const Tensor& x = *dst.src[0];
  const Tensor& kernel = *dst.src[1];
  Tensor& state = *dst.src[2];
  const Tensor& slots = *dst.src[3];
  const int64_t n_channels = x.ne[0], n_tokens = x.ne[1], n_seqs = x.ne[2];
  const int64_t n_taps = kernel.ne[0];
  const int64_t n_past = n_taps - 1;

  for (const Tensor* tensor :
       {&x, &kernel, static_cast<const Tensor*>(&state), static_cast<const Tensor*>(&dst)}) {
    HLLM_CHECK(tensor->type == GgmlType::F32, "ssm_conv {}: tensor '{}' must be F32, found {}",
               dst.name, tensor->name, type_name(tensor->type));
  }
  HLLM_CHECK(n_taps >= 1 && kernel.ne[1] == n_channels,
             "ssm_conv {}: kernel '{}' has shape [{}, {}], expected [K >= 1, {}]", dst.name,
             kernel.name, kernel.ne[0], kernel.ne[1], n_channels);
  HLLM_CHECK(state.ne[0] == n_past * n_channels && state.nb[0] == sizeof(float),
             "ssm_conv {}: state '{}' must have contiguous rows of {} floats, found {}", dst.name,
             state.name, n_past * n_channels, state.ne[0]);
  HLLM_CHECK(dst.ne[0] == n_channels && dst.ne[1] == n_tokens && dst.ne[2] == n_seqs &&
                 dst.nb[0] == sizeof(float),
             "ssm_conv {}: output must be [{}, {}, {}] with contiguous rows", dst.name, n_channels,
             n_tokens, n_seqs);
  const std::vector<int32_t> slot_of = read_state_slots(dst, slots, state, n_seqs);
  if (n_channels == 0 || n_tokens == 0 || n_seqs == 0) return;

  // Scratch: the taps transposed to [K, C], the carried inputs as rows [K-1, C], a contiguous
  // copy of the new inputs when x's channels are strided, and each thread's window pointers.
  const size_t channels = static_cast<size_t>(n_channels);
  const size_t taps_floats = round_up(n_taps * channels, 16);
  const size_t past_floats = round_up(n_past * channels, 16);
  const bool copy_x = x.nb[0] != sizeof(float);
  const size_t x_floats = copy_x ? round_up(n_tokens * channels, 16) : 0;
  const size_t window_rows = static_cast<size_t>(n_past + n_tokens);
  const int n_threads = ctx.pool.size();
  char* scratch =
      static_cast<char*>(ctx.scratch((taps_floats + past_floats + x_floats) * sizeof(float) +
                                     window_rows * sizeof(const float*) * n_threads));
  float* taps = reinterpret_cast<float*>(scratch);
  float* past = taps + taps_floats;
  float* x_copy = past + past_floats;
  const float** windows = reinterpret_cast<const float**>(x_copy + x_floats);

  const int64_t n_grains = (n_channels + kChannelGrain - 1) / kChannelGrain;
  ctx.pool.run([&](int ith, int nth) {
    const size_t begin = std::min<int64_t>(n_grains * ith / nth * kChannelGrain, n_channels);
    const size_t end = std::min<int64_t>(n_grains * (ith + 1) / nth * kChannelGrain, n_channels);
    if (begin == end) return;
    for (int64_t j = 0; j < n_taps; ++j) {
      for (size_t c = begin; c < end; ++c) {
        taps[j * channels + c] = load_float(kernel, j * kernel.nb[0] + c * kernel.nb[1]);
      }
    }
    const float** window = windows + window_rows * ith;
    for (int64_t s = 0; s < n_seqs; ++s) {
      float* slot_state =
          reinterpret_cast<float*>(static_cast<char*>(state.data) + slot_of[s] * state.nb[1]);
      for (size_t c = begin; c < end; ++c) {
        for (int64_t j = 0; j < n_past; ++j)
          past[j * channels + c] = slot_state[c * n_past + j];
      }
      for (int64_t j = 0; j < n_past; ++j)
        window[j] = past + j * channels;
      for (int64_t t = 0; t < n_tokens; ++t) {
        const size_t row_offset = t * x.nb[1] + s * x.nb[2];
        if (copy_x) {
          float* row = x_copy + t * channels;
          for (size_t c = begin; c < end; ++c)
            row[c] = load_float(x, row_offset + c * x.nb[0]);
          window[n_past + t] = row;
        } else {
          window[n_past + t] =
              reinterpret_cast<const float*>(static_cast<const char*>(x.data) + row_offset);
        }
      }

      SsmConvRows rows;
      rows.window = window;
      rows.taps = taps;
      rows.n_channels = channels;
      rows.out = reinterpret_cast<float*>(static_cast<char*>(dst.data) + s * dst.nb[2]);
      rows.out_stride = dst.nb[1] / sizeof(float);
      rows.n_taps = static_cast<size_t>(n_taps);
      rows.n_tokens = static_cast<size_t>(n_tokens);
      rows.begin = begin;
      rows.end = end;
      HWY_DYNAMIC_DISPATCH(ConvolveRows)(rows);

      // The slot keeps the window's last K-1 rows; the window reads the copied past, not the slot.
      for (size_t c = begin; c < end; ++c) {
        for (int64_t j = 0; j < n_past; ++j)
          slot_state[c * n_past + j] = window[n_tokens + j][c];
      }
    }
  });
}

}  // namespace hllm::cpu
#endif  // HWY_ONCE
