// Per-tensor type choice for a file type. The rules mirror llama.cpp's llama_tensor_get_type for
// the file types that this project writes; each rule names the llama.cpp behaviour it follows.
#include "models/quant_mix.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <numeric>
#include <unordered_map>

#include "formats/gguf.h"
#include "models/registry.h"
#include "util/error.h"

namespace hllm {
namespace {

// ---- File types ----

const std::vector<FileTypeInfo>& file_type_table() {
  static const std::vector<FileTypeInfo> table{
      {FileType::MostlyQ4_0, "Q4_0", GgmlType::Q4_0, "4.5 bits per weight, legacy"},
      {FileType::MostlyQ4_1, "Q4_1", GgmlType::Q4_1, "5.0 bits per weight, legacy"},
      {FileType::MostlyQ5_0, "Q5_0", GgmlType::Q5_0, "5.5 bits per weight, legacy"},
      {FileType::MostlyQ5_1, "Q5_1", GgmlType::Q5_1, "6.0 bits per weight, legacy"},
      {FileType::MostlyQ4_K_S, "Q4_K_S", GgmlType::Q4_K, "mostly Q4_K"},
      {FileType::MostlyQ4_K_M, "Q4_K_M", GgmlType::Q4_K,
       "mostly Q4_K; Q6_K for the output and about half of the value and down projections"},
      {FileType::MostlyQ5_K_S, "Q5_K_S", GgmlType::Q5_K, "mostly Q5_K"},
      {FileType::MostlyQ5_K_M, "Q5_K_M", GgmlType::Q5_K,
       "mostly Q5_K; Q6_K for the output and about half of the value and down projections"},
      {FileType::MostlyQ6_K, "Q6_K", GgmlType::Q6_K, "6.56 bits per weight"},
      {FileType::MostlyQ8_0, "Q8_0", GgmlType::Q8_0, "8.5 bits per weight"},
      {FileType::MostlyF16, "F16", GgmlType::F16, "16-bit IEEE half precision"},
      {FileType::MostlyBF16, "BF16", GgmlType::BF16, "16-bit bfloat16"},
      {FileType::AllF32, "F32", GgmlType::F32, "32-bit float, no conversion loss"},
  };
  return table;
}

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::toupper(static_cast<unsigned char>(x)) ==
                  std::toupper(static_cast<unsigned char>(y));
         });
}

// ---- Categories ----

// The groups that the rules treat alike. llama.cpp forms them from substrings of the name, so
// "ffn_down" covers the dense, expert and shared-expert down projections alike, and attn_qkv
// counts as a value projection because it contains one.
enum class Category {
  TokenEmbd,
  Output,
  AttnQ,
  AttnK,
  AttnV,  // attn_v and attn_qkv
  AttnOutput,
  FfnGate,
  FfnUp,
  FfnDown,
  Other,
};

Category category_of(const MixTensor& tensor) {
  if (!tensor.id) return Category::Other;
  switch (*tensor.id) {
    case TensorId::TokenEmbd:
      return Category::TokenEmbd;
    case TensorId::Output:
      return Category::Output;
    case TensorId::AttnQ:
      return Category::AttnQ;
    case TensorId::AttnK:
      return Category::AttnK;
    case TensorId::AttnV:
    case TensorId::AttnQkv:
      return Category::AttnV;
    case TensorId::AttnOutput:
      return Category::AttnOutput;
    case TensorId::FfnGate:
    case TensorId::FfnGateExps:
    case TensorId::FfnGateShexp:
      return Category::FfnGate;
    case TensorId::FfnUp:
    case TensorId::FfnUpExps:
    case TensorId::FfnUpShexp:
      return Category::FfnUp;
    case TensorId::FfnDown:
    case TensorId::FfnDownExps:
    case TensorId::FfnDownShexp:
      return Category::FfnDown;
    default:
      return Category::Other;
  }
}

// Returns the dimension count with trailing 1s dropped, as ggml_n_dims counts.
int effective_dims(const std::array<int64_t, 4>& ne) {
  int n = 4;
  while (n > 1 && ne[n - 1] == 1)
    --n;
  return n;
}

// Tensors that keep their source type although they have two or more dimensions.
bool keeps_source_type(TensorId id) {
  switch (id) {
    case TensorId::AttnNorm:
    case TensorId::OutputNorm:
    case TensorId::AttnQNorm:
    case TensorId::AttnKNorm:
    case TensorId::PostAttentionNorm:
    case TensorId::FfnNorm:
    case TensorId::SsmNorm:
    case TensorId::NextnEnorm:
    case TensorId::NextnHnorm:
    case TensorId::NextnSharedHeadNorm:
    case TensorId::RopeFreqs:
    // The expert router is small and decides which experts run, so it stays exact.
    case TensorId::FfnGateInp:
    // The causal convolution has a few taps per channel and rows far shorter than a block.
    case TensorId::SsmConv1d:
    // Not weights of a projection: the decay rate, its bias and the shared expert's gate vector.
    case TensorId::SsmA:
    case TensorId::SsmDtBias:
    case TensorId::FfnGateInpShexp:
      return true;
    default:
      return false;
  }
}

