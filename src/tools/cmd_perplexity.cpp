// hllm perplexity: perplexity of a model on a text file, with its standard error.
//
// The text is tokenized (with BOS where the model adds one) and cut into chunks of -c tokens.
// Each chunk is evaluated from an empty cache, and, as llama.cpp's perplexity tool does, only the
// predictions in the second half of each chunk are scored, so every scored token has at least
// half a chunk of context.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "text/tokenizer.h"
#include "tools/command.h"
#include "tools/common_options.h"
#include "util/error.h"

namespace hllm::tools {

namespace {

struct PerplexityOptions {
  RuntimeOptions runtime;
  std::string text_path;
  int64_t chunk = 512;
};

// Returns -log softmax(row)[target], computed stably.
double negative_log_likelihood(const float* row, int64_t n_vocab, int32_t target) {
  float max_logit = row[0];
  for (int64_t i = 1; i < n_vocab; ++i) max_logit = std::max(max_logit, row[i]);
  double sum = 0.0;
  for (int64_t i = 0; i < n_vocab; ++i) sum += std::exp(static_cast<double>(row[i] - max_logit));
  return std::log(sum) - static_cast<double>(row[target] - max_logit);
}

void run_perplexity(const PerplexityOptions& options) {
  std::ifstream in(options.text_path, std::ios::binary);
  if (!in) fail("cannot read text from '{}'", options.text_path);
  std::stringstream text;
  text << in.rdbuf();

  RuntimeOptions runtime = options.runtime;
  runtime.n_ctx = std::max(runtime.n_ctx, options.chunk);
  LoadedModel loaded = load_model(runtime);
  auto tokenizer = Tokenizer::from_gguf(loaded.model->file());
  const std::vector<int32_t> tokens = tokenizer->encode(text.str(), true, false);
  HLLM_CHECK(options.chunk >= 4, "invalid chunk size {}: expected at least 4 tokens", options.chunk);
  const int64_t chunk = std::min<int64_t>(options.chunk, static_cast<int64_t>(tokens.size()));
  HLLM_CHECK(chunk >= 4, "'{}' has {} tokens: perplexity needs at least 4", options.text_path, tokens.size());
  const int64_t n_chunks = static_cast<int64_t>(tokens.size()) / chunk;

  Session& session = *loaded.session;
  const int64_t n_vocab = session.n_vocab();
  std::vector<double> nll;
  for (int64_t c = 0; c < n_chunks; ++c) {
    session.clear();
    std::vector<float> logits;
    for (int64_t start = 0; start < chunk; start += runtime.n_batch) {
      Batch batch;
      for (int64_t i = start; i < std::min(chunk, start + runtime.n_batch); ++i) {
        batch.add(tokens[c * chunk + i], static_cast<int32_t>(i), 0, true);
      }
      const std::vector<float> part = session.decode(batch);
      logits.insert(logits.end(), part.begin(), part.end());
    }
    for (int64_t i = chunk / 2; i + 1 < chunk; ++i) {
      nll.push_back(negative_log_likelihood(logits.data() + i * n_vocab, n_vocab, tokens[c * chunk + i + 1]));
    }
  }

  double mean = 0.0;
  for (double value : nll) mean += value;
  mean /= static_cast<double>(nll.size());
  double variance = 0.0;
  for (double value : nll) variance += (value - mean) * (value - mean);
  variance /= std::max<double>(1.0, static_cast<double>(nll.size()) - 1.0);
  const double mean_error = std::sqrt(variance / static_cast<double>(nll.size()));
  const double perplexity = std::exp(mean);
  // The error of exp(mean) by the delta method: d exp(m) = exp(m) dm.
  std::printf("perplexity: %.4f +/- %.4f (%zu scored tokens, %lld chunks of %lld)\n", perplexity,
              perplexity * mean_error, nll.size(), static_cast<long long>(n_chunks),
              static_cast<long long>(chunk));
}

const CommandRegistration kRegistration("perplexity", [](CLI::App& app) {
  auto options = std::make_shared<PerplexityOptions>();
  CLI::App* command = app.add_subcommand("perplexity", "Measure perplexity on a text file");
  add_runtime_options(*command, options->runtime);
  command->add_option("-f,--file", options->text_path, "Text file to score")->required();
  command->add_option("--chunk", options->chunk, "Tokens per chunk")->capture_default_str();
  command->callback([options] { run_perplexity(*options); });
});

}  // namespace

}  // namespace hllm::tools
