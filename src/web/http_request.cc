#include "web/http_request.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <optional>

#include "util/strings.h"

namespace sas::web {
namespace {

// A chunk-size line: 16 hex digits and a short extension at the most.
constexpr size_t kMaxChunkLine = 1024;

bool IsTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
      (c >= '0' && c <= '9')) {
    return true;
  }
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsToken(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), IsTokenChar);
}

char ToLower(char c) { return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c; }

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = ToLower(c);
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(),
                    [](char x, char y) { return ToLower(x) == ToLower(y); });
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return text;
}

// Splits a comma-separated field value into trimmed, non-empty elements.
std::vector<std::string_view> ListElements(std::string_view value) {
  std::vector<std::string_view> elements;
  while (!value.empty()) {
    size_t comma = value.find(',');
    std::string_view element = Trim(value.substr(0, comma));
    if (!element.empty()) elements.push_back(element);
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return elements;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Takes one line (without its LF, and without a CR before it) from the
// front of text; nullopt when no LF has arrived yet.
std::optional<std::string_view> TakeLine(std::string_view text,
                                         size_t* consumed) {
  size_t lf = text.find('\n');
  if (lf == std::string_view::npos) return std::nullopt;
  *consumed = lf + 1;
  std::string_view line = text.substr(0, lf);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

}  // namespace

// Turns body bytes as sent into the body as meant, within max_body_bytes.
class RequestParser::BodyDecoder {
 public:
  enum class Encoding { kIdentity, kZlib };

  explicit BodyDecoder(Encoding encoding) : encoding_(encoding) {
    if (encoding_ == Encoding::kZlib) {
      // 15 + 32: a zlib or a gzip stream, told apart by its header.
      inflate_ready_ = inflateInit2(&stream_, 15 + 32) == Z_OK;
    }
  }
  ~BodyDecoder() {
    if (inflate_ready_) inflateEnd(&stream_);
  }
  BodyDecoder(const BodyDecoder&) = delete;
  BodyDecoder& operator=(const BodyDecoder&) = delete;

  // Appends the decoded form of `bytes` to *body. False with *error (413 or
  // 400) once the body would pass `limit` or the data is not valid.
  bool Decode(std::string_view bytes, size_t limit, std::string* body,
              HttpError* error) {
    if (encoding_ == Encoding::kIdentity) {
      if (body->size() + bytes.size() > limit) return TooLarge(limit, error);
      body->append(bytes);
      return true;
    }
    if (!inflate_ready_) {
      *error = {500, "cannot start decompression"};
      return false;
    }
    if (finished_) {
      if (bytes.empty()) return true;
      *error = {400, "data after the end of the compressed body"};
      return false;
    }
    stream_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
    stream_.avail_in = static_cast<uInt>(bytes.size());
    std::array<char, 16 * 1024> out;
    while (stream_.avail_in > 0) {
      stream_.next_out = reinterpret_cast<Bytef*>(out.data());
      stream_.avail_out = static_cast<uInt>(out.size());
      int status = inflate(&stream_, Z_NO_FLUSH);
      size_t produced = out.size() - stream_.avail_out;
      if (body->size() + produced > limit) return TooLarge(limit, error);
      body->append(out.data(), produced);
      if (status == Z_STREAM_END) {
        finished_ = true;
        if (stream_.avail_in > 0) {
          *error = {400, "data after the end of the compressed body"};
          return false;
        }
        break;
      }
      if (status != Z_OK && status != Z_BUF_ERROR) {
        *error = {400, "the compressed body is not valid gzip or deflate data"};
        return false;
      }
      if (status == Z_BUF_ERROR && produced == 0) break;
    }
    return true;
  }

  // False with *error when a compressed body stopped before its end.
  bool Complete(HttpError* error) const {
    if (encoding_ == Encoding::kZlib && !finished_) {
      *error = {400, "the compressed body ends before its end marker"};
      return false;
    }
    return true;
  }

 private:
  static bool TooLarge(size_t limit, HttpError* error) {
    *error = {413, "request body larger than " + std::to_string(limit / 1024) +
                       " KiB (after decoding)"};
    return false;
  }

  const Encoding encoding_;
  z_stream stream_{};
  bool inflate_ready_ = false;
  bool finished_ = false;
};

const std::string* HttpRequest::Header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return &value;
  }
  return nullptr;
}

