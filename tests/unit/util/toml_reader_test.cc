#include "util/toml_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

namespace sas {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

class TomlReaderTest : public ::testing::Test {
 protected:
  TomlReader Reader(TomlReader::Wording wording) {
    return TomlReader("t.toml", wording, [this](Diagnostic diagnostic) {
      messages_.push_back(diagnostic.ToString());
    });
  }

  std::vector<std::string> messages_;
};

TEST_F(TomlReaderTest, WordingsNameTheKeyAndTheTypes) {
  for (auto wording :
       {TomlReader::Wording::kKeyPath, TomlReader::Wording::kQuotedKey}) {
    TomlReader reader = Reader(wording);
    std::optional<toml::table> root = reader.Parse("[a]\nn = \"1\"\n");
    ASSERT_TRUE(root);
    const toml::table& a = *(*root)["a"].as_table();
    EXPECT_EQ(reader.Integer(TomlReader::Get(a, "a", "n")), std::nullopt);
    EXPECT_EQ(reader.Integer(TomlReader::Get(a, "a", "absent")), std::nullopt);
    EXPECT_TRUE(reader.has_errors());
  }
  EXPECT_THAT(messages_,
              ElementsAre("t.toml:2:5: a.n: expected integer, found string; "
                          "write it without quotes",
                          "t.toml:2:5: \"a.n\" must be an integer, not a "
                          "string"));
}

TEST_F(TomlReaderTest, ArrayElementsCountFromOneInKeyPaths) {
  TomlReader reader = Reader(TomlReader::Wording::kKeyPath);
  std::optional<toml::table> root = reader.Parse("x = [\"a\", 2]\n");
  ASSERT_TRUE(root);
  auto strings = reader.StringArray(TomlReader::Get(*root, "", "x"));
  ASSERT_TRUE(strings);
  ASSERT_EQ(strings->size(), 1u);
  EXPECT_EQ((*strings)[0].value, "a");
  EXPECT_EQ((*strings)[0].position.column, 6);
  EXPECT_THAT(messages_, ElementsAre("t.toml:1:11: x[2]: expected a string, "
                                     "found integer"));
}

TEST_F(TomlReaderTest, UnknownKeysSuggestTheNearest) {
  TomlReader reader = Reader(TomlReader::Wording::kKeyPath);
  std::optional<toml::table> root = reader.Parse("duraton = 1\nzzz = 2\n");
  ASSERT_TRUE(root);
  constexpr std::string_view kAllowed[] = {"duration", "name"};
  reader.CheckKeys(*root, "", kAllowed);
  EXPECT_THAT(messages_,
              ElementsAre("t.toml:1:1: duraton: unknown key; did you mean "
                          "\"duration\"?",
                          "t.toml:2:1: zzz: unknown key; valid keys here: "
                          "\"duration\", \"name\""));
}

TEST_F(TomlReaderTest, DurationBounds) {
  TomlReader reader = Reader(TomlReader::Wording::kQuotedKey);
  std::optional<toml::table> root =
      reader.Parse("a = \"90s\"\nb = \"2h\"\nc = \"1x\"\n");
  ASSERT_TRUE(root);
  EXPECT_EQ(reader.Duration(TomlReader::Get(*root, "", "a"), Millis(0),
                            Millis(3'600'000)),
            Millis(90'000));
  EXPECT_THAT(messages_, IsEmpty());
  EXPECT_EQ(reader.Duration(TomlReader::Get(*root, "", "b"), Millis(0),
                            Millis(3'600'000)),
            std::nullopt);
  EXPECT_EQ(reader.Duration(TomlReader::Get(*root, "", "c")), std::nullopt);
  EXPECT_THAT(messages_,
              ElementsAre("t.toml:2:5: \"b\" must be at most 1h, not 2h",
                          "t.toml:3:5: \"c\": bad duration \"1x\" (use "
                          "<number><unit> groups with units ms, s, m, h, e.g. "
                          "\"1m30s\")"));
}

TEST_F(TomlReaderTest, SyntaxErrorsArePositioned) {
  TomlReader reader = Reader(TomlReader::Wording::kKeyPath);
  EXPECT_FALSE(reader.Parse("a = = 1\n"));
  ASSERT_EQ(messages_.size(), 1u);
  EXPECT_THAT(messages_[0], ::testing::StartsWith("t.toml:1:"));
  EXPECT_THAT(messages_[0], ::testing::HasSubstr("invalid TOML"));
}

}  // namespace
}  // namespace sas
