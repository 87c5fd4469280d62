#include "support/fixtures.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <cstring>
#include <stdexcept>
#include <unistd.h>

namespace hllm::test {

namespace fs = std::filesystem;

std::string fixtures_dir() {
  const fs::path dir = HLLM_FIXTURES_DIR;
  if (!fs::is_directory(dir)) {
    throw std::runtime_error("fixtures folder " + dir.string() +
                             " is missing: these tests need ../shared/fixtures beside the checkout");
  }
  return dir.string();
}

std::string fixture(const std::string& relative) {
  const fs::path path = fs::path(fixtures_dir()) / relative;
  if (!fs::exists(path)) throw std::runtime_error("fixture file " + path.string() + " is missing");
  return path.string();
}

std::string hllm_binary() { return std::string(HLLM_BINARY_DIR) + "/bin/hllm"; }

std::string temp_dir() {
  static std::atomic<int> counter{0};
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = info ? std::string(info->test_suite_name()) + "." + info->name() : "test";
  fs::path dir = fs::temp_directory_path() /
                 ("hllm-test-" + std::to_string(getpid()) + "-" + std::to_string(counter++) + "-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::vector<float> read_f32(const std::string& path) {
  const std::string bytes = read_file(path);
  if (bytes.size() % sizeof(float) != 0) {
    throw std::runtime_error(path + " is not a whole number of float32 values");
  }
  std::vector<float> values(bytes.size() / sizeof(float));
  std::memcpy(values.data(), bytes.data(), bytes.size());
  return values;
}

std::vector<int> read_ids(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::vector<int> ids;
  int id;
  while (in >> id) ids.push_back(id);
  return ids;
}

CommandResult run_command(const std::string& command, const std::string& stdin_text) {
  const std::string dir = temp_dir();
  const std::string in_path = dir + "/stdin", out_path = dir + "/stdout", err_path = dir + "/stderr";
  {
    std::ofstream in(in_path, std::ios::binary);
    in << stdin_text;
  }
  const std::string line = "(" + command + ") <" + in_path + " >" + out_path + " 2>" + err_path;
  const int status = std::system(line.c_str());
  CommandResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = read_file(out_path);
  result.err = read_file(err_path);
  fs::remove_all(dir);
  return result;
}

}  // namespace hllm::test
