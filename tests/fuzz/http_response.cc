// aliyun::HttpResponseParser, the event-loop transport's reader of answers.
// Input: one byte of options (bit 0: small limits; bit 1: the answer to
// HEAD; bits 2 and 3 both: the answer to CONNECT; bit 4: the connection
// ends after the bytes; bit 5: also feed byte by byte), two bytes placing
// two cuts, then the bytes the peer sends. Fed in one piece, in the three
// pieces the cuts make, and (bit 5) byte by byte, they must give the same
// verdict and, unless it is a failure, the same answer; the limits hold
// after every Feed.

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aliyun/http_response_parser.h"
#include "fuzz_support.h"

namespace {

using sas::aliyun::Headers;
using sas::aliyun::HttpResponseParser;
using sas::aliyun::TransportError;

struct Options {
  size_t max_header_count = 100;
  size_t max_body_bytes = 64 * 1024;
  bool no_body = false;
  bool tunnel = false;
  bool eof = false;
};

struct Outcome {
  bool done = false;
  bool failed = false;
  TransportError error = TransportError::kNone;
  std::string detail;
  int status = 0;
  bool keep_alive = true;
  Headers headers;
  std::string body;
  // Bytes not used: the start of a line, or what follows the answer.
  size_t unused = 0;
};

// The same verdict and, unless it is a failure (which leaves the answer
// unspecified), the same answer and the same bytes left.
bool Same(const Outcome& a, const Outcome& b) {
  bool same_verdict = a.done == b.done && a.failed == b.failed &&
                      a.error == b.error && a.detail == b.detail &&
                      a.status == b.status && a.keep_alive == b.keep_alive;
  return same_verdict &&
         (a.failed ||
          (a.headers == b.headers && a.body == b.body && a.unused == b.unused));
}

void CheckState(const HttpResponseParser& parser, const Options& options) {
  SAS_FUZZ_CHECK(!(parser.done() && parser.failed()), "done and failed");
  SAS_FUZZ_CHECK(parser.response().body.size() <= options.max_body_bytes,
                 "a body larger than the limit");
  SAS_FUZZ_CHECK(parser.response().headers.size() <= options.max_header_count,
                 "more header fields than the limit");
  if (parser.failed()) {
    SAS_FUZZ_CHECK(parser.error() == TransportError::kConnection ||
                       parser.error() == TransportError::kBodyTooLarge,
                   "a failure other than kConnection or kBodyTooLarge");
    SAS_FUZZ_CHECK(!parser.detail().empty() &&
                       sas::fuzz::HasNoControlCharacters(parser.detail()),
                   "a failure without a printable detail");
  } else {
    SAS_FUZZ_CHECK(
        parser.error() == TransportError::kNone && parser.detail().empty(),
        "an error without a failure");
  }
  if (parser.done()) {
    int status = parser.status();
    SAS_FUZZ_CHECK(status >= 0 && status <= 999 && (status / 100 != 1),
                   "done on an interim or impossible status");
    if (options.no_body || options.tunnel) {
      SAS_FUZZ_CHECK(parser.response().body.empty(),
                     "a body where none is read");
    }
  }
}

// Feeds the pieces [0, cuts[0]), [cuts[0], cuts[1]), ..., [cuts.back(),
// end) the way the transport does: what Feed does not use goes in front of
// the next piece. `cuts` ascending.
Outcome Read(std::string_view bytes, const std::vector<size_t>& cuts,
             const Options& options) {
  HttpResponseParser parser;
  parser.Reset(options.max_header_count, options.max_body_bytes,
               options.no_body, options.tunnel);
  std::string buffer;
  size_t offset = 0;
  for (size_t i = 0; i <= cuts.size() && offset < bytes.size(); ++i) {
    size_t end =
        i < cuts.size() ? std::min(cuts[i], bytes.size()) : bytes.size();
    buffer.append(bytes.substr(offset, end - offset));
    offset = end;
    size_t used = parser.Feed(buffer.data(), buffer.size());
    SAS_FUZZ_CHECK(used <= buffer.size(), "Feed used more than it got");
    buffer.erase(0, used);
    CheckState(parser, options);
    if (parser.done() || parser.failed()) {
      SAS_FUZZ_CHECK(parser.Feed(buffer.data(), buffer.size()) == 0,
                     "Feed used bytes after the end");
      break;
    }
    SAS_FUZZ_CHECK(buffer.find('\n') == std::string::npos &&
                       buffer.size() < HttpResponseParser::kMaxLineBytes + 2,
                   "unused bytes that are not the start of one line");
  }
  if (options.eof) {
    parser.FeedEof();
    CheckState(parser, options);
  }
  Outcome outcome;
  outcome.done = parser.done();
  outcome.failed = parser.failed();
  outcome.error = parser.error();
  outcome.detail = parser.detail();
  outcome.status = parser.status();
  outcome.keep_alive = parser.keep_alive();
  outcome.unused = buffer.size() + (bytes.size() - offset);
  sas::aliyun::HttpResponse response = parser.TakeResponse();
  outcome.headers = std::move(response.headers);
  outcome.body = std::move(response.body);
  return outcome;
}

}  // namespace

SAS_FUZZ_TARGET(http_response) {
  sas::fuzz::InputReader input(data, size);
  uint8_t choice = input.Byte();
  uint8_t first_cut = input.Byte();
  uint8_t second_cut = input.Byte();
  std::string_view bytes = input.Rest();
  Options options;
  if (choice & 1) {
    options.max_header_count = 4;
    options.max_body_bytes = 64;
  }
  options.no_body = (choice & 2) != 0;
  options.tunnel = (choice & 12) == 12;
  options.eof = (choice & 16) != 0;

  Outcome at_once = Read(bytes, {}, options);

  size_t cut_a = bytes.size() * first_cut / 255;
  size_t cut_b = bytes.size() * second_cut / 255;
  Outcome in_pieces =
      Read(bytes, {std::min(cut_a, cut_b), std::max(cut_a, cut_b)}, options);
  SAS_FUZZ_CHECK(Same(at_once, in_pieces),
                 "three pieces give another outcome than one");

  if (choice & 32) {
    std::vector<size_t> every_byte(bytes.size());
    for (size_t i = 0; i < every_byte.size(); ++i) every_byte[i] = i + 1;
    Outcome byte_by_byte = Read(bytes, every_byte, options);
    SAS_FUZZ_CHECK(Same(at_once, byte_by_byte),
                   "byte by byte gives another outcome than one piece");
  }
}
