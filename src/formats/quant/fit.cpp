// Scale searches shared by the quantizers.
//
// Rounding every element to the nearest level of a grid that just spans the data (min/max
// scaling) wastes precision: one outlier stretches the grid for all others. The searches below
// try a range of grid spacings around the spanning one, round the data on each, and then solve
// the weighted least-squares problem for the best scale (and offset) given those integer levels.
// The best candidate is then refined by alternating rounding and least squares until the error
// stops falling. Each candidate is judged by the error it really gives after rounding.
#include <algorithm>
#include <cmath>

#include "formats/quant/quant_internal.h"
#include "util/half.h"

namespace hllm::quant {
namespace {

// Candidate grid spacings: the data's extreme maps to level count nmax + kSpread * k / kSteps
// for k in [-kSteps, kSteps], so the search covers grids one level narrower to one level wider
// than the spanning grid.
constexpr int kSteps = 15;
constexpr float kSpread = 1.5f;
// Rounding and least squares alternate at most this often; it converges in two or three rounds.
constexpr int kRefineRounds = 6;

// Least-squares scale and offset for fixed levels q: minimizes sum w (scale * q - offset - x)^2.
// Returns false when the levels are all equal (no unique solution) or the scale is not
// positive. With offset_free false the offset is clamped to zero or above.
bool solve_affine(const float* x, const float* w, const int* q, int n, bool offset_free,
                  AffineGrid* grid) {
  double sum_w = 0, sum_q = 0, sum_qq = 0, sum_x = 0, sum_qx = 0;
  for (int i = 0; i < n; ++i) {
    sum_w += w[i];
    sum_q += w[i] * q[i];
    sum_qq += static_cast<double>(w[i]) * q[i] * q[i];
    sum_x += w[i] * x[i];
    sum_qx += static_cast<double>(w[i]) * q[i] * x[i];
  }
  const double det = sum_w * sum_qq - sum_q * sum_q;
  if (!(det > 1e-12 * sum_w * sum_qq)) return false;
  double scale = (sum_w * sum_qx - sum_q * sum_x) / det;
  double offset = -(sum_qq * sum_x - sum_q * sum_qx) / det;
  if (!offset_free && offset < 0) {
    // The grid must include zero: refit the scale alone with the offset fixed at zero.
    offset = 0;
    scale = sum_qx / sum_qq;
  }
  if (!(scale > 0)) return false;
  grid->scale = static_cast<float>(scale);
  grid->offset = static_cast<float>(offset);
  return true;
}

// Least-squares scale for fixed levels q: minimizes sum w (scale * q - x)^2.
bool solve_symmetric(const float* x, const float* w, const int* q, int n, float* scale) {
  double sum_qq = 0, sum_qx = 0;
  for (int i = 0; i < n; ++i) {
    sum_qq += static_cast<double>(w[i]) * q[i] * q[i];
    sum_qx += static_cast<double>(w[i]) * q[i] * x[i];
  }
  if (!(sum_qq > 0)) return false;
  *scale = static_cast<float>(sum_qx / sum_qq);
  return *scale != 0;
}

// Converts a rounded level to int within [lo, hi]. NaN, which only scales that overflowed fp16
// can produce, becomes lo instead of undefined behavior.
int clamp_level(float level, int lo, int hi) {
  if (!(level >= static_cast<float>(lo))) return lo;
  if (level > static_cast<float>(hi)) return hi;
  return static_cast<int>(level);
}

}  // namespace

float round_to_fp16(float value) {
  return fp16_to_float(float_to_fp16(value));
}

int nearest_affine_level(float x, float scale, float offset, int nmax) {
  if (scale == 0) return 0;
  return clamp_level(std::nearbyint((x + offset) / scale), 0, nmax);
}

int nearest_symmetric_level(float x, float scale, int qmin, int qmax) {
  if (scale == 0) return 0;
  return clamp_level(std::nearbyint(x / scale), qmin, qmax);
}

float affine_error(const float* x, const float* w, int n, int nmax, float scale, float offset) {
  float error = 0;
  for (int i = 0; i < n; ++i) {
    const float diff = scale * nearest_affine_level(x[i], scale, offset, nmax) - offset - x[i];
    error += w[i] * diff * diff;
  }
  return error;
}

float symmetric_error(const float* x, const float* w, int n, int qmin, int qmax, float scale) {
  float error = 0;
  for (int i = 0; i < n; ++i) {
    const float diff = scale * nearest_symmetric_level(x[i], scale, qmin, qmax) - x[i];
    error += w[i] * diff * diff;
  }
  return error;
}

AffineGrid fit_affine_grid(const float* x, const float* w, int n, int nmax, bool offset_free) {
  float lo = *std::min_element(x, x + n);
  const float hi = *std::max_element(x, x + n);
  if (!offset_free) lo = std::min(lo, 0.0f);
  if (!(hi > lo)) return AffineGrid{0.0f, -lo};  // all elements equal lo

  // Start from the grid that spans [lo, hi] exactly.
  AffineGrid best{(hi - lo) / nmax, -lo};
  float best_error = affine_error(x, w, n, nmax, best.scale, best.offset);

  int q[kSuperBlockSize];
  for (int k = -kSteps; k <= kSteps; ++k) {
    const float inverse_scale = (nmax + kSpread * k / kSteps) / (hi - lo);
    for (int i = 0; i < n; ++i) {
      q[i] = clamp_level(std::nearbyint(inverse_scale * (x[i] - lo)), 0, nmax);
    }
    AffineGrid grid;
    if (!solve_affine(x, w, q, n, offset_free, &grid)) continue;
    const float error = affine_error(x, w, n, nmax, grid.scale, grid.offset);
    if (error < best_error) {
      best_error = error;
      best = grid;
    }
  }

  for (int round = 0; round < kRefineRounds; ++round) {
    for (int i = 0; i < n; ++i)
      q[i] = nearest_affine_level(x[i], best.scale, best.offset, nmax);
    AffineGrid grid;
    if (!solve_affine(x, w, q, n, offset_free, &grid)) break;
    const float error = affine_error(x, w, n, nmax, grid.scale, grid.offset);
    if (!(error < best_error)) break;
    best_error = error;
    best = grid;
  }
  return best;
}

float fit_symmetric_grid(const float* x, const float* w, int n, int qmin, int qmax) {
  // The element of largest magnitude, with its sign.
  float extreme = 0;
  for (int i = 0; i < n; ++i) {
    if (std::fabs(x[i]) > std::fabs(extreme)) extreme = x[i];
  }
  if (extreme == 0) return 0;

  // Map the extreme to the wide side first (the plain min/max choice), then try both sides.
  float best = extreme / qmin;
  float best_error = symmetric_error(x, w, n, qmin, qmax, best);

  int q[kSuperBlockSize];
  for (const int side : {qmin, qmax}) {
    for (int k = -kSteps; k <= kSteps; ++k) {
      const float target = side + (side < 0 ? -1.0f : 1.0f) * kSpread * k / kSteps;
      if (target * side <= 0) continue;
      const float inverse_scale = target / extreme;
      for (int i = 0; i < n; ++i) {
        q[i] = clamp_level(std::nearbyint(inverse_scale * x[i]), qmin, qmax);
      }
      float scale;
      if (!solve_symmetric(x, w, q, n, &scale)) continue;
      const float error = symmetric_error(x, w, n, qmin, qmax, scale);
      if (error < best_error) {
        best_error = error;
        best = scale;
      }
    }
  }

  for (int round = 0; round < kRefineRounds; ++round) {
    for (int i = 0; i < n; ++i)
      q[i] = nearest_symmetric_level(x[i], best, qmin, qmax);
    float scale;
    if (!solve_symmetric(x, w, q, n, &scale)) break;
    const float error = symmetric_error(x, w, n, qmin, qmax, scale);
    if (!(error < best_error)) break;
    best_error = error;
    best = scale;
  }
  return best;
}

}  // namespace hllm::quant
