// hllm bench on the fixture models with tiny sizes: every output format, the profile and
// invalid arguments. Timings are never asserted: the machine that runs the tests is shared.
#include <gtest/gtest.h>

#include <cctype>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "support/fixtures.h"

namespace hllm {
namespace {

using nlohmann::json;

std::string bench_command(const std::string& model, const std::string& arguments) {
  return test::hllm_binary() + " bench -m " + test::fixture("models/" + model) + " " + arguments;
}

// Splits at every separator, keeping empty fields, the last one included.
std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const size_t end = text.find(separator, start);
    if (end == std::string::npos) {
      parts.push_back(text.substr(start));
      return parts;
    }
    parts.push_back(text.substr(start, end - start));
    start = end + 1;
  }
}

// Lines without their line breaks; the empty piece after the final line break is dropped.
std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines = split(text, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

// Cells of a markdown table row "| a | b |", trimmed.
std::vector<std::string> markdown_cells(const std::string& row) {
  std::vector<std::string> cells;
  for (const std::string& cell : split(row, '|')) {
    const size_t first = cell.find_first_not_of(' ');
    if (first == std::string::npos) continue;
    cells.push_back(cell.substr(first, cell.find_last_not_of(' ') - first + 1));
  }
  return cells;
}

const std::vector<std::string> kJsonFields = {"model_filename",
                                              "model_type",
                                              "arch",
                                              "weight_type",
                                              "model_size",
                                              "model_n_params",
                                              "weight_bytes_per_token",
                                              "device",
                                              "n_threads",
                                              "n_ubatch",
                                              "test",
                                              "n_prompt",
                                              "n_gen",
                                              "samples_ns",
                                              "samples_ts",
                                              "avg_ns",
                                              "stddev_ns",
                                              "avg_ts",
                                              "stddev_ts",
                                              "nodes",
                                              "splits",
                                              "bandwidth_gbs"};

class BenchJsonTest : public ::testing::TestWithParam<std::string> {};

TEST_P(BenchJsonTest, EveryFieldOfEveryTest) {
  const test::CommandResult result =
      test::run_command(bench_command(GetParam(), "-p 16 -n 4 -pg 8,2 -r 2 -t 1,2 -o json"));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const json results = json::parse(result.out);
  ASSERT_TRUE(results.is_array());
  // Two thread counts times three tests.
  ASSERT_EQ(results.size(), 6u) << result.out;

  const std::vector<std::string> tests = {"pp16", "tg4", "pp8+tg2"};
  for (size_t i = 0; i < results.size(); ++i) {
    const json& item = results[i];
    SCOPED_TRACE(item.dump());
    for (const std::string& field : kJsonFields)
      EXPECT_TRUE(item.contains(field)) << field;
    EXPECT_EQ(item["test"], tests[i % 3]);
    EXPECT_EQ(item["n_threads"], i < 3 ? 1 : 2);
    EXPECT_EQ(item["model_filename"], test::fixture("models/" + GetParam()));
    EXPECT_EQ(item["device"], "cpu");
    EXPECT_EQ(item["n_ubatch"], 512);
    EXPECT_GT(item["model_size"].get<uint64_t>(), 0u);
    EXPECT_GT(item["model_n_params"].get<uint64_t>(), 0u);
    ASSERT_TRUE(item["samples_ts"].is_array());
    EXPECT_EQ(item["samples_ts"].size(), 2u);
    EXPECT_EQ(item["samples_ns"].size(), 2u);
    // Whole nanoseconds, as llama-bench writes them.
    EXPECT_TRUE(item["samples_ns"][0].is_number_integer()) << item["samples_ns"];
    EXPECT_TRUE(item["avg_ns"].is_number_integer()) << item["avg_ns"];
    EXPECT_GT(item["avg_ts"].get<double>(), 0.0);
    EXPECT_GE(item["stddev_ts"].get<double>(), 0.0);
    EXPECT_GT(item["nodes"].get<int>(), 0);
    EXPECT_EQ(item["splits"], 1);
    EXPECT_FALSE(item.contains("profile"));
    if (item["test"] == "tg4") {
      EXPECT_GT(item["bandwidth_gbs"].get<double>(), 0.0);
    } else {
      EXPECT_TRUE(item["bandwidth_gbs"].is_null());
    }
  }
  EXPECT_EQ(results[0]["n_prompt"], 16);
  EXPECT_EQ(results[0]["n_gen"], 0);
  EXPECT_EQ(results[2]["n_prompt"], 8);
  EXPECT_EQ(results[2]["n_gen"], 2);
  EXPECT_NE(result.err.find("bench:"), std::string::npos) << "progress goes to stderr";
}

INSTANTIATE_TEST_SUITE_P(Models, BenchJsonTest,
                         ::testing::Values("stories260K.gguf", "qwen3next-tiny-q8_0.gguf"));

TEST(BenchCommand, WeightTypeInJson) {
  const test::CommandResult result =
      test::run_command(bench_command("qwen3next-tiny-q8_0.gguf", "-p 0 -n 2 -r 1 -t 1 -o json"));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const json results = json::parse(result.out);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0]["weight_type"], "Q8_0");
  EXPECT_EQ(results[0]["arch"], "qwen3next");
  EXPECT_EQ(results[0]["test"], "tg2");
}

