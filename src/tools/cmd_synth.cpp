// hllm synth --preset NAME [overrides] -o OUT.gguf: writes a GGUF model with random weights at
// the shape of a published model, for measuring speed without downloading weights.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <unistd.h>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "formats/quant/quant.h"
#include "models/quant_mix.h"
#include "models/synth.h"
#include "tools/command.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace hllm::tools {
namespace {

struct SynthArgs {
  std::string arch;
  std::string preset;
  std::optional<int64_t> layers;
  std::optional<int64_t> experts;
  std::optional<int64_t> experts_used;
  std::optional<int64_t> hidden;
  std::optional<int64_t> vocab;
  std::vector<std::string> sets;
  std::string type = "F16";
  std::string layout;
  std::string vocab_from;
  uint64_t seed = 0;
  bool tie_output = false;
  int n_threads = 0;
  std::string output;
  bool list_presets = false;
};

void print_presets() {
  for (const SynthPreset& preset : synth_presets()) {
    fmt::print("{:<20} {:<10} {}\n", preset.name, preset.arch, preset.description);
  }
}

std::string resolve_preset(const SynthArgs& args) {
  if (!args.preset.empty()) {
    const SynthPreset& preset = find_synth_preset(args.preset);
    if (!args.arch.empty() && args.arch != preset.arch) {
      fail("preset {} is a {} model, but --arch is {}", preset.name, preset.arch, args.arch);
    }
    return args.preset;
  }
  if (args.arch.empty()) fail("no model shape: pass --preset (see --list-presets) or --arch");
  for (const SynthPreset& preset : synth_presets()) {
    if (preset.arch == args.arch) {
      fmt::print(stderr, "using preset {} for architecture {}\n", preset.name, preset.arch);
      return std::string(preset.name);
    }
  }
  fail("no preset for architecture '{}' (see --list-presets)", args.arch);
}

Layout parse_layout(const std::string& name, Layout fallback) {
  if (name.empty()) return fallback;
  if (name == "split") return Layout::SplitQkvGate;
  if (name == "legacy") return Layout::FusedSsmIn;
  fail("unknown layout '{}'; expected split (attn_qkv + attn_gate) or legacy (fused ssm_in)", name);
}

SynthConfig build_config(const SynthArgs& args) {
  SynthConfig config = synth_config_from_preset(resolve_preset(args));
  const auto set_number = [&](std::string_view key, const std::optional<int64_t>& value) {
    if (value) set_synth_hparam(config, key, std::to_string(*value));
  };
  set_number("block_count", args.layers);
  set_number("expert_count", args.experts);
  set_number("expert_used_count", args.experts_used);
  set_number("embedding_length", args.hidden);
  set_number("vocab_size", args.vocab);
  for (const std::string& assignment : args.sets) {
    const size_t equals = assignment.find('=');
    if (equals == std::string::npos || equals == 0) {
      fail("--set '{}': expected KEY=VALUE, e.g. attention.head_count=8", assignment);
    }
    set_synth_hparam(config, assignment.substr(0, equals), assignment.substr(equals + 1));
  }
  const std::optional<FileType> file_type = parse_file_type(args.type);
  if (!file_type) fail("unknown type '{}'; expected one of: {}", args.type, file_type_names());
  config.file_type = *file_type;
  config.layout = parse_layout(args.layout, config.layout);
  config.seed = args.seed;
  config.tie_output = args.tie_output;
  config.vocab_from = args.vocab_from;
  return config;
}

std::string layer_letters(const SynthPlan& plan) {
  std::string letters;
  for (LayerKind kind : plan.layers)
    letters += kind == LayerKind::GatedDeltaNet ? 'R' : 'A';
  return letters;
}

void run_synth(const SynthArgs& args) {
  if (args.list_presets) {
    print_presets();
    return;
  }
  if (args.output.empty()) fail("no output file: pass -o OUT.gguf");
  const SynthPlan plan = plan_synth_model(build_config(args));
  const int n_threads = args.n_threads > 0
                            ? args.n_threads
                            : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  ThreadPool pool(n_threads);

  const bool terminal = isatty(fileno(stderr)) != 0;
  int last_step = -1;
  const auto report = [&](const SynthProgress& progress) {
    const int percent = progress.bytes_total > 0
                            ? static_cast<int>(100 * progress.bytes_written / progress.bytes_total)
                            : 100;
    // A terminal redraws one line; a log gets a line per tenth.
    const int step = terminal ? percent : percent / 10;
    if (step == last_step && progress.tensor_index + 1 < progress.tensor_count) return;
    last_step = step;
    fmt::print(stderr, "{}synth: {:3d}% {}/{} {}{}", terminal ? "\r" : "", percent,
               progress.tensor_index + 1, progress.tensor_count, progress.tensor_name,
               terminal ? "\033[K" : "\n");
    std::fflush(stderr);
  };
  const bool quantized = type_traits(file_type_info(plan.config.file_type).base).quantized;
  write_synth_model(plan, args.output, pool, quantized ? quantize_rows : encode_float_rows, report);
  if (terminal) fmt::print(stderr, "\n");

  int64_t parameters = 0;
  for (const SynthTensor& tensor : plan.tensors)
    parameters += tensor.n_elements();
  fmt::print(
      "wrote {}: {} {}, {} layers ({}), {} tensors, {:.3f} billion parameters, "
      "{:.2f} GiB of tensor data, file type {}, seed {}\n",
      args.output, plan.config.arch, plan.config.preset, plan.layers.size(), layer_letters(plan),
      plan.tensors.size(), parameters / 1e9, plan.tensor_bytes / 1073741824.0,
      file_type_name(plan.config.file_type), plan.config.seed);
}

const CommandRegistration kSynth("synth", [](CLI::App& app) {
  auto args = std::make_shared<SynthArgs>();
  CLI::App* command = app.add_subcommand(
      "synth", "Write a GGUF model with random weights at the shape of a published model");
  command->add_option("--arch", args->arch, "Architecture: llama or qwen3next");
  command->add_option("--preset", args->preset, "Published model shape (see --list-presets)");
  command->add_flag("--list-presets", args->list_presets, "Print the presets and exit");
  command->add_option("--layers", args->layers,
                      "Blocks (block_count): the decoding layers plus any nextn blocks");
  command->add_option("--experts", args->experts, "Experts per layer (expert_count)");
  command->add_option("--experts-used", args->experts_used,
                      "Experts each token is routed to (expert_used_count)");
  command->add_option("--hidden", args->hidden, "Width of the residual stream (embedding_length)");
  command->add_option("--vocab", args->vocab,
                      "Tokens of the generated byte-level vocabulary (ignored with --vocab-from)");
  command->add_option("--set", args->sets,
                      "Any hyperparameter as KEY=VALUE, KEY a GGUF key such as "
                      "attention.head_count or ssm.state_size (repeatable)");
  command->add_option("--type", args->type, "File type: " + file_type_names() + " (default F16)");
  command->add_option("--layout", args->layout,
                      "qwen3next DeltaNet projections: split (attn_qkv + attn_gate, default) or "
                      "legacy (fused ssm_in)");
  command->add_option("--vocab-from", args->vocab_from,
                      "GGUF file whose tokenizer and chat template (tokenizer.* keys) are copied");
  command->add_option("--seed", args->seed, "Seed of the random weights (default 0)");
  command->add_flag("--tie-output", args->tie_output,
                    "Leave out output.weight so the output projection reuses token_embd");
  command->add_option("-t,--threads", args->n_threads,
                      "Threads that generate and encode (default: every hardware thread)");
  command->add_option("-o,--output", args->output, "GGUF file to write");
  command->callback([args] { run_synth(*args); });
});

}  // namespace
}  // namespace hllm::tools
