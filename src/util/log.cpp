#include "util/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

#include "util/error.h"

namespace hllm::log {

void init(std::string_view level) {
  auto logger = spdlog::get("hllm");
  if (!logger) {
    logger = spdlog::stderr_color_mt("hllm");
    logger->set_pattern("%^%l%$: %v");
  }
  auto parsed = spdlog::level::from_str(std::string(level));
  if (parsed == spdlog::level::off && level != "off") {
    fail("invalid log level '{}': expected trace, debug, info, warn, error or off", level);
  }
  logger->set_level(parsed);
  spdlog::set_default_logger(logger);
}

}  // namespace hllm::log
