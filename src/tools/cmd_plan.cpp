// hllm plan: where every node and weight of a model's largest micro-batch graph would run, the
// splits, the bytes copied per evaluation and why. Reads only metadata and tensor descriptions,
// never weight data, so it takes seconds even for the largest models.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "backends/cpu/cpu_backend.h"
#include "models/model_graph.h"
#include "runtime/graph_runner.h"
#include "runtime/model.h"
#include "sched/placement.h"
#include "sched/plan.h"
#include "tools/command.h"
#include "tools/common_options.h"
#include "util/error.h"

namespace hllm::tools {

namespace {

using nlohmann::json;

struct PlanOptions {
  std::string model_path;
  sched::PlacementOptions placement;
  int64_t n_ubatch = 512;
  int64_t n_ctx = 0;
  std::string format = "text";
  bool list_ops = false;
};

std::string node_name(const Tensor& node) {
  return node.name.empty() ? std::string(op_name(node.op)) + "#" + std::to_string(node.id)
                           : node.name;
}

// The first and last computing nodes of a split (views only name nodes when nothing else does).
std::pair<const Tensor*, const Tensor*> split_ends(const Graph& graph, const sched::Split& split) {
  const auto& nodes = graph.nodes();
  const Tensor* first = nullptr;
  const Tensor* last = nullptr;
  for (int i = split.first; i <= split.last; ++i) {
    if (nodes[i]->is_view()) continue;
    if (first == nullptr) first = nodes[i];
    last = nodes[i];
  }
  if (first == nullptr) first = last = nodes[split.first];
  return {first, last};
}

std::string residency_backends(const sched::Plan& plan, const sched::Residency& residency) {
  std::string text;
  if (residency.on_device) text = plan.backend_names.at(sched::kDevice);
  if (residency.on_cpu) text += text.empty() ? "cpu" : "+cpu";
  return text;
}

json plan_json(const Graph& graph, const sched::Plan& plan, const PlanOptions& options) {
  json document;
  document["device"] = plan.backend_names.size() > 1 ? plan.backend_names[sched::kDevice] : "cpu";
  document["n_ubatch"] = options.n_ubatch;
  document["n_nodes"] = plan.n_nodes;
  document["n_compute_nodes"] = plan.n_compute;
  document["n_compute_nodes_on_device"] = plan.n_compute_on_device;
  document["n_splits"] = plan.splits.size();
  document["copy_bytes"] = plan.copy_bytes;
  document["cost_ns"] = plan.cost_ns;
  document["layers_moved_for_memory"] = plan.n_layers_moved;
  document["device_memory"] = {{"weights", plan.device_weight_bytes},
                               {"state", plan.device_state_bytes},
                               {"arena", plan.device_arena_bytes},
                               {"mirrors", plan.device_mirror_bytes},
                               {"total", plan.device_total_bytes()}};
  document["summary"] = sched::plan_summary(plan);
  json splits = json::array();
  for (const sched::Split& split : plan.splits) {
    const auto [first, last] = split_ends(graph, split);
    json inputs = json::array();
    for (const Tensor* input : split.inputs)
      inputs.push_back({{"name", node_name(*input)}, {"bytes", input->n_bytes()}});
    splits.push_back({{"backend", plan.backend_names.at(split.backend)},
                      {"first_node", node_name(*first)},
                      {"last_node", node_name(*last)},
                      {"first_index", split.first},
                      {"last_index", split.last},
                      {"n_compute_nodes", split.n_compute},
                      {"reason", sched::split_reason_name(split.reason)},
                      {"detail", split.detail},
                      {"inputs", inputs},
                      {"copy_bytes", split.copy_bytes}});
  }
  document["splits"] = splits;
  auto residency_list = [&](const std::vector<sched::Residency>& list) {
    json out = json::array();
    for (const sched::Residency& r : list) {
      out.push_back({{"name", r.tensor->name},
                     {"layer", r.tensor->layer},
                     {"bytes", r.tensor->n_bytes()},
                     {"device", r.on_device ? plan.backend_names.at(sched::kDevice) : "cpu"},
                     {"backends", residency_backends(plan, r)},
                     {"reason", sched::residency_reason_name(r.reason)},
                     {"detail", r.detail}});
    }
    return out;
  };
  document["weights"] = residency_list(plan.weights);
  document["states"] = residency_list(plan.states);
  return document;
}

void print_text(const Graph& graph, const sched::Plan& plan) {
  std::printf("plan: %s\n", sched::plan_summary(plan).c_str());
  std::printf("nodes: %d (%d computing, %d on the device)\n", plan.n_nodes, plan.n_compute,
              plan.n_compute_on_device);
  if (plan.backend_names.size() > 1) {
    std::printf("device memory: %s (weights %s, state %s, arena %s, mirrors %s)\n",
                sched::format_bytes(plan.device_total_bytes()).c_str(),
                sched::format_bytes(plan.device_weight_bytes).c_str(),
                sched::format_bytes(plan.device_state_bytes).c_str(),
                sched::format_bytes(plan.device_arena_bytes).c_str(),
                sched::format_bytes(plan.device_mirror_bytes).c_str());
  }
  std::printf("\n%-5s %-8s %-6s %-28s %-28s %-10s %s\n", "split", "backend", "nodes", "first",
              "last", "copied", "reason");
  for (size_t i = 0; i < plan.splits.size(); ++i) {
    const sched::Split& split = plan.splits[i];
    const auto [first, last] = split_ends(graph, split);
    std::string reason = sched::split_reason_name(split.reason);
    if (!split.detail.empty()) reason += ": " + split.detail;
    std::printf("%-5zu %-8s %-6d %-28s %-28s %-10s %s\n", i,
                plan.backend_names.at(split.backend).c_str(), split.n_compute,
                node_name(*first).c_str(), node_name(*last).c_str(),
                sched::format_bytes(split.copy_bytes).c_str(), reason.c_str());
  }
  std::printf("\n%-36s %-10s %-10s %s\n", "weight", "bytes", "on", "reason");
  for (const sched::Residency& r : plan.weights) {
    std::string reason = sched::residency_reason_name(r.reason);
    if (!r.detail.empty()) reason += ": " + r.detail;
    std::printf("%-36s %-10s %-10s %s\n", r.tensor->name.c_str(),
                sched::format_bytes(r.tensor->n_bytes()).c_str(),
                residency_backends(plan, r).c_str(), reason.c_str());
  }
}

void run_plan(const PlanOptions& options) {
  if (options.list_ops) {
    for (std::string_view name : sched::op_names()) {
      if (name != "none" && name != "view" && name != "reshape" && name != "permute" &&
          name != "transpose") {
        std::printf("%.*s\n", static_cast<int>(name.size()), name.data());
      }
    }
    return;
  }
  HLLM_CHECK(!options.model_path.empty(), "missing -m MODEL: the model to plan");
  HLLM_CHECK(options.n_ubatch >= 1, "invalid --ubatch {}: expected at least 1", options.n_ubatch);
  HLLM_CHECK(options.n_ctx >= 0, "invalid --ctx-size {}: expected at least 1", options.n_ctx);
  HLLM_CHECK(options.format == "text" || options.format == "json",
             "invalid output format '{}': expected text or json", options.format);

  const std::unique_ptr<Model> model = Model::load(options.model_path);
  const HParams& hp = model->hparams();
  // The session's default context: the training context, at most 4096 cells.
  const int64_t n_ctx = options.n_ctx > 0
                            ? options.n_ctx
                            : std::min<int64_t>(hp.n_ctx_train > 0 ? hp.n_ctx_train : 4096, 4096);
  const StateShape state{n_ctx, 1};
  const auto graph = build_model_graph(
      model->spec(), worst_case_shape(model->spec(), options.n_ubatch, n_ctx), state);

  CpuBackend cpu(1);
  const std::unique_ptr<Backend> device = sched::make_device(options.placement.device, cpu);
  const sched::Constraints constraints =
      model_constraints(model->spec(), *graph, options.placement, device.get());
  const sched::Plan plan = sched::plan_graph(graph->graph, cpu, device.get(), constraints);
  if (options.format == "json") {
    std::printf("%s\n", plan_json(graph->graph, plan, options).dump(2).c_str());
  } else {
    print_text(graph->graph, plan);
  }
}

const CommandRegistration kRegistration("plan", [](CLI::App& app) {
  auto options = std::make_shared<PlanOptions>();
  CLI::App* command = app.add_subcommand(
      "plan",
      "Show where each node and weight of a model would run, the splits and the bytes copied");
  command->add_option("-m,--model", options->model_path, "Path of the GGUF model");
  command
      ->add_option("-u,--ubatch", options->n_ubatch, "Tokens per micro-batch of the planned graph")
      ->capture_default_str();
  command->add_option(
      "-c,--ctx-size", options->n_ctx,
      "KV cache cells per attention layer (default: training context, at most 4096)");
  command->add_option("-o,--output-format", options->format, "Output format: text or json")
      ->capture_default_str();
  command->add_flag("--list-ops", options->list_ops,
                    "Print the op names that --device sim:unsupported= accepts");
  add_placement_options(*command, options->placement);
  command->callback([options] { run_plan(*options); });
});

}  // namespace

}  // namespace hllm::tools
