// Highway compiles this file once per target because foreach_target.h re-includes it. The
// HWY_ONCE part at the end contains the dispatching entry points declared in simd.h.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "backends/cpu/simd.cpp"
#include <hwy/foreach_target.h>  // must come before highway.h

#include <hwy/contrib/math/math-inl.h>
#include <hwy/highway.h>

#include <cstring>
#include <limits>

#include "backends/cpu/simd.h"

HWY_BEFORE_NAMESPACE();
namespace hllm::cpu::simd::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using D = hn::ScalableTag<float>;
using V = hn::Vec<D>;

// Largest vector in floats over all targets (2048-bit SVE); tails are staged in this many.
constexpr size_t kMaxLanes = 64;

// Loads the last count (< lanes) elements of an array into a vector whose other lanes are fill.
// Staging through a buffer keeps every read inside the array.
HWY_INLINE V LoadTail(D d, const float* x, int64_t count, float fill) {
  HWY_ALIGN float buffer[kMaxLanes];
  for (size_t i = 0; i < hn::Lanes(d); ++i)
    buffer[i] = fill;
  std::memcpy(buffer, x, static_cast<size_t>(count) * sizeof(float));
  return hn::Load(d, buffer);
}

HWY_INLINE void StoreTail(D d, V v, float* out, int64_t count) {
  HWY_ALIGN float buffer[kMaxLanes];
  hn::Store(v, d, buffer);
  std::memcpy(out, buffer, static_cast<size_t>(count) * sizeof(float));
}

// Writes func(x) for every element.
template <class Func>
HWY_INLINE void MapUnary(const float* x, float* out, int64_t n, const Func& func) {
  const D d;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(d));
  int64_t i = 0;
  for (; i + lanes <= n; i += lanes)
    hn::StoreU(func(d, hn::LoadU(d, x + i)), d, out + i);
  if (i < n) StoreTail(d, func(d, LoadTail(d, x + i, n - i, 0.0f)), out + i, n - i);
}

// Writes func(a, b) for every element pair. The tail's unused lanes of b are 1 so that Div
// stays finite.
template <class Func>
HWY_INLINE void MapBinary(const float* a, const float* b, float* out, int64_t n, const Func& func) {
  const D d;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(d));
  int64_t i = 0;
  for (; i + lanes <= n; i += lanes) {
    hn::StoreU(func(hn::LoadU(d, a + i), hn::LoadU(d, b + i)), d, out + i);
  }
  if (i < n) {
    const V va = LoadTail(d, a + i, n - i, 0.0f);
    const V vb = LoadTail(d, b + i, n - i, 1.0f);
    StoreTail(d, func(va, vb), out + i, n - i);
  }
}

// Largest float argument whose exp is finite (ln of FLT_MAX is 88.7228).
constexpr float kMaxExpArgument = 88.72f;

// exp(x) with arguments clamped to kMaxExpArgument, inside the range where Highway's Exp is
// valid (up to +104), so that huge arguments give a large finite value instead of garbage.
HWY_INLINE V ClampedExp(D d, V x) {
  return hn::Exp(d, hn::Min(x, hn::Set(d, kMaxExpArgument)));
}

float Dot(const float* a, const float* b, int64_t n) {
  const D d;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(d));
  V sum0 = hn::Zero(d);
  V sum1 = hn::Zero(d);
  int64_t i = 0;
  for (; i + 2 * lanes <= n; i += 2 * lanes) {
    sum0 = hn::MulAdd(hn::LoadU(d, a + i), hn::LoadU(d, b + i), sum0);
    sum1 = hn::MulAdd(hn::LoadU(d, a + i + lanes), hn::LoadU(d, b + i + lanes), sum1);
  }
  for (; i + lanes <= n; i += lanes)
    sum0 = hn::MulAdd(hn::LoadU(d, a + i), hn::LoadU(d, b + i), sum0);
  if (i < n) {
    sum1 = hn::MulAdd(LoadTail(d, a + i, n - i, 0.0f), LoadTail(d, b + i, n - i, 0.0f), sum1);
  }
  return hn::GetLane(hn::SumOfLanes(d, hn::Add(sum0, sum1)));
}

float Sum(const float* x, int64_t n) {
  const D d;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(d));
  V total = hn::Zero(d);
  int64_t i = 0;
  for (; i + lanes <= n; i += lanes)
    total = hn::Add(total, hn::LoadU(d, x + i));
  if (i < n) total = hn::Add(total, LoadTail(d, x + i, n - i, 0.0f));
  return hn::GetLane(hn::SumOfLanes(d, total));
}

float SumSquares(const float* x, int64_t n) {
  return Dot(x, x, n);
}

