// Tests of the causal depthwise convolution kernel with a carried window: against a float64
// reference, the state layout, windows carried across calls, strided input and invalid input.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "backends/cpu/kernels.h"
#include "cpu/compare.h"
#include "cpu/recurrent_reference.h"
#include "cpu/targets.h"
#include "cpu/tensors.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace hllm::cpu {
namespace {

using test::expect_close;
using test::for_each_simd_target;
using test::make_tensor;

struct ConvShape {
  int64_t n_channels = 37;  // not a multiple of any SIMD width, so the scalar tail runs too
  int64_t n_tokens = 5;
  int64_t n_seqs = 2;
  int64_t n_taps = 4;
  int64_t n_slots = 3;
};

struct ConvInputs {
  std::vector<float> x;        // [C, T, S]
  std::vector<float> kernel;   // [K, C]
  std::vector<float> state;    // [(K-1) * C, n_slots]
  std::vector<int32_t> slots;  // [S], distinct, not in sequence order
};

ConvInputs random_inputs(const ConvShape& shape, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  ConvInputs in;
  in.x.resize(static_cast<size_t>(shape.n_channels * shape.n_tokens * shape.n_seqs));
  in.kernel.resize(static_cast<size_t>(shape.n_taps * shape.n_channels));
  in.state.resize(static_cast<size_t>((shape.n_taps - 1) * shape.n_channels * shape.n_slots));
  for (std::vector<float>* values : {&in.x, &in.kernel, &in.state}) {
    for (float& value : *values)
      value = normal(rng);
  }
  for (int64_t s = 0; s < shape.n_seqs; ++s) {
    in.slots.push_back(static_cast<int32_t>(shape.n_slots - 1 - s));
  }
  return in;
}

struct RunOptions {
  bool strided_x = false;  // x's channels spaced two floats apart
  int n_threads = 2;
};

// Runs the kernel once on in's tokens, updating state. Returns the output [C, T, S].
std::vector<float> run_ssm_conv(const ConvShape& shape, const ConvInputs& in,
                                std::vector<float>& state, const RunOptions& options = {}) {
  const int64_t n_channels = shape.n_channels, n_tokens = shape.n_tokens, n_seqs = shape.n_seqs;
  std::vector<float> x = in.x, kernel = in.kernel;
  std::vector<int32_t> slots = in.slots;
  Tensor tx = make_tensor("x", GgmlType::F32, {n_channels, n_tokens, n_seqs, 1}, x.data());
  std::vector<float> spread;
  if (options.strided_x) {
    spread.assign(2 * x.size(), std::nanf(""));
    for (size_t i = 0; i < x.size(); ++i)
      spread[2 * i] = x[i];
    tx.data = spread.data();
    for (int i = 0; i < kMaxDims; ++i)
      tx.nb[i] *= 2;
  }
  Tensor tkernel =
      make_tensor("kernel", GgmlType::F32, {shape.n_taps, n_channels, 1, 1}, kernel.data());
  Tensor tstate = make_tensor("state", GgmlType::F32,
                              {(shape.n_taps - 1) * n_channels, shape.n_slots, 1, 1}, state.data());
  Tensor tslots = make_tensor("slots", GgmlType::I32, {n_seqs, 1, 1, 1}, slots.data());
  std::vector<float> out(static_cast<size_t>(n_channels * n_tokens * n_seqs));
  Tensor dst =
      make_tensor("ssm_conv-0", GgmlType::F32, {n_channels, n_tokens, n_seqs, 1}, out.data());
  dst.op = Op::SsmConv;
  for (Tensor* source : {&tx, &tkernel, &tstate, &tslots})
    dst.src[dst.n_src++] = source;

  ThreadPool pool(options.n_threads);
  CpuContext ctx(pool);
  compute_ssm_conv(dst, ctx);
  return out;
}

std::vector<float> absolute(std::vector<float> values) {
  for (float& value : values)
    value = std::fabs(value);
  return values;
}

void expect_matches_reference(const ConvShape& shape, uint32_t seed) {
  const ConvInputs in = random_inputs(shape, seed);
  std::vector<double> expected_state(in.state.begin(), in.state.end());
  const std::vector<double> expected =
      test::reference_ssm_conv(shape.n_channels, shape.n_tokens, shape.n_seqs, shape.n_taps, in.x,
                               in.kernel, in.slots, expected_state);
  // A float sum of K products is within K ulps of the sum of the products' magnitudes, which
  // is the same convolution over absolute values.
  std::vector<double> magnitude_state(in.state.size());
  for (size_t i = 0; i < in.state.size(); ++i)
    magnitude_state[i] = std::fabs(in.state[i]);
  const std::vector<double> magnitudes =
      test::reference_ssm_conv(shape.n_channels, shape.n_tokens, shape.n_seqs, shape.n_taps,
                               absolute(in.x), absolute(in.kernel), in.slots, magnitude_state);
  const double largest = *std::max_element(magnitudes.begin(), magnitudes.end());
  const double tolerance = static_cast<double>(shape.n_taps) * std::ldexp(1.0, -23) * largest;

  std::vector<float> state = in.state;
  const std::vector<float> out = run_ssm_conv(shape, in, state);
  const std::string what = "C " + std::to_string(shape.n_channels) + " T " +
                           std::to_string(shape.n_tokens) + " K " + std::to_string(shape.n_taps);
  expect_close(expected, out, tolerance, what + " output");
  // The state contains copies of inputs, so it must match exactly.
  expect_close(expected_state, state, 0.0, what + " state");
}

TEST(SsmConv, MatchesReference) {
  for_each_simd_target([] {
    for (const int64_t n_channels : {1, 8, 37, 64}) {
      for (const int64_t n_taps : {1, 2, 4}) {
        for (const int64_t n_tokens : {1, 2, 9}) {
          ConvShape shape;
          shape.n_channels = n_channels;
          shape.n_taps = n_taps;
          shape.n_tokens = n_tokens;
          expect_matches_reference(shape, 1);
        }
      }
    }
  });
}

// The state layout the model relies on: per channel, the K-1 latest inputs, oldest first.
TEST(SsmConv, StateHoldsLatestInputsOldestFirst) {
  ConvShape shape;
  shape.n_channels = 2;
  shape.n_taps = 3;
  shape.n_seqs = 1;
  shape.n_slots = 1;
  ConvInputs in;
  in.state = {1, 2, 10, 20};       // channel 0 saw 1 then 2, channel 1 saw 10 then 20
  in.kernel = {1, 0, 0, 0, 0, 1};  // channel 0 outputs its oldest input, channel 1 its newest
  in.slots = {0};

  shape.n_tokens = 1;
  in.x = {3, 30};
  std::vector<float> state = in.state;
  const std::vector<float> one = run_ssm_conv(shape, in, state);
  EXPECT_EQ(one, (std::vector<float>{1, 30}));
  EXPECT_EQ(state, (std::vector<float>{2, 3, 20, 30}));

  shape.n_tokens = 3;
  in.x = {4, 40, 5, 50, 6, 60};
  const std::vector<float> three = run_ssm_conv(shape, in, state);
  EXPECT_EQ(three, (std::vector<float>{2, 40, 3, 50, 4, 60}));
  EXPECT_EQ(state, (std::vector<float>{5, 6, 50, 60}));
}

// Feeding the tokens in pieces, including pieces shorter than the window, gives the same
// results as one call: the arithmetic per output is identical, so they agree exactly.
TEST(SsmConv, WindowCarriesAcrossCalls) {
  ConvShape shape;
  shape.n_tokens = 11;
  const ConvInputs in = random_inputs(shape, 2);
  std::vector<float> whole_state = in.state;
  const std::vector<float> whole = run_ssm_conv(shape, in, whole_state);

  std::vector<float> state = in.state;
  std::vector<float> pieces(whole.size());
  const int64_t n_channels = shape.n_channels;
  int64_t t0 = 0;
  for (const int64_t length : {1, 2, 1, 5, 2}) {
    ConvShape piece_shape = shape;
    piece_shape.n_tokens = length;
    ConvInputs piece = in;
    piece.x.clear();
    for (int64_t s = 0; s < shape.n_seqs; ++s) {
      const auto begin = in.x.begin() + (s * shape.n_tokens + t0) * n_channels;
      piece.x.insert(piece.x.end(), begin, begin + length * n_channels);
    }
    const std::vector<float> out = run_ssm_conv(piece_shape, piece, state);
    for (int64_t s = 0; s < shape.n_seqs; ++s) {
      std::copy(out.begin() + s * length * n_channels, out.begin() + (s + 1) * length * n_channels,
                pieces.begin() + (s * shape.n_tokens + t0) * n_channels);
    }
    t0 += length;
  }
  ASSERT_EQ(t0, shape.n_tokens);
  expect_close(whole, pieces, 0.0, "output");
  expect_close(whole_state, state, 0.0, "state");
}

TEST(SsmConv, StridedInputMatchesContiguous) {
  ConvShape shape;
  const ConvInputs in = random_inputs(shape, 3);
  std::vector<float> contiguous_state = in.state, strided_state = in.state;
  const std::vector<float> contiguous = run_ssm_conv(shape, in, contiguous_state);
  const std::vector<float> strided =
      run_ssm_conv(shape, in, strided_state, RunOptions{.strided_x = true});
  expect_close(contiguous, strided, 0.0, "output");
  expect_close(contiguous_state, strided_state, 0.0, "state");
}

TEST(SsmConv, ThreadCountKeepsResults) {
  ConvShape shape;
  shape.n_channels = 100;
  const ConvInputs in = random_inputs(shape, 4);
  std::vector<float> single_state = in.state;
  const std::vector<float> single =
      run_ssm_conv(shape, in, single_state, RunOptions{.n_threads = 1});
  for (const int n_threads : {3, 16}) {
    std::vector<float> state = in.state;
    const std::vector<float> out =
        run_ssm_conv(shape, in, state, RunOptions{.n_threads = n_threads});
    expect_close(single, out, 0.0, std::to_string(n_threads) + " threads output");
    expect_close(single_state, state, 0.0, std::to_string(n_threads) + " threads state");
  }
}

TEST(SsmConv, RejectsInvalidInput) {
  ConvShape shape;
  ConvInputs in = random_inputs(shape, 5);
  std::vector<float> state = in.state;
  in.slots = {0, static_cast<int32_t>(shape.n_slots)};
  EXPECT_THROW(run_ssm_conv(shape, in, state), Error) << "slot out of range";
  in.slots = {2, 2};
  EXPECT_THROW(run_ssm_conv(shape, in, state), Error) << "shared slot";
}

}  // namespace
}  // namespace hllm::cpu
