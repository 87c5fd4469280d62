#include "runtime/model.h"

#include <algorithm>

namespace hllm {

std::unique_ptr<Model> Model::load(const std::string& path) {
  std::unique_ptr<Model> model(new Model());
  model->file_ = GgufFile::open(path);
  model->spec_ = describe_model(*model->file_);
  return model;
}

bool Model::has_recurrent_layers() const {
  return std::any_of(spec_.layers.begin(), spec_.layers.end(),
                     [](LayerKind kind) { return kind == LayerKind::GatedDeltaNet; });
}

}  // namespace hllm
