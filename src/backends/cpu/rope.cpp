// Rotary position embedding. Pair i of the first n_dims dimensions of each head is rotated by
// theta_i = pos * freq_scale * freq_base^(-2i / n_dims); dimensions past n_dims pass through.
#include <cmath>
#include <cstring>

#include "backends/cpu/kernels.h"
#include "backends/cpu/rows.h"
#include "util/error.h"

namespace hllm::cpu {
namespace {

// Fills cos/sin of theta_i for one position. The angles are computed in double because
// pos * freq reaches thousands of radians, where float rounding would shift the angle visibly.
void rotation_table(int64_t position, const RopeParams& params, float* cos_table,
                    float* sin_table) {
  const int64_t pairs = params.n_dims / 2;
  for (int64_t i = 0; i < pairs; ++i) {
    const double inverse_frequency = std::pow(static_cast<double>(params.freq_base),
                                              -2.0 * static_cast<double>(i) / params.n_dims);
    const double theta = static_cast<double>(position) * params.freq_scale * inverse_frequency;
    cos_table[i] = static_cast<float>(std::cos(theta));
    sin_table[i] = static_cast<float>(std::sin(theta));
  }
}

void rotate_head(const float* x, const float* cos_table, const float* sin_table,
                 const RopeParams& params, int64_t head_dim, float* out) {
  const int64_t pairs = params.n_dims / 2;
  // Normal mode rotates adjacent elements; NeoX rotates element i with element i + n_dims / 2.
  const int64_t step = params.mode == RopeMode::Neox ? pairs : 1;
  for (int64_t i = 0; i < pairs; ++i) {
    const int64_t first = params.mode == RopeMode::Neox ? i : 2 * i;
    const int64_t second = first + step;
    const float x0 = x[first];
    const float x1 = x[second];
    out[first] = x0 * cos_table[i] - x1 * sin_table[i];
    out[second] = x0 * sin_table[i] + x1 * cos_table[i];
  }
  const int64_t rest = head_dim - params.n_dims;
  if (rest > 0) std::memcpy(out + params.n_dims, x + params.n_dims, rest * sizeof(float));
}

}  // namespace

void compute_rope(Tensor& dst, CpuContext& ctx) {
  const Tensor& a = *dst.src[0];
  const Tensor& positions = *dst.src[1];
  const RopeParams& params = dst.get<RopeParams>();
  const int64_t head_dim = a.ne[0];
  const int64_t heads = a.ne[1];
  const int64_t tokens = a.ne[2];
  const int64_t sequences = a.ne[3];
  const int64_t pairs = params.n_dims / 2;
  ThreadBuffers buffers(ctx, static_cast<size_t>(head_dim + 2 * pairs));

  // Threads split the tokens, so each rotation table is computed once and used for every head.
  for_each_share(ctx, tokens * sequences, [&](int thread, int64_t begin, int64_t end) {
    float* row_buffer = buffers.get(thread);
    float* cos_table = row_buffer + head_dim;
    float* sin_table = cos_table + pairs;
    for (int64_t index = begin; index < end; ++index) {
      const int64_t t = index % tokens;
      const int64_t s = index / tokens;
      const int64_t position_column = positions.ne[1] == 1 ? 0 : s;
      const int32_t position =
          *reinterpret_cast<const int32_t*>(element_at(positions, t, position_column, 0, 0));
      rotation_table(position, params, cos_table, sin_table);
      for (int64_t h = 0; h < heads; ++h) {
        const RowIndex r{h, t, s};
        const float* x = read_row(a, r, head_dim, row_buffer);
        rotate_head(x, cos_table, sin_table, params, head_dim, output_row(dst, r));
      }
    }
  });
}

}  // namespace hllm::cpu
