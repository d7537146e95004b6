#include "util/strings.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sas {
namespace {

TEST(StringsTest, HexEncode) {
  EXPECT_EQ(HexEncode(""), "");
  EXPECT_EQ(HexEncode(std::string("\x00\x01\xab\xff", 4)), "0001abff");
  EXPECT_EQ(HexEncode("abc"), "616263");
}

TEST(StringsTest, ToLowerTouchesAsciiOnly) {
  EXPECT_EQ(ToLower("MiXeD-Case_09"), "mixed-case_09");
  EXPECT_EQ(ToLower("\xc3\x84"), "\xc3\x84");
}

TEST(StringsTest, PrintableTextReplacesAndCutsAtACharacter) {
  EXPECT_EQ(PrintableText("ok \xC3\xA9", 100), "ok \xC3\xA9");
  EXPECT_EQ(PrintableText(std::string("a\0b\x7F", 4), 100),
            "a\xEF\xBF\xBD"
            "b\xEF\xBF\xBD");
  EXPECT_EQ(PrintableText("x\xFFy", 100), "x\xEF\xBF\xBDy");
  // "é" is two bytes: a cut at 4 keeps "abc", never half of it.
  EXPECT_EQ(PrintableText("abc\xC3\xA9", 4), "abc");
}

TEST(StringsTest, Trim) {
  EXPECT_EQ(Trim("  a b \t\r\n"), "a b");
  EXPECT_EQ(Trim("\n\n"), "");
  EXPECT_EQ(Trim(""), "");
  EXPECT_EQ(Trim("x"), "x");
}

TEST(StringsTest, StartsWith) {
  EXPECT_TRUE(StartsWith("x-acs-date", "x-acs-"));
  EXPECT_TRUE(StartsWith("abc", ""));
  EXPECT_FALSE(StartsWith("ab", "abc"));
  EXPECT_FALSE(StartsWith("xabc", "abc"));
}

TEST(StringsTest, SplitKeepsEmptyParts) {
  EXPECT_EQ(Split("a,b,c", ','), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(Split(",a,,", ','), (std::vector<std::string>{"", "a", "", ""}));
  EXPECT_EQ(Split("", ','), (std::vector<std::string>{""}));
}

TEST(StringsTest, EditDistance) {
  EXPECT_EQ(EditDistance("", ""), 0u);
  EXPECT_EQ(EditDistance("abc", ""), 3u);
  EXPECT_EQ(EditDistance("", "abc"), 3u);
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3u);
  EXPECT_EQ(EditDistance("region", "regoin"), 2u);
  EXPECT_EQ(EditDistance("same", "same"), 0u);
}

TEST(StringsTest, NearestWordFindsCloseCandidate) {
  std::vector<std::string_view> keys = {"poll_interval", "concurrency",
                                        "request_timeout", "max_retries"};
  EXPECT_EQ(NearestWord("pol_interval", keys), "poll_interval");
  EXPECT_EQ(NearestWord("Concurrency", keys), "concurrency");
  EXPECT_EQ(NearestWord("max_retry", keys), "max_retries");
}

TEST(StringsTest, NearestWordGivesUpWhenNothingIsClose) {
  std::vector<std::string_view> keys = {"poll_interval", "concurrency"};
  EXPECT_EQ(NearestWord("zzz", keys), "");
  EXPECT_EQ(NearestWord("timeout", keys), "");
  EXPECT_EQ(NearestWord("x", {}), "");
}

TEST(StringsTest, NearestWordPrefersTheClosest) {
  EXPECT_EQ(NearestWord("prd", {"staging", "prod", "prod2"}), "prod");
}

TEST(StringsTest, AppendJsonStringEscapes) {
  std::string out = "x=";
  AppendJsonString(out, "a\"b\\c\nd\re\tf");
  EXPECT_EQ(out, R"(x="a\"b\\c\nd\re\tf")");

  out.clear();
  AppendJsonString(out, std::string("\x01\x1f\x00", 3));
  EXPECT_EQ(out, R"("\u0001\u001f\u0000")");

  out.clear();
  AppendJsonString(out, "caf\xc3\xa9 / <ok>");
  EXPECT_EQ(out, "\"caf\xc3\xa9 / <ok>\"");
}

TEST(StringsTest, AppendQuotedEscapesInvalidUtf8AndDel) {
  std::string out;
  AppendQuoted(out, "a\xff\x7f\x01\xc3\xa9\xc3", QuoteStyle::kLogfmt);
  EXPECT_EQ(out, "\"a\\xff\\x7f\\x01\xc3\xa9\\xc3\"");
  out.clear();
  AppendQuoted(out, "a\xff\x7f\x01\xc3\xa9\xc3", QuoteStyle::kJson);
  EXPECT_EQ(out, "\"a\\\\xff\\u007f\\u0001\xc3\xa9\\\\xc3\"");
}

TEST(StringsTest, ValidatesUtf8) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80"));
  for (const char* bad :
       {"\xff", "\xc3", "\xc0\x80", "\xe0\x80\x80", "\xed\xa0\x80",
        "\xf4\x90\x80\x80", "\xf0\x9f\x98", "\x80"}) {
    EXPECT_FALSE(IsValidUtf8(bad)) << bad;
  }
}

