// hllm quantize IN.gguf OUT.gguf TYPE [-t THREADS] [--pure] [--list]: converts a model into
// another file type tensor by tensor and reports the conversion error of each output type.
#include <fmt/format.h>

#include <unistd.h>
#include <cstdio>
#include <memory>
#include <string>

#include "formats/ggml_type.h"
#include "models/quant_mix.h"
#include "runtime/quantize_file.h"
#include "tools/command.h"
#include "util/error.h"

namespace hllm::tools {
namespace {

struct QuantizeArgs {
  std::string input;
  std::string output;
  std::string type;
  int n_threads = 0;
  bool pure = false;
  bool list = false;
};

// Draws a progress bar on stderr: redrawn in place on a terminal, else one line per tenth.
class ProgressBar {
 public:
  ProgressBar() : terminal_(isatty(fileno(stderr)) != 0) {}

  void update(const QuantizeProgress& progress) {
    const double fraction = progress.source_bytes_total > 0
                                ? static_cast<double>(progress.source_bytes_done) /
                                      static_cast<double>(progress.source_bytes_total)
                                : 1.0;
    const int percent = static_cast<int>(fraction * 100.0);
    const bool last = progress.tensor_index + 1 == progress.tensor_count;
    if (!terminal_ && percent / 10 == last_tenth_ && !last) return;
    last_tenth_ = percent / 10;
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(fraction * kWidth);
    const std::string bar = std::string(filled, '#') + std::string(kWidth - filled, ' ');
    fmt::print(stderr, "{}[{}] {:3d}% {}/{} {} -> {}{}", terminal_ ? "\r" : "", bar, percent,
               progress.tensor_index + 1, progress.tensor_count, progress.tensor->name,
               type_name(progress.tensor->type), terminal_ ? "\033[K" : "\n");
    if (terminal_ && last) fmt::print(stderr, "\n");
    std::fflush(stderr);
  }

 private:
  bool terminal_;
  int last_tenth_ = -1;
};

double bits_per_weight(uint64_t bytes, int64_t elements) {
  return elements > 0 ? 8.0 * static_cast<double>(bytes) / static_cast<double>(elements) : 0.0;
}

void print_tensor_list(const QuantizeReport& report) {
  fmt::print("\n{:<44} {:>8} {:>8}  {}\n", "tensor", "source", "output", "note");
  for (const QuantizedTensor& tensor : report.tensors) {
    std::string note = tensor.converted ? "" : "copied";
    if (tensor.preferred != tensor.type)
      note = fmt::format("fallback from {}", type_name(tensor.preferred));
    fmt::print("{:<44} {:>8} {:>8}  {}\n", tensor.name, type_name(tensor.source_type),
               type_name(tensor.type), note);
  }
}

void print_report(const QuantizeArgs& args, FileType file_type, const QuantizeReport& report) {
  int64_t elements = 0;
  size_t converted = 0;
  for (const QuantizedTensor& tensor : report.tensors) {
    elements += tensor.n_elements;
    converted += tensor.converted ? 1 : 0;
  }
  fmt::print("{} -> {}: {} (general.file_type {})\n", args.input, args.output,
             file_type_name(file_type), static_cast<uint32_t>(file_type));
  fmt::print("tensors: {} ({} converted, {} copied unchanged)\n", report.tensors.size(), converted,
             report.tensors.size() - converted);
  fmt::print("tensor data: {:.2f} MiB -> {:.2f} MiB ({:.2f} -> {:.2f} bits per weight)\n",
             report.source_bytes / 1048576.0, report.bytes / 1048576.0,
             bits_per_weight(report.source_bytes, elements),
             bits_per_weight(report.bytes, elements));
  if (!report.warnings.empty()) {
    fmt::print("warnings: {} (printed to stderr)\n", report.warnings.size());
  }
  fmt::print("\nconversion error against the source, per output type:\n");
  fmt::print("{:<8} {:>8} {:>14} {:>12} {:>14}\n", "type", "tensors", "elements", "RMSE",
             "relative RMSE");
  for (const TypeError& error : report.errors) {
    fmt::print("{:<8} {:>8} {:>14} {:>12.4e} {:>14.4e}\n", type_name(error.type), error.n_tensors,
               error.n_elements, error.rmse(), error.relative_rmse());
  }
  if (args.list) print_tensor_list(report);
}

void run_quantize(const QuantizeArgs& args) {
  const std::optional<FileType> file_type = parse_file_type(args.type);
  if (!file_type) {
    fail("unknown file type '{}'; expected one of: {}", args.type, file_type_names());
  }
  QuantizeOptions options;
  options.file_type = *file_type;
  options.n_threads = args.n_threads;
  options.mix.pure = args.pure;
  ProgressBar bar;
  const QuantizeReport report =
      quantize_file(args.input, args.output, options,
                    [&](const QuantizeProgress& progress) { bar.update(progress); });
  print_report(args, *file_type, report);
}

const CommandRegistration kQuantize("quantize", [](CLI::App& app) {
  auto args = std::make_shared<QuantizeArgs>();
  CLI::App* command = app.add_subcommand(
      "quantize",
      "Convert a GGUF model to another file type (F16, BF16, Q8_0, Q4_0 ... Q6_K, Q4_K_M, "
      "Q5_K_M) and report the conversion error per type");
  command->add_option("input", args->input, "GGUF model to convert")->required();
  command->add_option("output", args->output, "GGUF file to write")->required();
  command->add_option("type", args->type, "File type: " + file_type_names())->required();
  command->add_option("-t,--threads", args->n_threads,
                      "Threads that encode each tensor (default: every hardware thread)");
  command->add_flag("--pure", args->pure,
                    "Store every converted matrix in the base type, without the mix's extra bits "
                    "for output, value and down projections");
  command->add_flag("--list", args->list, "Print the type chosen for every tensor");
  command->callback([args] { run_quantize(*args); });
});

}  // namespace
}  // namespace hllm::tools
