// Tests of the gated delta rule kernel: both forms against a float64 reference, against each
// other, with strided sources, carried state, grouped heads and invalid input.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "backends/cpu/delta_rule_internal.h"
#include "backends/cpu/kernels.h"
#include "cpu/compare.h"
#include "cpu/recurrent_reference.h"
#include "cpu/targets.h"
#include "cpu/tensors.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace hllm::cpu {
namespace {

using test::DeltaRuleShape;
using test::expect_close;
using test::for_each_simd_target;
using test::make_tensor;

struct DeltaRuleInputs {
  std::vector<float> q, k;     // [dk, Hk, T, S], rows of unit length as the model passes them
  std::vector<float> v;        // [dv, Hv, T, S]
  std::vector<float> g, beta;  // [Hv, T, S]
  std::vector<float> state;    // [dk * dv * Hv, n_slots]
  std::vector<int32_t> slots;  // [S], distinct, not in sequence order
};

std::vector<float> random_unit_rows(int64_t row_length, int64_t n_rows, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> values(static_cast<size_t>(row_length * n_rows));
  for (int64_t r = 0; r < n_rows; ++r) {
    double norm = 0.0;
    for (int64_t i = 0; i < row_length; ++i) {
      values[r * row_length + i] = normal(rng);
      norm += values[r * row_length + i] * values[r * row_length + i];
    }
    for (int64_t i = 0; i < row_length; ++i)
      values[r * row_length + i] /= std::sqrt(norm);
  }
  return values;
}

DeltaRuleInputs random_inputs(const DeltaRuleShape& shape, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const int64_t n_rows = shape.n_tokens * shape.n_seqs;
  DeltaRuleInputs in;
  in.q = random_unit_rows(shape.dk, shape.n_key_heads * n_rows, rng);
  in.k = random_unit_rows(shape.dk, shape.n_key_heads * n_rows, rng);
  in.v.resize(static_cast<size_t>(shape.dv * shape.n_value_heads * n_rows));
  for (float& x : in.v)
    x = normal(rng);
  // g = -softplus(a) * exp(A_log) as the model computes it, mostly in (-0.2, 0) so that the
  // state carries across chunks, with a few tokens of no decay (g = 0) and of strong decay.
  in.g.resize(static_cast<size_t>(shape.n_value_heads * n_rows));
  in.beta.resize(in.g.size());
  for (size_t i = 0; i < in.g.size(); ++i) {
    const float a = normal(rng);
    in.g[i] = -std::log1p(std::exp(a)) * 0.05f;
    if (i % 17 == 3) in.g[i] = 0.0f;
    if (i % 23 == 5) in.g[i] = -20.0f;
    in.beta[i] = 1.0f / (1.0f + std::exp(-normal(rng)));
  }
  in.state.resize(static_cast<size_t>(shape.dk * shape.dv * shape.n_value_heads * shape.n_slots));
  for (float& x : in.state)
    x = 0.3f * normal(rng);
  for (int64_t s = 0; s < shape.n_seqs; ++s) {
    in.slots.push_back(static_cast<int32_t>(shape.n_slots - 1 - s));
  }
  return in;
}

// How q, k and v are stored. Packed puts them side by side in each token's row of one buffer, as
// views of a convolution output are; Interleaved also spaces elements two floats apart.
enum class Layout { Contiguous, Packed, Interleaved };

struct RunOptions {
  int32_t chunk_size = 64;  // 0 runs the recurrence
  Layout layout = Layout::Contiguous;
  int n_threads = 2;
  // Leaves the choice of form to the kernel's default instead of forcing the chunked form for
  // every length when chunk_size > 0.
  bool default_form = false;
};

// Runs the kernel once on in's tokens, updating state. Returns the output [dv, Hv, T, S].
std::vector<float> run_delta_rule(const DeltaRuleShape& shape, const DeltaRuleInputs& in,
                                  std::vector<float>& state, const RunOptions& options) {
  const int64_t dk = shape.dk, dv = shape.dv, hk = shape.n_key_heads, hv = shape.n_value_heads;
  const int64_t n_tokens = shape.n_tokens, n_seqs = shape.n_seqs;
  const std::array<int64_t, kMaxDims> key_shape{dk, hk, n_tokens, n_seqs};
  const std::array<int64_t, kMaxDims> value_shape{dv, hv, n_tokens, n_seqs};
  const std::array<int64_t, kMaxDims> head_shape{hv, n_tokens, n_seqs, 1};

  std::vector<float> q = in.q, k = in.k, v = in.v, g = in.g, beta = in.beta;
  std::vector<int32_t> slots = in.slots;
  Tensor tq = make_tensor("q", GgmlType::F32, key_shape, q.data());
  Tensor tk = make_tensor("k", GgmlType::F32, key_shape, k.data());
  Tensor tv = make_tensor("v", GgmlType::F32, value_shape, v.data());
  Tensor tg = make_tensor("g", GgmlType::F32, head_shape, g.data());
  Tensor tbeta = make_tensor("beta", GgmlType::F32, head_shape, beta.data());

  std::vector<float> packed, gates;
  if (options.layout != Layout::Contiguous) {
    // Token rows of [q | k | v | padding], each element spaced `spread` floats apart.
    const int64_t spread = options.layout == Layout::Interleaved ? 2 : 1;
    const int64_t row = spread * (2 * dk * hk + dv * hv) + 3;
    packed.assign(static_cast<size_t>(row * n_tokens * n_seqs), std::nanf(""));
    auto place = [&](Tensor& tensor, const std::vector<float>& values, int64_t offset) {
      const int64_t per_token = tensor.ne[0] * tensor.ne[1];
      for (int64_t r = 0; r < n_tokens * n_seqs; ++r) {
        for (int64_t i = 0; i < per_token; ++i) {
          packed[r * row + offset + spread * i] = values[r * per_token + i];
        }
      }
      tensor.data = packed.data() + offset;
      tensor.nb = {spread * sizeof(float), spread * tensor.ne[0] * sizeof(float),
                   row * sizeof(float), row * n_tokens * sizeof(float)};
    };
    place(tq, in.q, 0);
    place(tk, in.k, spread * dk * hk);
    place(tv, in.v, spread * 2 * dk * hk);
  }
  if (options.layout == Layout::Interleaved) {
    // g and beta alternate in one buffer.
    gates.resize(2 * g.size());
    for (size_t i = 0; i < g.size(); ++i) {
      gates[2 * i] = in.g[i];
      gates[2 * i + 1] = in.beta[i];
    }
    for (Tensor* tensor : {&tg, &tbeta}) {
      tensor->data = gates.data() + (tensor == &tbeta ? 1 : 0);
      for (int i = 0; i < kMaxDims; ++i)
        tensor->nb[i] *= 2;
    }
  }

  Tensor tstate =
      make_tensor("state", GgmlType::F32, {dk * dv * hv, shape.n_slots, 1, 1}, state.data());
  Tensor tslots = make_tensor("slots", GgmlType::I32, {n_seqs, 1, 1, 1}, slots.data());
  std::vector<float> out(static_cast<size_t>(dv * hv * n_tokens * n_seqs));
  Tensor dst = make_tensor("delta_rule-0", GgmlType::F32, value_shape, out.data());
  dst.op = Op::DeltaRule;
  dst.params = DeltaRuleParams{1.0f / std::sqrt(static_cast<float>(dk)), options.chunk_size};
  const Tensor* sources[] = {&tq, &tk, &tv, &tg, &tbeta, &tstate, &tslots};
  for (const Tensor* source : sources)
    dst.src[dst.n_src++] = const_cast<Tensor*>(source);

  ThreadPool pool(options.n_threads);
  CpuContext ctx(pool);
  if (options.default_form) {
    compute_delta_rule(dst, ctx);
  } else {
    compute_delta_rule_with_threshold(dst, ctx, 1);
  }
  return out;
}

std::vector<double> run_reference(const DeltaRuleShape& shape, const DeltaRuleInputs& in,
                                  std::vector<double>& state) {
  return test::reference_delta_rule(shape, in.q, in.k, in.v, in.g, in.beta, in.slots,
                                    1.0 / std::sqrt(static_cast<double>(shape.dk)), state);
}

template <typename T>
double max_abs(const std::vector<T>& values) {
  double result = 0.0;
  for (const T value : values)
    result = std::max(result, std::fabs(static_cast<double>(value)));
  return result;
}

// Float rounding tolerance for results of the given magnitude. Each token rounds dot products and
// updates to a few float ulps (2^-23 relative), and the update with unit keys and beta <= 1 does
// not amplify earlier errors (I - beta k k^T has norm <= 1, the decay is <= 1), so errors add up
// like a random walk over the tokens. Measured worst errors are below 5 ulps of the largest
// value for T <= 130 on every SIMD target; this allows 16 ulps times sqrt(T + 1).
double tolerance_for(const DeltaRuleShape& shape, double magnitude) {
  return 16.0 * std::ldexp(1.0, -23) * std::max(magnitude, 1e-3) *
         std::sqrt(static_cast<double>(shape.n_tokens) + 1.0);
}

void expect_matches_reference(const DeltaRuleShape& shape, const RunOptions& options,
                              uint32_t seed) {
  const DeltaRuleInputs in = random_inputs(shape, seed);
  std::vector<double> expected_state(in.state.begin(), in.state.end());
  const std::vector<double> expected = run_reference(shape, in, expected_state);
  std::vector<float> state = in.state;
  const std::vector<float> out = run_delta_rule(shape, in, state, options);
  const std::string what = "dk " + std::to_string(shape.dk) + " dv " + std::to_string(shape.dv) +
                           " T " + std::to_string(shape.n_tokens) + " chunk " +
                           std::to_string(options.chunk_size);
  expect_close(expected, out, tolerance_for(shape, max_abs(expected)), what + " output");
  expect_close(expected_state, state, tolerance_for(shape, max_abs(expected_state)),
               what + " state");
}

TEST(DeltaRule, RecurrenceMatchesReference) {
  for_each_simd_target([] {
    for (const int64_t n_tokens : {1, 5, 33}) {
      DeltaRuleShape shape;
      shape.n_tokens = n_tokens;
      expect_matches_reference(shape, RunOptions{.chunk_size = 0}, 1);
    }
  });
}

TEST(DeltaRule, ChunkedMatchesReference) {
  for_each_simd_target([] {
    for (const int64_t n_tokens : {1, 2, 5, 63, 64, 65, 130}) {
      DeltaRuleShape shape;
      shape.n_tokens = n_tokens;
      expect_matches_reference(shape, RunOptions{.chunk_size = 64}, 2);
    }
  });
}

TEST(DeltaRule, SmallChunksMatchReference) {
  DeltaRuleShape shape;
  shape.n_tokens = 37;
  for (const int32_t chunk_size : {1, 3, 16}) {
    expect_matches_reference(shape, RunOptions{.chunk_size = chunk_size}, 3);
  }
}

// Head sizes that leave columns outside full SIMD vectors, and dk != dv.
TEST(DeltaRule, OddHeadSizesMatchReference) {
  for_each_simd_target([] {
    for (const auto& [dk, dv] : {std::pair{16, 80}, std::pair{24, 24}, std::pair{5, 3}}) {
      for (const int32_t chunk_size : {0, 8}) {
        DeltaRuleShape shape;
        shape.dk = dk;
        shape.dv = dv;
        shape.n_tokens = 19;
        expect_matches_reference(shape, RunOptions{.chunk_size = chunk_size}, 4);
      }
    }
  });
}

// The real model's head size, with Hv = 2 Hk.
TEST(DeltaRule, ModelHeadSizeMatchesReference) {
  DeltaRuleShape shape;
  shape.dk = 128;
  shape.dv = 128;
  shape.n_key_heads = 1;
  shape.n_value_heads = 2;
  shape.n_seqs = 1;
  shape.n_slots = 1;
  shape.n_tokens = 70;
  expect_matches_reference(shape, RunOptions{.chunk_size = 0}, 5);
  expect_matches_reference(shape, RunOptions{.chunk_size = 64}, 5);
}

TEST(DeltaRule, ChunkedMatchesRecurrence) {
  for (const int64_t n_tokens : {1, 5, 63, 64, 65, 130}) {
    DeltaRuleShape shape;
    shape.n_tokens = n_tokens;
    const DeltaRuleInputs in = random_inputs(shape, 6);
    std::vector<float> recurrent_state = in.state, chunked_state = in.state;
    const std::vector<float> recurrent =
        run_delta_rule(shape, in, recurrent_state, RunOptions{.chunk_size = 0});
    const std::vector<float> chunked =
        run_delta_rule(shape, in, chunked_state, RunOptions{.chunk_size = 64});
    const std::string what = "T " + std::to_string(n_tokens);
    // Both differ from the exact result by at most tolerance_for, so from each other by twice.
    expect_close(recurrent, chunked, 2 * tolerance_for(shape, max_abs(recurrent)),
                 what + " output");
    expect_close(recurrent_state, chunked_state, 2 * tolerance_for(shape, max_abs(recurrent_state)),
                 what + " state");
  }
}

// Splits in's tokens into [0, split) and [split, T).
std::pair<DeltaRuleInputs, DeltaRuleInputs> split_tokens(const DeltaRuleShape& shape,
                                                         const DeltaRuleInputs& in, int64_t split) {
  DeltaRuleInputs first, second;
  auto cut = [&](const std::vector<float>& values, int64_t per_token, std::vector<float>& a,
                 std::vector<float>& b) {
    for (int64_t s = 0; s < shape.n_seqs; ++s) {
      const auto begin = values.begin() + s * shape.n_tokens * per_token;
      a.insert(a.end(), begin, begin + split * per_token);
      b.insert(b.end(), begin + split * per_token, begin + shape.n_tokens * per_token);
    }
  };
  cut(in.q, shape.dk * shape.n_key_heads, first.q, second.q);
  cut(in.k, shape.dk * shape.n_key_heads, first.k, second.k);
  cut(in.v, shape.dv * shape.n_value_heads, first.v, second.v);
  cut(in.g, shape.n_value_heads, first.g, second.g);
  cut(in.beta, shape.n_value_heads, first.beta, second.beta);
  first.slots = second.slots = in.slots;
  return {first, second};
}

TEST(DeltaRule, StateCarriesAcrossCalls) {
  for (const int32_t chunk_size : {0, 64}) {
    DeltaRuleShape shape;
    shape.n_tokens = 70;
    const DeltaRuleInputs in = random_inputs(shape, 7);
    std::vector<float> whole_state = in.state;
    const std::vector<float> whole =
        run_delta_rule(shape, in, whole_state, RunOptions{.chunk_size = chunk_size});

    const int64_t split = 33;
    const auto [first, second] = split_tokens(shape, in, split);
    DeltaRuleShape first_shape = shape, second_shape = shape;
    first_shape.n_tokens = split;
    second_shape.n_tokens = shape.n_tokens - split;
    std::vector<float> state = in.state;
    const std::vector<float> out_first =
        run_delta_rule(first_shape, first, state, RunOptions{.chunk_size = chunk_size});
    const std::vector<float> out_second =
        run_delta_rule(second_shape, second, state, RunOptions{.chunk_size = chunk_size});

    // Put the two calls' outputs back in [dv, Hv, T, S] order.
    std::vector<float> joined;
    const int64_t per_token = shape.dv * shape.n_value_heads;
    for (int64_t s = 0; s < shape.n_seqs; ++s) {
      const auto a = out_first.begin() + s * split * per_token;
      const auto b = out_second.begin() + s * (shape.n_tokens - split) * per_token;
      joined.insert(joined.end(), a, a + split * per_token);
      joined.insert(joined.end(), b, b + (shape.n_tokens - split) * per_token);
    }
    // The chunked form puts chunk boundaries in different places, the recurrence is the same
    // arithmetic in the same order.
    const bool exact = chunk_size == 0;
    const std::string what = "chunk " + std::to_string(chunk_size);
    expect_close(whole, joined, exact ? 0.0 : 2 * tolerance_for(shape, max_abs(whole)),
                 what + " output");
    expect_close(whole_state, state, exact ? 0.0 : 2 * tolerance_for(shape, max_abs(whole_state)),
                 what + " state");
  }
}

// Gathering strided rows reads the same values, so results are identical.
TEST(DeltaRule, StridedSourcesMatchContiguous) {
  DeltaRuleShape shape;
  shape.n_tokens = 21;
  const DeltaRuleInputs in = random_inputs(shape, 8);
  for (const int32_t chunk_size : {0, 8}) {
    std::vector<float> contiguous_state = in.state;
    const std::vector<float> contiguous =
        run_delta_rule(shape, in, contiguous_state, RunOptions{.chunk_size = chunk_size});
    for (const Layout layout : {Layout::Packed, Layout::Interleaved}) {
      std::vector<float> state = in.state;
      const std::vector<float> out =
          run_delta_rule(shape, in, state, RunOptions{.chunk_size = chunk_size, .layout = layout});
      const std::string what = "layout " + std::to_string(static_cast<int>(layout)) + " chunk " +
                               std::to_string(chunk_size);
      expect_close(contiguous, out, 0.0, what + " output");
      expect_close(contiguous_state, state, 0.0, what + " state");
    }
  }
}

// Each (sequence, head) pair is computed by one thread in the same order whatever the count.
TEST(DeltaRule, ThreadCountKeepsResults) {
  DeltaRuleShape shape;
  shape.n_tokens = 9;
  const DeltaRuleInputs in = random_inputs(shape, 9);
  for (const int32_t chunk_size : {0, 4}) {
    std::vector<float> single_state = in.state;
    const std::vector<float> single = run_delta_rule(
        shape, in, single_state, RunOptions{.chunk_size = chunk_size, .n_threads = 1});
    for (const int n_threads : {3, 8}) {
      std::vector<float> state = in.state;
      const std::vector<float> out = run_delta_rule(
          shape, in, state, RunOptions{.chunk_size = chunk_size, .n_threads = n_threads});
      expect_close(single, out, 0.0, std::to_string(n_threads) + " threads output");
      expect_close(single_state, state, 0.0, std::to_string(n_threads) + " threads state");
    }
  }
}

// The default picks the recurrence for short sequences and the chunked form for long ones.
TEST(DeltaRule, DefaultFormDependsOnLength) {
  for (const int64_t n_tokens : {1, 5, 40}) {
    DeltaRuleShape shape;
    shape.n_tokens = n_tokens;
    const DeltaRuleInputs in = random_inputs(shape, 13);
    std::vector<float> default_state = in.state, recurrent_state = in.state,
                       chunked_state = in.state;
    const std::vector<float> by_default = run_delta_rule(
        shape, in, default_state, RunOptions{.chunk_size = 16, .default_form = true});
    const std::vector<float> recurrent =
        run_delta_rule(shape, in, recurrent_state, RunOptions{.chunk_size = 0});
    const std::vector<float> chunked =
        run_delta_rule(shape, in, chunked_state, RunOptions{.chunk_size = 16});
    // The form used gives bit-identical results.
    const std::vector<float>& expected = n_tokens >= kMinChunkedTokens ? chunked : recurrent;
    expect_close(expected, by_default, 0.0, "T " + std::to_string(n_tokens));
  }
}

TEST(DeltaRule, UnusedSlotsKeepTheirState) {
  DeltaRuleShape shape;
  shape.n_slots = 4;
  const DeltaRuleInputs in = random_inputs(shape, 10);  // sequences use slots 3 and 2
  std::vector<float> state = in.state;
  run_delta_rule(shape, in, state, RunOptions{});
  const size_t slot_floats = static_cast<size_t>(shape.dk * shape.dv * shape.n_value_heads);
  const std::vector<float> before(in.state.begin(), in.state.begin() + 2 * slot_floats);
  const std::vector<float> after(state.begin(), state.begin() + 2 * slot_floats);
  expect_close(before, after, 0.0, "slots 0 and 1");
}

TEST(DeltaRule, RejectsInvalidInput) {
  DeltaRuleShape shape;
  const DeltaRuleInputs valid = random_inputs(shape, 11);

  DeltaRuleInputs in = valid;
  std::vector<float> state = in.state;
  in.slots = {1, static_cast<int32_t>(shape.n_slots)};
  EXPECT_THROW(run_delta_rule(shape, in, state, RunOptions{}), Error) << "slot out of range";
  in.slots = {-1, 0};
  EXPECT_THROW(run_delta_rule(shape, in, state, RunOptions{}), Error) << "negative slot";
  in.slots = {1, 1};
  EXPECT_THROW(run_delta_rule(shape, in, state, RunOptions{}), Error) << "shared slot";
  EXPECT_THROW(run_delta_rule(shape, valid, state, RunOptions{.chunk_size = -1}), Error)
      << "negative chunk size";

  DeltaRuleShape ungrouped = shape;
  ungrouped.n_value_heads = 3;  // not a multiple of 2 key heads
  DeltaRuleInputs uneven = random_inputs(ungrouped, 12);
  std::vector<float> uneven_state = uneven.state;
  EXPECT_THROW(run_delta_rule(ungrouped, uneven, uneven_state, RunOptions{}), Error)
      << "value heads not a multiple of key heads";
}

}  // namespace
}  // namespace hllm::cpu
