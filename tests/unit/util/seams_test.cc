#include <gtest/gtest.h>

#include <set>

#include "support/map_environment.h"
#include "support/memory_file_system.h"
#include "util/environment.h"
#include "util/file_system.h"
#include "util/nonce.h"

namespace sas {
namespace {

using ::sas::testing::MapEnvironment;
using ::sas::testing::MemoryFileSystem;

TEST(EnvironmentTest, MapEnvironment) {
  MapEnvironment env({{"A", "1"}, {"EMPTY", ""}});
  EXPECT_EQ(env.Get("A"), "1");
  EXPECT_EQ(env.Get("EMPTY"), "");
  EXPECT_EQ(env.Get("B"), std::nullopt);
  env.Set("B", "2");
  EXPECT_EQ(env.Get("B"), "2");
}

TEST(FileSystemTest, MemoryFileSystem) {
  MemoryFileSystem files;
  files.Add("/a", "content");
  files.Add("/b", "shared", /*readable_by_others=*/true);
  FileReadResult a = files.ReadFile("/a");
  EXPECT_TRUE(a.ok);
  EXPECT_EQ(a.content, "content");
  EXPECT_FALSE(files.IsReadableByOthers("/a"));
  EXPECT_TRUE(files.IsReadableByOthers("/b"));

  FileReadResult missing = files.ReadFile("/missing");
  EXPECT_FALSE(missing.ok);
  EXPECT_EQ(missing.error, "No such file or directory");
  EXPECT_FALSE(files.IsReadableByOthers("/missing"));

  FileReadResult big = files.ReadFile("/a", 3);
  EXPECT_FALSE(big.ok);
  EXPECT_EQ(big.error, "larger than 3 bytes");
}

TEST(FileSystemTest, LocalFileSystemReportsMissingFile) {
  FileReadResult result =
      LocalFileSystem().ReadFile("/nonexistent/aliyun_sas_exporter/x");
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error, "No such file or directory");
}

TEST(FileSystemTest, LocalFileSystemRefusesDirectory) {
  FileReadResult result = LocalFileSystem().ReadFile("/");
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error, "is a directory");
}

}  // namespace
}  // namespace sas

namespace sas {
namespace {

TEST(RandomNonceSource, GivesUniqueHexNonces) {
  auto first = MakeRandomNonceSource();
  auto second = MakeRandomNonceSource();
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) {
    std::string nonce = first->Next();
    ASSERT_EQ(nonce.size(), 32u);
    ASSERT_EQ(nonce.find_first_not_of("0123456789abcdef"), std::string::npos);
    ASSERT_TRUE(seen.insert(nonce).second) << nonce;
  }
  // Another source (another process, after a restart) starts elsewhere.
  EXPECT_FALSE(seen.contains(second->Next()));
}

}  // namespace
}  // namespace sas
