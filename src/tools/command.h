// Subcommands of the hllm program. Each command file registers itself with a static
// CommandRegistration, so adding a command touches only its own file.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace hllm::tools {

// Adds one subcommand, its options and its callback to the top-level app.
using CommandSetup = std::function<void(CLI::App& app)>;

struct CommandRegistration {
  CommandRegistration(const char* name, CommandSetup setup);
};

struct RegisteredCommand {
  std::string name;
  CommandSetup setup;
};

// Returns every registered command, sorted by name.
std::vector<RegisteredCommand>& registered_commands();

}  // namespace hllm::tools
