#include "util/gzip_member.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/gzip.h"

namespace sas::gzip {
namespace {

using testing::Gunzip;

// Text that compresses the way the exposition does, with a little variety
// so that the compressor emits real Huffman blocks.
std::string Lines(size_t bytes) {
  std::string text;
  for (int i = 0; text.size() < bytes; ++i) {
    text += "aliyun_sas_export_up{account=\"prod\",export_id=\"" +
            std::to_string(i * 7919 % 100003) + "\"} " + std::to_string(i % 2) +
            "\n";
  }
  text.resize(bytes);
  return text;
}

TEST(GzipMember, EmptyMemberIsValidAndEmpty) {
  MemberWriter member;
  EXPECT_EQ(Gunzip(member.Finish()), std::optional<std::string>(""));
  EXPECT_EQ(Gunzip(Compress("")), std::optional<std::string>(""));
}

TEST(GzipMember, OnePieceRoundTripsAtSizesAroundTheWindowAndBlocks) {
  // Around deflate's 32 KiB window, zlib's 16 KiB literal buffer at level 1
  // (a block ends there) and 64 KiB.
  for (size_t size : {1ul, 2ul, 255ul, 16383ul, 16384ul, 16385ul, 32767ul,
                      32768ul, 32769ul, 65535ul, 65536ul, 65537ul, 300000ul}) {
    std::string text = Lines(size);
    EXPECT_EQ(Gunzip(Compress(text)), text) << size;
  }
}

TEST(GzipMember, PiecesFromDifferentDeflatersJoinInOrder) {
  std::string text = Lines(200000);
  // Cut points on and around the window size, and an empty piece.
  std::vector<size_t> cuts = {0, 1, 1, 32768, 32769, 65536, 100000, 200000};
  PieceDeflater first, second;
  MemberWriter member;
  for (size_t i = 0; i + 1 < cuts.size(); ++i) {
    std::string_view piece(text.data() + cuts[i], cuts[i + 1] - cuts[i]);
    member.Append((i % 2 == 0 ? first : second).Deflate(piece));
  }
  EXPECT_EQ(member.text_size(), text.size());
  EXPECT_EQ(Gunzip(member.Finish()), text);
}

TEST(GzipMember, APieceKeptFromEarlierJoinsALaterMember) {
  PieceDeflater deflater;
  DeflatedPiece kept = deflater.Deflate(Lines(50000));
  for (int round = 0; round < 3; ++round) {
    std::string fresh = Lines(1000 + static_cast<size_t>(round) * 777);
    MemberWriter member;
    member.Append(deflater.Deflate(fresh));
    member.Append(kept);
    member.Append(deflater.Deflate(fresh));
    EXPECT_EQ(Gunzip(member.Finish()), fresh + Lines(50000) + fresh);
  }
}

TEST(GzipMember, CorruptedTrailerIsRefusedByInflate) {
  std::string packed = Compress(Lines(1000));
  packed[packed.size() - 5] ^= 1;  // a bit of the CRC-32
  EXPECT_EQ(Gunzip(packed), std::nullopt);
}

}  // namespace
}  // namespace sas::gzip