bool HttpRequest::KeepAlive() const {
  bool close = false, keep_alive = false;
  for (const auto& [name, value] : headers) {
    if (name != "connection") continue;
    for (std::string_view option : ListElements(value)) {
      if (EqualsIgnoreCase(option, "close")) close = true;
      if (EqualsIgnoreCase(option, "keep-alive")) keep_alive = true;
    }
  }
  if (close) return false;
  return minor_version >= 1 || keep_alive;
}

bool HttpRequest::AcceptsGzip() const {
  const std::string* accept = Header("accept-encoding");
  if (accept == nullptr) return false;
  std::optional<bool> gzip, any;
  for (std::string_view element : ListElements(*accept)) {
    std::string_view coding = Trim(element.substr(0, element.find(';')));
    bool acceptable = true;
    if (size_t q = element.find(";"); q != std::string_view::npos) {
      std::string_view parameter = Trim(element.substr(q + 1));
      if (parameter.size() >= 2 && ToLower(parameter[0]) == 'q' &&
          parameter[1] == '=') {
        std::string_view number = Trim(parameter.substr(2));
        // q=0, q=0.0, q=0.000: not acceptable.
        acceptable = number.find_first_not_of("0.") != std::string_view::npos;
      }
    }
    if (EqualsIgnoreCase(coding, "gzip") ||
        EqualsIgnoreCase(coding, "x-gzip")) {
      gzip = acceptable;
    } else if (coding == "*") {
      any = acceptable;
    }
  }
  if (gzip) return *gzip;
  return any.value_or(false);
}

RequestParser::RequestParser(HttpLimits limits) : limits_(limits) {}

RequestParser::~RequestParser() = default;

void RequestParser::Reset() {
  phase_ = Phase::kHead;
  in_progress_ = false;
  continue_requested_ = false;
  head_scanned_ = 0;
  body_remaining_ = 0;
  wire_body_bytes_ = 0;
  trailer_bytes_ = 0;
  trailer_count_ = 0;
  request_ = HttpRequest();
  error_ = HttpError();
  decoder_.reset();
}

bool RequestParser::TakeContinueRequest() {
  bool requested = continue_requested_;
  continue_requested_ = false;
  return requested;
}

RequestParser::Result RequestParser::Fail(int status, std::string message) {
  error_ = {status, std::move(message)};
  phase_ = Phase::kDone;
  return Result::kError;
}

