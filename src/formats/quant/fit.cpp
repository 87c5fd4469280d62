// Scale searches shared by the quantizers.
//
// Rounding every element to the nearest level of a grid that just spans the data (min/max
// scaling) wastes precision: one outlier stretches the grid for all others. The searches below
// try a range of grid spacings around the spanning one, round the data on each, and then solve
// the weighted least-squares problem for the best scale (and offset) given those integer levels.
// The best candidate is then refined by alternating rounding and least squares until the error
// stops falling. Each candidate is judged by the error it really gives after rounding.
//
// The searches evaluate many candidates together and return exactly what evaluating them one at
// a time returns. The loops run over elements outside and candidates inside, one candidate per
// SIMD lane, and each candidate still sums its elements in order with the same float and double
// operations, so every sum and every choice is unchanged.
// NOTE: this relies on the compiler not fusing multiplies and adds, as on the x86-64 baseline,
// which has no FMA. On an FMA target with -ffp-contract=fast (GCC's default on AArch64), the
// vector and scalar forms may fuse differently, so results there may differ in the last bits.
#include <algorithm>
#include <cassert>
#include <cmath>
#include <type_traits>

#include "formats/quant/quant_internal.h"
#include "util/half.h"

namespace hllm::quant {
namespace {

// Candidate grid spacings: the data's extreme maps to level count nmax + kSpread * k / kSteps
// for k in [-kSteps, kSteps], so the search covers grids one level narrower to one level wider
// than the spanning grid.
constexpr int kSteps = 15;
constexpr float kSpread = 1.5f;
constexpr int kSpacings = 2 * kSteps + 1;
// Rounding and least squares alternate at most this often; it converges in two or three rounds.
constexpr int kRefineRounds = 6;

// The largest group that the searches fit: one legacy block or one K-quant sub-block.
constexpr int kMaxGroup = 32;
// Candidate columns of the level tables: the symmetric search tries both sides of the grid, and
// copy_unique_columns may add one column.
constexpr int kMaxCandidates = 64;

// Weighted sums of the affine least squares for levels q: sum w, w q, w q^2, w x and w q x.
struct AffineSums {
  double w = 0, q = 0, qq = 0, x = 0, qx = 0;
};

// Adds the level-independent sums to sums.
void sum_data(const float* x, const float* w, int n, AffineSums* sums) {
  for (int i = 0; i < n; ++i) {
    sums->w += w[i];
    sums->x += w[i] * x[i];
  }
}

// Adds the level-dependent sums for levels q to sums.
void sum_levels(const float* x, const float* w, const float* q, int n, AffineSums* sums) {
  for (int i = 0; i < n; ++i) {
    sums->q += w[i] * q[i];
    sums->qq += static_cast<double>(w[i]) * q[i] * q[i];
    sums->qx += static_cast<double>(w[i]) * q[i] * x[i];
  }
}

// Least-squares scale and offset for fixed levels: minimizes sum w (scale * q - offset - x)^2.
// Returns false when the levels are all equal (no unique solution) or the scale is not
// positive. With offset_free false the offset is clamped to zero or above.
bool solve_affine(const AffineSums& sums, bool offset_free, AffineGrid* grid) {
  const double det = sums.w * sums.qq - sums.q * sums.q;
  if (!(det > 1e-12 * sums.w * sums.qq)) return false;
  double scale = (sums.w * sums.qx - sums.q * sums.x) / det;
  double offset = -(sums.qq * sums.x - sums.q * sums.qx) / det;
  if (!offset_free && offset < 0) {
    // The grid must include zero: refit the scale alone with the offset fixed at zero.
    offset = 0;
    scale = sums.qx / sums.qq;
  }
  if (!(scale > 0)) return false;
  grid->scale = static_cast<float>(scale);
  grid->offset = static_cast<float>(offset);
  return true;
}

// Least-squares scale for fixed levels: minimizes sum w (scale * q - x)^2, from sum w q^2 and
// sum w q x.
bool solve_symmetric(double sum_qq, double sum_qx, float* scale) {
  if (!(sum_qq > 0)) return false;
  *scale = static_cast<float>(sum_qx / sum_qq);
  return *scale != 0;
}

// Four float lanes as a GCC vector, which SSE2 on x86-64 and NEON on Arm hold in one register.
// GCC 12 does not vectorize the same loops written over float arrays, because it keeps the
// comparisons of round_to_level as branches.
using Float4 = float __attribute__((vector_size(16)));

Float4 broadcast(float value) {
  return Float4{value, value, value, value};
}

Float4 load(const float* values) {
  return Float4{values[0], values[1], values[2], values[3]};
}

// round_to_level on four lanes, with the same comparisons and the same rounding bias.
Float4 round_to_levels(Float4 value, Float4 lo, Float4 hi) {
  const Float4 bias = broadcast(12582912.0f);  // 1.5 * 2^23
  value = value >= lo ? value : lo;
  value = value > hi ? hi : value;
  return (value + bias) - bias;
}

// affine_level and symmetric_level for n elements, n a multiple of 4, with Level float or int.
template <typename Level>
void affine_levels_of(const float* x, int n, float scale, float offset, float nmax, Level* q) {
  const Float4 zero = broadcast(0.0f);
  const Float4 top = broadcast(nmax);
  const Float4 scales = broadcast(scale);
  const Float4 offsets = broadcast(offset);
  for (int i = 0; i < n; i += 4) {
    const Float4 xi = load(x + i);
    Float4 level = round_to_levels((xi + offsets) / scales, zero, top);
    level = scales == zero ? zero : level;
    for (int k = 0; k < 4; ++k)
      q[i + k] = static_cast<Level>(level[k]);
  }
}

template <typename Level>
void symmetric_levels_of(const float* x, int n, float scale, float qmin, float qmax, Level* q) {
  const Float4 zero = broadcast(0.0f);
  const Float4 low = broadcast(qmin);
  const Float4 high = broadcast(qmax);
  const Float4 scales = broadcast(scale);
  for (int i = 0; i < n; i += 4) {
    const Float4 xi = load(x + i);
    Float4 level = round_to_levels(xi / scales, low, high);
    level = scales == zero ? zero : level;
    for (int k = 0; k < 4; ++k)
      q[i + k] = static_cast<Level>(level[k]);
  }
}

// affine_errors for up to 4 * kVectors grids, one per lane. Unused lanes repeat the first grid.
template <int kVectors>
void affine_errors_lanes(const float* x, const float* w, int n, float nmax, const float* scales,
                         const float* offsets, int count, float* errors) {
  float scale_lanes[4 * kVectors], offset_lanes[4 * kVectors];
  for (int c = 0; c < 4 * kVectors; ++c) {
    scale_lanes[c] = scales[c < count ? c : 0];
    offset_lanes[c] = offsets[c < count ? c : 0];
  }
  Float4 scale[kVectors], offset[kVectors], error[kVectors];
  for (int v = 0; v < kVectors; ++v) {
    scale[v] = load(scale_lanes + 4 * v);
    offset[v] = load(offset_lanes + 4 * v);
    error[v] = broadcast(0.0f);
  }
  const Float4 zero = broadcast(0.0f);
  const Float4 top = broadcast(nmax);
  for (int i = 0; i < n; ++i) {
    const Float4 xi = broadcast(x[i]);
    const Float4 wi = broadcast(w[i]);
    for (int v = 0; v < kVectors; ++v) {
      // affine_level, then the error term of affine_error.
      Float4 level = round_to_levels((xi + offset[v]) / scale[v], zero, top);
      level = scale[v] == zero ? zero : level;
      const Float4 diff = scale[v] * level - offset[v] - xi;
      error[v] += wi * diff * diff;
    }
  }
  for (int c = 0; c < count; ++c)
    errors[c] = error[c / 4][c % 4];
}

template <int kVectors>
void symmetric_errors_lanes(const float* x, const float* w, int n, float qmin, float qmax,
                            const float* scales, int count, float* errors) {
  float scale_lanes[4 * kVectors];
  for (int c = 0; c < 4 * kVectors; ++c)
    scale_lanes[c] = scales[c < count ? c : 0];
  Float4 scale[kVectors], error[kVectors];
  for (int v = 0; v < kVectors; ++v) {
    scale[v] = load(scale_lanes + 4 * v);
    error[v] = broadcast(0.0f);
  }
  const Float4 zero = broadcast(0.0f);
  const Float4 low = broadcast(qmin);
  const Float4 high = broadcast(qmax);
  for (int i = 0; i < n; ++i) {
    const Float4 xi = broadcast(x[i]);
    const Float4 wi = broadcast(w[i]);
    for (int v = 0; v < kVectors; ++v) {
      // symmetric_level, then the error term of symmetric_error.
      Float4 level = round_to_levels(xi / scale[v], low, high);
      level = scale[v] == zero ? zero : level;
      const Float4 diff = scale[v] * level - xi;
      error[v] += wi * diff * diff;
    }
  }
  for (int c = 0; c < count; ++c)
    errors[c] = error[c / 4][c % 4];
}

// Calls body(vectors, start, chunk) for each batch of up to 16 grids [start, start + chunk), with
// vectors a std::integral_constant giving the number of 4-lane vectors the batch fills.
template <typename Body>
void for_each_batch(int count, const Body& body) {
  for (int start = 0; start < count; start += 16) {
    const int chunk = std::min(16, count - start);
    switch ((chunk + 3) / 4) {
      case 1:
        body(std::integral_constant<int, 1>{}, start, chunk);
        break;
      case 2:
        body(std::integral_constant<int, 2>{}, start, chunk);
        break;
      case 3:
        body(std::integral_constant<int, 3>{}, start, chunk);
        break;
      default:
        body(std::integral_constant<int, 4>{}, start, chunk);
        break;
    }
  }
}

// Keeps the first candidate with the smallest error, as a loop over the candidates in order that
// replaces the best on a strictly smaller error does.
template <typename Grid>
void keep_best(const Grid* grids, const float* errors, int count, Grid* best, float* best_error) {
  for (int c = 0; c < count; ++c) {
    if (errors[c] < *best_error) {
      *best_error = errors[c];
      *best = grids[c];
    }
  }
}

// Copies each column of levels that differs from the column before it into unique, and returns
// how many there are. A column equal to its predecessor gives the same least-squares grid and
// error, which cannot beat the best so far, so the searches skip it. The copy has an even column
// count, repeating its last column, so the double sums fill whole vectors.
int copy_unique_columns(const float (*levels)[kMaxCandidates], int n, int columns,
                        float (*unique)[kMaxCandidates]) {
  // Row by row, so that the comparisons vectorize.
  int differs[kMaxCandidates] = {};
  for (int i = 0; i < n; ++i) {
    for (int c = 1; c < columns; ++c)
      differs[c] |= levels[i][c] != levels[i][c - 1];
  }
  int index[kMaxCandidates];
  int count = 0;
  for (int c = 0; c < columns; ++c) {
    if (c == 0 || differs[c]) index[count++] = c;
  }
  const int padded = count + count % 2;
  if (padded > count) index[count] = index[count - 1];
  for (int i = 0; i < n; ++i) {
    for (int u = 0; u < padded; ++u)
      unique[i][u] = levels[i][index[u]];
  }
  return count;
}

}  // namespace

float round_to_fp16(float value) {
  return fp16_to_float(float_to_fp16(value));
}

void affine_levels(const float* x, int n, float scale, float offset, int nmax, int* q) {
  affine_levels_of(x, n, scale, offset, static_cast<float>(nmax), q);
}

void symmetric_levels(const float* x, int n, float scale, int qmin, int qmax, int* q) {
  symmetric_levels_of(x, n, scale, static_cast<float>(qmin), static_cast<float>(qmax), q);
}

void affine_errors(const float* x, const float* w, int n, int nmax, const float* scales,
                   const float* offsets, int count, float* errors) {
  for_each_batch(count, [&](auto vectors, int start, int chunk) {
    affine_errors_lanes<decltype(vectors)::value>(x, w, n, nmax, scales + start, offsets + start,
                                                  chunk, errors + start);
  });
}

void symmetric_errors(const float* x, const float* w, int n, int qmin, int qmax,
                      const float* scales, int count, float* errors) {
  for_each_batch(count, [&](auto vectors, int start, int chunk) {
    symmetric_errors_lanes<decltype(vectors)::value>(x, w, n, qmin, qmax, scales + start, chunk,
                                                     errors + start);
  });
}

float affine_error(const float* x, const float* w, int n, int nmax, float scale, float offset) {
  float error;
  affine_errors_lanes<1>(x, w, n, nmax, &scale, &offset, 1, &error);
  return error;
}

float symmetric_error(const float* x, const float* w, int n, int qmin, int qmax, float scale) {
  float error;
  symmetric_errors_lanes<1>(x, w, n, qmin, qmax, &scale, 1, &error);
  return error;
}

AffineGrid fit_affine_grid(const float* x, const float* w, int n, int nmax, bool offset_free) {
  assert(n <= kMaxGroup);
  assert(n % 4 == 0);
  float lo = *std::min_element(x, x + n);
  const float hi = *std::max_element(x, x + n);
  if (!offset_free) lo = std::min(lo, 0.0f);
  if (!(hi > lo)) return AffineGrid{0.0f, -lo};  // all elements equal lo
  const float top = static_cast<float>(nmax);

  // Levels of every candidate spacing, one column per candidate.
  float levels[kMaxGroup][kMaxCandidates];
  float inverse_scales[kSpacings];
  for (int k = -kSteps; k <= kSteps; ++k)
    inverse_scales[k + kSteps] = (nmax + kSpread * k / kSteps) / (hi - lo);
  for (int i = 0; i < n; ++i) {
    const float shifted = x[i] - lo;
    for (int c = 0; c < kSpacings; ++c)
      levels[i][c] = round_to_level(inverse_scales[c] * shifted, 0.0f, top);
  }
  float unique[kMaxGroup][kMaxCandidates];
  const int columns = copy_unique_columns(levels, n, kSpacings, unique);

  AffineSums data;
  sum_data(x, w, n, &data);
  double sum_q[kMaxCandidates] = {}, sum_qq[kMaxCandidates] = {}, sum_qx[kMaxCandidates] = {};
  const int padded = columns + columns % 2;
  for (int i = 0; i < n; ++i) {
    for (int c = 0; c < padded; ++c) {
      const float q = unique[i][c];
      sum_q[c] += w[i] * q;
      sum_qq[c] += static_cast<double>(w[i]) * q * q;
      sum_qx[c] += static_cast<double>(w[i]) * q * x[i];
    }
  }

  // Grid 0 spans [lo, hi] exactly and is the starting best. The least-squares grids of the
  // candidates follow in order.
  AffineGrid grids[kMaxCandidates + 1];
  grids[0] = AffineGrid{(hi - lo) / nmax, -lo};
  int count = 1;
  for (int c = 0; c < columns; ++c) {
    AffineSums sums = data;
    sums.q = sum_q[c];
    sums.qq = sum_qq[c];
    sums.qx = sum_qx[c];
    if (solve_affine(sums, offset_free, &grids[count])) ++count;
  }
  float scales[kMaxCandidates + 1], offsets[kMaxCandidates + 1], errors[kMaxCandidates + 1];
  for (int c = 0; c < count; ++c) {
    scales[c] = grids[c].scale;
    offsets[c] = grids[c].offset;
  }
  affine_errors(x, w, n, nmax, scales, offsets, count, errors);
  AffineGrid best = grids[0];
  float best_error = errors[0];
  keep_best(grids + 1, errors + 1, count - 1, &best, &best_error);

  float q[kMaxGroup];
  for (int round = 0; round < kRefineRounds; ++round) {
    affine_levels_of(x, n, best.scale, best.offset, top, q);
    AffineSums sums = data;
    sum_levels(x, w, q, n, &sums);
    AffineGrid grid;
    if (!solve_affine(sums, offset_free, &grid)) break;
    const float error = affine_error(x, w, n, nmax, grid.scale, grid.offset);
    if (!(error < best_error)) break;
    best_error = error;
    best = grid;
  }
  return best;
}

float fit_symmetric_grid(const float* x, const float* w, int n, int qmin, int qmax) {
  assert(n <= kMaxGroup);
  assert(n % 4 == 0);
  // The element of largest magnitude, with its sign.
  float extreme = 0;
  for (int i = 0; i < n; ++i) {
    if (std::fabs(x[i]) > std::fabs(extreme)) extreme = x[i];
  }
  if (extreme == 0) return 0;
  const float low = static_cast<float>(qmin);
  const float high = static_cast<float>(qmax);

  // Candidate spacings on both sides of the grid.
  float inverse_scales[kMaxCandidates];
  int candidates = 0;
  for (const int side : {qmin, qmax}) {
    for (int k = -kSteps; k <= kSteps; ++k) {
      const float target = side + (side < 0 ? -1.0f : 1.0f) * kSpread * k / kSteps;
      if (target * side <= 0) continue;
      inverse_scales[candidates++] = target / extreme;
    }
  }
  float levels[kMaxGroup][kMaxCandidates];
  for (int i = 0; i < n; ++i) {
    for (int c = 0; c < candidates; ++c)
      levels[i][c] = round_to_level(inverse_scales[c] * x[i], low, high);
  }
  float unique[kMaxGroup][kMaxCandidates];
  const int columns = copy_unique_columns(levels, n, candidates, unique);

  double sum_qq[kMaxCandidates] = {}, sum_qx[kMaxCandidates] = {};
  const int padded = columns + columns % 2;
  for (int i = 0; i < n; ++i) {
    for (int c = 0; c < padded; ++c) {
      const float q = unique[i][c];
      sum_qq[c] += static_cast<double>(w[i]) * q * q;
      sum_qx[c] += static_cast<double>(w[i]) * q * x[i];
    }
  }

  // Scale 0 maps the extreme to the wide side, as plain min/max scaling does, and is the starting
  // best. The least-squares scales of the candidates follow in order.
  float scales[kMaxCandidates + 1], errors[kMaxCandidates + 1];
  scales[0] = extreme / qmin;
  int count = 1;
  for (int c = 0; c < columns; ++c) {
    if (solve_symmetric(sum_qq[c], sum_qx[c], &scales[count])) ++count;
  }
  symmetric_errors(x, w, n, qmin, qmax, scales, count, errors);
  float best = scales[0];
  float best_error = errors[0];
  keep_best(scales + 1, errors + 1, count - 1, &best, &best_error);

  float q[kMaxGroup];
  for (int round = 0; round < kRefineRounds; ++round) {
    symmetric_levels_of(x, n, best, low, high, q);
    double qq = 0, qx = 0;
    for (int i = 0; i < n; ++i) {
      qq += static_cast<double>(w[i]) * q[i] * q[i];
      qx += static_cast<double>(w[i]) * q[i] * x[i];
    }
    float scale;
    if (!solve_symmetric(qq, qx, &scale)) break;
    const float error = symmetric_error(x, w, n, qmin, qmax, scale);
    if (!(error < best_error)) break;
    best_error = error;
    best = scale;
  }
  return best;
}

}  // namespace hllm::quant
