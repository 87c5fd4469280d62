// Dequantization of blocks built byte by byte, checked against values worked out by hand from
// the documented GGUF layouts. Every fp16 scale is a power of two or a small integer, so each
// expected value is exact and the comparisons use ==.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "formats/ggml_type.h"
#include "formats/quant/quant.h"
#include "util/error.h"

namespace hllm {
namespace {

// fp16 bit patterns of the scales used below.
constexpr uint16_t kHalfQuarter = 0x3400;   // 0.25
constexpr uint16_t kHalfHalf = 0x3800;      // 0.5
constexpr uint16_t kHalfOne = 0x3c00;       // 1.0
constexpr uint16_t kHalfMinusOne = 0xbc00;  // -1.0
constexpr uint16_t kHalfEighth = 0x3000;    // 0.125

void put_u16(std::vector<uint8_t>& bytes, size_t offset, uint16_t value) {
  bytes[offset] = static_cast<uint8_t>(value & 0xff);
  bytes[offset + 1] = static_cast<uint8_t>(value >> 8);
}

std::vector<float> dequantize(GgmlType type, const std::vector<uint8_t>& bytes, int64_t n) {
  EXPECT_EQ(bytes.size(), row_size(type, n)) << type_name(type);
  std::vector<float> out(static_cast<size_t>(n), -12345.0f);
  dequantize_row(type, bytes.data(), out.data(), n);
  return out;
}

TEST(Dequantize, BlockSizesMatchTypeTraits) {
  EXPECT_EQ(sizeof(BlockQ4_0), type_traits(GgmlType::Q4_0).type_size);
  EXPECT_EQ(sizeof(BlockQ4_1), type_traits(GgmlType::Q4_1).type_size);
  EXPECT_EQ(sizeof(BlockQ5_0), type_traits(GgmlType::Q5_0).type_size);
  EXPECT_EQ(sizeof(BlockQ5_1), type_traits(GgmlType::Q5_1).type_size);
  EXPECT_EQ(sizeof(BlockQ8_0), type_traits(GgmlType::Q8_0).type_size);
  EXPECT_EQ(sizeof(BlockQ8_1), type_traits(GgmlType::Q8_1).type_size);
  EXPECT_EQ(sizeof(BlockQ2_K), type_traits(GgmlType::Q2_K).type_size);
  EXPECT_EQ(sizeof(BlockQ3_K), type_traits(GgmlType::Q3_K).type_size);
  EXPECT_EQ(sizeof(BlockQ4_K), type_traits(GgmlType::Q4_K).type_size);
  EXPECT_EQ(sizeof(BlockQ5_K), type_traits(GgmlType::Q5_K).type_size);
  EXPECT_EQ(sizeof(BlockQ6_K), type_traits(GgmlType::Q6_K).type_size);
  EXPECT_EQ(sizeof(BlockQ8_K), type_traits(GgmlType::Q8_K).type_size);
}

TEST(Dequantize, PlainTypes) {
  const float f32[2] = {1.5f, -2.25f};
  std::vector<uint8_t> bytes(sizeof f32);
  std::memcpy(bytes.data(), f32, sizeof f32);
  EXPECT_EQ(dequantize(GgmlType::F32, bytes, 2), (std::vector<float>{1.5f, -2.25f}));

  bytes.assign(4, 0);
  put_u16(bytes, 0, 0xc100);  // -2.5 in fp16
  put_u16(bytes, 2, 0x0001);  // smallest fp16 subnormal, 2^-24
  EXPECT_EQ(dequantize(GgmlType::F16, bytes, 2), (std::vector<float>{-2.5f, 0x1p-24f}));

  put_u16(bytes, 0, 0x3fc0);  // 1.5 in bf16
  put_u16(bytes, 2, 0xc080);  // -4.0 in bf16
  EXPECT_EQ(dequantize(GgmlType::BF16, bytes, 2), (std::vector<float>{1.5f, -4.0f}));
}

TEST(Dequantize, Q4_0) {
  // d = 0.5. Byte j stores j in its low nibble (element j) and 15 - j in its high nibble
  // (element j + 16). Values are d * (q - 8).
  std::vector<uint8_t> bytes(18);
  put_u16(bytes, 0, kHalfHalf);
  for (int j = 0; j < 16; ++j)
    bytes[2 + j] = static_cast<uint8_t>(j | (15 - j) << 4);
  const std::vector<float> y = dequantize(GgmlType::Q4_0, bytes, 32);
  EXPECT_EQ(y[0], -4.0f);
  EXPECT_EQ(y[9], 0.5f);
  EXPECT_EQ(y[15], 3.5f);
  EXPECT_EQ(y[16], 3.5f);
  EXPECT_EQ(y[31], -4.0f);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(y[j], 0.5f * (j - 8)) << j;
    EXPECT_EQ(y[j + 16], 0.5f * (7 - j)) << j;
  }
}

TEST(Dequantize, Q4_1) {
  // d = 0.5, m = -1; nibbles as in Q4_0; values are d * q + m.
  std::vector<uint8_t> bytes(20);
  put_u16(bytes, 0, kHalfHalf);
  put_u16(bytes, 2, kHalfMinusOne);
  for (int j = 0; j < 16; ++j)
    bytes[4 + j] = static_cast<uint8_t>(j | (15 - j) << 4);
  const std::vector<float> y = dequantize(GgmlType::Q4_1, bytes, 32);
  EXPECT_EQ(y[0], -1.0f);
  EXPECT_EQ(y[15], 6.5f);
  EXPECT_EQ(y[16], 6.5f);
  EXPECT_EQ(y[31], -1.0f);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(y[j], 0.5f * j - 1.0f) << j;
    EXPECT_EQ(y[j + 16], 0.5f * (15 - j) - 1.0f) << j;
  }
}

