#!/usr/bin/env bash
# Generates text with hllm. With MODEL=path/to/file.gguf it runs that model; without it, it first
# writes a small Qwen3-Next-shaped model with RANDOM weights (hllm synth), whose text is
# meaningless: it shows the engine working, not a trained model. PROMPT and N override the prompt
# and the number of generated tokens.
set -euo pipefail
cd "$(dirname "$0")/.."

hllm=build/bin/hllm
model="${MODEL:-}"
if [ -z "$model" ]; then
  model=build/demo/qwen3next-random-q8_0.gguf
  if [ ! -f "$model" ]; then
    mkdir -p build/demo
    vocab_args=()
    # The real Qwen3 tokenizer when the fixtures are beside the checkout, else a byte vocabulary.
    if [ -f ../shared/fixtures/tokenizer/qwen3-vocab.gguf ]; then
      vocab_args=(--vocab-from ../shared/fixtures/tokenizer/qwen3-vocab.gguf)
    fi
    "$hllm" synth --arch qwen3next --preset qwen3next-80b-a3b --layers 4 --experts 16 \
      --hidden 512 "${vocab_args[@]}" --type q8_0 --seed 1 -o "$model"
  fi
  echo "note: $model has random weights, so its text is meaningless" >&2
fi
"$hllm" run -m "$model" -p "${PROMPT:-Once upon a time}" -n "${N:-32}"
echo
