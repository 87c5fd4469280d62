#include "sched/placement.h"

#include "backends/sim/sim_backend.h"
#include "util/error.h"

namespace hllm::sched {

std::unique_ptr<Backend> make_device(std::string_view spec, CpuBackend& kernels) {
  if (spec.empty() || spec == "cpu") return nullptr;
  if (spec == "sim") return std::make_unique<SimBackend>(kernels, SimOptions{});
  if (spec.starts_with("sim:"))
    return std::make_unique<SimBackend>(kernels, parse_sim_options(spec.substr(4)));
  fail(
      "unknown device '{}': expected cpu, sim or sim:OPTIONS (e.g. "
      "sim:unsupported=delta_rule,mem=8GiB)",
      spec);
}

size_t device_memory_budget(const Backend* device) {
  if (const auto* sim = dynamic_cast<const SimBackend*>(device))
    return sim->options().memory_budget;
  return 0;
}

Constraints make_constraints(const PlacementOptions& options, const Backend* device) {
  HLLM_CHECK(options.gpu_layers >= -1, "invalid --gpu-layers {}: expected 0 or more",
             options.gpu_layers);
  Constraints constraints;
  constraints.gpu_layers = options.gpu_layers;
  constraints.cpu_moe = options.cpu_moe;
  const std::string device_name = device != nullptr ? std::string(device->name()) : std::string();
  for (const std::string& text : options.overrides)
    constraints.overrides.push_back(parse_override(text, device_name));
  constraints.device_memory = device_memory_budget(device);
  return constraints;
}

std::vector<std::string_view> op_names() {
  std::vector<std::string_view> names;
  for (int i = 0; i < static_cast<int>(Op::Count); ++i)
    names.emplace_back(op_name(static_cast<Op>(i)));
  return names;
}

}  // namespace hllm::sched