// llama.cpp's "use more bits" rule: the first and last eighth of the layers and every third
// layer in between.
bool use_more_bits(int64_t index, int64_t count) {
  return index < count / 8 || index >= 7 * count / 8 || (index - count / 8) % 3 == 2;
}

bool is_k_mix_m(FileType type) {
  return type == FileType::MostlyQ4_K_M || type == FileType::MostlyQ5_K_M;
}

// Position of each value projection among all of them, in llama.cpp's order: by layer, then by
// name. Entries of other tensors stay -1.
std::vector<int64_t> value_projection_ranks(const std::vector<MixTensor>& tensors, int64_t* count) {
  std::vector<size_t> order;
  for (size_t i = 0; i < tensors.size(); ++i) {
    if (category_of(tensors[i]) == Category::AttnV) order.push_back(i);
  }
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (tensors[a].layer != tensors[b].layer) return tensors[a].layer < tensors[b].layer;
    return tensors[a].name < tensors[b].name;
  });
  std::vector<int64_t> ranks(tensors.size(), -1);
  for (size_t rank = 0; rank < order.size(); ++rank)
    ranks[order[rank]] = rank;
  *count = static_cast<int64_t>(order.size());
  return ranks;
}

struct MixContext {
  FileType file_type;
  GgmlType base;
  const MixModel& model;
  bool output_tied;
  int64_t n_value_projections;
};

// Llama 2 and 3 70B: 80 layers with grouped key/value heads. Their value projections are 8 times
// smaller than the query projections, so llama.cpp gives them more bits at little cost.
bool is_llama_70b(const MixModel& model) {
  return model.arch == "llama" && model.n_block == 80 && model.n_head != model.n_head_kv;
}

GgmlType output_type(const MixContext& context, const MixTensor& tensor) {
  // A row that does not fill whole blocks of the base type goes straight to Q8_0.
  if (tensor.ne[0] % type_traits(context.base).block_size != 0) return GgmlType::Q8_0;
  return context.base == GgmlType::Q8_0 ? GgmlType::Q8_0 : GgmlType::Q6_K;
}

GgmlType value_projection_type(const MixContext& context, int64_t rank) {
  GgmlType type = context.base;
  if (is_k_mix_m(context.file_type) && use_more_bits(rank, context.n_value_projections)) {
    type = GgmlType::Q6_K;
  } else if (context.file_type == FileType::MostlyQ4_K_S && rank < 4) {
    type = GgmlType::Q5_K;
  }
  if (is_llama_70b(context.model) && (type == GgmlType::Q3_K || type == GgmlType::Q4_K)) {
    type = GgmlType::Q5_K;
  }
  // Models with 8 experts (Mixtral and the like) spend little on attention, so llama.cpp stores
  // their value and key projections in Q8_0.
  if (context.model.n_expert == 8) type = GgmlType::Q8_0;
  return type;
}

GgmlType down_projection_type(const MixContext& context, const MixTensor& tensor) {
  const int64_t layer = tensor.layer;
  const int64_t n_layer = context.model.n_block;
  HLLM_CHECK(layer >= 0 && layer < n_layer, "tensor {}: layer {} is outside the {} blocks",
             tensor.name, layer, n_layer);
  switch (context.file_type) {
    case FileType::MostlyQ4_K_M:
    case FileType::MostlyQ5_K_M:
      return use_more_bits(layer, n_layer) ? GgmlType::Q6_K : context.base;
    case FileType::MostlyQ4_K_S:
      return layer < n_layer / 8 ? GgmlType::Q5_K : context.base;
    default:
      return context.base;
  }
}

GgmlType attention_output_type(const MixContext& context) {
  const bool q4_k =
      context.file_type == FileType::MostlyQ4_K_S || context.file_type == FileType::MostlyQ4_K_M;
  if (context.model.n_expert == 8 && q4_k) return GgmlType::Q5_K;
  return context.base;
}

// The mix's choice for a converted tensor of a quantized file type, before the fallback.
GgmlType mixed_type(const MixContext& context, const MixTensor& tensor, int64_t value_rank) {
  const Category category = category_of(tensor);
  if (category == Category::Output || (category == Category::TokenEmbd && context.output_tied)) {
    return output_type(context, tensor);
  }
  switch (category) {
    case Category::AttnV:
      return value_projection_type(context, value_rank);
    case Category::AttnK:
      return context.model.n_expert == 8 ? GgmlType::Q8_0 : context.base;
    case Category::FfnDown:
      return down_projection_type(context, tensor);
    case Category::AttnOutput:
      return attention_output_type(context);
    default:
      return context.base;
  }
}

}  // namespace

