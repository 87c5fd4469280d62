// The hllm command-line program: parses the subcommand and reports errors. Library code throws
// hllm::Error; this is the only place that prints it.
#include <algorithm>
#include <cstdio>
#include <exception>

#include "tools/command.h"
#include "util/error.h"
#include "util/log.h"

namespace hllm::tools {

std::vector<RegisteredCommand>& registered_commands() {
  static std::vector<RegisteredCommand> commands;
  return commands;
}

CommandRegistration::CommandRegistration(const char* name, CommandSetup setup) {
  registered_commands().push_back({name, std::move(setup)});
}

}  // namespace hllm::tools

int main(int argc, char** argv) {
  using namespace hllm;
  CLI::App app{"hllm: inference for GGUF language models, hybrid architectures first"};
  app.require_subcommand(1);
  log::init("warn");
  app.add_option_function<std::string>(
      "--log-level", [](const std::string& level) { log::init(level); },
      "Log verbosity: trace, debug, info, warn (default), error, off");

  auto& commands = tools::registered_commands();
  std::sort(commands.begin(), commands.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  for (const auto& command : commands) command.setup(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
