// Errors: library code throws hllm::Error; only the command-line front end prints it.
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace hllm {

// Error raised for any invalid input or failed operation. The message names the object, what was
// expected and what was found.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// Throws an Error whose message is formatted with fmt.
template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

// Checks an invariant that holds for valid input and throws an Error otherwise. Stays on in
// release builds because it guards against malformed files and arguments.
#define HLLM_CHECK(condition, ...)            \
  do {                                        \
    if (!(condition)) ::hllm::fail(__VA_ARGS__); \
  } while (0)

}  // namespace hllm
