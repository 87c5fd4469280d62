// A fixed set of worker threads that run one job at a time on every thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace hllm {

class ThreadPool {
 public:
  // Starts n_threads - 1 workers; the calling thread is thread 0 of every job.
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Runs job(ith, nth) once on each of the nth threads and returns when all have finished.
  // An exception thrown by any thread is rethrown here after all threads finished.
  void run(const std::function<void(int ith, int nth)>& job);

  // Splits [0, n) into contiguous chunks, one per thread, and runs body(begin, end) on each.
  void parallel_for(int64_t n, const std::function<void(int64_t begin, int64_t end)>& body);

 private:
  void worker_loop(int ith);
  void run_guarded(int ith);

  int n_threads_;
  std::vector<std::thread> workers_;
  const std::function<void(int, int)>* job_ = nullptr;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  std::exception_ptr error_;
  std::mutex error_mutex_;
};

}  // namespace hllm
