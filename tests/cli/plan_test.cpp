// Runs the built `hllm plan` and `hllm eval --device` on the fixture models: split counts and
// their reasons with the simulated device, weight residency, determinism, both GGUF layouts, and
// logits under every placement compared with the CPU's.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/fixtures.h"

namespace hllm {
namespace {

using nlohmann::json;

std::string hllm(const std::string& arguments) {
  return test::hllm_binary() + " " + arguments;
}

std::string model(const std::string& name) {
  return test::fixture("models/" + name + ".gguf");
}

// Runs `hllm plan -o json` and returns the parsed document.
json plan(const std::string& path, const std::string& options) {
  const auto result =
      test::run_command(hllm("plan -m '" + path + "' --ubatch 64 -o json " + options));
  EXPECT_EQ(result.exit_code, 0) << options << ": " << result.err;
  if (result.exit_code != 0) return json::object();
  return json::parse(result.out);
}

int recurrent_layers(const std::string& path) {
  const auto result = test::run_command(hllm("inspect --json '" + path + "'"));
  EXPECT_EQ(result.exit_code, 0) << result.err;
  return static_cast<int>(json::parse(result.out)["model"]["recurrent_layers"].size());
}

const json* find_weight(const json& document, const std::string& name) {
  for (const json& weight : document["weights"]) {
    if (weight["name"] == name) return &weight;
  }
  return nullptr;
}

TEST(PlanCommand, EveryFixtureRunsInOneSplitOnSim) {
  for (const std::string name :
       {"qwen3next-tiny-f32", "qwen3next-tiny-legacy-f16", "qwen3next-tiny-q8_0",
        "qwen3next-tiny-q4_k_m", "stories260K", "llama-2-tiny-random"}) {
    const json document = plan(model(name), "--device sim");
    EXPECT_EQ(document["n_splits"], 1) << name << ": " << document["summary"];
    EXPECT_EQ(document["n_compute_nodes_on_device"], document["n_compute_nodes"]) << name;
    for (const json& weight : document["weights"]) {
      EXPECT_EQ(weight["device"], "sim")
          << name << ": " << weight["name"] << " (" << weight["reason"] << ")";
    }
  }
}

TEST(PlanCommand, CpuOnlyIsOneSplit) {
  const json document = plan(model("qwen3next-tiny-f32"), "");
  EXPECT_EQ(document["n_splits"], 1);
  EXPECT_EQ(document["copy_bytes"], 0);
  EXPECT_EQ(document["splits"][0]["backend"], "cpu");
}

// Each linear-attention layer leaves the device once for the ops it lacks and comes back once.
TEST(PlanCommand, MissingRecurrentOpsSplitTwicePerLayer) {
  for (const std::string name : {"qwen3next-tiny-f32", "qwen3next-tiny-legacy-f16"}) {
    const int n_linear = recurrent_layers(model(name));
    ASSERT_GT(n_linear, 0) << name;
    for (const std::string missing : {"delta_rule", "delta_rule+ssm_conv"}) {
      const json document = plan(model(name), "--device sim:unsupported=" + missing);
      const std::string context = name + " without " + missing;
      EXPECT_LE(document["n_splits"].get<int>(), 1 + 2 * n_linear)
          << context << ": " << document["summary"];

      int unsupported_splits = 0;
      for (const json& split : document["splits"]) {
        if (split["backend"] == "cpu") {
          EXPECT_EQ(split["reason"], "unsupported_op")
              << context << ": split at " << split["first_node"];
          EXPECT_NE(split["detail"].get<std::string>().find("delta_rule"), std::string::npos)
              << context << ": " << split["detail"];
          if (missing.find("ssm_conv") != std::string::npos) {
            EXPECT_NE(split["detail"].get<std::string>().find("ssm_conv"), std::string::npos)
                << context << ": " << split["detail"];
          }
          ++unsupported_splits;
        } else if (split["first_index"] != 0) {
          EXPECT_EQ(split["reason"], "preferred_backend") << context;
        }
        // Weights are never copied per evaluation: a weight read on the device lives there.
        for (const json& input : split["inputs"]) {
          EXPECT_EQ(find_weight(document, input["name"]), nullptr)
              << context << ": copies " << input["name"];
        }
      }
      EXPECT_EQ(unsupported_splits, n_linear) << context;
      EXPECT_EQ(document["splits"][0]["reason"], "graph_start") << context;

      for (const json& weight : document["weights"]) {
        const std::string weight_name = weight["name"];
        if (weight_name.find("ssm_a") != std::string::npos) {
          EXPECT_EQ(weight["device"], "sim") << context << ": " << weight_name;
        }
        // Only the convolution kernel is read by an op the device lacks.
        if (weight_name.find("ssm_conv1d") == std::string::npos) {
          EXPECT_EQ(weight["device"], "sim")
              << context << ": " << weight_name << " (" << weight["reason"] << ")";
        }
      }
    }
  }
}

TEST(PlanCommand, LayoutsGetSameSplits) {
  const std::string dir = test::temp_dir();
  std::vector<int> splits;
  for (const std::string layout : {"split", "legacy"}) {
    const std::string path = dir + "/" + layout + ".gguf";
    const auto made = test::run_command(hllm(
        "synth --arch qwen3next --preset qwen3next-80b-a3b --layers 4 --experts 4 --experts-used 2 "
        "--hidden 64 --vocab 300 --set ssm.state_size=32 --type f32 --seed 3 -t 2 --layout " +
        layout + " -o '" + path + "'"));
    ASSERT_EQ(made.exit_code, 0) << made.err;
    const json document = plan(path, "--device sim:unsupported=delta_rule+ssm_conv");
    splits.push_back(document["n_splits"].get<int>());
    EXPECT_EQ(document["n_splits"], 1 + 2 * recurrent_layers(path))
        << layout << ": " << document["summary"];
  }
  EXPECT_EQ(splits[0], splits[1]) << "split layout vs legacy layout";
}

TEST(PlanCommand, IsDeterministic) {
  const std::string command = hllm("plan -m '" + model("qwen3next-tiny-f32") +
                                   "' --ubatch 64 -o json --device sim:unsupported=delta_rule");
  const auto first = test::run_command(command);
  const auto second = test::run_command(command);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(first.out, second.out);
}

TEST(PlanCommand, UserConstraints) {
  const std::string path = model("qwen3next-tiny-f32");
  const json moe = plan(path, "--device sim --cpu-moe");
  int experts = 0;
  for (const json& weight : moe["weights"]) {
    if (weight["name"].get<std::string>().find("_exps") == std::string::npos) continue;
    ++experts;
    EXPECT_EQ(weight["device"], "cpu") << weight["name"];
    EXPECT_EQ(weight["reason"], "user_constraint") << weight["name"];
  }
  EXPECT_EQ(experts, 12);  // up, gate and down in each of 4 layers

  const json layers = plan(path, "--device sim --gpu-layers 2");
  for (const json& weight : layers["weights"]) {
    const int layer = weight["layer"];
    const std::string name = weight["name"];
    if (layer >= 2 || name.rfind("output", 0) == 0) {
      EXPECT_EQ(weight["device"], "cpu") << name;
    } else {
      EXPECT_EQ(weight["device"], "sim") << name;
    }
  }
  EXPECT_EQ(layers["splits"].back()["backend"], "cpu");
  EXPECT_EQ(layers["splits"].back()["reason"], "user_constraint");
  // The output head counts as a layer: with more layers than the model has, all is on the device.
  EXPECT_EQ(plan(path, "--device sim --gpu-layers 5")["n_splits"], 1);

  const json overridden = plan(path, "--device sim --override 'blk\\.3\\..*=cpu'");
  const json* weight = find_weight(overridden, "blk.3.ffn_down_exps.weight");
  ASSERT_NE(weight, nullptr);
  EXPECT_EQ((*weight)["device"], "cpu");
  EXPECT_EQ((*weight)["detail"], "--override blk\\.3\\..*");
}

TEST(PlanCommand, MemoryBudgetMovesLayers) {
  const json document = plan(model("qwen3next-tiny-f32"), "--device sim:mem=8MiB");
  EXPECT_LE(document["device_memory"]["total"].get<size_t>(), size_t{8} << 20);
  EXPECT_GT(document["layers_moved_for_memory"].get<int>(), 0);
  bool budget_split = false;
  for (const json& split : document["splits"])
    budget_split = budget_split || split["reason"] == "memory_budget";
  EXPECT_TRUE(budget_split) << document["summary"];
  const json* last_layer = find_weight(document, "blk.3.ffn_down_exps.weight");
  ASSERT_NE(last_layer, nullptr);
  EXPECT_EQ((*last_layer)["reason"], "memory_budget");
}

TEST(PlanCommand, ListsOps) {
  const auto result = test::run_command(hllm("plan --list-ops"));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  for (const char* op : {"delta_rule\n", "ssm_conv\n", "mul_mat\n", "set_rows\n"}) {
    EXPECT_NE(result.out.find(op), std::string::npos) << op;
  }
  EXPECT_EQ(result.out.find("none"), std::string::npos);
}

TEST(PlanCommand, RejectsBadOptions) {
  const std::string path = model("qwen3next-tiny-f32");
  auto result = test::run_command(hllm("plan -m '" + path + "' --device gpu7"));
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.err.find("unknown device 'gpu7'"), std::string::npos) << result.err;
  result = test::run_command(hllm("plan -m '" + path + "' --device sim:unsupported=warp"));
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.err.find("unknown op 'warp'"), std::string::npos) << result.err;
  result = test::run_command(hllm("plan -m '" + path + "' --device sim --override 'x=gpu'"));
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.err.find("invalid device 'gpu'"), std::string::npos) << result.err;
}