TEST(StringsTest, UnprintableTextProblemSaysWhatAndWhere) {
  EXPECT_EQ(UnprintableTextProblem("nightly caf\xc3\xa9"), "");
  EXPECT_EQ(UnprintableTextProblem(std::string("ab\0c", 4)),
            "contains control character U+0000 at byte 2");
  EXPECT_EQ(UnprintableTextProblem("a\nb"),
            "contains control character U+000A at byte 1");
  EXPECT_EQ(UnprintableTextProblem("a\x7f"),
            "contains control character U+007F at byte 1");
  EXPECT_EQ(UnprintableTextProblem("ok\xff"),
            "is not valid UTF-8 (byte 0xFF at byte 2)");
}

TEST(StringsTest, HtmlEscape) {
  EXPECT_EQ(HtmlEscape(R"(<a href="x">'&'</a>)"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  EXPECT_EQ(HtmlEscape("plain"), "plain");
}

TEST(StringsTest, PercentDecodeDecodesEscapesOfEitherCase) {
  std::string out;
  ASSERT_TRUE(PercentDecode("demo%2F7031", &out));
  EXPECT_EQ(out, "demo/7031");
  ASSERT_TRUE(PercentDecode("caf%c3%A9+x", &out));
  EXPECT_EQ(out, "caf\xc3\xa9+x");
  ASSERT_TRUE(PercentDecode("%00", &out));
  EXPECT_EQ(out, std::string(1, '\0'));
  ASSERT_TRUE(PercentDecode("", &out));
  EXPECT_EQ(out, "");
  ASSERT_TRUE(PercentDecode("%FF%FE", &out));
  EXPECT_EQ(out, "\xff\xfe");
}

TEST(StringsTest, PercentDecodeRejectsMalformedEscapes) {
  std::string out;
  EXPECT_FALSE(PercentDecode("%", &out));
  EXPECT_FALSE(PercentDecode("a%2", &out));
  EXPECT_FALSE(PercentDecode("%G0", &out));
  EXPECT_FALSE(PercentDecode("%0g", &out));
  EXPECT_FALSE(PercentDecode("100%", &out));
  EXPECT_FALSE(PercentDecode("%%41", &out));
}

TEST(StringsTest, IsValidUtf8) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_TRUE(IsValidUtf8("\xf4\x8f\xbf\xbf"));  // U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xff\xfe"));
  EXPECT_FALSE(IsValidUtf8("\x80"));              // lone continuation
  EXPECT_FALSE(IsValidUtf8("\xc3"));              // truncated
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\xaf"));      // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate U+D800
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));          // truncated
}

TEST(StringsTest, JsonStringEndSkipsEscapes) {
  constexpr std::string_view kText = R"({"a\"]": 1})";
  EXPECT_EQ(JsonStringEnd(kText, 1), 6u);
  EXPECT_EQ(JsonStringEnd(R"("open)", 0), 5u);
  EXPECT_EQ(JsonStringEnd(R"("ends in \")", 0), 11u);
}

}  // namespace
}  // namespace sas
