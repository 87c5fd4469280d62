// The user's placement options as the command line gives them, and the device they name.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "backends/backend.h"
#include "backends/cpu/cpu_backend.h"
#include "sched/plan.h"

namespace hllm::sched {

struct PlacementOptions {
  // "" or "cpu": the CPU only. "sim" or "sim:OPTIONS": the simulated device (see
  // parse_sim_options in backends/sim/sim_backend.h).
  std::string device;
  int gpu_layers = -1;                 // see Constraints::gpu_layers; -1: no limit
  std::vector<std::string> overrides;  // "REGEX=DEVICE", matched against weight names
  bool cpu_moe = false;                // routed-expert weights and their products on the CPU

  bool uses_device() const { return !device.empty() && device != "cpu"; }
};

// Creates the device a --device value names: nullptr for "" and "cpu", a SimBackend computing
// with kernels for "sim[:OPTIONS]". Throws Error for any other value.
std::unique_ptr<Backend> make_device(std::string_view spec, CpuBackend& kernels);

// Returns the memory budget the device declares in bytes, 0 for none.
size_t device_memory_budget(const Backend* device);

// Converts the options into constraints for a device (which may be null); the caller adds the
// model's layer count and output weights.
Constraints make_constraints(const PlacementOptions& options, const Backend* device);

// Returns the names of every op, in enum order, as `hllm plan --list-ops` prints them.
std::vector<std::string_view> op_names();

}  // namespace hllm::sched