struct Evaluation {
  std::vector<float> logits;
  std::string greedy;
  std::string err;
};

// Evaluates the fixture prompt in micro-batches of 64, then 4 greedy tokens one at a time.
Evaluation evaluate(const std::string& name, const std::string& options) {
  const std::string dir = test::temp_dir();
  const auto result =
      test::run_command(hllm("eval -m '" + model(name) + "' --tokens '" +
                             test::fixture("reference/" + name + ".tokens.txt") +
                             "' --ubatch 64 -t 2 --greedy 4 --logits-out '" + dir +
                             "/logits.f32' --greedy-out '" + dir + "/greedy.txt' " + options));
  EXPECT_EQ(result.exit_code, 0) << options << ": " << result.err;
  if (result.exit_code != 0) return {};
  return {test::read_f32(dir + "/logits.f32"), test::read_file(dir + "/greedy.txt"), result.err};
}

// Mean KL divergence of actual's softmax from expected's over rows, and the max difference.
std::pair<double, double> agreement(const std::vector<float>& actual,
                                    const std::vector<float>& expected, size_t n_vocab) {
  double kl_sum = 0.0, max_diff = 0.0;
  const size_t rows = expected.size() / n_vocab;
  for (size_t r = 0; r < rows; ++r) {
    const float* a = actual.data() + r * n_vocab;
    const float* e = expected.data() + r * n_vocab;
    const double max_a = *std::max_element(a, a + n_vocab),
                 max_e = *std::max_element(e, e + n_vocab);
    double sum_a = 0.0, sum_e = 0.0;
    for (size_t i = 0; i < n_vocab; ++i) {
      sum_a += std::exp(a[i] - max_a);
      sum_e += std::exp(e[i] - max_e);
      max_diff = std::max(max_diff, static_cast<double>(std::fabs(a[i] - e[i])));
    }
    for (size_t i = 0; i < n_vocab; ++i) {
      const double log_e = e[i] - max_e - std::log(sum_e), log_a = a[i] - max_a - std::log(sum_a);
      kl_sum += std::exp(log_e) * (log_e - log_a);
    }
  }
  return {kl_sum / static_cast<double>(rows), max_diff};
}

