// hllm bench: prompt processing and generation throughput as llama.cpp's llama-bench measures it,
// for every combination of models, thread counts and tests, with an optional per-op profile.
// Progress goes to stderr and results to stdout.
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "runtime/benchmark.h"
#include "tools/command.h"
#include "tools/common_options.h"
#include "util/error.h"

namespace hllm::tools {

namespace {

// Keeps the fields in the order written, which groups them as llama-bench does.
using json = nlohmann::ordered_json;

struct BenchCommandOptions {
  std::vector<std::string> model_paths;
  // Prompt sizes as given. "-pg N,M" reaches CLI11 as "-p g" followed by the bare value "N,M",
  // because CLI11 allows only one letter after a single dash; see prompt_generation_tests().
  std::vector<std::string> prompt_values{"512"};
  std::vector<std::string> bare_values;
  std::vector<int64_t> gen_sizes{128};
  std::vector<std::string> pg_values;  // --pg N,M
  std::vector<int> thread_counts;
  int64_t n_ubatch = 512;
  sched::PlacementOptions placement;
  int repetitions = 5;
  std::string output_format = "md";
  bool profile = false;
};

int64_t parse_count(const std::string& text, const char* option) {
  try {
    size_t used = 0;
    const long long value = std::stoll(text, &used);
    if (used == text.size() && value >= 0) return value;
  } catch (const std::exception&) {
  }
  fail("invalid {} value '{}': expected a token count of 0 or more", option, text);
}

// Returns the tests of -pg and --pg: one N,M pair per occurrence.
std::vector<BenchTest> prompt_generation_tests(const BenchCommandOptions& options) {
  std::vector<std::string> numbers = options.pg_values;
  size_t short_spellings = 0;
  for (const std::string& value : options.prompt_values)
    short_spellings += value == "g";
  HLLM_CHECK(options.bare_values.size() >= 2 * short_spellings,
             "invalid -pg value: expected one N,M pair per -pg, found {} number(s) for {} -pg",
             options.bare_values.size(), short_spellings);
  if (options.bare_values.size() > 2 * short_spellings) {
    const std::vector<std::string> extra(options.bare_values.begin() + 2 * short_spellings,
                                         options.bare_values.end());
    fail("unexpected arguments '{}': every value needs an option such as -p, -n or -pg",
         fmt::join(extra, " "));
  }
  numbers.insert(numbers.end(), options.bare_values.begin(), options.bare_values.end());
  HLLM_CHECK(numbers.size() % 2 == 0, "invalid -pg value: expected pairs N,M, found {} number(s)",
             numbers.size());
  std::vector<BenchTest> tests;
  for (size_t i = 0; i < numbers.size(); i += 2) {
    BenchTest test;
    test.n_prompt = parse_count(numbers[i], "-pg");
    test.n_gen = parse_count(numbers[i + 1], "-pg");
    if (test.n_prompt > 0 && test.n_gen > 0) tests.push_back(test);
  }
  return tests;
}

// Returns the tests in llama-bench's order: prompt sizes, generation sizes, then pairs. Sizes of
// 0 are skipped.
std::vector<BenchTest> make_tests(const BenchCommandOptions& options) {
  std::vector<std::string> prompt_values;
  for (const std::string& value : options.prompt_values) {
    if (value != "g") prompt_values.push_back(value);
  }
  // "-pg" alone must keep the default prompt size, as it does in llama-bench.
  if (prompt_values.empty()) prompt_values.push_back("512");

  std::vector<BenchTest> tests;
  for (const std::string& value : prompt_values) {
    const int64_t n_prompt = parse_count(value, "-p");
    if (n_prompt > 0) tests.push_back(BenchTest{n_prompt, 0});
  }
  for (int64_t n_gen : options.gen_sizes) {
    HLLM_CHECK(n_gen >= 0, "invalid -n value {}: expected a token count of 0 or more", n_gen);
    if (n_gen > 0) tests.push_back(BenchTest{0, n_gen});
  }
  for (const BenchTest& test : prompt_generation_tests(options))
    tests.push_back(test);
  return tests;
}

void check_options(const BenchCommandOptions& options) {
  HLLM_CHECK(options.output_format == "md" || options.output_format == "json" ||
                 options.output_format == "csv",
             "invalid output format '{}': expected md, json or csv", options.output_format);
  HLLM_CHECK(options.repetitions >= 1, "invalid -r value {}: expected at least 1 repetition",
             options.repetitions);
  HLLM_CHECK(options.n_ubatch >= 1, "invalid --ubatch value {}: expected at least 1",
             options.n_ubatch);
  for (int n_threads : options.thread_counts) {
    HLLM_CHECK(n_threads >= 1, "invalid -t value {}: expected at least 1 thread", n_threads);
  }
}

// ---- Output ----

std::string format_bytes(uint64_t bytes) {
  const double value = static_cast<double>(bytes);
  if (bytes >= (1ull << 30)) return fmt::format("{:.2f} GiB", value / (1ull << 30));
  if (bytes >= (1ull << 20)) return fmt::format("{:.2f} MiB", value / (1ull << 20));
  return fmt::format("{:.2f} KiB", value / 1024);
}

std::string format_bandwidth(const BenchResult& result) {
  return result.bandwidth_gbs ? fmt::format("{:.2f}", *result.bandwidth_gbs) : "-";
}

// A runner that does not report splits gives 0, printed as "-" (and null in json).
std::string format_splits(const BenchResult& result) {
  return result.splits > 0 ? fmt::format("{}", result.splits) : "-";
}

json profile_json(const ProfileSummary& profile) {
  const auto entries = [](const std::vector<ProfileEntry>& list, bool with_op) {
    json array = json::array();
    for (const ProfileEntry& entry : list) {
      json item{{"name", entry.name},
                {"ns", entry.nanoseconds},
                {"calls", entry.calls},
                {"share", entry.share}};
      if (with_op) item["op"] = entry.op;
      array.push_back(item);
    }
    return array;
  };
  return json{{"total_ns", profile.total_nanoseconds},
              {"ops", entries(profile.ops, false)},
              {"nodes", entries(profile.nodes, true)}};
}

// Rounds nanoseconds to whole numbers, as llama-bench writes them.
std::vector<long long> whole_nanoseconds(const std::vector<double>& samples) {
  std::vector<long long> whole;
  for (double ns : samples) whole.push_back(std::llround(ns));
  return whole;
}

json result_json(const BenchModelInfo& model, const BenchResult& result) {
  json item{
      {"model_filename", model.path},
      {"model_type", model.type},
      {"arch", model.arch},
      {"weight_type", model.weight_type},
      {"model_size", model.size_bytes},
      {"model_n_params", model.n_params},
      {"weight_bytes_per_token", model.bytes_per_token},
      {"device", result.device},
      {"n_threads", result.n_threads},
      {"n_ubatch", result.n_ubatch},
      {"test", result.test.name()},
      {"n_prompt", result.test.n_prompt},
      {"n_gen", result.test.n_gen},
      {"samples_ns", whole_nanoseconds(result.samples_ns)},
      {"samples_ts", result.samples_ts},
      {"avg_ns", std::llround(result.avg_ns)},
      {"stddev_ns", std::llround(result.stddev_ns)},
      {"avg_ts", result.avg_ts},
      {"stddev_ts", result.stddev_ts},
      {"nodes", result.nodes},
      {"splits", result.splits > 0 ? json(result.splits) : json(nullptr)},
      {"bandwidth_gbs", result.bandwidth_gbs ? json(*result.bandwidth_gbs) : json(nullptr)},
  };
  if (result.profile) item["profile"] = profile_json(*result.profile);
  return item;
}

// Quotes a CSV field when it contains a separator, quote or line break (RFC 4180).
std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

const char* kCsvHeader =
    "model_filename,model_type,arch,weight_type,model_size,model_n_params,"
    "weight_bytes_per_token,device,n_threads,n_ubatch,test,n_prompt,n_gen,samples_ns,samples_ts,"
    "avg_ns,stddev_ns,avg_ts,stddev_ts,nodes,splits,bandwidth_gbs";

std::string csv_row(const BenchModelInfo& model, const BenchResult& result) {
  // Samples are joined with ';' so that each list stays one field.
  const auto join_ns = [](const std::vector<double>& samples) {
    return fmt::format("{}", fmt::join(whole_nanoseconds(samples), ";"));
  };
  const auto join_ts = [](const std::vector<double>& samples) {
    return fmt::format("{:.6f}", fmt::join(samples, ";"));
  };
  return fmt::format(
      "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{:.0f},{:.0f},{:.6f},{:.6f},{},{},{}",
      csv_field(model.path), csv_field(model.type), csv_field(model.arch),
      csv_field(model.weight_type), model.size_bytes, model.n_params, model.bytes_per_token,
      csv_field(result.device), result.n_threads, result.n_ubatch, result.test.name(),
      result.test.n_prompt, result.test.n_gen, join_ns(result.samples_ns),
      join_ts(result.samples_ts), result.avg_ns, result.stddev_ns, result.avg_ts,
      result.stddev_ts, result.nodes,
      result.splits > 0 ? fmt::format("{}", result.splits) : "",
      result.bandwidth_gbs ? fmt::format("{:.6g}", *result.bandwidth_gbs) : "");
}

const char* kMarkdownHeader =
    "| model | size | params | device | threads | test | t/s | nodes | splits | GB/s |\n"
    "| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n";

std::string markdown_row(const BenchModelInfo& model, const BenchResult& result) {
  return fmt::format("| {} | {} | {} | {} | {} | {} | {:.2f} ± {:.2f} | {} | {} | {} |\n",
                     model.type, format_bytes(model.size_bytes), format_count(model.n_params),
                     result.device, result.n_threads, result.test.name(), result.avg_ts,
                     result.stddev_ts, result.nodes, format_splits(result),
                     format_bandwidth(result));
}

std::string markdown_profile(const BenchModelInfo& model, const BenchResult& result) {
  const ProfileSummary& profile = *result.profile;
  std::string text = fmt::format(
      "\nprofile of {} {}, {} threads: one run, {:.3f} ms in timed nodes (views excluded)\n\n",
      model.path, result.test.name(), result.n_threads, profile.total_nanoseconds / 1e6);
  if (profile.ops.empty()) {
    return text + "no node was timed: the runner for this --device does not report node times\n";
  }
  text += "| op | time (ms) | share | calls |\n| --- | ---: | ---: | ---: |\n";
  for (const ProfileEntry& entry : profile.ops) {
    text += fmt::format("| {} | {:.3f} | {:.1f}% | {} |\n", entry.name, entry.nanoseconds / 1e6,
                        100 * entry.share, entry.calls);
  }
  text +=
      "\n| node (all layers) | op | time (ms) | share | calls |\n"
      "| --- | --- | ---: | ---: | ---: |\n";
  for (const ProfileEntry& entry : profile.nodes) {
    text += fmt::format("| {} | {} | {:.3f} | {:.1f}% | {} |\n", entry.name, entry.op,
                        entry.nanoseconds / 1e6, 100 * entry.share, entry.calls);
  }
  return text;
}

// Writes results as they finish for md and csv, and all at once for json.
class ResultWriter {
 public:
  explicit ResultWriter(std::string format) : format_(std::move(format)) {}