RequestParser::Result RequestParser::Parse(std::string* input) {
  if (phase_ == Phase::kDone) {
    return error_.message.empty() ? Result::kComplete : Result::kError;
  }
  if (phase_ == Phase::kHead) {
    Result result = ParseHead(input);
    if (result != Result::kComplete) return result;
    result = StartBody();
    if (result != Result::kIncomplete) return result;
  }
  size_t used = 0;
  std::string_view data(*input);
  auto consume = [&](size_t n) {
    used += n;
    data.remove_prefix(n);
  };
  Result result = Result::kIncomplete;
  while (result == Result::kIncomplete) {
    size_t before = used;
    switch (phase_) {
      case Phase::kFixedBody: {
        size_t n = std::min(body_remaining_, data.size());
        if (!AppendBody(data.substr(0, n))) return Result::kError;
        consume(n);
        body_remaining_ -= n;
        if (body_remaining_ == 0) result = Finish();
        break;
      }
      case Phase::kChunkSize: {
        size_t line_size = 0;
        auto line = TakeLine(data, &line_size);
        if (!line) {
          if (data.size() > kMaxChunkLine) {
            return Fail(400, "chunk size line too long");
          }
          break;
        }
        std::string_view size_text = Trim(line->substr(0, line->find(';')));
        if (size_text.empty() || size_text.size() > 16) {
          return Fail(400, "malformed chunk size");
        }
        uint64_t size = 0;
        for (char c : size_text) {
          int digit = HexValue(c);
          if (digit < 0) return Fail(400, "malformed chunk size");
          size = size * 16 + static_cast<uint64_t>(digit);
        }
        wire_body_bytes_ += line_size;
        if (size > limits_.max_wire_body_bytes ||
            wire_body_bytes_ + size > limits_.max_wire_body_bytes) {
          return Fail(413, "request body larger than " +
                               std::to_string(limits_.max_body_bytes / 1024) +
                               " KiB");
        }
        consume(line_size);
        body_remaining_ = static_cast<size_t>(size);
        phase_ = size == 0 ? Phase::kTrailers : Phase::kChunkData;
        break;
      }
      case Phase::kChunkData: {
        size_t n = std::min(body_remaining_, data.size());
        if (!AppendBody(data.substr(0, n))) return Result::kError;
        wire_body_bytes_ += n;
        consume(n);
        body_remaining_ -= n;
        if (body_remaining_ == 0) phase_ = Phase::kChunkEnd;
        break;
      }
      case Phase::kChunkEnd: {
        if (data.starts_with("\r\n")) {
          consume(2);
        } else if (data.starts_with("\n")) {
          consume(1);
        } else if (data.empty() || data == "\r") {
          break;
        } else {
          return Fail(400, "chunk data longer than its size");
        }
        wire_body_bytes_ += 2;
        phase_ = Phase::kChunkSize;
        break;
      }
      case Phase::kTrailers: {
        size_t line_size = 0;
        auto line = TakeLine(data, &line_size);
        if (!line) {
          if (trailer_bytes_ + data.size() > limits_.max_header_bytes) {
            return Fail(431, "trailer fields larger than " +
                                 std::to_string(limits_.max_header_bytes) +
                                 " bytes");
          }
          break;
        }
        consume(line_size);
        // The empty line that ends the trailers counts, as the check above
        // counts what has arrived of it, and as the head's counts.
        trailer_bytes_ += line_size;
        if (trailer_bytes_ > limits_.max_header_bytes ||
            (!line->empty() && ++trailer_count_ > limits_.max_header_count)) {
          return Fail(431, "too many or too large trailer fields");
        }
        if (line->empty()) result = Finish();
        break;
      }
      case Phase::kHead:
      case Phase::kDone:
        result = Finish();
        break;
    }
    if (result == Result::kIncomplete && used == before) break;
  }
  input->erase(0, used);
  return result;
}

RequestParser::Result RequestParser::ParseHead(std::string* input) {
  // Empty lines before a request line are ignored (RFC 9112, 2.2).
  if (!in_progress_) {
    size_t skip = 0;
    while (skip < input->size() &&
           ((*input)[skip] == '\r' || (*input)[skip] == '\n')) {
      ++skip;
    }
    input->erase(0, skip);
    if (input->empty()) return Result::kIncomplete;
    in_progress_ = true;
  }
  // The head ends with an empty line: "\n\n" once any CRs are set aside.
  size_t end = std::string::npos;
  for (size_t i = head_scanned_; i < input->size(); ++i) {
    if ((*input)[i] != '\n') continue;
    size_t next = i + 1;
    if (next < input->size() && (*input)[next] == '\r') ++next;
    if (next < input->size() && (*input)[next] == '\n') {
      end = next + 1;
      break;
    }
  }
  if (end == std::string::npos) {
    head_scanned_ = input->size() < 2 ? 0 : input->size() - 2;
    if (input->size() > limits_.max_header_bytes) {
      return Fail(431, "request header fields larger than " +
                           std::to_string(limits_.max_header_bytes) + " bytes");
    }
    // Count complete lines already: a flood of tiny fields fails early.
    size_t lines =
        static_cast<size_t>(std::count(input->begin(), input->end(), '\n'));
    if (lines > limits_.max_header_count + 1) {
      return Fail(431, "more than " + std::to_string(limits_.max_header_count) +
                           " request header fields");
    }
    return Result::kIncomplete;
  }
  if (end > limits_.max_header_bytes) {
    return Fail(431, "request header fields larger than " +
                         std::to_string(limits_.max_header_bytes) + " bytes");
  }
  // The fields are counted before any line is read, as they are while the
  // head is incomplete, so the verdict does not depend on how the bytes
  // arrived. Lines: the request line, the fields, the empty line.
  size_t lines = static_cast<size_t>(
      std::count(input->begin(), input->begin() + end, '\n'));
  if (lines > limits_.max_header_count + 2) {
    return Fail(431, "more than " + std::to_string(limits_.max_header_count) +
                         " request header fields");
  }
  std::string_view head(input->data(), end);
  size_t line_size = 0;
  auto request_line = TakeLine(head, &line_size);
  if (!ParseRequestLine(*request_line)) return Result::kError;
  head.remove_prefix(line_size);
  size_t count = 0;
  while (true) {
    auto line = TakeLine(head, &line_size);
    if (!line || line->empty()) break;
    if (++count > limits_.max_header_count) {
      return Fail(431, "more than " + std::to_string(limits_.max_header_count) +
                           " request header fields");
    }
    if (!ParseHeaderLine(*line)) return Result::kError;
    head.remove_prefix(line_size);
  }
  input->erase(0, end);
  return Result::kComplete;
}

