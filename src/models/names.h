// GGUF metadata keys and tensor names, as identifiers. This header and names.cpp are the only
// place where key strings and tensor name patterns appear; model code refers to Key and TensorId.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace hllm {

// Metadata keys. Keys of one architecture are stored as "<arch>.<suffix>", where <arch> is the
// value of general.architecture; the others have a fixed name.
enum class Key {
  GeneralArchitecture,
  GeneralName,
  GeneralFileType,
  GeneralQuantizationVersion,
  TokenizerTokens,
  // Per architecture.
  VocabSize,
  ContextLength,
  EmbeddingLength,
  BlockCount,
  FeedForwardLength,
  HeadCount,
  HeadCountKv,
  KeyLength,
  ValueLength,
  RopeFreqBase,
  RopeDimensionCount,
  RmsEpsilon,
  ExpertCount,
  ExpertUsedCount,
  ExpertFeedForwardLength,
  ExpertSharedFeedForwardLength,
  SsmConvKernel,
  SsmStateSize,
  SsmGroupCount,
  SsmTimeStepRank,
  SsmInnerSize,
  FullAttentionInterval,
  NextnPredictLayers,
  Count,
};

// Returns the full key name: key_name(Key::BlockCount, "llama") is "llama.block_count".
std::string key_name(Key key, std::string_view arch);

// Weight tensors of every registered architecture.
enum class TensorId {
  // Model input and output.
  TokenEmbd,
  OutputNorm,
  Output,
  RopeFreqs,
  // Attention.
  AttnNorm,
  AttnQ,
  AttnK,
  AttnV,
  AttnOutput,
  AttnQNorm,
  AttnKNorm,
  PostAttentionNorm,
  // Dense feed-forward.
  FfnNorm,
  FfnGate,
  FfnUp,
  FfnDown,
  // Mixture of experts, with a shared expert.
  FfnGateInp,
  FfnGateExps,
  FfnUpExps,
  FfnDownExps,
  FfnGateInpShexp,
  FfnGateShexp,
  FfnUpShexp,
  FfnDownShexp,
  // Gated DeltaNet (linear attention).
  AttnQkv,
  AttnGate,
  SsmIn,
  SsmBa,
  SsmConv1d,
  SsmDtBias,
  SsmA,
  SsmNorm,
  SsmOut,
  // Multi-token-prediction ("nextn") blocks.
  NextnEhProj,
  NextnEmbedTokens,
  NextnEnorm,
  NextnHnorm,
  NextnSharedHeadHead,
  NextnSharedHeadNorm,
  Count,
};

// Returns whether the tensor's name contains a layer index ("blk.{}.attn_q.weight").
bool is_per_layer(TensorId id);

// Returns the short name used in messages and reports: "attn_q", "ssm_dt.bias", "nextn.enorm".
std::string_view tensor_short_name(TensorId id);

// Returns the name that a file stores: tensor_name(TensorId::AttnQ, 3) is
// "blk.3.attn_q.weight". layer is ignored for tensors that are not per layer.
std::string tensor_name(TensorId id, int layer = -1);

// Returns every accepted name of the tensor in one layer: the current name first, then older
// names that other conversions used for the same weight.
std::vector<std::string> tensor_names(TensorId id, int layer = -1);

}  // namespace hllm