TEST(Dequantize, Q5_0) {
  // d = 0.25; qh = 0x80000001 sets the fifth bit of elements 0 and 31 only; values are
  // d * (q - 16).
  std::vector<uint8_t> bytes(22);
  put_u16(bytes, 0, kHalfQuarter);
  bytes[2] = 0x01;
  bytes[5] = 0x80;
  for (int j = 0; j < 16; ++j)
    bytes[6 + j] = static_cast<uint8_t>(j | (15 - j) << 4);
  const std::vector<float> y = dequantize(GgmlType::Q5_0, bytes, 32);
  EXPECT_EQ(y[0], 0.0f);     // q = 0 | 16
  EXPECT_EQ(y[1], -3.75f);   // q = 1
  EXPECT_EQ(y[16], -0.25f);  // q = 15
  EXPECT_EQ(y[30], -3.75f);  // q = 1
  EXPECT_EQ(y[31], 0.0f);    // q = 0 | 16
}

TEST(Dequantize, Q5_1) {
  // d = 1, m = 0.5; qh bytes {0xff, 0, 0x01, 0} set the fifth bit of elements 0..7 and 16.
  std::vector<uint8_t> bytes(24);
  put_u16(bytes, 0, kHalfOne);
  put_u16(bytes, 2, kHalfHalf);
  bytes[4] = 0xff;
  bytes[6] = 0x01;
  for (int j = 0; j < 16; ++j)
    bytes[8 + j] = static_cast<uint8_t>(j | (15 - j) << 4);
  const std::vector<float> y = dequantize(GgmlType::Q5_1, bytes, 32);
  EXPECT_EQ(y[0], 16.5f);   // q = 0 | 16
  EXPECT_EQ(y[7], 23.5f);   // q = 7 | 16
  EXPECT_EQ(y[8], 8.5f);    // q = 8
  EXPECT_EQ(y[16], 31.5f);  // q = 15 | 16
  EXPECT_EQ(y[17], 14.5f);  // q = 14
  EXPECT_EQ(y[31], 0.5f);   // q = 0
}

