// Row primitives of the CPU kernels on contiguous float arrays, vectorized with Highway and
// dispatched at run time to the best target the CPU supports (AVX-512 on Zen 4, with AVX2, SSE4
// and a scalar fallback). Every element, the tail included, goes through the same vector
// arithmetic, so a result does not depend on where a row starts or how rows are split across
// threads. Sources and outputs may be the same array.
#pragma once

#include <cstdint>

namespace hllm::cpu::simd {

// Reductions, accumulated in float over several vector lanes.
float dot(const float* a, const float* b, int64_t n);
float sum(const float* x, int64_t n);
float sum_squares(const float* x, int64_t n);
float max(const float* x, int64_t n);  // -inf for n = 0

// out[i] = a[i] op b[i].
void add(const float* a, const float* b, float* out, int64_t n);
void sub(const float* a, const float* b, float* out, int64_t n);
void mul(const float* a, const float* b, float* out, int64_t n);
void div(const float* a, const float* b, float* out, int64_t n);

// out[i] = x[i] * scale + bias.
void scale(const float* x, float scale, float bias, float* out, int64_t n);
// acc[i] += weight * x[i].
void mul_add(const float* x, float weight, float* acc, int64_t n);

// Element-wise functions, out[i] = f(x[i]).
void silu(const float* x, float* out, int64_t n);      // x / (1 + exp(-x))
void sigmoid(const float* x, float* out, int64_t n);   // 1 / (1 + exp(-x))
void softplus(const float* x, float* out, int64_t n);  // log(1 + exp(x)), x itself above 20
void exp(const float* x, float* out, int64_t n);
void neg(const float* x, float* out, int64_t n);
void sqr(const float* x, float* out, int64_t n);
void sqrt(const float* x, float* out, int64_t n);

// out[i] = exp(x[i] - shift); returns the sum of out. Lanes of -inf give 0.
float exp_shifted(const float* x, float shift, float* out, int64_t n);

// Converts n contiguous IEEE half or bfloat16 values (raw bits) to float, exactly.
void f16_to_f32(const uint16_t* x, float* out, int64_t n);
void bf16_to_f32(const uint16_t* x, float* out, int64_t n);

}  // namespace hllm::cpu::simd
