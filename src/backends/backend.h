// The backend interface: what a device can compute, its memory, running an ordered run of nodes,
// and copies in and out. The CPU backend implements every op; other backends declare a subset.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "graph/tensor.h"

namespace hllm {

// A block of device memory. Host-visible backends (the CPU, the simulated device) expose it as
// a plain pointer.
class Buffer {
 public:
  virtual ~Buffer() = default;
  virtual void* data() = 0;
  virtual size_t size() const = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;

  // Short name used in plans and messages: "cpu", "sim".
  virtual std::string_view name() const = 0;

  // Whether this backend can compute the node with its current op, source types and layouts.
  virtual bool supports(const Tensor& node) const = 0;

  // Allocates device memory; the caller places tensors in it.
  virtual std::unique_ptr<Buffer> allocate(size_t bytes) = 0;

  // Computes nodes in order. Every node's data and its sources' data are already in memory this
  // backend can address. Views need no work and may appear in the list.
  virtual void compute(std::span<Tensor* const> nodes) = 0;

  // Copies bytes between host memory and a tensor's storage on this backend.
  virtual void copy_in(Tensor& tensor, const void* host, size_t offset, size_t bytes) = 0;
  virtual void copy_out(const Tensor& tensor, void* host, size_t offset, size_t bytes) = 0;
};

}  // namespace hllm
