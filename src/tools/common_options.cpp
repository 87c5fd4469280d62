#include "tools/common_options.h"

#include "util/error.h"

namespace hllm::tools {

void add_runtime_options(CLI::App& command, RuntimeOptions& options) {
  command.add_option("-m,--model", options.model_path, "Path of the GGUF model")->required();
  command.add_option("-t,--threads", options.n_threads, "CPU threads (default: all)");
  command.add_option("-c,--ctx-size", options.n_ctx,
                     "KV cache cells per attention layer (default: training context, at most 4096)");
  command.add_option("-b,--batch", options.n_batch, "Tokens per decode call")->capture_default_str();
  command.add_option("-u,--ubatch", options.n_ubatch, "Tokens per micro-batch")->capture_default_str();
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
  loaded.session = std::make_unique<Session>(*loaded.model, session);
  return loaded;
}

}  // namespace hllm::tools
