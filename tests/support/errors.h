// Catching the errors that library code throws, for tests that check their messages.
#pragma once

#include <string>

#include "util/error.h"

namespace hllm::test {

// Runs action and returns the message of the Error it throws, or "" when it throws none.
template <typename Action>
std::string error_message(const Action& action) {
  try {
    action();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace hllm::test