float Max(const float* x, int64_t n) {
  const D d;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(d));
  const float lowest = -std::numeric_limits<float>::infinity();
  V best = hn::Set(d, lowest);
  int64_t i = 0;
  for (; i + lanes <= n; i += lanes)
    best = hn::Max(best, hn::LoadU(d, x + i));
  if (i < n) best = hn::Max(best, LoadTail(d, x + i, n - i, lowest));
  return hn::GetLane(hn::MaxOfLanes(d, best));
}

void Add(const float* a, const float* b, float* out, int64_t n) {
  MapBinary(a, b, out, n, [](V x, V y) { return hn::Add(x, y); });
}
void Sub(const float* a, const float* b, float* out, int64_t n) {
  MapBinary(a, b, out, n, [](V x, V y) { return hn::Sub(x, y); });
}
void Mul(const float* a, const float* b, float* out, int64_t n) {
  MapBinary(a, b, out, n, [](V x, V y) { return hn::Mul(x, y); });
}
void Div(const float* a, const float* b, float* out, int64_t n) {
  MapBinary(a, b, out, n, [](V x, V y) { return hn::Div(x, y); });
}

void Scale(const float* x, float scale, float bias, float* out, int64_t n) {
  MapUnary(x, out, n,
           [scale, bias](D d, V v) { return hn::MulAdd(v, hn::Set(d, scale), hn::Set(d, bias)); });
}

void MulAdd(const float* x, float weight, float* acc, int64_t n) {
  const D d;
  const V w = hn::Set(d, weight);
  MapBinary(x, acc, acc, n, [w](V v, V a) { return hn::MulAdd(v, w, a); });
}

void Silu(const float* x, float* out, int64_t n) {
  MapUnary(x, out, n, [](D d, V v) {
    return hn::Div(v, hn::Add(hn::Set(d, 1.0f), ClampedExp(d, hn::Neg(v))));
  });
}

void Sigmoid(const float* x, float* out, int64_t n) {
  MapUnary(x, out, n, [](D d, V v) {
    const V one = hn::Set(d, 1.0f);
    return hn::Div(one, hn::Add(one, ClampedExp(d, hn::Neg(v))));
  });
}

void Softplus(const float* x, float* out, int64_t n) {
  MapUnary(x, out, n, [](D d, V v) {
    // Above 20, log(1 + exp(x)) equals x in float; llama.cpp returns x there too.
    const V threshold = hn::Set(d, 20.0f);
    const V small = hn::Min(v, threshold);
    return hn::IfThenElse(hn::Gt(v, threshold), v, hn::Log1p(d, hn::Exp(d, small)));
  });
}

void Exp(const float* x, float* out, int64_t n) {
  // Arguments past the finite range give inf, as std::exp does.
  MapUnary(x, out, n, [](D d, V v) {
    const V inf = hn::Set(d, std::numeric_limits<float>::infinity());
    return hn::IfThenElse(hn::Gt(v, hn::Set(d, kMaxExpArgument)), inf, ClampedExp(d, v));
  });
}

void Neg(const float* x, float* out, int64_t n) {
  MapUnary(x, out, n, [](D, V v) { return hn::Neg(v); });
}
void Sqr(const float* x, float* out, int64_t n) {
  MapUnary(x, out, n, [](D, V v) { return hn::Mul(v, v); });
}
void Sqrt(const float* x, float* out, int64_t n) {
  MapUnary(x, out, n, [](D, V v) { return hn::Sqrt(v); });
}

float ExpShifted(const float* x, float shift, float* out, int64_t n) {
  const D d;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(d));
  const V offset = hn::Set(d, shift);
  V total = hn::Zero(d);
  int64_t i = 0;
  for (; i + lanes <= n; i += lanes) {
    const V e = ClampedExp(d, hn::Sub(hn::LoadU(d, x + i), offset));
    total = hn::Add(total, e);
    hn::StoreU(e, d, out + i);
  }
  if (i < n) {
    const float lowest = -std::numeric_limits<float>::infinity();
    const V e = ClampedExp(d, hn::Sub(LoadTail(d, x + i, n - i, lowest), offset));
    total = hn::Add(total, e);
    StoreTail(d, e, out + i, n - i);
  }
  return hn::GetLane(hn::SumOfLanes(d, total));
}

// Converts half-width values by calling convert(d, v) on each vector v of lanes loaded from x.
// The tail is staged through a zeroed buffer so that reads stay inside the array.
template <typename T, class Convert>
HWY_INLINE void ConvertHalfWidth(const uint16_t* x, float* out, int64_t n, const Convert& convert) {
  const D d;
  const hn::Rebind<T, D> d16;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(d));
  const T* source = reinterpret_cast<const T*>(x);
  int64_t i = 0;
  for (; i + lanes <= n; i += lanes)
    hn::StoreU(convert(d, hn::LoadU(d16, source + i)), d, out + i);
  if (i < n) {
    HWY_ALIGN T buffer[kMaxLanes] = {};
    std::memcpy(buffer, source + i, static_cast<size_t>(n - i) * sizeof(T));
    StoreTail(d, convert(d, hn::Load(d16, buffer)), out + i, n - i);
  }
}