TEST(Dequantize, Q8_0AndQ8_1) {
  // d = 0.125 and q = j - 16, except the two extremes -127 and 127.
  std::vector<uint8_t> bytes(34);
  put_u16(bytes, 0, kHalfEighth);
  for (int j = 0; j < 32; ++j)
    bytes[2 + j] = static_cast<uint8_t>(static_cast<int8_t>(j - 16));
  bytes[2] = static_cast<uint8_t>(int8_t{-127});
  bytes[33] = 127;
  std::vector<float> y = dequantize(GgmlType::Q8_0, bytes, 32);
  EXPECT_EQ(y[0], -15.875f);
  EXPECT_EQ(y[1], -1.875f);
  EXPECT_EQ(y[16], 0.0f);
  EXPECT_EQ(y[30], 1.75f);
  EXPECT_EQ(y[31], 15.875f);

  // Q8_1 inserts the fp16 sum s after d; dequantization ignores it.
  std::vector<uint8_t> q8_1(36);
  std::memcpy(q8_1.data(), bytes.data(), 2);
  put_u16(q8_1, 2, kHalfMinusOne);
  std::memcpy(q8_1.data() + 4, bytes.data() + 2, 32);
  EXPECT_EQ(dequantize(GgmlType::Q8_1, q8_1, 32), y);
}

TEST(Dequantize, Q2_K) {
  // Layout: scales[16], qs[64], d, dmin. Sub-block j has scale j (low nibble) and min 15 - j
  // (high nibble); d = 0.5, dmin = 0.25. Every qs byte is 0b11'10'01'00, so element i gets
  // q = (i % 128) / 32; values are d * scale * q - dmin * min.
  std::vector<uint8_t> bytes(84);
  for (int j = 0; j < 16; ++j)
    bytes[j] = static_cast<uint8_t>(j | (15 - j) << 4);
  for (int b = 0; b < 64; ++b)
    bytes[16 + b] = 0xe4;
  put_u16(bytes, 80, kHalfHalf);
  put_u16(bytes, 82, kHalfQuarter);
  const std::vector<float> y = dequantize(GgmlType::Q2_K, bytes, 256);
  EXPECT_EQ(y[0], -3.75f);   // scale 0, min 15, q 0
  EXPECT_EQ(y[40], -2.25f);  // sub-block 2: 0.5 * 2 * 1 - 0.25 * 13
  EXPECT_EQ(y[100], 6.75f);  // sub-block 6: 0.5 * 6 * 3 - 0.25 * 9
  EXPECT_EQ(y[255], 22.5f);  // sub-block 15: 0.5 * 15 * 3 - 0
  for (int i = 0; i < 256; ++i) {
    const int j = i / 16;
    const int q = (i % 128) / 32;
    EXPECT_EQ(y[i], 0.5f * j * q - 0.25f * (15 - j)) << i;
  }
}

TEST(Dequantize, Q3_K) {
  // Layout: hmask[32], qs[64], scales[12], d. The biased 6-bit scales are u_j = 4 j + 2, so the
  // signed scales are 4 j - 30. Packed by hand: bytes 0..7 hold the low nibbles of u_j (low
  // half) and u_{j+8} (high half): 0x22, 0x66, 0xaa, 0xee twice; bytes 8..11 hold the top two
  // bits of u_k, u_{k+4}, u_{k+8}, u_{k+12} = 0, 1, 2, 3, which gives 0xe4.
  // Every qs byte is 0xe4, so the low two bits are (i % 128) / 32; hmask bytes 0x0f set the
  // high bit for i < 128. d = 0.5; values are d * scale * (q - 4).
  std::vector<uint8_t> bytes(110);
  for (int l = 0; l < 32; ++l)
    bytes[l] = 0x0f;
  for (int b = 0; b < 64; ++b)
    bytes[32 + b] = 0xe4;
  const uint8_t scales[12] = {0x22, 0x66, 0xaa, 0xee, 0x22, 0x66,
                              0xaa, 0xee, 0xe4, 0xe4, 0xe4, 0xe4};
  std::memcpy(bytes.data() + 96, scales, 12);
  put_u16(bytes, 108, kHalfHalf);
  for (int j = 0; j < 16; ++j)
    EXPECT_EQ(q3_k_scale(scales, j), 4 * j + 2) << j;

  const std::vector<float> y = dequantize(GgmlType::Q3_K, bytes, 256);
  EXPECT_EQ(y[40], -11.0f);   // scale -22, q = 1 | 4 minus 4 = 1
  EXPECT_EQ(y[200], -18.0f);  // scale 18, q = 2 minus 4 = -2
  EXPECT_EQ(y[255], -15.0f);  // scale 30, q = 3 minus 4 = -1
  for (int i = 0; i < 256; ++i) {
    const int scale = 4 * (i / 16) - 30;
    const int q = (i % 128) / 32 + (i < 128 ? 4 : 0) - 4;
    EXPECT_EQ(y[i], 0.5f * scale * q) << i;
  }
}