  void add(const BenchModelInfo& model, BenchResult result) {
    // The header comes with the first result, so a failure before it leaves stdout empty.
    if (!header_written_) {
      if (format_ == "md") std::fputs(kMarkdownHeader, stdout);
      if (format_ == "csv") std::printf("%s\n", kCsvHeader);
      header_written_ = true;
    }
    if (format_ == "md") std::fputs(markdown_row(model, result).c_str(), stdout);
    if (format_ == "csv") std::printf("%s\n", csv_row(model, result).c_str());
    if (format_ == "json") results_.push_back(result_json(model, result));
    std::fflush(stdout);
    if (result.profile) profiles_.push_back(markdown_profile(model, result));
  }

  // The json array, and the profiles: after the table on stdout for md, on stderr for csv (which
  // must stay one table), and inside the json objects for json.
  void end() {
    if (format_ == "json") std::printf("%s\n", results_.dump(2).c_str());
    for (const std::string& profile : profiles_) {
      if (format_ == "md") std::fputs(profile.c_str(), stdout);
      if (format_ == "csv") std::fputs(profile.c_str(), stderr);
    }
    std::fflush(stdout);
  }

 private:
  std::string format_;
  bool header_written_ = false;
  json results_ = json::array();
  std::vector<std::string> profiles_;
};

void run_bench(const BenchCommandOptions& options) {
  check_options(options);
  const std::vector<BenchTest> tests = make_tests(options);
  HLLM_CHECK(!tests.empty(), "no tests to run: every -p, -n and -pg size is 0");
  std::vector<int> thread_counts = options.thread_counts;
  if (thread_counts.empty()) {
    thread_counts.push_back(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  }

  // Every model is opened (memory-mapped and checked) before the first test, so a bad path
  // stops the command before any time is spent and before any result is written.
  std::vector<std::unique_ptr<Model>> models;
  for (const std::string& path : options.model_paths) models.push_back(Model::load(path));

  ResultWriter writer(options.output_format);
  for (const std::unique_ptr<Model>& model : models) {
    const BenchModelInfo info = describe_bench_model(*model);
    for (int n_threads : thread_counts) {
      for (const BenchTest& test : tests) {
        std::fprintf(stderr, "bench: %s, %d threads, %s: warm-up and %d run%s\n",
                     model->path().c_str(), n_threads, test.name().c_str(), options.repetitions,
                     options.repetitions == 1 ? "" : "s");
        BenchOptions bench;
        bench.n_threads = n_threads;
        bench.n_ubatch = options.n_ubatch;
        bench.placement = options.placement;
        bench.repetitions = options.repetitions;
        bench.profile = options.profile;
        BenchResult result = run_benchmark(*model, info, test, bench);
        if (!result.plan_summary.empty())
          std::fprintf(stderr, "plan: %s\n", result.plan_summary.c_str());
        writer.add(info, std::move(result));
      }
    }
  }
  writer.end();
}

const CommandRegistration kRegistration("bench", [](CLI::App& app) {
  auto options = std::make_shared<BenchCommandOptions>();
  CLI::App* command = app.add_subcommand(
      "bench", "Measure prompt processing and generation speed, as llama-bench does");
  command->add_option("-m,--model", options->model_paths, "Path of a GGUF model (repeatable)")
      ->required()
      ->allow_extra_args(false);

  command
      ->add_option("-p,--n-prompt", options->prompt_values,
                   "Prompt sizes in tokens, comma-separated or repeated; 0 skips (default: 512)")
      ->delimiter(',')
      ->allow_extra_args(false);
  command
      ->add_option("-n,--n-gen", options->gen_sizes,
                   "Generated token counts, comma-separated or repeated; 0 skips (default: 128)")
      ->delimiter(',')
      ->allow_extra_args(false);
  command
      ->add_option("--pg", options->pg_values,
                   "Prompt then generation as N,M, also spelled -pg (repeatable)")
      ->delimiter(',')
      ->allow_extra_args(false);
  // Receives the N,M of "-pg N,M" (see BenchCommandOptions); prompt_generation_tests() rejects
  // any other bare argument.
  command->add_option("pg_pairs", options->bare_values)->delimiter(',')->group("");

  command
      ->add_option("-r,--repetitions", options->repetitions,
                   "Timed runs per test, after one warm-up run")
      ->capture_default_str();
  command
      ->add_option("-t,--threads", options->thread_counts,
                   "CPU thread counts, comma-separated or repeated (default: all hardware threads)")
      ->delimiter(',')
      ->allow_extra_args(false);
  command->add_option("-u,--ubatch", options->n_ubatch, "Tokens per micro-batch")
      ->capture_default_str();
  add_placement_options(*command, options->placement);

  command->add_option("-o,--output", options->output_format, "Output format: md, json or csv")
      ->capture_default_str();
  command->add_flag("--profile", options->profile,
                    "Time every node in one extra run per test and print the time per op type "
                    "and per node name: after the table, on stderr with -o csv, or as a "
                    "\"profile\" field of each result with -o json");

  command->callback([options] { run_bench(*options); });
});

}  // namespace

}  // namespace hllm::tools
