#include "aliyun/http_response_parser.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>

namespace sas::aliyun {
namespace {

using namespace std::string_literals;

constexpr size_t kMaxLine = HttpResponseParser::kMaxLineBytes;

struct Limits {
  size_t max_header_count = 100;
  size_t max_body_bytes = 1 << 20;
  bool no_body = false;
  bool tunnel = false;
};

// What the parser made of a connection's bytes, as the transport sees it.
struct Outcome {
  bool done = false;
  bool failed = false;
  TransportError error = TransportError::kNone;
  std::string detail;
  int status = 0;
  bool keep_alive = true;
  Headers headers;
  std::string body;
  // Bytes the parser did not use: the start of a line, or what follows
  // the answer.
  size_t unused = 0;
};

// The same verdict, and unless it is a failure the same answer so far. A
// failure leaves the answer unspecified: one that goes over a limit in the
// middle of a piece keeps less of the body than one fed byte by byte.
bool Same(const Outcome& a, const Outcome& b) {
  bool same_verdict = a.done == b.done && a.failed == b.failed &&
                      a.error == b.error && a.detail == b.detail &&
                      a.status == b.status && a.keep_alive == b.keep_alive;
  return same_verdict &&
         (a.failed ||
          (a.headers == b.headers && a.body == b.body && a.unused == b.unused));
}

// Feeds `bytes` in pieces of `piece` bytes (all at once when 0) the way
// the transport does, keeping what Feed did not use in front of the next
// piece; then the end of the connection when `eof`.
Outcome ParseInPieces(std::string_view bytes, size_t piece,
                      const Limits& limits, bool eof) {
  HttpResponseParser parser;
  parser.Reset(limits.max_header_count, limits.max_body_bytes, limits.no_body,
               limits.tunnel);
  std::string buffer;
  size_t offset = 0;
  while (offset < bytes.size()) {
    size_t take = piece == 0 ? bytes.size() : piece;
    buffer.append(bytes.substr(offset, take));
    offset += std::min(take, bytes.size() - offset);
    size_t used = parser.Feed(buffer.data(), buffer.size());
    EXPECT_LE(used, buffer.size());
    buffer.erase(0, used);
    if (parser.done() || parser.failed()) break;
  }
  if (eof) parser.FeedEof();
  EXPECT_FALSE(parser.done() && parser.failed());
  Outcome outcome;
  outcome.done = parser.done();
  outcome.failed = parser.failed();
  outcome.error = parser.error();
  outcome.detail = parser.detail();
  outcome.status = parser.status();
  outcome.keep_alive = parser.keep_alive();
  outcome.unused = buffer.size() + (bytes.size() - offset);
  HttpResponse response = parser.TakeResponse();
  outcome.headers = response.headers;
  outcome.body = response.body;
  return outcome;
}

// Parses `bytes` in one piece and byte by byte; both must agree.
Outcome Parse(std::string_view bytes, const Limits& limits = {},
              bool eof = false) {
  Outcome at_once = ParseInPieces(bytes, 0, limits, eof);
  Outcome byte_by_byte = ParseInPieces(bytes, 1, limits, eof);
  EXPECT_TRUE(Same(at_once, byte_by_byte))
      << "byte by byte: done " << byte_by_byte.done << " failed "
      << byte_by_byte.failed << " detail '" << byte_by_byte.detail
      << "'; at once: done " << at_once.done << " failed " << at_once.failed
      << " detail '" << at_once.detail << "'";
  return at_once;
}

Outcome ParseToEof(std::string_view bytes, const Limits& limits = {}) {
  return Parse(bytes, limits, /*eof=*/true);
}

void ExpectFailure(const Outcome& outcome, TransportError error,
                   std::string_view detail_part) {
  EXPECT_TRUE(outcome.failed);
  EXPECT_FALSE(outcome.done);
  EXPECT_EQ(outcome.error, error);
  EXPECT_NE(outcome.detail.find(detail_part), std::string::npos)
      << outcome.detail;
}

std::string Answer(std::string_view head_fields, std::string_view body = "") {
  return "HTTP/1.1 200 OK\r\n" + std::string(head_fields) + "\r\n" +
         std::string(body);
}

TEST(HttpResponseParser, ReadsAContentLengthAnswer) {
  Outcome outcome = Parse(
      "HTTP/1.1 200 OK\r\nContent-Type:  application/json \r\n"
      "Content-Length: 5\r\nX-Acs-Request-Id: ab\r\n\r\nhello");
  EXPECT_TRUE(outcome.done);
  EXPECT_FALSE(outcome.failed);
  EXPECT_EQ(outcome.error, TransportError::kNone);
  EXPECT_EQ(outcome.status, 200);
  EXPECT_TRUE(outcome.keep_alive);
  EXPECT_EQ(outcome.body, "hello");
  EXPECT_EQ(outcome.unused, 0u);
  EXPECT_EQ(outcome.headers, (Headers{{"content-type", "application/json"},
                                      {"content-length", "5"},
                                      {"x-acs-request-id", "ab"}}));
}

TEST(HttpResponseParser, LeavesTheBytesAfterTheAnswerUnused) {
  Outcome outcome = Parse(Answer("Content-Length: 2\r\n", "okHTTP/1.1"));
  EXPECT_TRUE(outcome.done);
  EXPECT_EQ(outcome.body, "ok");
  EXPECT_EQ(outcome.unused, 8u);
}

TEST(HttpResponseParser, ZeroContentLengthIsDoneWithoutTheEnd) {
  Outcome outcome = Parse(Answer("Content-Length: 0\r\n"));
  EXPECT_TRUE(outcome.done);
  EXPECT_TRUE(outcome.keep_alive);
  EXPECT_EQ(outcome.body, "");
}

TEST(HttpResponseParser, ReadsChunksWithExtensionsAndDropsTrailers) {
  Outcome outcome =
      Parse(Answer("Transfer-Encoding: chunked\r\n",
                   "5;name=value\r\nhello\r\n6 ; x=\"y\"\r\n world\r\n"
                   "A\r\n0123456789\r\n0;last\r\nExpires: never\r\n"
                   "X-Checksum: abc\r\n\r\n"));
  EXPECT_TRUE(outcome.done);
  EXPECT_TRUE(outcome.keep_alive);
  EXPECT_EQ(outcome.body, "hello world0123456789");
  EXPECT_EQ(outcome.headers, (Headers{{"transfer-encoding", "chunked"}}));
  EXPECT_EQ(outcome.unused, 0u);
}

TEST(HttpResponseParser, ChunkedOnlyWhenItIsTheLastCoding) {
  Outcome chunked = Parse(
      Answer("Transfer-Encoding: gzip, Chunked\r\n", "2\r\nok\r\n0\r\n\r\n"));
  EXPECT_TRUE(chunked.done);
  EXPECT_EQ(chunked.body, "ok");

  Outcome until_close = ParseToEof(
      Answer("Transfer-Encoding: chunked, gzip\r\n", "2\r\nok\r\n0\r\n\r\n"));
  EXPECT_TRUE(until_close.done);
  EXPECT_FALSE(until_close.keep_alive);
  EXPECT_EQ(until_close.body, "2\r\nok\r\n0\r\n\r\n");

  // Of two Transfer-Encoding fields, the last one decides.
  Outcome last_field = ParseToEof(Answer(
      "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n", "raw"));
  EXPECT_TRUE(last_field.done);
  EXPECT_EQ(last_field.body, "raw");
}

TEST(HttpResponseParser, TransferEncodingOverridesContentLengthAndCloses) {
  Outcome outcome =
      Parse(Answer("Content-Length: 100\r\nTransfer-Encoding: chunked\r\n",
                   "2\r\nok\r\n0\r\n\r\n"));
  EXPECT_TRUE(outcome.done);
  EXPECT_EQ(outcome.body, "ok");
  EXPECT_FALSE(outcome.keep_alive);
}

TEST(HttpResponseParser, SkipsInterimAnswers) {
  Outcome outcome = Parse(
      "HTTP/1.1 100 Continue\r\n\r\n"
      "HTTP/1.1 103 Early Hints\r\nLink: </style.css>\r\n\r\n"
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  EXPECT_TRUE(outcome.done);
  EXPECT_EQ(outcome.status, 200);
  EXPECT_EQ(outcome.body, "ok");
  EXPECT_EQ(outcome.headers, (Headers{{"content-length", "2"}}));
}

TEST(HttpResponseParser, RefusesSwitchingProtocols) {
  ExpectFailure(Parse("HTTP/1.1 101 Switching Protocols\r\n"
                      "Upgrade: websocket\r\n\r\n"),
                TransportError::kConnection, "101");
}

TEST(HttpResponseParser, EndAfterAnInterimAnswerFails) {
  ExpectFailure(ParseToEof("HTTP/1.1 100 Continue\r\n\r\n"),
                TransportError::kConnection, "after an interim answer");
}

TEST(HttpResponseParser, Http10ClosesUnlessAskedToKeepAlive) {
  Outcome closes = Parse("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok");
  EXPECT_TRUE(closes.done);
  EXPECT_FALSE(closes.keep_alive);

  Outcome keeps = Parse(
      "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\n"
      "Content-Length: 2\r\n\r\nok");
  EXPECT_TRUE(keeps.done);
  EXPECT_TRUE(keeps.keep_alive);

  // An interim HTTP/1.0 answer does not decide for the final HTTP/1.1 one.
  Outcome final_decides = Parse(
      "HTTP/1.0 100 Continue\r\n\r\n"
      "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  EXPECT_TRUE(final_decides.done);
  EXPECT_TRUE(final_decides.keep_alive);
}

TEST(HttpResponseParser, ConnectionCloseEndsReuse) {
  Outcome outcome =
      Parse(Answer("Content-Length: 2\r\nConnection: close\r\n", "ok"));
  EXPECT_TRUE(outcome.done);
  EXPECT_FALSE(outcome.keep_alive);

  Outcome among_tokens =
      Parse(Answer("Connection: keep-alive, CLOSE\r\nContent-Length: 0\r\n"));
  EXPECT_FALSE(among_tokens.keep_alive);

  Outcome http_1_0 = Parse(
      "HTTP/1.0 200 OK\r\nConnection: keep-alive, close\r\n"
      "Content-Length: 0\r\n\r\n");
  EXPECT_FALSE(http_1_0.keep_alive);
}

TEST(HttpResponseParser, BodyWithoutLengthRunsToTheEnd) {
  std::string bytes = Answer("Content-Type: text/plain\r\n", "all of it");
  Outcome before_end = Parse(bytes);
  EXPECT_FALSE(before_end.done);
  EXPECT_FALSE(before_end.failed);

  Outcome at_end = ParseToEof(bytes);
  EXPECT_TRUE(at_end.done);
  EXPECT_FALSE(at_end.keep_alive);
  EXPECT_EQ(at_end.body, "all of it");

  Outcome empty = ParseToEof(Answer(""));
  EXPECT_TRUE(empty.done);
  EXPECT_EQ(empty.body, "");
}

TEST(HttpResponseParser, NoBodyForHead204And304) {
  Limits head;
  head.no_body = true;
  Outcome head_answer = Parse(Answer("Content-Length: 5\r\n"), head);
  EXPECT_TRUE(head_answer.done);
  EXPECT_EQ(head_answer.body, "");
  EXPECT_TRUE(head_answer.keep_alive);

  for (const char* status_line :
       {"HTTP/1.1 204 No Content\r\n", "HTTP/1.1 304 Not Modified\r\n"}) {
    Outcome outcome =
        Parse(std::string(status_line) + "Content-Length: 5\r\n\r\nhello");
    EXPECT_TRUE(outcome.done) << status_line;
    EXPECT_EQ(outcome.body, "");
    EXPECT_EQ(outcome.unused, 5u);
  }
}

TEST(HttpResponseParser, TunnelAnswerEndsWithItsHead) {
  Limits tunnel;
  tunnel.tunnel = true;
  Outcome outcome =
      Parse("HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x01", tunnel);
  EXPECT_TRUE(outcome.done);
  EXPECT_EQ(outcome.status, 200);
  EXPECT_EQ(outcome.unused, 3u);
}

TEST(HttpResponseParser, LineAtTheLimitIsAcceptedOneOverRefused) {
  // "X: " and the value fill the line to exactly the limit.
  std::string at_limit = "X: " + std::string(kMaxLine - 3, 'v');
  Outcome accepted = Parse(Answer(at_limit + "\r\nContent-Length: 0\r\n"));
  EXPECT_TRUE(accepted.done) << accepted.detail;
  ASSERT_EQ(accepted.headers.size(), 2u);
  EXPECT_EQ(accepted.headers[0].second.size(), kMaxLine - 3);

  Outcome bare_lf = Parse(Answer(at_limit + "\nContent-Length: 0\r\n"));
  EXPECT_TRUE(bare_lf.done) << bare_lf.detail;

  ExpectFailure(Parse(Answer(at_limit + "v\r\nContent-Length: 0\r\n")),
                TransportError::kBodyTooLarge, "header line longer than 8192");
  ExpectFailure(Parse(Answer(at_limit + "v\nContent-Length: 0\r\n")),
                TransportError::kBodyTooLarge, "header line longer than 8192");
}

TEST(HttpResponseParser, UnfinishedLineRefusedOnceItCannotFit) {
  std::string head = "HTTP/1.1 200 OK\r\n";
  // The limit, a CR and no LF yet: still a line that may end at the limit.
  Outcome waiting = Parse(head + std::string(kMaxLine + 1, 'a'));
  EXPECT_FALSE(waiting.done);
  EXPECT_FALSE(waiting.failed);
  EXPECT_EQ(waiting.unused, kMaxLine + 1);

  ExpectFailure(Parse(head + std::string(kMaxLine + 2, 'a')),
                TransportError::kBodyTooLarge, "header line longer than");
}

TEST(HttpResponseParser, StatusAndChunkLinesHaveTheSameLimit) {
  std::string reason(kMaxLine - 13, 'r');
  Outcome status_at_limit =
      Parse("HTTP/1.1 200 " + reason + "\r\nContent-Length: 0\r\n\r\n");
  EXPECT_TRUE(status_at_limit.done) << status_at_limit.detail;
  ExpectFailure(
      Parse("HTTP/1.1 200 " + reason + "r\r\nContent-Length: 0\r\n\r\n"),
      TransportError::kBodyTooLarge, "status line longer than 8192");

  std::string extension = "2;" + std::string(kMaxLine - 2, 'e');
  Outcome chunk_at_limit = Parse(Answer("Transfer-Encoding: chunked\r\n",
                                        extension + "\r\nok\r\n0\r\n\r\n"));
  EXPECT_TRUE(chunk_at_limit.done) << chunk_at_limit.detail;
  EXPECT_EQ(chunk_at_limit.body, "ok");
  ExpectFailure(Parse(Answer("Transfer-Encoding: chunked\r\n",
                             extension + "e\r\nok\r\n0\r\n\r\n")),
                TransportError::kBodyTooLarge,
                "chunked body line longer than 8192");
}

TEST(HttpResponseParser, HeaderCountAtTheLimitIsAcceptedOneOverRefused) {
  Limits three;
  three.max_header_count = 3;
  Outcome accepted =
      Parse(Answer("A: 1\r\nB: 2\r\nContent-Length: 0\r\n"), three);
  EXPECT_TRUE(accepted.done) << accepted.detail;
  EXPECT_EQ(accepted.headers.size(), 3u);

  ExpectFailure(
      Parse(Answer("A: 1\r\nB: 2\r\nC: 3\r\nContent-Length: 0\r\n"), three),
      TransportError::kBodyTooLarge, "more than 3 header fields");
}

TEST(HttpResponseParser, TrailerFieldsCountWithTheHeader) {
  Limits three;
  three.max_header_count = 3;
  std::string head = "A: 1\r\nTransfer-Encoding: chunked\r\n";
  Outcome accepted = Parse(Answer(head, "0\r\nT: 1\r\n\r\n"), three);
  EXPECT_TRUE(accepted.done) << accepted.detail;
  ExpectFailure(Parse(Answer(head, "0\r\nT: 1\r\nU: 2\r\n\r\n"), three),
                TransportError::kBodyTooLarge, "more than 3 header fields");
}

TEST(HttpResponseParser, InterimFieldsCountOnTheirOwn) {
  Limits two;
  two.max_header_count = 2;
  Outcome outcome = Parse(
      "HTTP/1.1 103 Early Hints\r\nLink: <a>\r\nLink: <b>\r\n\r\n"
      "HTTP/1.1 200 OK\r\nA: 1\r\nContent-Length: 0\r\n\r\n",
      two);
  EXPECT_TRUE(outcome.done) << outcome.detail;
}

TEST(HttpResponseParser, ContentLengthAtTheLimitIsAcceptedOneOverRefused) {
  Limits eight;
  eight.max_body_bytes = 8;
  Outcome accepted = Parse(Answer("Content-Length: 8\r\n", "12345678"), eight);
  EXPECT_TRUE(accepted.done);
  EXPECT_EQ(accepted.body, "12345678");

  // Refused from the head alone, before any body byte.
  ExpectFailure(Parse(Answer("Content-Length: 9\r\n"), eight),
                TransportError::kBodyTooLarge, "larger than 8 bytes");
}

TEST(HttpResponseParser, ChunkedBodyAtTheLimitIsAcceptedOneOverRefused) {
  Limits eight;
  eight.max_body_bytes = 8;
  std::string head = "Transfer-Encoding: chunked\r\n";
  Outcome accepted =
      Parse(Answer(head, "5\r\n12345\r\n3\r\n678\r\n0\r\n\r\n"), eight);
  EXPECT_TRUE(accepted.done);
  EXPECT_EQ(accepted.body, "12345678");

  // Refused at the chunk size that goes over, before its data.
  ExpectFailure(Parse(Answer(head, "5\r\n12345\r\n4\r\n"), eight),
                TransportError::kBodyTooLarge, "larger than 8 bytes");
}

TEST(HttpResponseParser, BodyUntilEndAtTheLimitIsAcceptedOneOverRefused) {
  Limits eight;
  eight.max_body_bytes = 8;
  Outcome accepted = ParseToEof(Answer("", "12345678"), eight);
  EXPECT_TRUE(accepted.done);
  EXPECT_EQ(accepted.body, "12345678");

  ExpectFailure(Parse(Answer("", "123456789"), eight),
                TransportError::kBodyTooLarge, "larger than 8 bytes");
}

TEST(HttpResponseParser, RefusesMalformedStatusLines) {
  for (const char* line : {
           "",
           "HTTP/1.1",
           "HTTP/1.1 20 OK",
           "HTTP/1.1 2000 OK",
           "HTTP/1.1 200OK",
           "HTTP/1.1  200 OK",
           "HTTP/1.1 2x0 OK",
           "HTTP/2 200 OK",
           "HTTP/1.x 200 OK",
           "HTTP/1.10 200 OK",
           "http/1.1 200 OK",
           " HTTP/1.1 200 OK",
           "ICY 200 OK",
           "SSH-2.0-OpenSSH_9.2",
       }) {
    SCOPED_TRACE(line);
    ExpectFailure(Parse(std::string(line) + "\r\nContent-Length: 0\r\n\r\n"),
                  TransportError::kConnection, "malformed status line");
  }
}

TEST(HttpResponseParser, StatusLineNeedsNoReason) {
  for (const char* line :
       {"HTTP/1.1 200", "HTTP/1.1 200 ", "HTTP/1.9 200 OK"}) {
    Outcome outcome =
        Parse(std::string(line) + "\r\nContent-Length: 0\r\n\r\n");
    EXPECT_TRUE(outcome.done) << line << ": " << outcome.detail;
    EXPECT_EQ(outcome.status, 200);
  }
  // Any three digits: the caller treats what is not 2xx as an error.
  EXPECT_EQ(Parse("HTTP/1.1 999 Odd\r\nContent-Length: 0\r\n\r\n").status, 999);
}

TEST(HttpResponseParser, RefusesMalformedFields) {
  for (const char* field :
       {"NoColon", ": empty name", "Bad Name: v", "Bad\tName: v", "Name : v"}) {
    SCOPED_TRACE(field);
    ExpectFailure(
        Parse(Answer(std::string(field) + "\r\nContent-Length: 0\r\n")),
        TransportError::kConnection, "malformed header field");
  }
}

TEST(HttpResponseParser, DetailNeverQuotesTheAnswer) {
  Outcome outcome = Parse(Answer("Set-Cookie secret-token\r\n"));
  EXPECT_TRUE(outcome.failed);
  EXPECT_EQ(outcome.detail.find("secret"), std::string::npos) << outcome.detail;
}

// obs-fold (RFC 9112 section 5.2): a client may refuse it, and this one
// does, in the header and in the trailer.
TEST(HttpResponseParser, RefusesFoldedLines) {
  ExpectFailure(
      Parse(Answer("X-Long: first\r\n second\r\nContent-Length: 0\r\n")),
      TransportError::kConnection, "folded header line");
  ExpectFailure(Parse(Answer("X-Long: first\r\n\tsecond\r\n")),
                TransportError::kConnection, "folded header line");
  ExpectFailure(Parse(Answer("Transfer-Encoding: chunked\r\n",
                             "0\r\nT: 1\r\n 2\r\n\r\n")),
                TransportError::kConnection, "folded header line");
}

TEST(HttpResponseParser, RefusesBadContentLengths) {
  for (const char* value :
       {"-1", "+5", "5 5", "0x10", "", "5,", "1e3", "five"}) {
    SCOPED_TRACE(value);
    ExpectFailure(Parse(Answer("Content-Length: " + std::string(value) + "\r\n",
                               "12345")),
                  TransportError::kConnection, "invalid Content-Length");
  }
  // 2^64: not a number the parser can hold.
  ExpectFailure(Parse(Answer("Content-Length: 18446744073709551616\r\n")),
                TransportError::kConnection, "Content-Length out of range");
  ExpectFailure(
      Parse(Answer("Content-Length: 99999999999999999999999999999999\r\n")),
      TransportError::kConnection, "Content-Length out of range");
  // 2^64 - 1: a number, over the body limit.
  ExpectFailure(Parse(Answer("Content-Length: 18446744073709551615\r\n")),
                TransportError::kBodyTooLarge, "response body larger than");
}

TEST(HttpResponseParser, ContentLengthValuesMustAgree) {
  Outcome same_list = Parse(Answer("Content-Length: 5, 5\r\n", "hello"));
  EXPECT_TRUE(same_list.done);
  EXPECT_EQ(same_list.body, "hello");
  Outcome same_fields =
      Parse(Answer("Content-Length: 5\r\nContent-Length: 5\r\n", "hello"));
  EXPECT_TRUE(same_fields.done);

  ExpectFailure(Parse(Answer("Content-Length: 5, 6\r\n", "hello!")),
                TransportError::kConnection, "conflicting Content-Length");
  ExpectFailure(
      Parse(Answer("Content-Length: 5\r\nContent-Length: 6\r\n", "hello!")),
      TransportError::kConnection, "conflicting Content-Length");
  // Checked even where no body follows, and beside Transfer-Encoding.
  ExpectFailure(Parse("HTTP/1.1 204 No Content\r\nContent-Length: 1\r\n"
                      "Content-Length: 2\r\n\r\n"),
                TransportError::kConnection, "conflicting Content-Length");
}

TEST(HttpResponseParser, RefusesBadChunkSizes) {
  std::string head = "Transfer-Encoding: chunked\r\n";
  for (const char* size : {"zz", "-1", "", " 5", "0x5", "+5", "5 5"}) {
    SCOPED_TRACE(size);
    ExpectFailure(Parse(Answer(head, std::string(size) + "\r\nhello\r\n")),
                  TransportError::kConnection, "invalid chunk size");
  }
  // 2^64: too many digits to hold.
  ExpectFailure(Parse(Answer(head, "10000000000000000\r\n")),
                TransportError::kConnection, "chunk size out of range");
  // 2^64 - 1: a size, over the body limit.
  ExpectFailure(Parse(Answer(head, "ffffffffffffffff\r\n")),
                TransportError::kBodyTooLarge, "response body larger than");
  ExpectFailure(Parse(Answer(head, "3\r\nabcd\r\n0\r\n\r\n")),
                TransportError::kConnection, "chunk data longer than its size");
}

TEST(HttpResponseParser, EndBeforeTheAnswerEndsFails) {
  ExpectFailure(ParseToEof(""), TransportError::kConnection,
                "closed before the answer");
  ExpectFailure(ParseToEof("HTTP/1.1 200 OK\r\nContent-"),
                TransportError::kConnection, "in the answer's header");
  ExpectFailure(ParseToEof(Answer("Content-Length: 5\r\n", "he")),
                TransportError::kConnection, "after 2 of 5 body bytes");
  ExpectFailure(
      ParseToEof(Answer("Transfer-Encoding: chunked\r\n", "5\r\nhel")),
      TransportError::kConnection, "in the chunked body");
  ExpectFailure(
      ParseToEof(Answer("Transfer-Encoding: chunked\r\n", "0\r\nT: 1\r\n")),
      TransportError::kConnection, "in the chunked body");
}

// RFC 9112 section 2.2 lets a recipient take a bare LF as a line end; this
// parser does, in every line of the head and of the chunked coding.
TEST(HttpResponseParser, AcceptsBareLineFeeds) {
  Outcome outcome = Parse(
      "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\nX-A: 1\r\n\n"
      "2\nok\n1;x\r\n!\n0\nT: 1\n\n");
  EXPECT_TRUE(outcome.done) << outcome.detail;
  EXPECT_EQ(outcome.body, "ok!");
  EXPECT_EQ(outcome.headers,
            (Headers{{"transfer-encoding", "chunked"}, {"x-a", "1"}}));
}

TEST(HttpResponseParser, BodyBytesAreKeptAsSent) {
  std::string body = "a\0b\r\nc\n"s;
  Outcome fixed = Parse(Answer("Content-Length: 7\r\n", body));
  EXPECT_EQ(fixed.body, body);
  Outcome chunked = Parse(Answer("Transfer-Encoding: chunked\r\n",
                                 "7\r\n" + body + "\r\n0\r\n\r\n"));
  EXPECT_EQ(chunked.body, body);
}

// RFC 9110 section 5.5 and RFC 9112 section 2.2: a NUL or a CR that does
// not end a line is refused, wherever a line is read.
TEST(HttpResponseParser, RefusesNulAndBareCrInLines) {
  std::string chunked = "Transfer-Encoding: chunked\r\n";
  for (const std::string& bytes : {
           "HTTP/1.1 200 O\0K\r\nContent-Length: 0\r\n\r\n"s,
           "HTTP/1.1 200 O\rK\r\nContent-Length: 0\r\n\r\n"s,
           Answer("X-A: a\0b\r\nContent-Length: 0\r\n"s),
           Answer("X-A: a\rb\r\nContent-Length: 0\r\n"s),
           Answer("X-A: ab\r\r\nContent-Length: 0\r\n"s),
           Answer("X\0A: ab\r\nContent-Length: 0\r\n"s),
           Answer("\0\r\nContent-Length: 0\r\n"s),
           Answer(chunked, "5\0\r\nhello\r\n0\r\n\r\n"s),
           Answer(chunked, "5;a=\rb\r\nhello\r\n0\r\n\r\n"s),
           Answer(chunked, "5\r\nhello\r\r\n0\r\n\r\n"s),
           Answer(chunked, "0\r\nT: \0\r\n\r\n"s),
       }) {
    SCOPED_TRACE(::testing::PrintToString(bytes));
    ExpectFailure(Parse(bytes), TransportError::kConnection,
                  "NUL or bare CR in a line of the answer");
  }
  // Other control characters are kept as sent: whoever prints a value
  // makes it printable.
  Outcome unaffected =
      Parse(Answer("X-A: a\x01b\x7f\r\nContent-Length: 0\r\n"));
  EXPECT_TRUE(unaffected.done) << unaffected.detail;
  ASSERT_FALSE(unaffected.headers.empty());
  EXPECT_EQ(unaffected.headers[0].second, "a\x01b\x7f");
}

TEST(HttpResponseParser, FeedAfterTheEndUsesNothingAndResetStartsAgain) {
  HttpResponseParser parser;
  parser.Reset(100, 1 << 20, false, false);
  std::string first = Answer("Content-Length: 2\r\n", "ok");
  EXPECT_EQ(parser.Feed(first.data(), first.size()), first.size());
  ASSERT_TRUE(parser.done());
  EXPECT_EQ(parser.Feed(first.data(), first.size()), 0u);
  EXPECT_EQ(parser.TakeResponse().body, "ok");

  parser.Reset(100, 1 << 20, false, false);
  EXPECT_FALSE(parser.done());
  std::string second = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
  EXPECT_EQ(parser.Feed(second.data(), second.size()), second.size());
  EXPECT_TRUE(parser.done());
  EXPECT_EQ(parser.status(), 404);
  EXPECT_TRUE(parser.response().headers.size() == 1);

  std::string broken = "garbage\r\n";
  parser.Reset(100, 1 << 20, false, false);
  parser.Feed(broken.data(), broken.size());
  ASSERT_TRUE(parser.failed());
  EXPECT_EQ(parser.Feed(second.data(), second.size()), 0u);
  parser.FeedEof();
  EXPECT_TRUE(parser.failed());
  EXPECT_EQ(parser.error(), TransportError::kConnection);
}

}  // namespace
}  // namespace sas::aliyun
