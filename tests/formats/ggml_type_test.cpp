// The ggml type table: ids, names and block layouts.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "formats/ggml_type.h"
#include "util/error.h"

namespace hllm {
namespace {

struct TypeCase {
  uint32_t id;
  std::string name;
  int64_t block_size;
  size_t type_size;
  bool quantized;
};

// Block layouts as ggml defines them: the byte count is the size of one block's struct.
const std::vector<TypeCase> kTypeCases = {
    {0, "f32", 1, 4, false},        {1, "f16", 1, 2, false},        {2, "q4_0", 32, 18, true},
    {3, "q4_1", 32, 20, true},      {6, "q5_0", 32, 22, true},      {7, "q5_1", 32, 24, true},
    {8, "q8_0", 32, 34, true},      {9, "q8_1", 32, 36, true},      {10, "q2_K", 256, 84, true},
    {11, "q3_K", 256, 110, true},   {12, "q4_K", 256, 144, true},   {13, "q5_K", 256, 176, true},
    {14, "q6_K", 256, 210, true},   {15, "q8_K", 256, 292, true},   {16, "iq2_xxs", 256, 66, true},
    {17, "iq2_xs", 256, 74, true},  {18, "iq3_xxs", 256, 98, true}, {19, "iq1_s", 256, 50, true},
    {20, "iq4_nl", 32, 18, true},   {21, "iq3_s", 256, 110, true},  {22, "iq2_s", 256, 82, true},
    {23, "iq4_xs", 256, 136, true}, {24, "i8", 1, 1, false},        {25, "i16", 1, 2, false},
    {26, "i32", 1, 4, false},       {27, "i64", 1, 8, false},       {28, "f64", 1, 8, false},
    {29, "iq1_m", 256, 56, true},   {30, "bf16", 1, 2, false},      {34, "tq1_0", 256, 54, true},
    {35, "tq2_0", 256, 66, true},   {39, "mxfp4", 32, 17, true},
};

TEST(GgmlType, TableMatchesLayouts) {
  for (const TypeCase& c : kTypeCases) {
    const std::optional<GgmlTypeTraits> traits = find_type_traits(c.id);
    ASSERT_TRUE(traits.has_value()) << "id " << c.id;
    EXPECT_EQ(static_cast<uint32_t>(traits->type), c.id);
    EXPECT_EQ(traits->name, c.name) << "id " << c.id;
    EXPECT_EQ(traits->block_size, c.block_size) << c.name;
    EXPECT_EQ(traits->type_size, c.type_size) << c.name;
    EXPECT_EQ(traits->quantized, c.quantized) << c.name;
    EXPECT_EQ(type_name(traits->type), c.name);
    EXPECT_EQ(&type_traits(traits->type), &type_traits(traits->type));
  }
}

TEST(GgmlType, RemovedAndUnknownIds) {
  for (uint32_t id : {4u, 5u, 31u, 32u, 33u, 36u, 37u, 38u, 40u, 1000u}) {
    EXPECT_FALSE(find_type_traits(id).has_value()) << "id " << id;
    EXPECT_EQ(type_name(static_cast<GgmlType>(id)), "unknown(" + std::to_string(id) + ")");
    EXPECT_THROW(type_traits(static_cast<GgmlType>(id)), Error) << "id " << id;
  }
}

TEST(GgmlType, ParsesNamesIgnoringCase) {
  EXPECT_EQ(parse_type_name("Q4_K"), GgmlType::Q4_K);
  EXPECT_EQ(parse_type_name("q4_k"), GgmlType::Q4_K);
  EXPECT_EQ(parse_type_name("IQ2_XXS"), GgmlType::IQ2_XXS);
  EXPECT_EQ(parse_type_name("bf16"), GgmlType::BF16);
  EXPECT_EQ(parse_type_name("MXFP4"), GgmlType::MXFP4);
  EXPECT_EQ(parse_type_name("q4_2"), std::nullopt);
  EXPECT_EQ(parse_type_name(""), std::nullopt);
  for (const TypeCase& c : kTypeCases) {
    EXPECT_EQ(parse_type_name(c.name), static_cast<GgmlType>(c.id)) << c.name;
  }
}

TEST(GgmlType, RowSize) {
  EXPECT_EQ(row_size(GgmlType::F32, 10), 40u);
  EXPECT_EQ(row_size(GgmlType::Q8_0, 64), 68u);
  EXPECT_EQ(row_size(GgmlType::Q4_K, 512), 288u);
  EXPECT_EQ(row_size(GgmlType::Q6_K, 0), 0u);
  try {
    row_size(GgmlType::Q4_K, 100);
    ADD_FAILURE() << "row_size accepted 100 elements of q4_K";
  } catch (const Error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("100 elements of type q4_K"), std::string::npos) << message;
    EXPECT_NE(message.find("block size 256"), std::string::npos) << message;
  }
  EXPECT_THROW(row_size(GgmlType::F32, -4), Error);
}

}  // namespace
}  // namespace hllm
