// GGUF writer: builds metadata and a tensor table, then writes a GGUF version 3 file that this
// reader and llama.cpp can load.
//
// Two ways to write:
//  - all at once: add every tensor with its data, then write(path) or serialize();
//  - streamed, for outputs too large for memory: declare every tensor without data, begin(path)
//    writes the header and tensor table, write_tensor_data(i, ...) writes each tensor's bytes (in
//    any order), and finish() checks that all were written and closes the file.
// Each tensor's data starts at a multiple of general.alignment (32 unless set) and is padded with
// zero bytes up to the next multiple. A file without tensors has no padding or data section.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "formats/ggml_type.h"
#include "formats/gguf.h"

namespace hllm {

class GgufWriter {
 public:
  GgufWriter() = default;
  // Closes and deletes an output file that begin() opened but finish() did not complete, so a
  // failed write leaves no file that looks whole.
  ~GgufWriter();
  GgufWriter(const GgufWriter&) = delete;
  GgufWriter& operator=(const GgufWriter&) = delete;
  GgufWriter(GgufWriter&& other) noexcept;
  GgufWriter& operator=(GgufWriter&& other) noexcept;

  // Sets a metadata value. A new key goes last, and a replaced key keeps its position. Throws for
  // an empty key or a value whose data does not match its type.
  void set(std::string_view key, GgufValue value);
  // Removes a key if present.
  void remove(std::string_view key);
  const GgufValue* find(std::string_view key) const;
  const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return metadata_; }
  // Copies every metadata entry of file, in its order, as set() would.
  void copy_metadata(const GgufFile& file);
  // Sets general.alignment (a uint32). Throws unless alignment is a power of two.
  void set_alignment(uint32_t alignment);
  // Returns general.alignment, or 32 when it is not set.
  size_t alignment() const;

  // Declares a tensor whose data write_tensor_data() supplies after begin(). ne lists the
  // dimensions fastest first. Returns the tensor's index. Throws for a duplicate or empty name, a
  // name of 64 bytes or more (llama.cpp's limit), 0 or more than 4 dimensions, a dimension below
  // 1, or a row length that is not a multiple of the type's block size.
  size_t add_tensor(std::string name, GgmlType type, const std::vector<int64_t>& ne);
  // Declares a tensor and keeps a copy of its data, which must be exactly tensor_bytes() long.
  size_t add_tensor(std::string name, GgmlType type, const std::vector<int64_t>& ne,
                    std::vector<uint8_t> data);
  // Declares a tensor whose data the caller keeps alive until the file is written (for example a
  // tensor in a mapped input file copied unchanged).
  size_t add_tensor_view(std::string name, GgmlType type, const std::vector<int64_t>& ne,
                         const void* data, size_t n_bytes);

  size_t tensor_count() const { return tensors_.size(); }
  // Returns a tensor's description. Its offset is final once every tensor is declared and the
  // alignment is set.
  const GgufTensorInfo& tensor(size_t index) const;
  // Returns the byte size of a tensor's data, without padding.
  uint64_t tensor_bytes(size_t index) const { return tensor(index).n_bytes; }

  // Writes the whole file. Every tensor must have data.
  void write(const std::string& path);
  // Returns the whole file image. Every tensor must have data.
  std::vector<uint8_t> serialize() const;

  // Opens path and writes the header, metadata and tensor table. Metadata and tensors cannot
  // change afterwards.
  void begin(const std::string& path);
  // Writes the data of tensor index, which must be exactly tensor_bytes(index) long.
  void write_tensor_data(size_t index, const void* data, size_t n_bytes);
  // Checks that every tensor's data was written, then flushes and closes the file.
  void finish();

 private:
  struct Tensor {
    GgufTensorInfo info;         // info.data is the data to write, or null until streamed
    std::vector<uint8_t> owned;  // the data when the writer keeps a copy
    bool written = false;
  };

  size_t declare(std::string name, GgmlType type, const std::vector<int64_t>& ne);
  // Assigns each tensor's offset in the data section for the current alignment.
  void assign_offsets();
  void check_not_begun(std::string_view action) const;
  void check_has_data() const;
  // Returns the header, metadata and tensor table, followed by the padding before the data when
  // there are tensors.
  std::vector<uint8_t> serialize_header() const;
  void write_bytes(uint64_t position, const void* data, size_t n_bytes);
  // Closes and deletes an unfinished output file.
  void discard_output();

  std::vector<std::pair<std::string, GgufValue>> metadata_;
  std::vector<Tensor> tensors_;
  std::string path_;
  std::FILE* file_ = nullptr;
  uint64_t data_offset_ = 0;
  bool begun_ = false;
};

}  // namespace hllm
