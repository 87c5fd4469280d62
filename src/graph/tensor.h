// Graph tensors: a dtype, up to four dimensions listed fastest first, byte strides, the op that
// produces the tensor and its sources. Views share their source's storage.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>

#include "formats/ggml_type.h"

namespace hllm {

constexpr int kMaxDims = 4;
constexpr int kMaxSources = 8;

// Every op the graph can hold. Shapes are fastest dimension first; "T" is tokens in a
// micro-batch, "S" sequences, "k" the reduced dimension of a matrix product.
enum class Op : uint8_t {
  None,       // a leaf: weight, input or state
  // Views compute nothing; their data is their view source's data plus an offset.
  View,       // any shape and strides over src0's storage
  Reshape,    // src0 must be contiguous
  Permute,
  Transpose,
  // Compute ops. Outputs are contiguous F32 unless stated.
  GetRows,    // src0 table [n, R, B, C] (any type), src1 ids I32 [m, B, C] -> [n, m, B, C]
  MulMat,     // src0 weight [k, M, B0, C0] (any type), src1 [k, N, B, C] F32 -> [M, N, B, C]; src0 broadcasts over B, C
  MulMatId,   // src0 experts [k, M, E], src1 [k, U1, T] F32 (U1 = 1 or U), src2 ids I32 [U, T] -> [M, U, T]
  Add,        // src0 + src1, src1 broadcast over src0 (each src1 dim divides src0's)
  Sub,
  Mul,
  Div,
  Scale,      // src0 * scale + bias (ScaleParams)
  RmsNorm,    // over ne[0]: x / sqrt(mean(x^2) + eps)
  L2Norm,     // over ne[0]: x / max(||x||, eps)... see NormParams
  Rope,       // src0 [D, H, T] or [D, H, T, S], src1 positions I32 [T] (shared by all S) or [T, S]
  SoftMax,    // over ne[0] of src0 * scale (+ src1 mask [ne0, ne1, ...] broadcast over dims 2, 3);
              // a row whose values are all -inf gives zeros
  Attention,  // src0 q [Dk, H, Tq], src1 k [Dk, Hkv, Tkv], src2 v [Dv, Hkv, Tkv], src3 mask F32 [Tkv, Tq] -> [Dv, H, Tq]
              // (mask optional, F32 or F16; every tensor may add a sequence dim S, the mask as [Tkv, Tq, S];
              // query rows with every key masked give zeros)
  Silu,
  Sigmoid,
  Softplus,   // log(1 + exp(x)), and x itself for x > 20 as llama.cpp computes it
  Exp,
  Neg,
  Sqr,
  Sqrt,
  TopK,       // src0 [n, R] -> I32 [k, R]: indices of the k largest values per row, largest first,
              // ties to the lower index, NaN below every number
  SsmConv,    // causal depthwise conv with carried window, see below
  DeltaRule,  // gated delta rule, see below
  Concat,     // src0, src1 of one type joined along ConcatParams::dim; the output keeps that type
  Copy,       // src0 converted/copied into a new contiguous tensor of this tensor's type (Cont)
  SetRows,    // in place: src0 destination [n, R] (state), src1 rows [n, m] F32, src2 ids I32 [m];
              // a repeated id keeps the later row. The output shares the destination's storage.
  SumRows,    // src0 [n, ...] -> [1, ...]
  Count,
};

// Returns the op's name as `hllm plan --list-ops` and error messages print it: "mul_mat".
const char* op_name(Op op);

// Returns the index of the source whose storage the op updates in place (the state of SetRows,
// SsmConv and DeltaRule), or -1 for ops that write only their own output.
int in_place_source(Op op);

// Where a leaf's data comes from; the scheduler treats each differently.
enum class LeafKind : uint8_t {
  None,    // not a leaf: computed by its op
  Weight,  // model weight, read-only, from the GGUF file
  Input,   // filled by the runtime before each evaluation (token ids, positions, masks)
  State,   // persistent across evaluations (KV cache, recurrent state)
};

struct ScaleParams {
  float scale = 1.0f;
  float bias = 0.0f;
};

struct NormParams {
  // RmsNorm: x / sqrt(mean(x^2) + eps). L2Norm: x / max(sqrt(sum(x^2)), eps).
  float eps = 0.0f;
};

enum class RopeMode : int32_t {
  Normal = 0,  // rotate pairs (x[2i], x[2i+1])
  Neox = 2,    // rotate pairs (x[i], x[i + n_dims/2])
};

struct RopeParams {
  RopeMode mode = RopeMode::Normal;
  int32_t n_dims = 0;        // rotated dimensions from the start of each head; the rest pass through
  float freq_base = 10000.0f;
  float freq_scale = 1.0f;   // positions are multiplied by this
};

struct SoftMaxParams {
  float scale = 1.0f;
};

struct AttentionParams {
  float scale = 1.0f;  // applied to q.k before the mask; the mask is added (0 or -inf)
};

struct TopKParams {
  int32_t k = 1;
};

struct ConcatParams {
  int32_t dim = 0;
};

struct ViewParams {
  size_t offset = 0;  // bytes from the start of the view source's data
};

struct PermuteParams {
  std::array<int32_t, kMaxDims> axes{0, 1, 2, 3};  // source dim i becomes dim axes[i]
};

// SsmConv: src0 x [C, T, S] (the new inputs of S sequences with T tokens each), src1 kernel
// [K, C], src2 state [(K-1)*C, slots] (persistent window, (K-1) past inputs per channel, oldest
// first, channel-major), src3 slots I32 [S] (state slot of each sequence). Output [C, T, S]:
// out[c,t] = sum_j kernel[j,c] * window[c, t + j] over the window (K-1 past inputs then x).
// Updates the state slots in place with the last K-1 inputs.
//
// DeltaRule: src0 q [Dk, Hk, T, S], src1 k [Dk, Hk, T, S], src2 v [Dv, Hv, T, S], src3 g
// [Hv, T, S] (log of the decay, <= 0), src4 beta [Hv, T, S], src5 state [Dk*Dv*Hv, slots], src6
// slots I32 [S]. Value head h uses key head h / (Hv / Hk). Per head and token:
// S <- exp(g) S; delta = beta (v - S^T k); S <- S + k delta^T; o = S^T q * scale.
// Output [Dv, Hv, T, S]; the state slots are updated in place. Each head's state is stored
// row-major with Dv fastest: S[i_k * Dv + j_v].
struct DeltaRuleParams {
  float scale = 1.0f;
  // Tokens per chunk for prompts; 0 forces the token-by-token recurrence. 16 because on AVX-512
  // the recurrence already runs near peak and larger chunks measured slower (bench_delta_rule).
  int32_t chunk_size = 16;
};

using OpParams = std::variant<std::monostate, ScaleParams, NormParams, RopeParams, SoftMaxParams,
                              AttentionParams, TopKParams, ConcatParams, ViewParams, PermuteParams,
                              DeltaRuleParams>;

struct Tensor {
  int32_t id = -1;  // index in its graph
  std::string name;  // with the layer index for per-layer nodes: "attn_norm-3"
  GgmlType type = GgmlType::F32;
  std::array<int64_t, kMaxDims> ne{1, 1, 1, 1};  // elements per dimension, fastest first
  std::array<size_t, kMaxDims> nb{0, 0, 0, 0};    // bytes between consecutive elements per dim
  Op op = Op::None;
  OpParams params;
  std::array<Tensor*, kMaxSources> src{};
  int n_src = 0;
  LeafKind leaf = LeafKind::None;
  int32_t layer = -1;  // model layer that produced or owns it, -1 for none

  // Views and SetRows: the tensor whose storage this one shares (possibly a view itself, see
  // storage_owner), and the byte offset from its data.
  Tensor* view_source = nullptr;
  size_t view_offset = 0;
  void* data = nullptr;           // set when memory is assigned

  int64_t n_elements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
  // Bytes of the whole tensor when stored contiguously.
  size_t n_bytes() const;
  bool is_contiguous() const;
  bool is_view() const { return op == Op::View || op == Op::Reshape || op == Op::Permute || op == Op::Transpose; }
  // The tensor that owns this one's storage (itself unless it is a view, following chains).
  const Tensor* storage_owner() const;
  Tensor* storage_owner();

  template <typename P>
  const P& get() const {
    return std::get<P>(params);
  }
};

}  // namespace hllm