bool RequestParser::ParseRequestLine(std::string_view line) {
  size_t first = line.find(' ');
  size_t last = line.rfind(' ');
  if (first == std::string_view::npos || first == last) {
    Fail(400, "malformed request line");
    return false;
  }
  std::string_view method = line.substr(0, first);
  std::string_view target = line.substr(first + 1, last - first - 1);
  std::string_view version = line.substr(last + 1);
  if (!IsToken(method)) {
    Fail(400, "malformed method");
    return false;
  }
  if (version.size() != 8 || !version.starts_with("HTTP/") ||
      version[6] != '.' || version[5] < '0' || version[5] > '9' ||
      version[7] < '0' || version[7] > '9') {
    Fail(400, "malformed HTTP version");
    return false;
  }
  if (version[5] != '1' || version[7] > '1') {
    Fail(505, "only HTTP/1.0 and HTTP/1.1 are served");
    return false;
  }
  if (target.empty() || target.front() != '/') {
    Fail(400, "the request target must be an absolute path such as /metrics");
    return false;
  }
  for (char c : target) {
    if (static_cast<unsigned char>(c) <= 0x20 ||
        static_cast<unsigned char>(c) >= 0x7f) {
      Fail(400, "the request target has a byte that must be percent-encoded");
      return false;
    }
  }
  size_t question = target.find('?');
  request_.method = std::string(method);
  request_.path = std::string(target.substr(0, question));
  if (question != std::string_view::npos) {
    request_.query = std::string(target.substr(question + 1));
  }
  request_.minor_version = version[7] - '0';
  return true;
}

bool RequestParser::ParseHeaderLine(std::string_view line) {
  if (line.front() == ' ' || line.front() == '\t') {
    Fail(400, "folded header lines are not accepted");
    return false;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos || !IsToken(line.substr(0, colon))) {
    Fail(400, "malformed header field");
    return false;
  }
  std::string_view value = Trim(line.substr(colon + 1));
  for (char c : value) {
    auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && byte != '\t') || byte == 0x7f) {
      Fail(400, "a header field value has a control character");
      return false;
    }
  }
  request_.headers.emplace_back(Lower(line.substr(0, colon)),
                                std::string(value));
  return true;
}

