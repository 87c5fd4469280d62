// Tokenizer pieces on small vocabularies built in memory, so each rule can be checked alone.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "text/byte_alphabet.h"
#include "text/pre_tokenizer.h"
#include "text/stream_decoder.h"
#include "text/tokenizer.h"
#include "text/utf8.h"
#include "util/error.h"

namespace hllm {
namespace {

using Ids = std::vector<int32_t>;

// A byte-level BPE vocabulary: ids 0-255 are the byte alphabet characters of bytes 0-255, then
// the extra tokens in order.
Vocabulary bpe_vocabulary(const std::vector<std::string>& extra,
                          const std::vector<std::string>& merges, const std::string& pre) {
  Vocabulary vocabulary;
  vocabulary.kind = VocabularyKind::BYTE_LEVEL_BPE;
  for (int byte = 0; byte < 256; ++byte) {
    vocabulary.tokens.push_back(text::byte_to_alphabet(static_cast<uint8_t>(byte)));
  }
  for (const auto& token : extra)
    vocabulary.tokens.push_back(token);
  vocabulary.types.assign(vocabulary.tokens.size(), TokenType::NORMAL);
  vocabulary.merges = merges;
  vocabulary.pre = pre;
  return vocabulary;
}

// Appends a control token and returns its id.
int32_t add_control(Vocabulary& vocabulary, const std::string& text, TokenType type) {
  vocabulary.tokens.push_back(text);
  vocabulary.types.push_back(type);
  if (!vocabulary.scores.empty()) vocabulary.scores.push_back(0.0f);
  return static_cast<int32_t>(vocabulary.tokens.size()) - 1;
}

// A SentencePiece vocabulary: <unk>, <s>, </s>, the 256 byte tokens (ids 3-258), then the
// given pieces with their scores.
Vocabulary spm_vocabulary(const std::vector<std::pair<std::string, float>>& pieces) {
  Vocabulary vocabulary;
  vocabulary.kind = VocabularyKind::SENTENCE_PIECE;
  vocabulary.tokens = {"<unk>", "<s>", "</s>"};
  vocabulary.types = {TokenType::UNKNOWN, TokenType::CONTROL, TokenType::CONTROL};
  vocabulary.scores = {0, 0, 0};
  for (int byte = 0; byte < 256; ++byte) {
    vocabulary.tokens.push_back(fmt::format("<0x{:02X}>", byte));
    vocabulary.types.push_back(TokenType::BYTE);
    vocabulary.scores.push_back(0);
  }
  for (const auto& [text, score] : pieces) {
    vocabulary.tokens.push_back(text);
    vocabulary.types.push_back(TokenType::NORMAL);
    vocabulary.scores.push_back(score);
  }
  vocabulary.unknown = 0;
  vocabulary.bos = 1;
  vocabulary.eos = 2;
  return vocabulary;
}

int32_t byte_token(int byte) {
  return 3 + byte;
}

const std::string kMarker = "\xE2\x96\x81";  // U+2581, SentencePiece's space

std::vector<std::string> split(const text::PreTokenizer& pre, std::string_view text) {
  std::vector<std::string> words;
  for (const auto word : pre.split(text))
    words.emplace_back(word);
  return words;
}

TEST(Utf8, CharLength) {
  EXPECT_EQ(text::utf8_char_length("a", 0), 1u);
  EXPECT_EQ(text::utf8_char_length("\xC3\xA9", 0), 2u);
  EXPECT_EQ(text::utf8_char_length("\xE2\x96\x81", 0), 3u);
  EXPECT_EQ(text::utf8_char_length("\xF0\x9F\x9A\x80", 0), 4u);
  EXPECT_EQ(text::utf8_char_length("\xC3", 0), 1u) << "cut short";
  EXPECT_EQ(text::utf8_char_length("\xC3"
                                   "A",
                                   0),
            1u)
      << "no continuation byte";
  EXPECT_EQ(text::utf8_char_length("\x80", 0), 1u) << "stray continuation byte";
  EXPECT_EQ(text::utf8_char_length("\xC0\x80", 0), 1u) << "overlong";
  EXPECT_EQ(text::utf8_char_length("\xED\xA0\x80", 0), 1u) << "surrogate";
}

TEST(Utf8, CompletePrefix) {
  EXPECT_EQ(text::utf8_complete_prefix(""), 0u);
  EXPECT_EQ(text::utf8_complete_prefix("ab"), 2u);
  EXPECT_EQ(text::utf8_complete_prefix("a\xF0\x9F\x9A"), 1u);
  EXPECT_EQ(text::utf8_complete_prefix("a\xF0\x9F\x9A\x80"), 5u);
  EXPECT_EQ(text::utf8_complete_prefix("a\xE2"), 1u);
  EXPECT_EQ(text::utf8_complete_prefix("a\x80"), 2u) << "an invalid byte is not held back";
  EXPECT_EQ(text::utf8_complete_prefix("a\xFF"), 2u);
}

TEST(ByteAlphabet, RoundTripsEveryByte) {
  std::string all;
  for (int byte = 0; byte < 256; ++byte)
    all += static_cast<char>(byte);
  const std::string encoded = text::bytes_to_alphabet(all);
  EXPECT_EQ(text::alphabet_to_bytes(encoded), all);
  EXPECT_EQ(text::byte_to_alphabet(' '), "\xC4\xA0");   // U+0120
  EXPECT_EQ(text::byte_to_alphabet('\n'), "\xC4\x8A");  // U+010A
  EXPECT_EQ(text::byte_to_alphabet('A'), "A");
  EXPECT_EQ(text::byte_to_alphabet(0xAD), "\xC5\x83");  // U+0143, the last remapped byte
}

TEST(PreTokenizer, Qwen2SplitsDigitsSingly) {
  const text::PreTokenizer pre("qwen2");
  const std::vector<std::string> expected = {"Hello", " world", " ", "1", "2", "3", "!!\n", "\t"};
  // Newlines stick to a run of punctuation before them.
  EXPECT_EQ(split(pre, "Hello world 123!!\n\t"), expected);
}

TEST(PreTokenizer, Llama3GroupsDigitsByThree) {
  const text::PreTokenizer pre("llama-bpe");
  EXPECT_TRUE(pre.ignore_merges());
  const std::vector<std::string> digits = {"123", "456", "7"};
  EXPECT_EQ(split(pre, "1234567"), digits);
}

TEST(PreTokenizer, ContractionsIgnoreCase) {
  const text::PreTokenizer pre("qwen2");
  const std::vector<std::string> expected = {"I", "'LL", " go", ",", " we", "'Ve"};
  EXPECT_EQ(split(pre, "I'LL go, we'Ve"), expected);
  // GPT-2's expression is case-sensitive, so the apostrophe becomes a word of its own.
  const text::PreTokenizer gpt2("gpt-2");
  const std::vector<std::string> gpt2_expected = {"I", "'", "LL", " go"};
  EXPECT_EQ(split(gpt2, "I'LL go"), gpt2_expected);
}

TEST(PreTokenizer, TrailingSpacesStayApart) {
  const text::PreTokenizer pre("qwen2");
  // \s+(?!\S) leaves the last space to prefix the next word.
  const std::vector<std::string> expected = {"a", "  ", " b", " \n\n"};
  EXPECT_EQ(split(pre, "a   b \n\n"), expected);
}

TEST(PreTokenizer, UnicodeLettersAndNumbers) {
  const text::PreTokenizer pre("gpt-2");
  const std::vector<std::string> expected = {"Äpfel", " нещо", " ½"};
  EXPECT_EQ(split(pre, "Äpfel нещо ½"), expected);
}

TEST(PreTokenizer, KeepsInvalidUtf8Bytes) {
  const text::PreTokenizer pre("qwen2");
  const std::string text = "ab\xFF\xFE cd\xC3";
  std::string joined;
  for (const auto word : pre.split(text))
    joined += word;
  EXPECT_EQ(joined, text);
}

TEST(PreTokenizer, UnknownNameIsNamed) {
  try {
    text::PreTokenizer pre("no-such-pre");
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'no-such-pre'"), std::string::npos) << e.what();
  }
}

TEST(BytePairEncoding, MergesByRank) {
  // "abc" with both merges: the lower rank decides which pair merges first.
  const Ids bc_first =
      Tokenizer::from_vocabulary(bpe_vocabulary({"bc", "ab"}, {"b c", "a b"}, "qwen2"))
          ->encode("abc", false, false);
  EXPECT_EQ(bc_first, (Ids{'a', 256}));
  const Ids ab_first =
      Tokenizer::from_vocabulary(bpe_vocabulary({"bc", "ab"}, {"a b", "b c"}, "qwen2"))
          ->encode("abc", false, false);
  EXPECT_EQ(ab_first, (Ids{257, 'c'}));
}

TEST(BytePairEncoding, EqualRanksMergeLeftmostFirst) {
  const auto tokenizer = Tokenizer::from_vocabulary(bpe_vocabulary({"aa"}, {"a a"}, "qwen2"));
  EXPECT_EQ(tokenizer->encode("aaa", false, false), (Ids{256, 'a'}));
  EXPECT_EQ(tokenizer->encode("aaaa", false, false), (Ids{256, 256}));
}

TEST(BytePairEncoding, MergesChain) {
  const auto tokenizer = Tokenizer::from_vocabulary(
      bpe_vocabulary({"he", "ll", "hell", "hello", "\xC4\xA0w"},
                     {"h e", "l l", "he ll", "hell o", "\xC4\xA0 w"}, "qwen2"));
  EXPECT_EQ(tokenizer->encode("hello wx", false, false), (Ids{259, 260, 'x'}));
  EXPECT_EQ(tokenizer->decode(Ids{259, 260, 'x'}), "hello wx");
}

TEST(BytePairEncoding, WordsDoNotMergeAcrossBoundaries) {
  // "a1" is a token, but the pre-tokenizer cuts letters from digits first.
  const auto tokenizer = Tokenizer::from_vocabulary(bpe_vocabulary({"a1"}, {"a 1"}, "qwen2"));
  EXPECT_EQ(tokenizer->encode("a1", false, false), (Ids{'a', '1'}));
}

TEST(BytePairEncoding, IgnoreMergesTakesWholeWords) {
  // Llama 3 maps a word that is a token to it even without a merge path.
  const Ids llama3 = Tokenizer::from_vocabulary(bpe_vocabulary({"abc"}, {}, "llama-bpe"))
                         ->encode("abc", false, false);
  EXPECT_EQ(llama3, (Ids{256}));
  const Ids qwen2 =
      Tokenizer::from_vocabulary(bpe_vocabulary({"abc"}, {}, "qwen2"))->encode("abc", false, false);
  EXPECT_EQ(qwen2, (Ids{'a', 'b', 'c'}));
}

TEST(BytePairEncoding, RoundTripsInvalidUtf8) {
  const auto tokenizer = Tokenizer::from_vocabulary(bpe_vocabulary({}, {}, "qwen2"));
  const std::string text = "x\xFF\xC3 \xE2\x96\n\x80";
  EXPECT_EQ(tokenizer->decode(tokenizer->encode(text, false, false)), text);
}

TEST(BytePairEncoding, UnknownPreNeedsFallback) {
  try {
    Tokenizer::from_vocabulary(bpe_vocabulary({}, {}, "bogus-pre"));
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'bogus-pre'"), std::string::npos) << e.what();
  }
  TokenizerOptions options;
  options.pre_fallback = "gpt-2";
  const auto tokenizer = Tokenizer::from_vocabulary(bpe_vocabulary({}, {}, "bogus-pre"), options);
  EXPECT_EQ(tokenizer->pre_tokenizer(), "gpt-2");
  EXPECT_EQ(tokenizer->encode("hi", false, false), (Ids{'h', 'i'}));
}

TEST(BytePairEncoding, MalformedMergeIsAnError) {
  EXPECT_THROW(Tokenizer::from_vocabulary(bpe_vocabulary({}, {"ab"}, "qwen2")), Error);
}

TEST(BytePairEncoding, NoBosByDefault) {
  Vocabulary vocabulary = bpe_vocabulary({}, {}, "qwen2");
  vocabulary.bos = add_control(vocabulary, "<|endoftext|>", TokenType::CONTROL);
  const auto tokenizer = Tokenizer::from_vocabulary(vocabulary);
  EXPECT_FALSE(tokenizer->add_bos());
  EXPECT_EQ(tokenizer->encode("a", true, false), (Ids{'a'}));

  vocabulary.add_bos = true;
  const auto with_bos = Tokenizer::from_vocabulary(vocabulary);
  EXPECT_EQ(with_bos->encode("a", true, false), (Ids{vocabulary.bos, 'a'}));
}

TEST(SpecialTokens, ParsedOnlyWhenAsked) {
  Vocabulary vocabulary = bpe_vocabulary({}, {}, "qwen2");
  const int32_t start = add_control(vocabulary, "<|im_start|>", TokenType::CONTROL);
  const int32_t end = add_control(vocabulary, "<|im_end|>", TokenType::CONTROL);
  const int32_t think = add_control(vocabulary, "<think>", TokenType::USER_DEFINED);
  const auto tokenizer = Tokenizer::from_vocabulary(vocabulary);

  const std::string text = "<|im_start|>a<think><|im_end|>";
  EXPECT_EQ(tokenizer->encode(text, false, true), (Ids{start, 'a', think, end}));
  const Ids plain = tokenizer->encode(text, false, false);
  for (const int32_t id : plain)
    EXPECT_LT(id, 256) << "special token from plain text";
  EXPECT_EQ(tokenizer->decode(plain), text);

  // Control tokens render only on request; user-defined tokens are text.
  EXPECT_EQ(tokenizer->decode(Ids{start, 'a', think, end}), "a<think>");
  EXPECT_EQ(tokenizer->decode(Ids{start, 'a', think, end}, true), text);
}

TEST(SpecialTokens, LongestMatchWins) {
  Vocabulary vocabulary = bpe_vocabulary({}, {}, "qwen2");
  const int32_t short_token = add_control(vocabulary, "<a>", TokenType::CONTROL);
  const int32_t long_token = add_control(vocabulary, "<a><b>", TokenType::CONTROL);
  const auto tokenizer = Tokenizer::from_vocabulary(vocabulary);
  EXPECT_EQ(tokenizer->encode("<a><b><a>", false, true), (Ids{long_token, short_token}));
}

TEST(SpecialTokens, EndOfGeneration) {
  Vocabulary vocabulary = bpe_vocabulary({}, {}, "qwen2");
  const int32_t start = add_control(vocabulary, "<|im_start|>", TokenType::CONTROL);
  const int32_t im_end = add_control(vocabulary, "<|im_end|>", TokenType::CONTROL);
  const int32_t eot_id = add_control(vocabulary, "<|eot_id|>", TokenType::CONTROL);
  const int32_t custom = add_control(vocabulary, "<stop>", TokenType::CONTROL);
  vocabulary.eot = custom;
  const auto tokenizer = Tokenizer::from_vocabulary(vocabulary);
  EXPECT_TRUE(tokenizer->is_end_of_generation(im_end));
  EXPECT_TRUE(tokenizer->is_end_of_generation(eot_id));
  EXPECT_TRUE(tokenizer->is_end_of_generation(custom));
  EXPECT_FALSE(tokenizer->is_end_of_generation(start));
  EXPECT_FALSE(tokenizer->is_end_of_generation('a'));
  EXPECT_FALSE(tokenizer->is_end_of_generation(-1));
}

TEST(SentencePiece, HigherScoreMergesFirst) {
  const auto bc_first = Tokenizer::from_vocabulary(
      spm_vocabulary({{kMarker, -1}, {"a", -2}, {"b", -2}, {"c", -2}, {"ab", -5}, {"bc", -3}}));
  const int32_t base = 259;
  EXPECT_EQ(bc_first->encode("abc", false, false), (Ids{base, base + 1, base + 5}));
  const auto ab_first = Tokenizer::from_vocabulary(
      spm_vocabulary({{kMarker, -1}, {"a", -2}, {"b", -2}, {"c", -2}, {"ab", -3}, {"bc", -5}}));
  EXPECT_EQ(ab_first->encode("abc", false, false), (Ids{base, base + 4, base + 3}));
}

TEST(SentencePiece, SpacePrefixAndBos) {
  const auto tokenizer = Tokenizer::from_vocabulary(spm_vocabulary(
      {{kMarker + "hi", -1}, {kMarker, -2}, {"h", -3}, {"i", -3}, {kMarker + "h", -2}}));
  const int32_t hi = 259;
  const int32_t space = 260;
  EXPECT_TRUE(tokenizer->add_bos());
  EXPECT_EQ(tokenizer->encode("hi hi", true, false), (Ids{1, hi, hi}));
  EXPECT_EQ(tokenizer->encode("", true, false), (Ids{1}));
  EXPECT_EQ(tokenizer->encode("", false, false), (Ids{}));
  EXPECT_EQ(tokenizer->encode(" ", false, false), (Ids{space, space}));
  // Decoding removes the one space that encoding added, after a leading BOS.
  EXPECT_EQ(tokenizer->decode(Ids{1, hi, hi}), "hi hi");
  EXPECT_EQ(tokenizer->decode(Ids{space, space}), " ");
  EXPECT_EQ(tokenizer->token_piece(hi), " hi");
}

TEST(SentencePiece, ByteFallback) {
  const auto tokenizer = Tokenizer::from_vocabulary(spm_vocabulary({{kMarker, -1}}));
  const Ids ids = tokenizer->encode("\xC3\xA9", false, false);  // é is not a piece
  EXPECT_EQ(ids, (Ids{259, byte_token(0xC3), byte_token(0xA9)}));
  EXPECT_EQ(tokenizer->decode(ids), "\xC3\xA9");
  const std::string invalid = "\xFF\xC3 x";
  EXPECT_EQ(tokenizer->decode(tokenizer->encode(invalid, false, false)), invalid);
}

TEST(SentencePiece, SpecialTokenResetsSpacePrefix) {
  const auto tokenizer =
      Tokenizer::from_vocabulary(spm_vocabulary({{kMarker + "a", -1}, {kMarker, -2}, {"a", -3}}));
  const int32_t space_a = 259;
  const int32_t a = 261;
  // As in llama.cpp, plain text after a parsed special token gets the space prefix again.
  EXPECT_EQ(tokenizer->encode("a</s>a", false, true), (Ids{space_a, 2, space_a}));
  EXPECT_EQ(tokenizer->encode("a</s>a", false, false).back(), a);
}

TEST(SentencePiece, MissingBosIsAnError) {
  Vocabulary vocabulary = spm_vocabulary({});
  vocabulary.bos = -1;
  EXPECT_THROW(Tokenizer::from_vocabulary(vocabulary), Error);
  vocabulary.add_bos = false;
  EXPECT_NO_THROW(Tokenizer::from_vocabulary(vocabulary));
}

TEST(StreamDecoder, HoldsSplitCharacter) {
  const auto tokenizer = Tokenizer::from_vocabulary(spm_vocabulary({{kMarker, -1}, {"a", -1}}));
  StreamDecoder stream(*tokenizer);
  EXPECT_EQ(stream.push(260), "a");
  // U+1F680 (four bytes) arrives one byte token at a time.
  EXPECT_EQ(stream.push(byte_token(0xF0)), "");
  EXPECT_EQ(stream.push(byte_token(0x9F)), "");
  EXPECT_EQ(stream.push(byte_token(0x9A)), "");
  EXPECT_EQ(stream.push(byte_token(0x80)), "\xF0\x9F\x9A\x80");
  EXPECT_EQ(stream.push(1), "") << "BOS renders as nothing";
  EXPECT_EQ(stream.push(byte_token(0xC3)), "");
  EXPECT_EQ(stream.flush(), "\xC3") << "flush releases an unfinished character";
  EXPECT_EQ(stream.flush(), "");
}

TEST(StreamDecoder, ReleasesInvalidBytes) {
  const auto tokenizer = Tokenizer::from_vocabulary(spm_vocabulary({{kMarker, -1}, {"a", -1}}));
  StreamDecoder stream(*tokenizer);
  EXPECT_EQ(stream.push(byte_token(0xC3)), "");
  // The lead byte is followed by a non-continuation byte, so neither can become a character.
  EXPECT_EQ(stream.push(260),
            "\xC3"
            "a");
}

TEST(Tokenizer, RejectsOutOfRangeIds) {
  const auto tokenizer = Tokenizer::from_vocabulary(bpe_vocabulary({}, {}, "qwen2"));
  EXPECT_THROW(tokenizer->token_piece(256), Error);
  EXPECT_THROW(tokenizer->token_piece(-1), Error);
  const Ids bad = {5, 1000};
  EXPECT_THROW(tokenizer->decode(bad), Error);
}

}  // namespace
}  // namespace hllm