// Scales and mins of the Q4_K and Q5_K cases, and their 12 packed bytes worked out by hand:
// bytes 0..3 are scale_j | (scale_{j+4} >> 4) << 6, bytes 4..7 are min_j | (min_{j+4} >> 4) << 6,
// bytes 8..11 are (scale_{j+4} & 15) | (min_{j+4} & 15) << 4.
constexpr int kK4Scales[8] = {1, 2, 3, 4, 40, 50, 60, 63};
constexpr int kK4Mins[8] = {5, 6, 7, 8, 17, 33, 48, 0};
constexpr uint8_t kK4Packed[12] = {0x81, 0xc2, 0xc3, 0xc4, 0x45, 0x86,
                                   0xc7, 0x08, 0x18, 0x12, 0x0c, 0x0f};

// Nibble of element i in the Q4_K and Q5_K cases: qs byte b stores b % 16 (low) and
// (b / 8) % 16 (high), and element i reads byte 32 * (i / 64) + i % 32.
int k4_case_nibble(int i) {
  const int b = 32 * (i / 64) + i % 32;
  return i % 64 < 32 ? b % 16 : (b / 8) % 16;
}

TEST(Dequantize, K4ScalePacking) {
  for (int j = 0; j < 8; ++j) {
    int scale, min;
    k4_scale_min(kK4Packed, j, &scale, &min);
    EXPECT_EQ(scale, kK4Scales[j]) << j;
    EXPECT_EQ(min, kK4Mins[j]) << j;
  }
}

TEST(Dequantize, Q4_K) {
  // Layout: d, dmin, scales[12], qs[128]; d = 0.25, dmin = 0.5.
  std::vector<uint8_t> bytes(144);
  put_u16(bytes, 0, kHalfQuarter);
  put_u16(bytes, 2, kHalfHalf);
  std::memcpy(bytes.data() + 4, kK4Packed, 12);
  for (int b = 0; b < 128; ++b)
    bytes[16 + b] = static_cast<uint8_t>(b % 16 | ((b / 8) % 16) << 4);
  const std::vector<float> y = dequantize(GgmlType::Q4_K, bytes, 256);
  EXPECT_EQ(y[0], -2.5f);      // 0.25 * 1 * 0 - 0.5 * 5
  EXPECT_EQ(y[33], -3.0f);     // sub-block 1, byte 1 high nibble 0: -0.5 * 6
  EXPECT_EQ(y[45], -2.5f);     // sub-block 1, byte 13 high nibble 1: 0.25 * 2 - 3
  EXPECT_EQ(y[130], 11.5f);    // sub-block 4, byte 66 low nibble 2: 0.25 * 40 * 2 - 0.5 * 17
  EXPECT_EQ(y[255], 236.25f);  // sub-block 7, byte 127 high nibble 15: 0.25 * 63 * 15
  for (int i = 0; i < 256; ++i) {
    const int j = i / 32;
    EXPECT_EQ(y[i], 0.25f * kK4Scales[j] * k4_case_nibble(i) - 0.5f * kK4Mins[j]) << i;
  }
}