const std::vector<FileTypeInfo>& file_types() {
  return file_type_table();
}

const FileTypeInfo& file_type_info(FileType type) {
  for (const FileTypeInfo& info : file_type_table()) {
    if (info.type == type) return info;
  }
  fail("file type {} is not supported; supported: {}", static_cast<uint32_t>(type),
       file_type_names());
}

std::string_view file_type_name(FileType type) {
  return file_type_info(type).name;
}

std::optional<FileType> parse_file_type(std::string_view name) {
  if (equal_ignoring_case(name, "Q4_K")) return FileType::MostlyQ4_K_M;
  if (equal_ignoring_case(name, "Q5_K")) return FileType::MostlyQ5_K_M;
  for (const FileTypeInfo& info : file_type_table()) {
    if (equal_ignoring_case(name, info.name)) return info.type;
  }
  return std::nullopt;
}

std::string file_type_names() {
  std::vector<std::string_view> names;
  for (const FileTypeInfo& info : file_type_table())
    names.push_back(info.name);
  return fmt::format("{}, Q4_K (= Q4_K_M), Q5_K (= Q5_K_M)", fmt::join(names, ", "));
}

MixModel mix_model(const ModelSpec& spec) {
  MixModel model;
  if (spec.arch != nullptr) model.arch = std::string(spec.arch->name);
  model.n_block = spec.hp.n_block;
  model.n_expert = spec.hp.n_expert;
  model.n_head = spec.hp.n_head;
  model.n_head_kv = spec.hp.n_head_kv;
  return model;
}

std::vector<MixTensor> mix_tensors(const ModelSpec& spec) {
  HLLM_CHECK(spec.file != nullptr, "mix_tensors: the model description has no file");
  std::unordered_map<const GgufTensorInfo*, const BoundTensor*> bound;
  for (const BoundTensor& tensor : spec.tensors)
    bound.emplace(tensor.info, &tensor);
  std::vector<MixTensor> tensors;
  for (const GgufTensorInfo& info : spec.file->tensors()) {
    MixTensor tensor;
    tensor.name = info.name;
    tensor.source_type = info.type;
    tensor.ne = info.ne;
    auto found = bound.find(&info);
    if (found != bound.end()) {
      tensor.id = found->second->id;
      tensor.layer = found->second->layer;
    }
    tensors.push_back(std::move(tensor));
  }
  return tensors;
}

bool converts_tensor(const MixTensor& tensor) {
  if (effective_dims(tensor.ne) < 2) return false;
  return !(tensor.id && keeps_source_type(*tensor.id));
}

GgmlType fallback_type(GgmlType preferred, int64_t ne0) {
  if (ne0 % type_traits(preferred).block_size == 0) return preferred;
  GgmlType fallback = GgmlType::F16;
  switch (preferred) {
    case GgmlType::Q2_K:
    case GgmlType::Q3_K:
      fallback = GgmlType::Q4_0;
      break;
    case GgmlType::Q4_K:
      fallback = GgmlType::Q5_0;
      break;
    case GgmlType::Q5_K:
      fallback = GgmlType::Q5_1;
      break;
    case GgmlType::Q6_K:
      fallback = GgmlType::Q8_0;
      break;
    default:
      // NOTE: llama-quantize stops with an error for a legacy type whose 32-element blocks do
      // not fit; F16 keeps such a rare tensor exact instead.
      break;
  }
  if (ne0 % type_traits(fallback).block_size != 0) fallback = GgmlType::F16;
  return fallback;
}

std::vector<TypeChoice> choose_types(FileType file_type, const MixModel& model,
                                     const std::vector<MixTensor>& tensors,
                                     const MixOptions& options) {
  const FileTypeInfo& info = file_type_info(file_type);
  int64_t n_value_projections = 0;
  const std::vector<int64_t> value_ranks = value_projection_ranks(tensors, &n_value_projections);
  const bool has_output = std::any_of(tensors.begin(), tensors.end(), [](const MixTensor& t) {
    return category_of(t) == Category::Output;
  });
  const MixContext context{file_type, info.base, model, !has_output, n_value_projections};
  const bool quantized = type_traits(info.base).quantized;

  std::vector<TypeChoice> choices;
  choices.reserve(tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    const MixTensor& tensor = tensors[i];
    TypeChoice choice;
    choice.type = choice.preferred = tensor.source_type;
    if (converts_tensor(tensor)) {
      choice.preferred = info.base;
      if (quantized && !options.pure)
        choice.preferred = mixed_type(context, tensor, value_ranks[i]);
      choice.type = fallback_type(choice.preferred, tensor.ne[0]);
      choice.fallback = choice.type != choice.preferred;
      choice.convert = true;
    }
    choices.push_back(choice);
  }
  return choices;
}

}  // namespace hllm
