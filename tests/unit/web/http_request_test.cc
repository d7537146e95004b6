#include "web/http_request.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

#include "support/gzip.h"

namespace sas::web {
namespace {

using testing::Gzip;

using ::testing::HasSubstr;
using Result = RequestParser::Result;

std::string Chunked(const std::string& body, size_t chunk) {
  std::string out;
  char size[32];
  for (size_t i = 0; i < body.size(); i += chunk) {
    std::string part = body.substr(i, chunk);
    snprintf(size, sizeof(size), "%zx\r\n", part.size());
    out += size + part + "\r\n";
  }
  return out + "0\r\n\r\n";
}

// Feeds `text` in pieces of `step` bytes, as a slow client would.
Result FeedInSteps(RequestParser& parser, const std::string& text, size_t step,
                   std::string* rest = nullptr) {
  std::string input;
  Result result = Result::kIncomplete;
  for (size_t i = 0; i < text.size() && result == Result::kIncomplete;
       i += step) {
    input += text.substr(i, step);
    result = parser.Parse(&input);
  }
  if (rest) *rest = input;
  return result;
}

TEST(RequestParser, ReadsARequestSentOneByteAtATime) {
  RequestParser parser({});
  std::string text =
      "POST /api/v1/tasks?x=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n"
      "X-Two:  spaced value \r\n\r\nhello";
  ASSERT_EQ(FeedInSteps(parser, text, 1), Result::kComplete);
  const HttpRequest& request = parser.request();
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.path, "/api/v1/tasks");
  EXPECT_EQ(request.query, "x=1");
  EXPECT_EQ(request.body, "hello");
  ASSERT_NE(request.Header("x-two"), nullptr);
  EXPECT_EQ(*request.Header("x-two"), "spaced value");
  EXPECT_TRUE(request.KeepAlive());
}

TEST(RequestParser, LeavesAPipelinedRequestForTheNextParse) {
  RequestParser parser({});
  std::string input =
      "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.0\r\nConnection: "
      "keep-alive\r\n\r\n";
  ASSERT_EQ(parser.Parse(&input), Result::kComplete);
  EXPECT_EQ(parser.request().path, "/a");
  parser.Reset();
  ASSERT_EQ(parser.Parse(&input), Result::kComplete);
  EXPECT_EQ(parser.request().path, "/b");
  EXPECT_TRUE(parser.request().KeepAlive());
  EXPECT_TRUE(input.empty());
}

TEST(RequestParser, KeepsThePathEncodedSoAnEncodedSlashIsNoSeparator) {
  RequestParser parser({});
  std::string input = "DELETE /api/v1/tasks/demo%2F7031 HTTP/1.1\r\n\r\n";
  ASSERT_EQ(parser.Parse(&input), Result::kComplete);
  EXPECT_EQ(parser.request().path, "/api/v1/tasks/demo%2F7031");
}

struct Refusal {
  std::string name;
  std::string text;
  int status;
  std::string message;
};

class RequestParserRefuses : public ::testing::TestWithParam<Refusal> {};

TEST_P(RequestParserRefuses, WithTheRightStatus) {
  RequestParser parser({});
  std::string input = GetParam().text;
  ASSERT_EQ(parser.Parse(&input), Result::kError);
  EXPECT_EQ(parser.error().status, GetParam().status);
  EXPECT_THAT(parser.error().message, HasSubstr(GetParam().message));
}

INSTANTIATE_TEST_SUITE_P(
    Malformed, RequestParserRefuses,
    ::testing::Values(
        Refusal{"NoVersion", "GET /\r\n\r\n", 400, "request line"},
        Refusal{"Http2", "GET / HTTP/2.0\r\n\r\n", 505, "HTTP/1.0"},
        Refusal{"AbsoluteForm", "GET http://x/ HTTP/1.1\r\n\r\n", 400,
                "absolute path"},
        Refusal{"RawByteInTarget", "GET /\xff HTTP/1.1\r\n\r\n", 400,
                "percent-encoded"},
        Refusal{"FoldedHeader", "GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n", 400,
                "folded"},
        Refusal{"SpaceBeforeColon", "GET / HTTP/1.1\r\nA : b\r\n\r\n", 400,
                "malformed header"},
        Refusal{"NulInHeader",
                std::string("GET / HTTP/1.1\r\nA: b\0c\r\n\r\n", 27), 400,
                "control character"},
        Refusal{"BadLength", "POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n",
                400, "Content-Length"},
        Refusal{"TwoLengths",
                "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: "
                "2\r\n\r\n",
                400, "conflicting"},
        Refusal{"LengthAndChunked",
                "POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: "
                "chunked\r\n\r\n",
                400, "both"},
        Refusal{"UnknownTransfer",
                "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
                501, "chunked"},
        Refusal{"UnknownContentEncoding",
                "POST / HTTP/1.1\r\nContent-Encoding: br\r\nContent-Length: "
                "1\r\n\r\nx",
                415, "Content-Encoding"},
        Refusal{"LengthOverTheLimit",
                "POST / HTTP/1.1\r\nContent-Length: 10485760\r\n\r\n", 413,
                "64 KiB"},
        Refusal{"HugeChunk",
                "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                "fffffffffffffff\r\n",
                413, "64 KiB"},
        Refusal{"BadChunkSize",
                "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                400, "chunk size"}),
    [](const auto& info) { return info.param.name; });

TEST(RequestParser, RefusesTooManyHeaderFieldsBeforeTheHeadEnds) {
  RequestParser parser({});
  std::string head = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 101; ++i) head += "A: b\r\n";
  // No empty line yet: the count alone is enough to refuse.
  ASSERT_EQ(FeedInSteps(parser, head, 64), Result::kError);
  EXPECT_EQ(parser.error().status, 431);
  EXPECT_THAT(parser.error().message, HasSubstr("100"));
}

// Found by the web_request fuzz target: a head with a malformed request
// line and too many fields was refused 400 when it arrived at once and 431
// when it arrived in pieces.
TEST(RequestParser, TooManyFieldsIsTheVerdictHoweverTheHeadArrives) {
  HttpLimits limits;
  limits.max_header_count = 2;
  std::string head = "PUT /\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
  for (size_t step : {head.size(), size_t{1}, size_t{5}}) {
    RequestParser parser(limits);
    ASSERT_EQ(FeedInSteps(parser, head, step), Result::kError) << step;
    EXPECT_EQ(parser.error().status, 431) << step;
  }
  // At the limit the head is read, and the request line judged.
  head = "PUT /\r\nA: 1\r\nB: 2\r\n\r\n";
  for (size_t step : {head.size(), size_t{1}}) {
    RequestParser parser(limits);
    ASSERT_EQ(FeedInSteps(parser, head, step), Result::kError) << step;
    EXPECT_EQ(parser.error().status, 400) << step;
  }
}

// Found by the web_request fuzz target: trailers of exactly the limit were
// read when they arrived at once and refused when the CR of their empty
// line arrived alone. The empty line counts, whatever the pieces.
TEST(RequestParser, TrailersAtTheLimitHaveOneVerdictHoweverTheyArrive) {
  HttpLimits limits;
  limits.max_header_bytes = 64;
  const std::string head =
      "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n";
  // "T: <value>\r\n" then "\r\n": 62 + 2 bytes fit, 63 + 2 do not; 64
  // + 2 was read at once and refused when the CR came alone.
  for (auto [value, fits] : {std::pair{std::string(57, 'v'), true},
                             std::pair{std::string(58, 'v'), false},
                             std::pair{std::string(59, 'v'), false}}) {
    std::string text = head + "T: " + value + "\r\n\r\n";
    for (size_t step : {text.size(), size_t{1}}) {
      RequestParser parser(limits);
      Result result = FeedInSteps(parser, text, step);
      EXPECT_EQ(result, fits ? Result::kComplete : Result::kError)
          << value.size() << " in steps of " << step;
      if (!fits) {
        EXPECT_EQ(parser.error().status, 431);
      }
    }
  }
}

TEST(RequestParser, RefusesAHeadLargerThanTheLimitWithoutItsEnd) {
  RequestParser parser({});
  std::string head = "GET / HTTP/1.1\r\nA: " + std::string(40'000, 'x');
  std::string rest;
  ASSERT_EQ(FeedInSteps(parser, head, 4096, &rest), Result::kError);
  EXPECT_EQ(parser.error().status, 431);
  EXPECT_LE(rest.size(), 16u * 1024 + 4096);
}

TEST(RequestParser, DecodesAChunkedBodyWithinTheLimit) {
  RequestParser parser({});
  std::string body(60'000, 'b');
  std::string text = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" +
                     Chunked(body, 7'000);
  ASSERT_EQ(FeedInSteps(parser, text, 1'000), Result::kComplete);
  EXPECT_EQ(parser.request().body, body);
}

TEST(RequestParser, RefusesAChunkedBodyOverTheLimitWhileReading) {
  RequestParser parser({});
  // 10 MB in 1 KiB chunks: refused once the decoded body passes 64 KiB,
  // long before the end arrives.
  std::string head = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  std::string input = head;
  Result result = parser.Parse(&input);
  size_t sent = 0;
  std::string chunk = "400\r\n" + std::string(1024, 'x') + "\r\n";
  while (result == Result::kIncomplete && sent < 10'000'000) {
    input += chunk;
    sent += chunk.size();
    result = parser.Parse(&input);
  }
  ASSERT_EQ(result, Result::kError);
  EXPECT_EQ(parser.error().status, 413);
  EXPECT_LT(sent, 70'000u);
}

TEST(RequestParser, InflatesAGzipBody) {
  RequestParser parser({});
  std::string body = R"({"account": "prod", "export_id": 1})";
  std::string packed = Gzip(body);
  std::string input =
      "POST / HTTP/1.1\r\nContent-Encoding: gzip\r\n"
      "Content-Length: " +
      std::to_string(packed.size()) + "\r\n\r\n" + packed;
  ASSERT_EQ(parser.Parse(&input), Result::kComplete);
  EXPECT_EQ(parser.request().body, body);
}

TEST(RequestParser, RefusesAGzipBombOnceItsOutputPassesTheLimit) {
  RequestParser parser({});
  // 10 MB of zeros, about 10 KB compressed.
  std::string packed = Gzip(std::string(10'000'000, '0'));
  ASSERT_LT(packed.size(), 64u * 1024);
  std::string input =
      "POST / HTTP/1.1\r\nContent-Encoding: gzip\r\n"
      "Content-Length: " +
      std::to_string(packed.size()) + "\r\n\r\n" + packed;
  ASSERT_EQ(parser.Parse(&input), Result::kError);
  EXPECT_EQ(parser.error().status, 413);
  EXPECT_LE(parser.request().body.size(), 64u * 1024);
}

TEST(RequestParser, RefusesAGzipBodyInsideChunksOnceTooLarge) {
  RequestParser parser({});
  std::string packed = Gzip(std::string(1'000'000, '['));
  std::string input =
      "POST / HTTP/1.1\r\nContent-Encoding: gzip\r\nTransfer-Encoding: "
      "chunked\r\n\r\n" +
      Chunked(packed, 100);
  ASSERT_EQ(parser.Parse(&input), Result::kError);
  EXPECT_EQ(parser.error().status, 413);
}

TEST(RequestParser, RefusesATruncatedGzipBody) {
  RequestParser parser({});
  std::string packed = Gzip("hello, world");
  packed.resize(packed.size() - 4);
  std::string input =
      "POST / HTTP/1.1\r\nContent-Encoding: gzip\r\n"
      "Content-Length: " +
      std::to_string(packed.size()) + "\r\n\r\n" + packed;
  ASSERT_EQ(parser.Parse(&input), Result::kError);
  EXPECT_EQ(parser.error().status, 400);
}

TEST(RequestParser, AsksForContinueWhenTheClientExpectsIt) {
  RequestParser parser({});
  std::string input =
      "POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n";
  ASSERT_EQ(parser.Parse(&input), Result::kIncomplete);
  EXPECT_TRUE(parser.TakeContinueRequest());
  EXPECT_FALSE(parser.TakeContinueRequest());
  input = "ok";
  ASSERT_EQ(parser.Parse(&input), Result::kComplete);
  EXPECT_EQ(parser.request().body, "ok");
}

TEST(RequestParser, MutatedRequestsInRandomPiecesStayWithinTheLimits) {
  // Valid requests with random bytes flipped, fed in random pieces: every
  // outcome is an answer or a refusal, and the unconsumed input never
  // exceeds one head plus one piece.
  const std::vector<std::string> seeds = {
      "GET /metrics HTTP/1.1\r\nHost: h\r\nAccept-Encoding: gzip\r\n\r\n",
      "POST /api/v1/tasks HTTP/1.1\r\nContent-Length: 11\r\n\r\n{\"a\": 1}  ",
      "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello"
      "\r\n0\r\nT: 1\r\n\r\n",
      "POST / HTTP/1.1\r\nContent-Encoding: gzip\r\nContent-Length: " +
          std::to_string(Gzip("payload").size()) + "\r\n\r\n" +
          Gzip("payload")};
  std::mt19937 random(20261202);
  HttpLimits limits;
  int completed = 0, refused = 0;
  for (int round = 0; round < 20'000; ++round) {
    std::string text = seeds[round % seeds.size()];
    int flips = static_cast<int>(random() % 4);
    for (int i = 0; i < flips; ++i) {
      text[random() % text.size()] = static_cast<char>(random() % 256);
    }
    RequestParser parser(limits);
    std::string input;
    RequestParser::Result result = RequestParser::Result::kIncomplete;
    size_t at = 0;
    while (at < text.size() && result == RequestParser::Result::kIncomplete) {
      size_t piece = 1 + random() % 16;
      input += text.substr(at, piece);
      at += piece;
      result = parser.Parse(&input);
      ASSERT_LE(input.size(), limits.max_header_bytes + 16);
    }
    if (result == RequestParser::Result::kComplete) {
      ++completed;
      EXPECT_LE(parser.request().body.size(), limits.max_body_bytes);
    } else if (result == RequestParser::Result::kError) {
      ++refused;
      EXPECT_GE(parser.error().status, 400);
      EXPECT_FALSE(parser.error().message.empty());
    }
  }
  EXPECT_GT(completed, 0);
  EXPECT_GT(refused, 0);
}

TEST(HttpRequest, AcceptsGzipHonoursQValues) {
  HttpRequest request;
  EXPECT_FALSE(request.AcceptsGzip());
  request.headers = {{"accept-encoding", "gzip"}};
  EXPECT_TRUE(request.AcceptsGzip());
  request.headers = {{"accept-encoding", "deflate, gzip;q=0.5"}};
  EXPECT_TRUE(request.AcceptsGzip());
  request.headers = {{"accept-encoding", "gzip;q=0, *"}};
  EXPECT_FALSE(request.AcceptsGzip());
  request.headers = {{"accept-encoding", "*;q=1"}};
  EXPECT_TRUE(request.AcceptsGzip());
  request.headers = {{"accept-encoding", "identity"}};
  EXPECT_FALSE(request.AcceptsGzip());
}

TEST(HttpRequest, KeepAliveFollowsTheVersionAndConnection) {
  HttpRequest request;
  request.minor_version = 0;
  EXPECT_FALSE(request.KeepAlive());
  request.headers = {{"connection", "Keep-Alive"}};
  EXPECT_TRUE(request.KeepAlive());
  request.minor_version = 1;
  request.headers = {{"connection", "upgrade, close"}};
  EXPECT_FALSE(request.KeepAlive());
}

TEST(Query, DecodesPairs) {
  std::vector<std::pair<std::string, std::string>> pairs;
  std::string error;
  ASSERT_TRUE(ParseQuery("a=1&b=x%20y+z&&c", &pairs, &error));
  ASSERT_EQ(pairs.size(), 3u);
  EXPECT_EQ(pairs[1].second, "x y z");
  EXPECT_EQ(pairs[2].first, "c");
  EXPECT_FALSE(ParseQuery("a=%G1", &pairs, &error));
  EXPECT_FALSE(ParseQuery("a=%2", &pairs, &error));
}

}  // namespace
}  // namespace sas::web
