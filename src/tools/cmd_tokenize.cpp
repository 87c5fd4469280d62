// hllm tokenize: prints the token ids of the text on standard input.
#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <string>

#include "formats/gguf.h"
#include "text/tokenizer.h"
#include "text/utf8.h"
#include "tools/command.h"
#include "util/error.h"

namespace hllm::tools {

namespace {

struct TokenizeArgs {
  std::string model;
  bool parse_special = false;
  bool no_bos = false;
  bool ids_only = false;
  std::string pre_fallback;
};

std::string read_stdin() {
  std::string text;
  char buffer[1 << 16];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, stdin)) > 0)
    text.append(buffer, n);
  if (std::ferror(stdin)) fail("reading standard input failed");
  return text;
}

// Shows a piece between quotes on one line: control characters, backslashes, quotes and bytes
// that are not valid UTF-8 are escaped, so partial characters of byte tokens stay visible.
std::string quote_piece(const std::string& piece) {
  std::string out = "'";
  size_t pos = 0;
  while (pos < piece.size()) {
    const auto byte = static_cast<uint8_t>(piece[pos]);
    const size_t length = text::utf8_char_length(piece, pos);
    if (byte == '\n') {
      out += "\\n";
    } else if (byte == '\t') {
      out += "\\t";
    } else if (byte == '\r') {
      out += "\\r";
    } else if (byte == '\\' || byte == '\'') {
      out += '\\';
      out += static_cast<char>(byte);
    } else if (byte < 0x20 || byte == 0x7F || (byte >= 0x80 && length == 1)) {
      out += fmt::format("\\x{:02x}", byte);
    } else {
      out.append(piece, pos, length);
    }
    pos += length;
  }
  out += "'";
  return out;
}

void run_tokenize(const TokenizeArgs& args) {
  const auto file = GgufFile::open(args.model);
  TokenizerOptions options;
  options.pre_fallback = args.pre_fallback;
  const auto tokenizer = Tokenizer::from_gguf(*file, options);

  const std::string text = read_stdin();
  const std::vector<int32_t> tokens = tokenizer->encode(text, !args.no_bos, args.parse_special);

  std::string out;
  if (args.ids_only) {
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (i > 0) out += ' ';
      out += std::to_string(tokens[i]);
    }
    out += '\n';
  } else {
    for (const int32_t token : tokens) {
      out += fmt::format("{:>7} -> {}\n", token, quote_piece(tokenizer->token_piece(token)));
    }
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
}

const CommandRegistration registration("tokenize", [](CLI::App& app) {
  auto args = std::make_shared<TokenizeArgs>();
  CLI::App* command =
      app.add_subcommand("tokenize",
                         "Print the token ids of the text read from standard input (all of it, "
                         "including a final newline)");
  command->add_option("-m,--model", args->model, "GGUF file whose tokenizer to use")->required();
  command->add_flag("--parse-special", args->parse_special,
                    "Turn the text of special tokens such as <|im_start|> into those tokens");
  command->add_flag("--no-bos", args->no_bos,
                    "Do not add the BOS (or EOS) token that the model's metadata asks for");
  command->add_flag("--ids", args->ids_only, "Print only the ids, on one line");
  command->add_option("--pre-fallback", args->pre_fallback,
                      "Pre-tokenizer to use when the model's tokenizer.ggml.pre is missing or "
                      "unsupported (gpt-2, llama-bpe, qwen2)");
  command->callback([args] { run_tokenize(*args); });
});

}  // namespace

}  // namespace hllm::tools
