#include "util/gzip_member.h"

#include <zlib.h>

#include <algorithm>
#include <stdexcept>

namespace sas::gzip {

struct PieceDeflater::State {
  z_stream stream{};
};

PieceDeflater::PieceDeflater() : state_(std::make_unique<State>()) {
  // -15: raw deflate, no zlib or gzip wrapper (MemberWriter writes it).
  if (deflateInit2(&state_->stream, 1, Z_DEFLATED, -15, 8,
                   Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("deflateInit2 failed");
  }
}

PieceDeflater::~PieceDeflater() { deflateEnd(&state_->stream); }

DeflatedPiece PieceDeflater::Deflate(std::string_view text) {
  DeflatedPiece piece;
  piece.size = text.size();
  piece.crc = static_cast<uint32_t>(crc32(0, nullptr, 0));
  if (text.empty()) return piece;
  z_stream& stream = state_->stream;
  // A fresh window: the piece refers to nothing before it.
  deflateReset(&stream);
  // deflateBound covers a finished stream; a sync flush adds at most an
  // empty stored block (5 bytes) and the bits of a partial byte.
  piece.deflated.resize(deflateBound(&stream, text.size()) + 16);
  const auto* in = reinterpret_cast<const Bytef*>(text.data());
  size_t consumed = 0;
  stream.next_out = reinterpret_cast<Bytef*>(piece.deflated.data());
  stream.avail_out = static_cast<uInt>(piece.deflated.size());
  // avail_in is 32 bits wide: feed texts of 4 GiB and more in parts.
  constexpr size_t kMaxFeed = 1u << 30;
  while (consumed < text.size()) {
    size_t feed = std::min(kMaxFeed, text.size() - consumed);
    stream.next_in = const_cast<Bytef*>(in + consumed);
    stream.avail_in = static_cast<uInt>(feed);
    bool last = consumed + feed == text.size();
    // Z_SYNC_FLUSH ends on a byte boundary without a final block.
    if (deflate(&stream, last ? Z_SYNC_FLUSH : Z_NO_FLUSH) == Z_STREAM_ERROR ||
        stream.avail_in != 0) {
      throw std::runtime_error("deflate failed");
    }
    consumed += feed;
  }
  piece.deflated.resize(piece.deflated.size() - stream.avail_out);
  piece.deflated.shrink_to_fit();
  piece.crc =
      static_cast<uint32_t>(crc32_z(crc32(0, nullptr, 0), in, text.size()));
  return piece;
}

MemberWriter::MemberWriter()
    : crc_(static_cast<uint32_t>(crc32(0, nullptr, 0))) {
  // ID1 ID2, CM deflate, no flags, no modification time, XFL 0, OS unknown.
  out_ = std::string("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff", 10);
}

void MemberWriter::Append(const DeflatedPiece& piece) {
  if (piece.size == 0) return;
  out_ += piece.deflated;
  crc_ = static_cast<uint32_t>(
      crc32_combine(crc_, piece.crc, static_cast<z_off_t>(piece.size)));
  size_ += piece.size;
}

std::string MemberWriter::Finish() {
  // A final block with fixed Huffman codes and nothing but its end code:
  // BFINAL 1, BTYPE 01, end-of-block 0000000.
  out_ += std::string_view("\x03\x00", 2);
  auto append_le32 = [this](uint64_t value) {
    for (int i = 0; i < 4; ++i) {
      out_ += static_cast<char>((value >> (8 * i)) & 0xff);
    }
  };
  append_le32(crc_);
  append_le32(size_);  // ISIZE: the size modulo 2^32
  return std::move(out_);
}

std::string Compress(std::string_view text) {
  PieceDeflater deflater;
  MemberWriter member;
  member.Append(deflater.Deflate(text));
  return member.Finish();
}

}  // namespace sas::gzip