RequestParser::Result RequestParser::StartBody() {
  const std::string* transfer = request_.Header("transfer-encoding");
  std::optional<uint64_t> length;
  for (const auto& [name, value] : request_.headers) {
    if (name != "content-length") continue;
    uint64_t parsed = 0;
    auto [end, ec] =
        std::from_chars(value.data(), value.data() + value.size(), parsed);
    if (ec != std::errc() || end != value.data() + value.size() ||
        value.empty()) {
      return Fail(400, "malformed Content-Length");
    }
    if (length && *length != parsed) {
      return Fail(400, "conflicting Content-Length fields");
    }
    length = parsed;
  }
  if (transfer != nullptr && length) {
    return Fail(400, "both Transfer-Encoding and Content-Length are set");
  }
  if (transfer != nullptr) {
    std::vector<std::string_view> codings = ListElements(*transfer);
    if (codings.size() != 1 || !EqualsIgnoreCase(codings[0], "chunked")) {
      return Fail(501, "only Transfer-Encoding: chunked is supported");
    }
    if (request_.minor_version == 0) {
      return Fail(400, "Transfer-Encoding in an HTTP/1.0 request");
    }
  }
  if (length && *length > limits_.max_wire_body_bytes) {
    return Fail(413, "request body larger than " +
                         std::to_string(limits_.max_body_bytes / 1024) +
                         " KiB");
  }
  BodyDecoder::Encoding encoding = BodyDecoder::Encoding::kIdentity;
  if (const std::string* content = request_.Header("content-encoding")) {
    std::vector<std::string_view> codings = ListElements(*content);
    if (codings.size() > 1) {
      return Fail(415, "at most one Content-Encoding is accepted");
    }
    if (codings.size() == 1 && !EqualsIgnoreCase(codings[0], "identity")) {
      if (EqualsIgnoreCase(codings[0], "gzip") ||
          EqualsIgnoreCase(codings[0], "x-gzip") ||
          EqualsIgnoreCase(codings[0], "deflate")) {
        encoding = BodyDecoder::Encoding::kZlib;
      } else {
        return Fail(415, "unsupported Content-Encoding (gzip, deflate)");
      }
    }
  }
  const bool has_body = transfer != nullptr || (length && *length > 0);
  if (!has_body) {
    phase_ = Phase::kDone;
    return Result::kComplete;
  }
  decoder_ = std::make_unique<BodyDecoder>(encoding);
  if (const std::string* expect = request_.Header("expect");
      expect != nullptr && EqualsIgnoreCase(*expect, "100-continue") &&
      request_.minor_version >= 1) {
    continue_requested_ = true;
  }
  if (transfer != nullptr) {
    phase_ = Phase::kChunkSize;
  } else {
    if (*length > limits_.max_body_bytes &&
        encoding == BodyDecoder::Encoding::kIdentity) {
      return Fail(413, "request body larger than " +
                           std::to_string(limits_.max_body_bytes / 1024) +
                           " KiB");
    }
    phase_ = Phase::kFixedBody;
    body_remaining_ = static_cast<size_t>(*length);
  }
  return Result::kIncomplete;
}

bool RequestParser::AppendBody(std::string_view bytes) {
  if (bytes.empty()) return true;
  continue_requested_ = false;
  if (!decoder_->Decode(bytes, limits_.max_body_bytes, &request_.body,
                        &error_)) {
    phase_ = Phase::kDone;
    return false;
  }
  return true;
}

RequestParser::Result RequestParser::Finish() {
  if (decoder_ && !decoder_->Complete(&error_)) {
    phase_ = Phase::kDone;
    return Result::kError;
  }
  phase_ = Phase::kDone;
  return Result::kComplete;
}

bool ParseQuery(std::string_view query,
                std::vector<std::pair<std::string, std::string>>* out,
                std::string* error) {
  std::vector<std::pair<std::string, std::string>> pairs;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view()
                                          : query.substr(amp + 1);
    if (pair.empty()) continue;
    size_t equals = pair.find('=');
    std::string name(pair.substr(0, equals));
    std::string value(equals == std::string_view::npos
                          ? std::string_view()
                          : pair.substr(equals + 1));
    std::replace(name.begin(), name.end(), '+', ' ');
    std::replace(value.begin(), value.end(), '+', ' ');
    std::string decoded_name, decoded_value;
    if (!PercentDecode(name, &decoded_name) ||
        !PercentDecode(value, &decoded_value)) {
      *error = "malformed percent-encoding in the query string";
      return false;
    }
    pairs.emplace_back(std::move(decoded_name), std::move(decoded_value));
  }
  *out = std::move(pairs);
  return true;
}

}  // namespace sas::web
