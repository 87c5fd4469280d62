// Options shared by the commands that load a model and evaluate it.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

#include "runtime/model.h"
#include "runtime/session.h"

namespace hllm::tools {

struct RuntimeOptions {
  std::string model_path;
  int n_threads = 0;       // 0: every hardware thread
  int64_t n_ctx = 0;       // 0: the model's training context, at most 4096
  int64_t n_batch = 512;   // tokens per decode call
  int64_t n_ubatch = 512;  // tokens per micro-batch
  int n_seq_max = 1;
  sched::PlacementOptions placement;  // --device, --gpu-layers, --override, --cpu-moe
};

// Adds -m, -t, -c, --batch, --ubatch and the placement options.
void add_runtime_options(CLI::App& command, RuntimeOptions& options);

// Adds --device, --gpu-layers, --override and --cpu-moe.
void add_placement_options(CLI::App& command, sched::PlacementOptions& options);

struct LoadedModel {
  std::unique_ptr<Model> model;
  std::unique_ptr<Session> session;
};

// Loads the model and opens a session as the options say, and prints a one-line summary of the
// placement to stderr when a device is used. Throws Error on a bad file or option.
LoadedModel load_model(const RuntimeOptions& options);

}  // namespace hllm::tools