void F16ToF32(const uint16_t* x, float* out, int64_t n) {
  ConvertHalfWidth<hwy::float16_t>(x, out, n, [](D d, auto v) { return hn::PromoteTo(d, v); });
}

void BF16ToF32(const uint16_t* x, float* out, int64_t n) {
  // bfloat16 is the upper half of a float: widen the bits and shift them into place.
  ConvertHalfWidth<uint16_t>(x, out, n, [](D d, auto v) {
    const hn::RebindToUnsigned<D> du;
    return hn::BitCast(d, hn::ShiftLeft<16>(hn::PromoteTo(du, v)));
  });
}

}  // namespace hllm::cpu::simd::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace hllm::cpu::simd {

HWY_EXPORT(Dot);
HWY_EXPORT(Sum);
HWY_EXPORT(SumSquares);
HWY_EXPORT(Max);
HWY_EXPORT(Add);
HWY_EXPORT(Sub);
HWY_EXPORT(Mul);
HWY_EXPORT(Div);
HWY_EXPORT(Scale);
HWY_EXPORT(MulAdd);
HWY_EXPORT(Silu);
HWY_EXPORT(Sigmoid);
HWY_EXPORT(Softplus);
HWY_EXPORT(Exp);
HWY_EXPORT(Neg);
HWY_EXPORT(Sqr);
HWY_EXPORT(Sqrt);
HWY_EXPORT(ExpShifted);
HWY_EXPORT(F16ToF32);
HWY_EXPORT(BF16ToF32);

float dot(const float* a, const float* b, int64_t n) {
  return HWY_DYNAMIC_DISPATCH(Dot)(a, b, n);
}
float sum(const float* x, int64_t n) {
  return HWY_DYNAMIC_DISPATCH(Sum)(x, n);
}
float sum_squares(const float* x, int64_t n) {
  return HWY_DYNAMIC_DISPATCH(SumSquares)(x, n);
}
float max(const float* x, int64_t n) {
  return HWY_DYNAMIC_DISPATCH(Max)(x, n);
}

void add(const float* a, const float* b, float* out, int64_t n) {
  HWY_DYNAMIC_DISPATCH(Add)(a, b, out, n);
}
void sub(const float* a, const float* b, float* out, int64_t n) {
  HWY_DYNAMIC_DISPATCH(Sub)(a, b, out, n);
}
void mul(const float* a, const float* b, float* out, int64_t n) {
  HWY_DYNAMIC_DISPATCH(Mul)(a, b, out, n);
}
void div(const float* a, const float* b, float* out, int64_t n) {
  HWY_DYNAMIC_DISPATCH(Div)(a, b, out, n);
}

void scale(const float* x, float scale, float bias, float* out, int64_t n) {
  HWY_DYNAMIC_DISPATCH(Scale)(x, scale, bias, out, n);
}
void mul_add(const float* x, float weight, float* acc, int64_t n) {
  HWY_DYNAMIC_DISPATCH(MulAdd)(x, weight, acc, n);
}

void silu(const float* x, float* out, int64_t n) {
  HWY_DYNAMIC_DISPATCH(Silu)(x, out, n);
}
void sigmoid(const float* x, float* out, int64_t n) {
  HWY_DYNAMIC_DISPATCH(Sigmoid)(x, out, n);
}
void softplus(const float* x, float* out, int64_t n) {
  HWY_DYNAMIC_DISPATCH(Softplus)(x, out, n);
}
void exp(const float* x, float* out, int64_t n) {
  HWY_DYNAMIC_DISPATCH(Exp)(x, out, n);
}
void neg(const float* x, float* out, int64_t n) {
  HWY_DYNAMIC_DISPATCH(Neg)(x, out, n);
}
void sqr(const float* x, float* out, int64_t n) {
  HWY_DYNAMIC_DISPATCH(Sqr)(x, out, n);
}
void sqrt(const float* x, float* out, int64_t n) {
  HWY_DYNAMIC_DISPATCH(Sqrt)(x, out, n);
}

float exp_shifted(const float* x, float shift, float* out, int64_t n) {
  return HWY_DYNAMIC_DISPATCH(ExpShifted)(x, shift, out, n);
}

void f16_to_f32(const uint16_t* x, float* out, int64_t n) {
  HWY_DYNAMIC_DISPATCH(F16ToF32)(x, out, n);
}
void bf16_to_f32(const uint16_t* x, float* out, int64_t n) {
  HWY_DYNAMIC_DISPATCH(BF16ToF32)(x, out, n);
}

}  // namespace hllm::cpu::simd
#endif  // HWY_ONCE
