#!/usr/bin/env bash
# Builds the GGUF fuzzer and the format tests with clang, AddressSanitizer and UBSan in a build
# folder of their own, runs the format tests under the sanitizers, then fuzzes the GGUF reader
# for a short time. Exits non-zero if anything fails.
#
# Usage: run_fuzz.sh SOURCE_DIR BUILD_DIR [SECONDS]
#   SOURCE_DIR  the project root
#   BUILD_DIR   the main build folder; the sanitizer build goes to BUILD_DIR/fuzz
#   SECONDS     fuzzing time (default 25)
set -euo pipefail

source_dir=$(cd "$1" && pwd)
build_dir=$2/fuzz
seconds=${3:-25}

for tool in clang clang++ cmake ninja; do
  if ! command -v "$tool" >/dev/null; then
    echo "error: $tool not found. The fuzz test needs clang with libFuzzer (libclang-rt-dev)." >&2
    exit 1
  fi
done

if [ ! -f "$build_dir/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S "$source_dir" -B "$build_dir" -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHLLM_FUZZ=ON -DHLLM_ASAN=ON \
    -DHLLM_BUILD_TESTS=ON -DHLLM_BUILD_BENCH=OFF
fi
cmake --build "$build_dir" --parallel 2 --target fuzz_gguf fuzz_gguf_seeds test_formats

# UBSan only prints by default, so halt to make undefined behaviour fail the run.
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0

echo "== format tests under AddressSanitizer and UBSan"
(cd "$source_dir" && "$build_dir/bin/test_formats" --gtest_brief=1)

echo "== fuzzing the GGUF reader for $seconds s"
seeds=$build_dir/gguf-seeds
corpus=$build_dir/gguf-corpus  # grows across runs with the inputs libFuzzer finds
rm -rf "$seeds"
mkdir -p "$seeds" "$corpus" "$build_dir/gguf-crashes"
"$build_dir/bin/fuzz_gguf_seeds" "$seeds"
# A single allocation over 64 MB from inputs of at most 4 KB would mean the reader trusts a
# count or length from the file.
"$build_dir/bin/fuzz_gguf" "$corpus" "$seeds" \
  -dict="$source_dir/src/fuzz/gguf.dict" \
  -max_total_time="$seconds" -max_len=4096 -timeout=10 \
  -malloc_limit_mb=64 -rss_limit_mb=2048 \
  -artifact_prefix="$build_dir/gguf-crashes/" -print_final_stats=1
