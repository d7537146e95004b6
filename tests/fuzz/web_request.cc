// web::RequestParser, the exporter's HTTP/1.1 request reader, and
// web::ParseQuery. Input: one byte choosing the limits (default or small)
// and the size of the pieces the bytes arrive in, then the bytes of a
// connection. Reading them piece by piece must give the same requests, and
// the same verdict, as reading them at once.

#include <string>
#include <vector>

#include "fuzz_support.h"
#include "web/http_request.h"

namespace {

using sas::web::HttpLimits;
using sas::web::RequestParser;

struct Outcome {
  std::vector<sas::web::HttpRequest> requests;
  RequestParser::Result last = RequestParser::Result::kIncomplete;
  int error_status = 0;
};

bool SameRequest(const sas::web::HttpRequest& a,
                 const sas::web::HttpRequest& b) {
  return a.method == b.method && a.path == b.path && a.query == b.query &&
         a.minor_version == b.minor_version && a.headers == b.headers &&
         a.body == b.body;
}

void CheckRequest(const sas::web::HttpRequest& request,
                  const HttpLimits& limits) {
  SAS_FUZZ_CHECK(!request.method.empty(), "a request without a method");
  SAS_FUZZ_CHECK(request.path.starts_with("/"), "a path not starting at /");
  SAS_FUZZ_CHECK(request.minor_version == 0 || request.minor_version == 1,
                 "an HTTP version other than 1.0 and 1.1");
  SAS_FUZZ_CHECK(request.headers.size() <= limits.max_header_count,
                 "more header fields than the limit");
  SAS_FUZZ_CHECK(request.body.size() <= limits.max_body_bytes,
                 "a body larger than the limit");
  for (const auto& [name, value] : request.headers) {
    for (char c : name) {
      SAS_FUZZ_CHECK(!(c >= 'A' && c <= 'Z'), "a field name not lowercased");
    }
    SAS_FUZZ_CHECK(
        value.empty() || (value.front() != ' ' && value.back() != ' '),
        "a field value with blanks around it");
  }
  (void)request.KeepAlive();
  (void)request.AcceptsGzip();
  std::vector<std::pair<std::string, std::string>> query;
  std::string error;
  if (!sas::web::ParseQuery(request.query, &query, &error)) {
    SAS_FUZZ_CHECK(!error.empty(), "a query refused without a reason");
  }
}

// Feeds `bytes` in pieces of `piece` bytes (all at once when 0), reading
// every request that completes.
Outcome Read(std::string_view bytes, size_t piece, const HttpLimits& limits) {
  Outcome outcome;
  RequestParser parser(limits);
  std::string buffer;
  size_t offset = 0;
  while (true) {
    size_t take = piece == 0 ? bytes.size() - offset
                             : std::min(piece, bytes.size() - offset);
    buffer.append(bytes.substr(offset, take));
    offset += take;
    while (true) {
      size_t before = buffer.size();
      RequestParser::Result result = parser.Parse(&buffer);
      SAS_FUZZ_CHECK(buffer.size() <= before, "Parse() grew its input");
      (void)parser.TakeContinueRequest();
      outcome.last = result;
      if (result == RequestParser::Result::kError) {
        outcome.error_status = parser.error().status;
        SAS_FUZZ_CHECK(!parser.error().message.empty(),
                       "an error without a message");
        return outcome;
      }
      if (result != RequestParser::Result::kComplete) break;
      CheckRequest(parser.request(), limits);
      outcome.requests.push_back(parser.request());
      parser.Reset();
      if (buffer.empty()) break;
    }
    if (offset == bytes.size()) return outcome;
  }
}

}  // namespace

SAS_FUZZ_TARGET(web_request) {
  sas::fuzz::InputReader input(data, size);
  uint8_t choice = input.Byte();
  HttpLimits limits;
  if (choice & 1) {
    limits.max_header_bytes = 256;
    limits.max_header_count = 6;
    limits.max_body_bytes = 128;
    limits.max_wire_body_bytes = 512;
  }
  size_t piece = 1 + (choice >> 1) % 64;
  std::string_view bytes = input.Rest();
  Outcome at_once = Read(bytes, 0, limits);
  Outcome in_pieces = Read(bytes, piece, limits);
  SAS_FUZZ_CHECK(at_once.requests.size() == in_pieces.requests.size(),
                 "pieces give another number of requests");
  for (size_t i = 0; i < at_once.requests.size(); ++i) {
    SAS_FUZZ_CHECK(SameRequest(at_once.requests[i], in_pieces.requests[i]),
                   "pieces give another request");
  }
  SAS_FUZZ_CHECK(at_once.last == in_pieces.last &&
                     at_once.error_status == in_pieces.error_status,
                 "pieces give another verdict");
}
