// The scheduler's cost model: estimated time of each node on each backend and of each copy
// between them, in nanoseconds.
//
// A node's CPU time is a fixed overhead plus the larger of its arithmetic time (estimated FLOPs
// over the CPU's FLOP rate) and its memory time (bytes read and written over the CPU's memory
// bandwidth): a roofline estimate. The device runs every op device_speedup times faster than
// the CPU. A copied tensor costs a fixed transfer latency plus its bytes over the link bandwidth.
// Each split also costs a synchronisation, which the plan's cost estimate adds per split. The
// cut charges only the per-tensor latency, because tensors crossing at one split boundary share
// its synchronisation. The defaults are round numbers for a desktop CPU and a
// PCIe-attached GPU, not measurements; placement depends on their ratios.
#pragma once

#include <cstddef>
#include <cstdint>

#include "graph/tensor.h"

namespace hllm::sched {

struct CostModel {
  double cpu_flops_per_ns = 100.0;       // 100 GFLOP/s
  double cpu_bytes_per_ns = 20.0;        // 20 GB/s of memory bandwidth
  double cpu_node_overhead_ns = 2000.0;  // scheduling and thread synchronisation per node
  double device_speedup = 10.0;          // device time = CPU time / device_speedup, for every op
  double link_bytes_per_ns = 10.0;       // 10 GB/s between the CPU and the device
  double copy_latency_ns = 1000.0;       // per copied tensor: 1 us
  double split_sync_ns = 10000.0;        // per split: 10 us
  // Cost of keeping a byte of weights or state in device memory, so that a tensor no device node
  // reads stays on the CPU. Small enough never to outweigh a copy.
  double residency_ns_per_mib = 1.0;

  int64_t cpu_ns(const Tensor& node) const;
  int64_t device_ns(const Tensor& node) const;
  int64_t copy_ns(size_t bytes) const;
  int64_t residency_ns(size_t bytes) const;
  int64_t split_ns() const { return static_cast<int64_t>(split_sync_ns); }
};

// Estimated floating-point operations of a node (0 for views and leaves).
double estimate_flops(const Tensor& node);
// Estimated bytes a node reads and writes.
double estimate_bytes(const Tensor& node);

}  // namespace hllm::sched