TEST(BenchCommand, MarkdownColumns) {
  const test::CommandResult result =
      test::run_command(bench_command("stories260K.gguf", "-p 16 -n 4 -r 2 -t 2"));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::vector<std::string> lines = lines_of(result.out);
  ASSERT_EQ(lines.size(), 4u) << result.out;
  const std::vector<std::string> header = {"model", "size", "params", "device", "threads",
                                           "test",  "t/s",  "nodes",  "splits", "GB/s"};
  EXPECT_EQ(markdown_cells(lines[0]), header);
  const std::vector<std::string> pp = markdown_cells(lines[2]);
  const std::vector<std::string> tg = markdown_cells(lines[3]);
  ASSERT_EQ(pp.size(), header.size()) << lines[2];
  ASSERT_EQ(tg.size(), header.size()) << lines[3];
  EXPECT_EQ(pp[0].rfind("llama ", 0), 0u) << pp[0];
  EXPECT_EQ(pp[3], "cpu");
  EXPECT_EQ(pp[4], "2");
  EXPECT_EQ(pp[5], "pp16");
  EXPECT_NE(pp[6].find(" ± "), std::string::npos) << pp[6];
  EXPECT_EQ(pp[8], "1");
  EXPECT_EQ(pp[9], "-") << "no bandwidth for prompt processing";
  EXPECT_EQ(tg[5], "tg4");
  EXPECT_NE(tg[9], "-");
}

TEST(BenchCommand, CsvColumns) {
  const test::CommandResult result =
      test::run_command(bench_command("stories260K.gguf", "-p 16 -n 0 -r 2 -t 1 -o csv"));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::vector<std::string> lines = lines_of(result.out);
  ASSERT_EQ(lines.size(), 2u) << result.out;
  const std::vector<std::string> header = split(lines[0], ',');
  const std::vector<std::string> row = split(lines[1], ',');
  ASSERT_EQ(header.size(), kJsonFields.size());
  for (size_t i = 0; i < header.size(); ++i)
    EXPECT_EQ(header[i], kJsonFields[i]);
  ASSERT_EQ(row.size(), header.size()) << lines[1];
  EXPECT_EQ(row[10], "pp16");
  EXPECT_EQ(split(row[14], ';').size(), 2u) << "samples_ts: " << row[14];
  EXPECT_EQ(row[21], "") << "no bandwidth for prompt processing";
}

TEST(BenchCommand, ProfileInJsonSharesSumToOne) {
  const test::CommandResult result = test::run_command(
      bench_command("qwen3next-tiny-q8_0.gguf", "-p 16 -n 4 -r 2 -t 2 -o json --profile"));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const json results = json::parse(result.out);
  ASSERT_EQ(results.size(), 2u);
  for (const json& item : results) {
    SCOPED_TRACE(item["test"].get<std::string>());
    ASSERT_TRUE(item.contains("profile"));
    double share = 0;
    bool has_mul_mat = false;
    for (const json& op : item["profile"]["ops"]) {
      share += op["share"].get<double>();
      has_mul_mat |= op["name"] == "mul_mat";
    }
    // Shares are ratios of integer sums, so only rounding separates their sum from 1.
    EXPECT_NEAR(share, 1.0, 1e-9);
    EXPECT_TRUE(has_mul_mat);
    EXPECT_FALSE(item["profile"]["nodes"].empty());
  }
}

