#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sas::web {

// What a client may send us, at most. Every limit is checked while reading,
// so no request costs more memory than these bounds.
struct HttpLimits {
  // The request line and every header field, with their line ends.
  size_t max_header_bytes = 16 * 1024;
  size_t max_header_count = 100;
  // The body after transfer decoding (chunked) and content decoding (gzip).
  size_t max_body_bytes = 64 * 1024;
  // The body as it arrives: chunk framing and compressed bytes included.
  size_t max_wire_body_bytes = 256 * 1024;
};

// One parsed request. The path and query are exactly as sent
// (percent-encoded): a handler splits the path into segments before it
// decodes them, so an encoded "/" never becomes a separator.
struct HttpRequest {
  std::string method;     // "GET", case as sent (methods are case-sensitive)
  std::string path;       // "/api/v1/tasks/demo%2F7031", without the query
  std::string query;      // "rd_account_id=1", without the '?'
  int minor_version = 1;  // HTTP/1.<minor_version>
  // Field names in lower case, values without surrounding blanks, in order.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // decoded

  // The first field named `lower_name`, or nullptr.
  const std::string* Header(std::string_view lower_name) const;
  // Whether the connection may carry another request after this one.
  bool KeepAlive() const;
  // Whether the client accepts a gzip-encoded answer (Accept-Encoding,
  // q-values honoured).
  bool AcceptsGzip() const;
};

// Why a request was refused: an HTTP status and a message for the client.
struct HttpError {
  int status = 400;
  std::string message;
};

// Reads requests incrementally from the bytes of one connection, enforcing
// HttpLimits as the bytes arrive. Not thread-safe.
//   400 malformed, 413 body too large, 415 unknown Content-Encoding,
//   431 header fields too large or too many, 501 unknown Transfer-Encoding,
//   505 an HTTP version other than 1.0 and 1.1.
class RequestParser {
 public:
  enum class Result { kIncomplete, kComplete, kError };

  explicit RequestParser(HttpLimits limits);
  ~RequestParser();
  RequestParser(const RequestParser&) = delete;
  RequestParser& operator=(const RequestParser&) = delete;

  // Consumes bytes from the front of *input, leaving any that belong to the
  // next request. kComplete: request() holds the request; call Reset()
  // before parsing the next one. kError: error() says why; the connection
  // cannot be trusted any more.
  Result Parse(std::string* input);

  HttpRequest& request() { return request_; }
  const HttpError& error() const { return error_; }
  // True once the head is read and the client waits for "100 Continue"
  // before sending the body; cleared by reading it.
  bool TakeContinueRequest();
  // True while part of a request has been read.
  bool InProgress() const { return in_progress_; }
  // True while the head (request line and fields) is still being read.
  bool ReadingHead() const { return phase_ == Phase::kHead; }
  void Reset();

 private:
  enum class Phase {
    kHead,
    kFixedBody,
    kChunkSize,
    kChunkData,
    kChunkEnd,
    kTrailers,
    kDone
  };
  class BodyDecoder;

  Result Fail(int status, std::string message);
  Result ParseHead(std::string* input);
  bool ParseRequestLine(std::string_view line);
  bool ParseHeaderLine(std::string_view line);
  Result StartBody();
  Result Finish();
  bool AppendBody(std::string_view bytes);

  const HttpLimits limits_;
  Phase phase_ = Phase::kHead;
  bool in_progress_ = false;
  bool continue_requested_ = false;
  size_t head_scanned_ = 0;  // bytes of the head already searched for its end
  size_t body_remaining_ = 0;
  size_t wire_body_bytes_ = 0;
  size_t trailer_bytes_ = 0;
  size_t trailer_count_ = 0;
  HttpRequest request_;
  HttpError error_;
  std::unique_ptr<BodyDecoder> decoder_;
};

// Splits "a=1&b=x%20y" into decoded pairs; '+' is a space, as in forms.
// False with *error on a malformed escape.
bool ParseQuery(std::string_view query,
                std::vector<std::pair<std::string, std::string>>* out,
                std::string* error);

}  // namespace sas::web