void expect_same_as_cpu(const std::string& name, size_t n_vocab,
                        const std::vector<std::string>& placements) {
  const Evaluation cpu = evaluate(name, "");
  ASSERT_FALSE(cpu.logits.empty()) << name;
  for (const std::string& options : placements) {
    const Evaluation placed = evaluate(name, options);
    ASSERT_EQ(placed.logits.size(), cpu.logits.size()) << name << " " << options;
    EXPECT_NE(placed.err.find("plan: "), std::string::npos)
        << "no plan summary on stderr: " << placed.err;
    // Both backends run the same kernels, so the logits should be identical. The bound is the
    // F32 fixture tolerance, which leaves room for a device that orders its sums differently.
    const auto [mean_kl, max_diff] = agreement(placed.logits, cpu.logits, n_vocab);
    EXPECT_LE(mean_kl, 1e-5) << name << " " << options;
    EXPECT_LE(max_diff, 0.05) << name << " " << options;
    EXPECT_EQ(placed.greedy, cpu.greedy) << name << " " << options;
  }
}

TEST(EvalDevice, Qwen3NextLogitsMatchCpu) {
  expect_same_as_cpu(
      "qwen3next-tiny-f32", 2074,
      {"--device sim", "--device sim:unsupported=delta_rule",
       "--device sim:unsupported=delta_rule+ssm_conv", "--device sim:unsupported=attention+rope",
       "--device sim:unsupported=mul_mat_id+top_k", "--device sim --gpu-layers 0",
       "--device sim --gpu-layers 1", "--device sim --gpu-layers 2", "--device sim --gpu-layers 3",
       "--device sim --gpu-layers 4", "--device sim --gpu-layers 5", "--device sim --cpu-moe",
       "--device sim:mem=8MiB"});
}

TEST(EvalDevice, LegacyAndLlamaLogitsMatchCpu) {
  expect_same_as_cpu(
      "qwen3next-tiny-legacy-f16", 2074,
      {"--device sim:unsupported=delta_rule+ssm_conv", "--device sim:unsupported=concat+copy"});
  expect_same_as_cpu("stories260K", 512,
                     {"--device sim", "--device sim:unsupported=rope+soft_max"});
}

}  // namespace
}  // namespace hllm
