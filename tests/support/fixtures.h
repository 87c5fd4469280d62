// Paths to the llama.cpp reference fixtures and the built program, for tests.
#pragma once

#include <string>
#include <vector>

namespace hllm::test {

// Returns the fixtures folder (../shared/fixtures beside the checkout). Fails the calling test
// with a clear message when it is missing, so CI never passes by skipping.
std::string fixtures_dir();

// Returns fixtures_dir() + "/" + relative, failing the test if the file does not exist.
std::string fixture(const std::string& relative);

// Returns the path of the built hllm program.
std::string hllm_binary();

// Returns a fresh, empty temporary folder for one test.
std::string temp_dir();

// Reads a whole file as bytes. Throws on failure.
std::string read_file(const std::string& path);

// Reads little-endian float32 values from a raw file.
std::vector<float> read_f32(const std::string& path);

// Reads integers one per line (token id files).
std::vector<int> read_ids(const std::string& path);

struct CommandResult {
  int exit_code = -1;
  std::string out;  // standard output
  std::string err;  // standard error
};

// Runs a shell command line and captures its outputs and exit code.
CommandResult run_command(const std::string& command, const std::string& stdin_text = "");

}  // namespace hllm::test
