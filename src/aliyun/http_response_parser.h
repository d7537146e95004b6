#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include "aliyun/http.h"

namespace sas::aliyun {

// An incremental parser of one HTTP/1.1 answer (RFC 9112) as a peer sends
// it, for the event-loop transport. Everything it reads is hostile input.
//
// Accepted:
//  - Lines ending in CRLF or in a bare LF (RFC 9112 section 2.2 lets a
//    recipient take LF alone as a line end; curl and browsers do). One CR
//    before the LF is dropped. A line (status, field, chunk size, trailer)
//    holding a NUL or another CR is refused: RFC 9110 section 5.5 and RFC
//    9112 section 2.2 require a recipient to refuse or replace them. The
//    body's bytes are kept as sent, NUL and CR included.
//  - The status line "HTTP/1.<digit> <three digits>", then nothing or a
//    space and a reason phrase, which is not read. Any three digits give
//    the status, 000 to 999.
//  - Header fields "name:value": the name non-empty, without SP or HTAB,
//    lowercased; the value with SP and HTAB trimmed at both ends. Other
//    bytes of a name or a value (control characters, bytes over 0x7F) are
//    kept as sent. A line starting with SP or HTAB (obs-fold, obsolete line
//    folding) is refused.
//  - Interim 1xx answers are skipped with their fields; 101 is refused.
//  - The body's framing, in this order: none for `no_body` (HEAD), 204 and
//    304; the chunked coding when the last coding of the last
//    Transfer-Encoding field is "chunked" (chunk extensions ignored,
//    trailer fields checked for form and dropped); the rest of the
//    connection for any other Transfer-Encoding; Content-Length, a decimal
//    number or a comma-separated list of equal ones, over every
//    Content-Length field; otherwise the rest of the connection.
//  - keep_alive() turns false on "Connection: close", on an HTTP/1.0 answer
//    without "Connection: keep-alive", on a body that ends with the
//    connection, and on Transfer-Encoding together with Content-Length.
//
// Limits, each refused one byte or one field over it, never at it:
//  - kMaxLineBytes on any line (status, field, chunk size, trailer),
//    without its line end: kBodyTooLarge.
//  - max_header_count fields: those of the final answer and its trailer
//    together; an interim answer's on their own. kBodyTooLarge.
//  - max_body_bytes of body after the transfer coding is removed:
//    kBodyTooLarge as soon as a Content-Length or a chunk size announces
//    more, before the bytes arrive.
//
// Every other failure is kConnection: a malformed status line or field, a
// NUL or bare CR in a line, a folded line, 101, a Content-Length that is
// not a decimal number (a sign, blanks inside, empty) or above 2^64-1,
// Content-Length values that differ, a chunk size that is not hexadecimal
// or above 2^64-1, chunk data longer than its size, and the end of the
// connection before the answer's end (except for a body that ends with
// the connection).
//
// Not thread-safe; one object serves the answers of one connection in turn.
class HttpResponseParser {
 public:
  // cpp-httplib's limit on one line, so both transports refuse the same
  // answers.
  static constexpr size_t kMaxLineBytes = 8192;

  // Starts a new answer. `no_body`: the answer to HEAD. `tunnel`: the
  // answer to CONNECT, whose head is all that is read.
  void Reset(size_t max_header_count, size_t max_body_bytes, bool no_body,
             bool tunnel);

  // Parses what it can of data[0, size) and returns how many bytes it used.
  // Until done() or failed(), the bytes not used are the start of a line
  // (no LF among them, fewer than kMaxLineBytes + 2): the caller presents
  // them again, followed by what arrives next. Once done(), the bytes after
  // the answer are not used; once done() or failed(), Feed uses nothing.
  size_t Feed(const char* data, size_t size);

  // The peer closed the connection after everything fed so far: ends a body
  // that runs to the end of the connection, fails anything else unfinished.
  void FeedEof();

  // At most one of done() and failed() is true.
  bool done() const { return state_ == State::kDone; }
  bool failed() const { return state_ == State::kFailed; }
  // kNone unless failed().
  TransportError error() const { return error_; }
  // Why it failed, for a log line; never quotes the answer.
  const std::string& detail() const { return detail_; }
  int status() const { return response_.status; }
  // False when the answer asked to close the connection (or its body ends
  // with the connection).
  bool keep_alive() const { return keep_alive_; }
  // The answer so far: the fields of the current answer (interim or final)
  // and the body received.
  const HttpResponse& response() const { return response_; }
  HttpResponse TakeResponse() { return std::move(response_); }

 private:
  enum class State {
    kStatusLine,
    kHeaders,
    kFixedBody,
    kChunkSize,
    kChunkData,
    kChunkEnd,
    kTrailers,
    kUntilClose,
    kDone,
    kFailed,
  };

  void Fail(TransportError error, std::string detail);
  void BodyTooLarge();
  void LineTooLong();
  void OnLine(std::string_view line);
  void OnStatusLine(std::string_view line);
  void OnField(std::string_view line, bool trailer);
  void OnEndOfHead();
  void OnChunkSize(std::string_view line);

  size_t max_header_count_ = 100;
  size_t max_body_bytes_ = 1 << 20;
  bool no_body_ = false;
  bool tunnel_ = false;
  State state_ = State::kStatusLine;
  HttpResponse response_;
  bool http_1_0_ = false;
  size_t field_count_ = 0;
  // Body bytes still expected: of the Content-Length or of the chunk.
  size_t remaining_ = 0;
  bool keep_alive_ = true;
  TransportError error_ = TransportError::kNone;
  std::string detail_;
};

}  // namespace sas::aliyun
