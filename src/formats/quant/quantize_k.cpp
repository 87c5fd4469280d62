// Quantizers of the K-quant formats: Q2_K, Q3_K, Q4_K, Q5_K, Q6_K and Q8_K.
//
// Each super-block is fitted in three steps:
//  1. each sub-block gets its own best grid (fit_affine_grid or fit_symmetric_grid);
//  2. the sub-block scales are quantized against fp16 super-block scales, and each sub-block
//     picks the best integer scale (and min) among the neighbours of its rounded value, judged
//     by the error after rounding its elements on the resulting grid;
//  3. the super-block scales are refitted by least squares for the chosen integers, and step 2
//     repeats while the total error falls.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "formats/quant/quant_internal.h"
#include "util/half.h"

namespace hllm::quant {
namespace {

constexpr int kBlock = kSuperBlockSize;
// Rounds of least-squares refitting of the super-block scales; the error settles after one or two.
constexpr int kSuperRefitRounds = 3;
// Starting points of step 2: d maps the largest sub-block scale to the top integer, or to 3%, 6%
// or 10% less. Starting lower sometimes wins because the finer integer steps help every other
// sub-block; the least-squares refit then moves d from whichever start is best.
constexpr float kSuperScaleShrinks[] = {0.0f, 0.03f, 0.06f, 0.1f};

// A fitted affine super-block: element i of sub-block j is d * scale[j] * q[i] - dmin * min[j].
struct AffineSuperBlock {
  float d = 0;
  float dmin = 0;
  int scale[16] = {};
  int min[16] = {};
  int q[kBlock] = {};
};

// A fitted symmetric super-block: element i of sub-block j is d * scale[j] * q[i].
struct SymmetricSuperBlock {
  float d = 0;
  int scale[16] = {};
  int q[kBlock] = {};
};

// Shape of an affine K-quant: sub-blocks of sub_size elements, levels [0, nmax], integer
// scales and mins in [0, scale_max].
struct AffineFormat {
  int sub_size;
  int nmax;
  int scale_max;
};

// Shape of a symmetric K-quant: levels [qmin, qmax], integer scales in [scale_min, scale_max].
struct SymmetricFormat {
  int sub_size;
  int qmin;
  int qmax;
  int scale_min;
  int scale_max;
};

int round_clamped(float value, int lo, int hi) {
  if (!std::isfinite(value)) return 0;
  return static_cast<int>(
      std::clamp(std::nearbyint(value), static_cast<float>(lo), static_cast<float>(hi)));
}

// Chooses each sub-block's integer scale and min for fixed d and dmin (step 2) and returns the
// total weighted squared error. The block's integers must start at zero.
float choose_affine_integers(const float* x, const float* w, const AffineFormat& format,
                             const AffineGrid* grids, AffineSuperBlock* block) {
  const int n_sub = kBlock / format.sub_size;
  float total = 0;
  for (int j = 0; j < n_sub; ++j) {
    const float* xj = x + j * format.sub_size;
    const float* wj = w + j * format.sub_size;
    const int scale0 =
        block->d > 0 ? round_clamped(grids[j].scale / block->d, 0, format.scale_max) : 0;
    const int min0 =
        block->dmin > 0 ? round_clamped(grids[j].offset / block->dmin, 0, format.scale_max) : 0;

    // The neighbours of the rounded integers, scale-major, evaluated together.
    float scales[9], offsets[9], errors[9];
    int scale_of[9], min_of[9];
    int count = 0;
    for (int scale = std::max(0, scale0 - 1); scale <= std::min(format.scale_max, scale0 + 1);
         ++scale) {
      for (int min = std::max(0, min0 - 1); min <= std::min(format.scale_max, min0 + 1); ++min) {
        // The dequantizers compute d * scale and dmin * min in float first; so does this.
        scales[count] = block->d * scale;
        offsets[count] = block->dmin * min;
        scale_of[count] = scale;
        min_of[count] = min;
        ++count;
      }
    }
    affine_errors(xj, wj, format.sub_size, format.nmax, scales, offsets, count, errors);
    float best = INFINITY;
    for (int c = 0; c < count; ++c) {
      if (errors[c] < best) {
        best = errors[c];
        block->scale[j] = scale_of[c];
        block->min[j] = min_of[c];
      }
    }
    total += best;
  }
  return total;
}

// Sets q from the chosen integers.
void assign_affine_levels(const float* x, const AffineFormat& format, AffineSuperBlock* block) {
  for (int j = 0; j < kBlock / format.sub_size; ++j) {
    const int first = j * format.sub_size;
    affine_levels(x + first, format.sub_size, block->d * block->scale[j],
                  block->dmin * block->min[j], format.nmax, block->q + first);
  }
}

// Least-squares d and dmin for fixed integers and levels (step 3). Returns false when the
// system is degenerate or gives a non-positive d.
bool refit_affine_super_scales(const float* x, const float* w, const AffineFormat& format,
                               const AffineSuperBlock& block, float* d, float* dmin) {
  // Element i is d * a_i - dmin * b_i with a_i = scale * q and b_i = min.
  double aa = 0, ab = 0, bb = 0, ax = 0, bx = 0;
  for (int i = 0; i < kBlock; ++i) {
    const int j = i / format.sub_size;
    const double a = block.scale[j] * block.q[i];
    const double b = block.min[j];
    aa += w[i] * a * a;
    ab += w[i] * a * b;
    bb += w[i] * b * b;
    ax += w[i] * a * x[i];
    bx += w[i] * b * x[i];
  }
  double new_d, new_dmin;
  const double det = aa * bb - ab * ab;
  if (bb > 0 && det > 1e-12 * aa * bb) {
    new_d = (ax * bb - bx * ab) / det;
    new_dmin = -(aa * bx - ab * ax) / det;
  } else {
    if (!(aa > 0)) return false;
    new_d = ax / aa;
    new_dmin = block.dmin;
  }
  if (!(new_d > 0) || !(new_dmin >= 0)) return false;
  *d = round_to_fp16(static_cast<float>(new_d));
  *dmin = round_to_fp16(static_cast<float>(new_dmin));
  return *d > 0;
}

// Memo of the work that polish_affine does for one d and dmin. The integers that
// choose_affine_integers picks, their error, and the super-block scales that the refit then
// gives depend on d and dmin alone, because every block passed to it starts with zero integers.
// The starts of fit_affine_super_block often reach the same d and dmin, and from there the same
// path.
struct AffineMemo {
  struct Entry {
    uint32_t d_bits = 0;
    uint32_t dmin_bits = 0;
    float error = 0;
    int scale[16] = {};
    int min[16] = {};
    int refit = -1;  // -1: not computed yet, 0: the refit failed, 1: next_d and next_dmin are set
    float next_d = 0;
    float next_dmin = 0;
  };
  // Each start visits at most 1 + kSuperRefitRounds distinct d and dmin.
  static constexpr int kCapacity = 4 * (1 + kSuperRefitRounds);
  Entry entries[kCapacity];
  int count = 0;
  Entry overflow;  // never needed with kCapacity entries, but keeps a lookup from failing
};

// Sets the block's integers for its d and dmin, as choose_affine_integers would, and returns the
// memo entry with their error.
AffineMemo::Entry* choose_affine_memoized(const float* x, const float* w,
                                          const AffineFormat& format, const AffineGrid* grids,
                                          AffineSuperBlock* block, AffineMemo* memo) {
  const uint32_t d_bits = float_to_bits(block->d);
  const uint32_t dmin_bits = float_to_bits(block->dmin);
  for (int k = 0; k < memo->count; ++k) {
    AffineMemo::Entry& entry = memo->entries[k];
    if (entry.d_bits == d_bits && entry.dmin_bits == dmin_bits) {
      std::memcpy(block->scale, entry.scale, sizeof entry.scale);
      std::memcpy(block->min, entry.min, sizeof entry.min);
      return &entry;
    }
  }
  AffineMemo::Entry* entry =
      memo->count < AffineMemo::kCapacity ? &memo->entries[memo->count++] : &memo->overflow;
  *entry = AffineMemo::Entry{};
  entry->d_bits = d_bits;
  entry->dmin_bits = dmin_bits;
  entry->error = choose_affine_integers(x, w, format, grids, block);
  std::memcpy(entry->scale, block->scale, sizeof entry->scale);
  std::memcpy(entry->min, block->min, sizeof entry->min);
  return entry;
}

// Runs steps 2 and 3 from a starting d and dmin; returns the result and its error.
AffineSuperBlock polish_affine(const float* x, const float* w, const AffineFormat& format,
                               const AffineGrid* grids, AffineSuperBlock best, AffineMemo* memo,
                               float* error_out) {
  AffineMemo::Entry* entry = choose_affine_memoized(x, w, format, grids, &best, memo);
  float best_error = entry->error;
  assign_affine_levels(x, format, &best);
  for (int round = 0; round < kSuperRefitRounds; ++round) {
    if (entry->refit < 0) {
      entry->refit =
          refit_affine_super_scales(x, w, format, best, &entry->next_d, &entry->next_dmin) ? 1 : 0;
    }
    if (entry->refit == 0) break;
    AffineSuperBlock candidate;
    candidate.d = entry->next_d;
    candidate.dmin = entry->next_dmin;
    AffineMemo::Entry* next = choose_affine_memoized(x, w, format, grids, &candidate, memo);
    if (!(next->error < best_error)) break;
    assign_affine_levels(x, format, &candidate);
    best = candidate;
    best_error = next->error;
    entry = next;
  }
  *error_out = best_error;
  return best;
}

AffineSuperBlock fit_affine_super_block(const float* x, const float* w,
                                        const AffineFormat& format) {
  const int n_sub = kBlock / format.sub_size;
  AffineGrid grids[16];
  float max_scale = 0, max_offset = 0;
  for (int j = 0; j < n_sub; ++j) {
    grids[j] = fit_affine_grid(x + j * format.sub_size, w + j * format.sub_size, format.sub_size,
                               format.nmax, /*offset_free=*/false);
    max_scale = std::max(max_scale, grids[j].scale);
    max_offset = std::max(max_offset, grids[j].offset);
  }

  AffineSuperBlock best;
  float best_error = INFINITY;
  AffineMemo memo;
  for (const float shrink : kSuperScaleShrinks) {
    AffineSuperBlock start;
    start.d = round_to_fp16(max_scale / (format.scale_max - shrink * format.scale_max));
    start.dmin = round_to_fp16(max_offset / format.scale_max);
    float error = INFINITY;
    const AffineSuperBlock candidate = polish_affine(x, w, format, grids, start, &memo, &error);
    if (error < best_error) {
      best = candidate;
      best_error = error;
    }
  }
  return best;
}

// Chooses each sub-block's integer scale for a fixed d and returns the total error. The block's
// integers must start at zero.
float choose_symmetric_integers(const float* x, const float* w, const SymmetricFormat& format,
                                const float* scales, SymmetricSuperBlock* block) {
  const int n_sub = kBlock / format.sub_size;
  float total = 0;
  for (int j = 0; j < n_sub; ++j) {
    const float* xj = x + j * format.sub_size;
    const float* wj = w + j * format.sub_size;
    const int scale0 =
        block->d != 0 ? round_clamped(scales[j] / block->d, format.scale_min, format.scale_max) : 0;
    float grid_scales[3], errors[3];
    int scale_of[3];
    int count = 0;
    for (int scale = std::max(format.scale_min, scale0 - 1);
         scale <= std::min(format.scale_max, scale0 + 1); ++scale) {
      grid_scales[count] = block->d * scale;
      scale_of[count] = scale;
      ++count;
    }
    symmetric_errors(xj, wj, format.sub_size, format.qmin, format.qmax, grid_scales, count, errors);
    float best = INFINITY;
    for (int c = 0; c < count; ++c) {
      if (errors[c] < best) {
        best = errors[c];
        block->scale[j] = scale_of[c];
      }
    }
    total += best;
  }
  return total;
}

void assign_symmetric_levels(const float* x, const SymmetricFormat& format,
                             SymmetricSuperBlock* block) {
  for (int j = 0; j < kBlock / format.sub_size; ++j) {
    const int first = j * format.sub_size;
    symmetric_levels(x + first, format.sub_size, block->d * block->scale[j], format.qmin,
                     format.qmax, block->q + first);
  }
}

// Least-squares d for fixed integers and levels (step 3). Returns false when the system is
// degenerate or d rounds to zero.
bool refit_symmetric_super_scale(const float* x, const float* w, const SymmetricFormat& format,
                                 const SymmetricSuperBlock& block, float* d) {
  double aa = 0, ax = 0;
  for (int i = 0; i < kBlock; ++i) {
    const double a = block.scale[i / format.sub_size] * block.q[i];
    aa += w[i] * a * a;
    ax += w[i] * a * x[i];
  }
  if (!(aa > 0)) return false;
  *d = round_to_fp16(static_cast<float>(ax / aa));
  return *d != 0;
}

// AffineMemo for the symmetric formats, keyed by d.
struct SymmetricMemo {
  struct Entry {
    uint32_t d_bits = 0;
    float error = 0;
    int scale[16] = {};
    int refit = -1;  // -1: not computed yet, 0: the refit failed, 1: next_d is set
    float next_d = 0;
  };
  static constexpr int kCapacity = 4 * (1 + kSuperRefitRounds);
  Entry entries[kCapacity];
  int count = 0;
  Entry overflow;
};

SymmetricMemo::Entry* choose_symmetric_memoized(const float* x, const float* w,
                                                const SymmetricFormat& format, const float* scales,
                                                SymmetricSuperBlock* block, SymmetricMemo* memo) {
  const uint32_t d_bits = float_to_bits(block->d);
  for (int k = 0; k < memo->count; ++k) {
    SymmetricMemo::Entry& entry = memo->entries[k];
    if (entry.d_bits == d_bits) {
      std::memcpy(block->scale, entry.scale, sizeof entry.scale);
      return &entry;
    }
  }
  SymmetricMemo::Entry* entry =
      memo->count < SymmetricMemo::kCapacity ? &memo->entries[memo->count++] : &memo->overflow;
  *entry = SymmetricMemo::Entry{};
  entry->d_bits = d_bits;
  entry->error = choose_symmetric_integers(x, w, format, scales, block);
  std::memcpy(entry->scale, block->scale, sizeof entry->scale);
  return entry;
}

// Runs steps 2 and 3 from a starting d; returns the result and its error.
SymmetricSuperBlock polish_symmetric(const float* x, const float* w, const SymmetricFormat& format,
                                     const float* scales, SymmetricSuperBlock best,
                                     SymmetricMemo* memo, float* error_out) {
  SymmetricMemo::Entry* entry = choose_symmetric_memoized(x, w, format, scales, &best, memo);
  float best_error = entry->error;
  assign_symmetric_levels(x, format, &best);
  for (int round = 0; round < kSuperRefitRounds; ++round) {
    if (entry->refit < 0)
      entry->refit = refit_symmetric_super_scale(x, w, format, best, &entry->next_d) ? 1 : 0;
    if (entry->refit == 0) break;
    SymmetricSuperBlock candidate;
    candidate.d = entry->next_d;
    SymmetricMemo::Entry* next = choose_symmetric_memoized(x, w, format, scales, &candidate, memo);
    if (!(next->error < best_error)) break;
    assign_symmetric_levels(x, format, &candidate);
    best = candidate;
    best_error = next->error;
    entry = next;
  }
  *error_out = best_error;
  return best;
}

SymmetricSuperBlock fit_symmetric_super_block(const float* x, const float* w,
                                              const SymmetricFormat& format) {
  const int n_sub = kBlock / format.sub_size;
  float scales[16];
  float extreme = 0;
  for (int j = 0; j < n_sub; ++j) {
    scales[j] = fit_symmetric_grid(x + j * format.sub_size, w + j * format.sub_size,
                                   format.sub_size, format.qmin, format.qmax);
    if (std::fabs(scales[j]) > std::fabs(extreme)) extreme = scales[j];
  }
  SymmetricSuperBlock best;
  if (extreme == 0) return best;  // all zero

  float best_error = INFINITY;
  SymmetricMemo memo;
  for (const float shrink : kSuperScaleShrinks) {
    // The largest sub-block scale takes the wide negative end of the integer range, or a little
    // less than it.
    SymmetricSuperBlock start;
    start.d = round_to_fp16(extreme / (format.scale_min - shrink * format.scale_min));
    float error = INFINITY;
    const SymmetricSuperBlock candidate =
        polish_symmetric(x, w, format, scales, start, &memo, &error);
    if (error < best_error) {
      best = candidate;
      best_error = error;
    }
  }
  return best;
}

// Packs 2-bit levels as Q2_K and Q3_K store them: element i at bit 2 * ((i % 128) / 32) of byte
// 32 * (i / 128) + i % 32.
void pack_two_bits(const int* q, uint8_t* qs) {
  std::memset(qs, 0, kBlock / 4);
  for (int i = 0; i < kBlock; ++i) {
    qs[32 * (i / 128) + i % 32] |= static_cast<uint8_t>((q[i] & 3) << (2 * ((i % 128) / 32)));
  }
}

// Packs nibbles as Q4_K and Q5_K store them: each 64 elements share 32 bytes, the first 32
// elements in the low nibbles.
void pack_k_nibbles(const int* q, uint8_t* qs) {
  std::memset(qs, 0, kBlock / 2);
  for (int i = 0; i < kBlock; ++i) {
    qs[32 * (i / 64) + i % 32] |= static_cast<uint8_t>((q[i] & 0xf) << (4 * ((i / 32) % 2)));
  }
}

// Packs one extra bit per element: bit (i / 32) of byte i % 32 stores bit `bit` of element i.
void pack_bit_planes(const int* q, int bit, uint8_t* planes) {
  std::memset(planes, 0, kBlock / 8);
  for (int i = 0; i < kBlock; ++i) {
    planes[i % 32] |= static_cast<uint8_t>(((q[i] >> bit) & 1) << (i / 32));
  }
}

// Packs eight 6-bit scales and mins into the 12 bytes read by k4_scale_min.
void pack_k4_scales(const int* scale, const int* min, uint8_t* bytes) {
  std::memset(bytes, 0, kKScaleBytes);
  for (int j = 0; j < 8; ++j) {
    if (j < 4) {
      bytes[j] |= static_cast<uint8_t>(scale[j]);
      bytes[j + 4] |= static_cast<uint8_t>(min[j]);
    } else {
      bytes[j + 4] = static_cast<uint8_t>((scale[j] & 0xf) | (min[j] & 0xf) << 4);
      bytes[j - 4] |= static_cast<uint8_t>((scale[j] >> 4) << 6);
      bytes[j] |= static_cast<uint8_t>((min[j] >> 4) << 6);
    }
  }
}

// Packs sixteen 6-bit Q3_K scales (already biased by 32) into the 12 bytes read by q3_k_scale.
void pack_q3_k_scales(const int* biased, uint8_t* bytes) {
  std::memset(bytes, 0, kKScaleBytes);
  for (int j = 0; j < 16; ++j) {
    const int low = biased[j] & 0xf;
    if (j < 8) {
      bytes[j] |= static_cast<uint8_t>(low);
    } else {
      bytes[j - 8] |= static_cast<uint8_t>(low << 4);
    }
    bytes[8 + j % 4] |= static_cast<uint8_t>((biased[j] >> 4) << (2 * (j / 4)));
  }
}

}  // namespace

void quantize_q2_k(const float* x, const float* weights, BlockQ2_K* blocks, int64_t n_blocks) {
  const AffineFormat format{16, 3, 15};
  for (int64_t b = 0; b < n_blocks; ++b, x += kBlock, weights += kBlock) {
    const AffineSuperBlock fit = fit_affine_super_block(x, weights, format);
    BlockQ2_K& block = blocks[b];
    block.d = float_to_fp16(fit.d);
    block.dmin = float_to_fp16(fit.dmin);
    for (int j = 0; j < 16; ++j)
      block.scales[j] = static_cast<uint8_t>(fit.scale[j] | fit.min[j] << 4);
    pack_two_bits(fit.q, block.qs);
  }
}

void quantize_q3_k(const float* x, const float* weights, BlockQ3_K* blocks, int64_t n_blocks) {
  const SymmetricFormat format{16, -4, 3, -32, 31};
  for (int64_t b = 0; b < n_blocks; ++b, x += kBlock, weights += kBlock) {
    const SymmetricSuperBlock fit = fit_symmetric_super_block(x, weights, format);
    BlockQ3_K& block = blocks[b];
    block.d = float_to_fp16(fit.d);
    int biased_scales[16];
    for (int j = 0; j < 16; ++j)
      biased_scales[j] = fit.scale[j] + 32;
    pack_q3_k_scales(biased_scales, block.scales);
    int biased[kBlock];
    for (int i = 0; i < kBlock; ++i)
      biased[i] = fit.q[i] + 4;
    pack_two_bits(biased, block.qs);
    pack_bit_planes(biased, 2, block.hmask);
  }
}

void quantize_q4_k(const float* x, const float* weights, BlockQ4_K* blocks, int64_t n_blocks) {
  const AffineFormat format{32, 15, 63};
  for (int64_t b = 0; b < n_blocks; ++b, x += kBlock, weights += kBlock) {
    const AffineSuperBlock fit = fit_affine_super_block(x, weights, format);
    BlockQ4_K& block = blocks[b];
    block.d = float_to_fp16(fit.d);
    block.dmin = float_to_fp16(fit.dmin);
    pack_k4_scales(fit.scale, fit.min, block.scales);
    pack_k_nibbles(fit.q, block.qs);
  }
}

void quantize_q5_k(const float* x, const float* weights, BlockQ5_K* blocks, int64_t n_blocks) {
  const AffineFormat format{32, 31, 63};
  for (int64_t b = 0; b < n_blocks; ++b, x += kBlock, weights += kBlock) {
    const AffineSuperBlock fit = fit_affine_super_block(x, weights, format);
    BlockQ5_K& block = blocks[b];
    block.d = float_to_fp16(fit.d);
    block.dmin = float_to_fp16(fit.dmin);
    pack_k4_scales(fit.scale, fit.min, block.scales);
    pack_k_nibbles(fit.q, block.qs);
    pack_bit_planes(fit.q, 4, block.qh);
  }
}

void quantize_q6_k(const float* x, const float* weights, BlockQ6_K* blocks, int64_t n_blocks) {
  const SymmetricFormat format{16, -32, 31, -128, 127};
  for (int64_t b = 0; b < n_blocks; ++b, x += kBlock, weights += kBlock) {
    const SymmetricSuperBlock fit = fit_symmetric_super_block(x, weights, format);
    BlockQ6_K& block = blocks[b];
    block.d = float_to_fp16(fit.d);
    for (int j = 0; j < 16; ++j)
      block.scales[j] = static_cast<int8_t>(fit.scale[j]);
    std::memset(block.ql, 0, sizeof block.ql);
    std::memset(block.qh, 0, sizeof block.qh);
    for (int i = 0; i < kBlock; ++i) {
      const int q = fit.q[i] + 32;
      const int half = i / 128;
      const int k = (i % 128) / 32;
      const int l = i % 32;
      block.ql[64 * half + l + 32 * (k % 2)] |= static_cast<uint8_t>((q & 0xf) << (4 * (k / 2)));
      block.qh[32 * half + l] |= static_cast<uint8_t>((q >> 4) << (2 * k));
    }
  }
}

// Q8_K maps the element of largest magnitude to -127 exactly and stores the float scale. The
// bsums are the block sums that the K-quant dot products need.
void quantize_q8_k(const float* x, BlockQ8_K* blocks, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, x += kBlock) {
    BlockQ8_K& block = blocks[b];
    float extreme = 0;
    for (int i = 0; i < kBlock; ++i) {
      if (std::fabs(x[i]) > std::fabs(extreme)) extreme = x[i];
    }
    std::memset(block.qs, 0, sizeof block.qs);
    std::memset(block.bsums, 0, sizeof block.bsums);
    block.d = 0;
    if (extreme == 0) continue;
    const float inverse_scale = -127.0f / extreme;
    for (int i = 0; i < kBlock; ++i) {
      const int q = std::min(127, static_cast<int>(std::nearbyint(inverse_scale * x[i])));
      block.qs[i] = static_cast<int8_t>(q);
      block.bsums[i / 16] = static_cast<int16_t>(block.bsums[i / 16] + q);
    }
    block.d = 1.0f / inverse_scale;
  }
}

}  // namespace hllm::quant
