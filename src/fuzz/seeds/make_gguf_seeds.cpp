// Writes the seed corpus for fuzz_gguf into the folder given as the only argument. The corpus is a
// few small valid GGUF files made with GgufWriter and truncated copies of each. Every file is
// under 2 KB, so the fuzzer's 4 KB input limit keeps them whole.
#include <cstdio>
#include <exception>
#include <fstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "formats/gguf_writer.h"

namespace {

using hllm::GgmlType;
using hllm::GgufValue;
using hllm::GgufValueType;
using hllm::GgufWriter;

std::vector<uint8_t> counting_bytes(size_t n) {
  std::vector<uint8_t> bytes(n);
  for (size_t i = 0; i < n; ++i)
    bytes[i] = static_cast<uint8_t>(i);
  return bytes;
}

// No metadata and no tensors: the smallest valid file.
GgufWriter empty_file() {
  return GgufWriter();
}

// One value of every type, nested arrays and tensors of several block layouts.
GgufWriter every_type_file() {
  GgufWriter writer;
  writer.set("general.architecture", GgufValue::string("llama"));
  writer.set("u8", GgufValue::u8(1));
  writer.set("i8", GgufValue::i8(-1));
  writer.set("u16", GgufValue::u16(2));
  writer.set("i16", GgufValue::i16(-2));
  writer.set("u32", GgufValue::u32(3));
  writer.set("i32", GgufValue::i32(-3));
  writer.set("u64", GgufValue::u64(4));
  writer.set("i64", GgufValue::i64(-4));
  writer.set("f32", GgufValue::f32(0.5f));
  writer.set("f64", GgufValue::f64(0.25));
  writer.set("bool", GgufValue::boolean(true));
  writer.set("ints",
             GgufValue::array(GgufValueType::INT32, {GgufValue::i32(1), GgufValue::i32(2)}));
  writer.set("nested",
             GgufValue::array(GgufValueType::ARRAY, {GgufValue::string_array({"a", "b"}),
                                                     GgufValue::array(GgufValueType::UINT8, {})}));
  writer.add_tensor("f32", GgmlType::F32, {4, 2}, counting_bytes(32));
  writer.add_tensor("q8_0", GgmlType::Q8_0, {32}, counting_bytes(34));
  writer.add_tensor("q4_k", GgmlType::Q4_K, {256}, counting_bytes(144));
  writer.add_tensor("bf16", GgmlType::BF16, {3, 1, 1, 2}, counting_bytes(12));
  return writer;
}

// A larger alignment and tensors of 1 to 3 dimensions.
GgufWriter aligned_file() {
  GgufWriter writer;
  writer.set_alignment(64);
  writer.add_tensor("a", GgmlType::F16, {3}, counting_bytes(6));
  writer.add_tensor("b", GgmlType::I8, {5, 2, 2}, counting_bytes(20));
  return writer;
}

// A vocabulary-only file as tokenizers read it.
GgufWriter vocabulary_file() {
  GgufWriter writer;
  writer.set("general.architecture", GgufValue::string("qwen3next"));
  writer.set("tokenizer.ggml.model", GgufValue::string("gpt2"));
  std::vector<std::string> tokens;
  GgufValue::Array types;
  for (int i = 0; i < 16; ++i) {
    tokens.push_back(std::string(1, static_cast<char>('a' + i)));
    types.push_back(GgufValue::i32(1));
  }
  writer.set("tokenizer.ggml.tokens", GgufValue::string_array(tokens));
  writer.set("tokenizer.ggml.token_type", GgufValue::array(GgufValueType::INT32, types));
  writer.set("tokenizer.ggml.merges", GgufValue::string_array({"a b", "ab c"}));
  writer.set("tokenizer.ggml.eos_token_id", GgufValue::u32(3));
  return writer;
}

void save(const std::string& path, const std::vector<uint8_t>& bytes, size_t size) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(size));
  if (!out) throw std::runtime_error("cannot write " + path);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUTPUT_FOLDER\n", argv[0]);
    return 2;
  }
  const std::string folder = argv[1];
  try {
    const std::vector<std::pair<std::string, GgufWriter>> seeds = [] {
      std::vector<std::pair<std::string, GgufWriter>> list;
      list.emplace_back("empty", empty_file());
      list.emplace_back("every_type", every_type_file());
      list.emplace_back("aligned", aligned_file());
      list.emplace_back("vocabulary", vocabulary_file());
      return list;
    }();
    for (const auto& [name, writer] : seeds) {
      const std::vector<uint8_t> image = writer.serialize();
      const std::string base = folder + "/" + name;
      save(base + ".gguf", image, image.size());
      // Cuts inside the header, the metadata, the tensor table and the data.
      for (size_t size :
           {size_t{3}, size_t{20}, image.size() / 3, image.size() / 2, image.size() - 1}) {
        if (size < image.size()) save(base + ".cut" + std::to_string(size) + ".gguf", image, size);
      }
    }
  } catch (const std::exception& error) {
    std::fprintf(stderr, "error: %s\n", error.what());
    return 1;
  }
  return 0;
}