TEST(Dequantize, Q5_K) {
  // As Q4_K, plus qh[32] = 0xaa: bits 1, 3, 5, 7 add 16 to every element of the odd sub-blocks.
  std::vector<uint8_t> bytes(176);
  put_u16(bytes, 0, kHalfQuarter);
  put_u16(bytes, 2, kHalfHalf);
  std::memcpy(bytes.data() + 4, kK4Packed, 12);
  for (int l = 0; l < 32; ++l)
    bytes[16 + l] = 0xaa;
  for (int b = 0; b < 128; ++b)
    bytes[48 + b] = static_cast<uint8_t>(b % 16 | ((b / 8) % 16) << 4);
  const std::vector<float> y = dequantize(GgmlType::Q5_K, bytes, 256);
  EXPECT_EQ(y[0], -2.5f);      // sub-block 0: no fifth bit
  EXPECT_EQ(y[33], 5.0f);      // sub-block 1: 0.25 * 2 * 16 - 3
  EXPECT_EQ(y[255], 488.25f);  // sub-block 7: 0.25 * 63 * 31
  for (int i = 0; i < 256; ++i) {
    const int j = i / 32;
    const int q = k4_case_nibble(i) + (j % 2 == 1 ? 16 : 0);
    EXPECT_EQ(y[i], 0.25f * kK4Scales[j] * q - 0.5f * kK4Mins[j]) << i;
  }
}

TEST(Dequantize, Q6_K) {
  // Layout: ql[128], qh[64], scales[16], d. ql byte b stores b % 16 (low) and 15 - b % 16
  // (high); every qh byte is 0b00'01'10'11, so the top two bits are 3 - k for the k-th group of
  // 32 in each half; scales[j] = j - 8; d = 0.5; values are d * scale * (q - 32).
  std::vector<uint8_t> bytes(210);
  for (int b = 0; b < 128; ++b)
    bytes[b] = static_cast<uint8_t>(b % 16 | (15 - b % 16) << 4);
  for (int b = 0; b < 64; ++b)
    bytes[128 + b] = 0x1b;
  for (int j = 0; j < 16; ++j)
    bytes[192 + j] = static_cast<uint8_t>(static_cast<int8_t>(j - 8));
  put_u16(bytes, 208, kHalfHalf);
  const std::vector<float> y = dequantize(GgmlType::Q6_K, bytes, 256);
  EXPECT_EQ(y[0], -64.0f);     // low 0, top 3: q - 32 = 16; scale -8
  EXPECT_EQ(y[37], -15.0f);    // ql[37] low 5, top 2: 5; scale -6
  EXPECT_EQ(y[200], -18.0f);   // ql[72] high 7, top 1: -9; scale 4
  EXPECT_EQ(y[255], -112.0f);  // ql[127] high 0, top 0: -32; scale 7
  for (int i = 0; i < 256; ++i) {
    const int half = i / 128, k = (i % 128) / 32, l = i % 32;
    const int b = 64 * half + l + 32 * (k % 2);
    const int low = k < 2 ? b % 16 : 15 - b % 16;
    const int q = low + 16 * (3 - k) - 32;
    EXPECT_EQ(y[i], 0.5f * (i / 16 - 8) * q) << i;
  }
}

TEST(Dequantize, Q8_K) {
  // Layout: float d, qs[256], bsums[16]; values are d * q.
  std::vector<uint8_t> bytes(292);
  const float d = -0.75f;
  std::memcpy(bytes.data(), &d, 4);
  for (int i = 0; i < 256; ++i)
    bytes[4 + i] = static_cast<uint8_t>(static_cast<int8_t>(i - 128));
  const std::vector<float> y = dequantize(GgmlType::Q8_K, bytes, 256);
  EXPECT_EQ(y[0], 96.0f);
  EXPECT_EQ(y[255], -95.25f);
}

TEST(Dequantize, RejectsUnsupportedTypeAndLength) {
  std::vector<uint8_t> bytes(1024);
  std::vector<float> out(256);
  try {
    dequantize_row(GgmlType::IQ2_XXS, bytes.data(), out.data(), 256);
    FAIL() << "expected an Error for iq2_xxs";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("iq2_xxs"), std::string::npos) << error.what();
  }
  EXPECT_THROW(dequantize_row(GgmlType::Q4_0, bytes.data(), out.data(), 33), Error);
  EXPECT_THROW(dequantize_row(GgmlType::Q4_K, bytes.data(), out.data(), 128), Error);
  EXPECT_FALSE(has_dequantizer(GgmlType::IQ4_NL));
  EXPECT_TRUE(has_dequantizer(GgmlType::Q6_K));
}

}  // namespace
}  // namespace hllm
