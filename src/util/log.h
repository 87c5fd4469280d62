// Logging: spdlog's default logger, writing to stderr so stdout stays free for results.
#pragma once

#include <spdlog/spdlog.h>

#include <string_view>

namespace hllm::log {

// Sets up the stderr logger. level is one of spdlog's names: trace, debug, info, warn, error, off.
void init(std::string_view level = "warn");

using spdlog::debug;
using spdlog::error;
using spdlog::info;
using spdlog::warn;

}  // namespace hllm::log
