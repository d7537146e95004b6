#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

// One gzip member (RFC 1952) assembled from pieces compressed separately, as
// pigz does: each piece is raw deflate data (RFC 1951) that starts with an
// empty window, ends on a byte boundary and has no final block, so pieces
// compressed at different times (a cached one from an earlier answer) or on
// different threads join into one valid member. zlib's inflate, `gzip -d`
// and Go's compress/gzip (Prometheus) read it as any other.
namespace sas::gzip {

struct DeflatedPiece {
  std::string deflated;  // empty for an empty text
  uint32_t crc = 0;      // CRC-32 of the text
  uint64_t size = 0;     // bytes of text
};

// Compresses pieces at zlib's fastest level. Not thread-safe: one per
// thread; keeps its zlib state (about 270 KiB) between pieces.
class PieceDeflater {
 public:
  PieceDeflater();
  ~PieceDeflater();
  PieceDeflater(const PieceDeflater&) = delete;
  PieceDeflater& operator=(const PieceDeflater&) = delete;

  DeflatedPiece Deflate(std::string_view text);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Joins pieces, in the order appended, into one member.
class MemberWriter {
 public:
  MemberWriter();
  void Append(const DeflatedPiece& piece);
  // The gzip header, the pieces, a final empty block and the trailer
  // (CRC-32 and size of the whole text). Call once.
  std::string Finish();
  // Bytes of text appended so far.
  uint64_t text_size() const { return size_; }

 private:
  std::string out_;
  uint32_t crc_;
  uint64_t size_ = 0;
};

// `text` as one gzip member, compressed as one piece.
std::string Compress(std::string_view text);

}  // namespace sas::gzip
