// The simulated device: a backend that runs the CPU kernels on memory it allocates itself, declares
// a configurable set of ops unsupported and counts every byte copied across its boundary. It lets
// the scheduler's placement, residency, copies and splits be tested on machines without a GPU.
#pragma once

#include <array>
#include <cstddef>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "backends/backend.h"
#include "backends/cpu/cpu_backend.h"

namespace hllm {

struct SimOptions {
  // Ops the device reports as unsupported, indexed by Op.
  std::array<bool, static_cast<size_t>(Op::Count)> unsupported{};
  size_t memory_budget = 0;  // bytes the device may allocate; 0: unlimited
};

// Parses the text after "sim:" in a device name: comma-separated "unsupported=OP+OP" (op names
// as op_name() prints them) and "mem=SIZE" (bytes, or with a KiB/MiB/GiB or kB/MB/GB suffix).
// An empty text gives the defaults. Throws Error naming the bad item.
SimOptions parse_sim_options(std::string_view text);

// Parses "8GiB", "512KiB", "1MB" or a plain byte count. Throws Error for anything else.
size_t parse_byte_size(std::string_view text);

// Returns the op whose op_name() is name. Throws Error listing the op names for an unknown one.
Op parse_op_name(std::string_view name);

class SimBackend : public Backend {
 public:
  // kernels computes the nodes; the simulated device shares its threads because only one backend
  // computes at a time.
  SimBackend(CpuBackend& kernels, SimOptions options);

  std::string_view name() const override { return "sim"; }
  bool supports(const Tensor& node) const override;
  // Throws Error when the allocation would exceed the memory budget.
  std::unique_ptr<Buffer> allocate(size_t bytes) override;
  // Throws Error for an unsupported node, or for a node whose memory or whose sources' memory is
  // not in a buffer of this device, so that a missed copy cannot pass unnoticed.
  void compute(std::span<Tensor* const> nodes) override;
  void copy_in(Tensor& tensor, const void* host, size_t offset, size_t bytes) override;
  void copy_out(const Tensor& tensor, void* host, size_t offset, size_t bytes) override;

  // Whether the address lies in memory this device allocated.
  bool owns(const void* address) const;

  const SimOptions& options() const { return options_; }
  size_t bytes_copied_in() const { return bytes_in_; }
  size_t bytes_copied_out() const { return bytes_out_; }
  size_t bytes_allocated() const { return bytes_allocated_; }

 private:
  class SimBuffer;
  void release(const void* base, size_t bytes);
  void check_owned(const Tensor& tensor, const char* what, const Tensor& node) const;

  CpuBackend& kernels_;
  SimOptions options_;
  std::map<const std::byte*, size_t> ranges_;  // start and size of each live buffer
  size_t bytes_allocated_ = 0;
  size_t bytes_in_ = 0;
  size_t bytes_out_ = 0;
};

}  // namespace hllm