TEST(BenchCommand, ProfileInMarkdown) {
  const test::CommandResult result =
      test::run_command(bench_command("stories260K.gguf", "-p 16 -n 4 -r 1 -t 1 --profile"));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("profile of "), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("| op | time (ms) | share | calls |"), std::string::npos);
  // Sum the op shares of the first profile table, in percent.
  double percent = 0;
  bool has_mul_mat = false;
  bool in_ops = false;
  for (const std::string& line : lines_of(result.out)) {
    if (line.rfind("| op |", 0) == 0) {
      if (has_mul_mat) break;  // the second profile starts
      in_ops = true;
      continue;
    }
    if (!in_ops) continue;
    if (line.empty()) break;
    const std::vector<std::string> cells = markdown_cells(line);
    if (cells.size() != 4 || cells[0] == "---") continue;
    has_mul_mat |= cells[0] == "mul_mat";
    percent += std::stod(cells[2]);
  }
  EXPECT_TRUE(has_mul_mat) << result.out;
  // Each share is printed with one decimal, so a dozen rows can be off by 0.05 each.
  EXPECT_NEAR(percent, 100.0, 1.0) << result.out;
}

struct BadArguments {
  std::string arguments;
  std::string message;  // part of the expected error message
};

// Prints the arguments, which name the case in test listings.
void PrintTo(const BadArguments& bad, std::ostream* out) { *out << bad.arguments; }

class BenchBadArgumentsTest : public ::testing::TestWithParam<BadArguments> {};

TEST_P(BenchBadArgumentsTest, ClearError) {
  const test::CommandResult result =
      test::run_command(bench_command("stories260K.gguf", GetParam().arguments));
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.err.find(GetParam().message), std::string::npos)
      << "expected '" << GetParam().message << "' in: " << result.err;
  EXPECT_EQ(result.out.find("| model |"), std::string::npos) << "no table before the check";
}

INSTANTIATE_TEST_SUITE_P(Cases, BenchBadArgumentsTest,
                         ::testing::Values(BadArguments{"-p -1", "invalid -p value '-1'"},
                                           BadArguments{"-p 4 -n -2", "invalid -n value -2"},
                                           BadArguments{"-p 4 -t 0", "invalid -t value 0"},
                                           BadArguments{"-p 4 -t 1,0", "invalid -t value 0"},
                                           BadArguments{"-p 4 -o xml",
                                                        "invalid output format 'xml'"},
                                           BadArguments{"-p 4 -r 0", "invalid -r value 0"},
                                           BadArguments{"-p 0 -n 0", "no tests to run"},
                                           BadArguments{"-pg 4", "expected one N,M pair per -pg"},
                                           BadArguments{"-p 4 stray", "unexpected arguments"},
                                           BadArguments{"-p 4 -n abc",
                                                        "run 'hllm bench --help' for usage"},
                                           BadArguments{"-p 4 --bogus",
                                                        "run 'hllm bench --help' for usage"}),
                         [](const ::testing::TestParamInfo<BadArguments>& info) {
                           // The arguments with each character other than a letter or digit as '_'.
                           std::string name = info.param.arguments;
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

// Argument errors use the program's own format, "error: ..." and exit status 1, for every
// command and for an unknown command.
TEST(BenchCommand, ParseErrorsUseErrorFormat) {
  const std::string hllm = test::hllm_binary();
  for (const std::string& arguments : {std::string(" bench -m x.gguf -n abc"),
                                       std::string(" nosuchcommand"), std::string("")}) {
    const test::CommandResult result = test::run_command(hllm + arguments);
    EXPECT_EQ(result.exit_code, 1) << arguments;
    EXPECT_EQ(result.err.rfind("error: ", 0), 0u) << arguments << ": " << result.err;
  }
  const test::CommandResult unknown = test::run_command(hllm + " nosuchcommand");
  EXPECT_NE(unknown.err.find("unknown command 'nosuchcommand'"), std::string::npos)
      << unknown.err;
}

// A bad model path fails before any test runs, so no result of an earlier model is printed
// without the rest, in any output format.
TEST(BenchCommand, BadSecondModelPrintsNothing) {
  for (const char* format : {"md", "json", "csv"}) {
    const test::CommandResult result = test::run_command(
        test::hllm_binary() + " bench -m " + test::fixture("models/stories260K.gguf") +
        " -m /nonexistent/model.gguf -p 4 -n 0 -r 1 -t 1 -o " + format);
    EXPECT_NE(result.exit_code, 0) << format;
    EXPECT_TRUE(result.out.empty()) << format << ": " << result.out;
    EXPECT_NE(result.err.find("/nonexistent/model.gguf"), std::string::npos) << result.err;
  }
}

TEST(BenchCommand, MissingModelNamesFile) {
  const test::CommandResult result =
      test::run_command(test::hllm_binary() + " bench -m /nonexistent/model.gguf -p 4 -n 0");
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.err.find("/nonexistent/model.gguf"), std::string::npos) << result.err;
}

}  // namespace
}  // namespace hllm
