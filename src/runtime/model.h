// A loaded model: the memory-mapped GGUF file and its architecture's view of it. Weights that
// stay on the CPU are used in place from the map, never copied.
#pragma once

#include <memory>
#include <string>

#include "formats/gguf.h"
#include "models/registry.h"

namespace hllm {

class Model {
 public:
  // Opens, validates and describes the model. Throws Error naming the file on any problem.
  static std::unique_ptr<Model> load(const std::string& path);

  const GgufFile& file() const { return *file_; }
  const ModelSpec& spec() const { return spec_; }
  const HParams& hparams() const { return spec_.hp; }
  const std::string& path() const { return file_->path(); }
  // Whether any layer keeps recurrent state (such sequences cannot be partially rewound).
  bool has_recurrent_layers() const;

 private:
  Model() = default;
  std::unique_ptr<GgufFile> file_;
  ModelSpec spec_;
};

}  // namespace hllm
