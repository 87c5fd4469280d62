// The hllm command-line program: parses the subcommand and reports errors. Library code throws
// hllm::Error; this is the only place that prints it.
#include <algorithm>
#include <cstdio>
#include <exception>
#include <string>

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

namespace {

// Returns the first word of the command line that is not a program option or its value (the
// subcommand's name), or nullptr when there is none.
const char* command_word(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string word = argv[i];
    if (word == "--log-level") {
      ++i;  // skips its value
    } else if (word.empty() || word[0] != '-') {
      return argv[i];
    }
  }
  return nullptr;
}

// Describes a command-line parse error in the program's own words, with where to read the usage.
std::string parse_error_message(CLI::App& app, int argc, char** argv, const CLI::ParseError& e) {
  const char* word = command_word(argc, argv);
  if (word == nullptr) return "missing command: run 'hllm --help' for the list";
  for (const CLI::App* command : app.get_subcommands({})) {
    if (command->get_name() == word) {
      return fmt::format("{}: {}; run 'hllm {} --help' for usage", word, e.what(), word);
    }
  }
  return fmt::format("unknown command '{}': run 'hllm --help' for the list", word);
}

}  // namespace

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
    // --help and --help-all end parsing with exit code 0; CLI11 prints those itself.
    if (e.get_exit_code() == 0) return app.exit(e);
    std::fprintf(stderr, "error: %s\n", tools::parse_error_message(app, argc, argv, e).c_str());
    return 1;
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
