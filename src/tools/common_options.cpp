#include "tools/common_options.h"

#include <cstdio>

#include "util/error.h"

namespace hllm::tools {

void add_runtime_options(CLI::App& command, RuntimeOptions& options) {
  command.add_option("-m,--model", options.model_path, "Path of the GGUF model")->required();
  command.add_option("-t,--threads", options.n_threads, "CPU threads (default: all)");
  command.add_option("-c,--ctx-size", options.n_ctx,
                     "KV cache cells per attention layer (default: training context, at most 4096)");
  command.add_option("-b,--batch", options.n_batch, "Tokens per decode call")->capture_default_str();
  command.add_option("-u,--ubatch", options.n_ubatch, "Tokens per micro-batch")->capture_default_str();
  add_placement_options(command, options.placement);
}

void add_placement_options(CLI::App& command, sched::PlacementOptions& options) {
  command.add_option("--device", options.device,
                     "Device beside the CPU: cpu (none, the default), sim, or "
                     "sim:unsupported=OP+OP,mem=SIZE for the simulated device (op names as "
                     "'hllm plan --list-ops' prints them)");
  command.add_option("--gpu-layers,--n-gpu-layers", options.gpu_layers,
                     "Layers on the device: layers from this index on run on the CPU with their "
                     "weights and state; the output head counts as one more layer (default: no limit)");
  command.add_option("--override", options.overrides,
                     "Place the weights whose name matches a regex: PATTERN=DEVICE with DEVICE cpu "
                     "or the device's name, e.g. 'ffn_.*_exps=cpu' (repeatable, the first match wins)");
  command.add_flag("--cpu-moe", options.cpu_moe,
                   "Keep every routed-expert weight, and the products that read it, on the CPU");
}

LoadedModel load_model(const RuntimeOptions& options) {
  HLLM_CHECK(options.n_batch >= 1, "invalid --batch {}: expected at least 1", options.n_batch);
  HLLM_CHECK(options.n_ubatch >= 1, "invalid --ubatch {}: expected at least 1", options.n_ubatch);
  HLLM_CHECK(options.n_threads >= 0, "invalid --threads {}: expected at least 1", options.n_threads);
  HLLM_CHECK(options.n_ctx >= 0, "invalid --ctx-size {}: expected at least 1", options.n_ctx);
  LoadedModel loaded;
  loaded.model = Model::load(options.model_path);
  SessionOptions session;
  session.n_ctx = options.n_ctx;
  session.n_threads = options.n_threads;
  session.n_ubatch = options.n_ubatch;
  session.n_seq_max = options.n_seq_max;
  session.placement = options.placement;
  loaded.session = std::make_unique<Session>(*loaded.model, session);
  const std::string summary = loaded.session->plan_summary();
  if (!summary.empty()) std::fprintf(stderr, "plan: %s\n", summary.c_str());
  return loaded;
}

}  // namespace hllm::tools
