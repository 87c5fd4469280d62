// hllm eval: evaluates token ids in one sequence, writes the logits of every position and
// optionally continues greedily, with the same definitions as llama.cpp's reference fixtures.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "runtime/logit_compare.h"
#include "runtime/session.h"
#include "tools/command.h"
#include "tools/common_options.h"
#include "util/error.h"

namespace hllm::tools {

namespace {

struct EvalOptions {
  RuntimeOptions runtime;
  std::string tokens_path;
  std::string logits_path;
  int greedy = 0;
  std::string greedy_path;
  std::string reference_path;
};

std::vector<int32_t> read_token_ids(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail("cannot read token ids from '{}'", path);
  std::vector<int32_t> ids;
  std::string word;
  while (in >> word) {
    try {
      size_t used = 0;
      const long value = std::stol(word, &used);
      if (used != word.size()) throw std::invalid_argument(word);
      ids.push_back(static_cast<int32_t>(value));
    } catch (const std::exception&) {
      fail("invalid token id '{}' in '{}': expected one integer per line", word, path);
    }
  }
  if (ids.empty()) fail("no token ids in '{}'", path);
  return ids;
}

// Prints how far the logits are from a reference file of the same layout; a reference with
// fewer rows is compared with the last rows.
void report_agreement(const std::vector<float>& logits, const std::string& path, int64_t n_vocab) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) fail("cannot read reference logits from '{}'", path);
  const auto bytes = static_cast<size_t>(in.tellg());
  HLLM_CHECK(bytes % (n_vocab * sizeof(float)) == 0 && bytes <= logits.size() * sizeof(float),
             "reference logits '{}' have {} bytes: expected whole rows of {} floats, at most {} rows",
             path, bytes, n_vocab, logits.size() / n_vocab);
  std::vector<float> reference(bytes / sizeof(float));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(reference.data()), static_cast<std::streamsize>(bytes));
  const std::span<const float> tail(logits.data() + logits.size() - reference.size(), reference.size());
  const LogitAgreement agreement = compare_logits(tail, reference, n_vocab);
  std::fprintf(stderr, "agreement with %s over %lld rows: mean KL %.3g, max KL %.3g (row %lld), max |diff| %.3g\n",
               path.c_str(), static_cast<long long>(agreement.rows), agreement.mean_kl, agreement.max_kl,
               static_cast<long long>(agreement.max_kl_row), agreement.max_abs_diff);
}

int32_t argmax(const float* row, int64_t n) {
  return static_cast<int32_t>(std::max_element(row, row + n) - row);
}

void run_eval(const EvalOptions& options) {
  LoadedModel loaded = load_model(options.runtime);
  Session& session = *loaded.session;
  const std::vector<int32_t> ids = read_token_ids(options.tokens_path);
  const int64_t n_vocab = session.n_vocab();

  std::ofstream logits_out;
  if (!options.logits_path.empty()) {
    logits_out.open(options.logits_path, std::ios::binary);
    if (!logits_out) fail("cannot write logits to '{}'", options.logits_path);
  }

  // The prompt in decode calls of --batch tokens, every position's logits requested.
  std::vector<float> all_logits;
  std::vector<float> last_row;
  for (size_t start = 0; start < ids.size(); start += options.runtime.n_batch) {
    const size_t end = std::min(ids.size(), start + options.runtime.n_batch);
    Batch batch;
    for (size_t i = start; i < end; ++i) batch.add(ids[i], static_cast<int32_t>(i), 0, true);
    const std::vector<float> logits = session.decode(batch);
    if (logits_out) logits_out.write(reinterpret_cast<const char*>(logits.data()), logits.size() * sizeof(float));
    last_row.assign(logits.end() - n_vocab, logits.end());
    if (!options.reference_path.empty()) all_logits.insert(all_logits.end(), logits.begin(), logits.end());
  }
  if (!options.reference_path.empty()) report_agreement(all_logits, options.reference_path, n_vocab);
  if (logits_out && !logits_out.flush()) fail("failed writing logits to '{}'", options.logits_path);

  if (options.greedy <= 0) return;
  std::vector<int32_t> generated;
  int32_t position = static_cast<int32_t>(ids.size());
  generated.push_back(argmax(last_row.data(), n_vocab));
  while (static_cast<int>(generated.size()) < options.greedy) {
    Batch batch;
    batch.add(generated.back(), position++, 0, true);
    const std::vector<float> logits = session.decode(batch);
    generated.push_back(argmax(logits.data(), n_vocab));
  }
  std::FILE* out = options.greedy_path.empty() ? stdout : std::fopen(options.greedy_path.c_str(), "w");
  if (out == nullptr) fail("cannot write greedy tokens to '{}'", options.greedy_path);
  for (int32_t id : generated) std::fprintf(out, "%d\n", id);
  if (out != stdout && std::fclose(out) != 0) fail("failed writing '{}'", options.greedy_path);
}

const CommandRegistration kRegistration("eval", [](CLI::App& app) {
  auto options = std::make_shared<EvalOptions>();
  CLI::App* command = app.add_subcommand(
      "eval", "Evaluate token ids in one sequence, write every position's logits, continue greedily");
  add_runtime_options(*command, options->runtime);
  command->add_option("--tokens", options->tokens_path, "File of token ids, one per line")->required();
  command->add_option("--logits-out", options->logits_path,
                      "Write float32 logits, row-major [n_tokens][n_vocab], to this file");
  command->add_option("--greedy", options->greedy, "Continue greedily for this many tokens");
  command->add_option("--greedy-out", options->greedy_path,
                      "Write the greedy token ids here, one per line (default: stdout)");
  command->add_option("--reference", options->reference_path,
                      "Compare the logits with this float32 file and print KL divergence and max difference");
  command->callback([options] { run_eval(*options); });
});

}  // namespace

}  // namespace hllm::tools
