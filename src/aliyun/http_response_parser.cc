#include "aliyun/http_response_parser.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "util/strings.h"

namespace sas::aliyun {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

void HttpResponseParser::Reset(size_t max_header_count, size_t max_body_bytes,
                               bool no_body, bool tunnel) {
  max_header_count_ = max_header_count;
  max_body_bytes_ = max_body_bytes;
  no_body_ = no_body;
  tunnel_ = tunnel;
  state_ = State::kStatusLine;
  response_ = HttpResponse();
  field_count_ = 0;
  remaining_ = 0;
  keep_alive_ = true;
  error_ = TransportError::kNone;
  detail_.clear();
}

size_t HttpResponseParser::Feed(const char* data, size_t size) {
  size_t used = 0;
  while (used < size && !done() && !failed()) {
    const char* at = data + used;
    size_t available = size - used;
    switch (state_) {
      case State::kFixedBody:
      case State::kChunkData: {
        size_t take = std::min(available, remaining_);
        response_.body.append(at, take);
        used += take;
        remaining_ -= take;
        if (remaining_ == 0) {
          state_ =
              state_ == State::kFixedBody ? State::kDone : State::kChunkEnd;
        }
        break;
      }
      case State::kUntilClose:
        if (response_.body.size() + available > max_body_bytes_) {
          BodyTooLarge();
          return used;
        }
        response_.body.append(at, available);
        used += available;
        break;
      default: {
        size_t scan = std::min(available, kMaxLineBytes + 2);
        const void* newline = std::memchr(at, '\n', scan);
        if (newline == nullptr) {
          if (available >= kMaxLineBytes + 2) LineTooLong();
          return used;
        }
        size_t length =
            static_cast<size_t>(static_cast<const char*>(newline) - at);
        used += length + 1;
        std::string_view line(at, length);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.size() > kMaxLineBytes) {
          LineTooLong();
          return used;
        }
        if (line.find_first_of(std::string_view("\0\r", 2)) !=
            std::string_view::npos) {
          Fail(TransportError::kConnection,
               "NUL or bare CR in a line of the answer");
          return used;
        }
        OnLine(line);
        break;
      }
    }
  }
  return used;
}

void HttpResponseParser::FeedEof() {
  if (done() || failed()) return;
  if (state_ == State::kUntilClose) {
    state_ = State::kDone;
    keep_alive_ = false;
    return;
  }
  switch (state_) {
    case State::kStatusLine:
      Fail(TransportError::kConnection,
           response_.status == 0 ? "connection closed before the answer"
                                 : "connection closed after an interim "
                                   "answer");
      break;
    case State::kHeaders:
      Fail(TransportError::kConnection,
           "connection closed in the answer's header");
      break;
    case State::kFixedBody:
      Fail(TransportError::kConnection,
           "connection closed after " + std::to_string(response_.body.size()) +
               " of " + std::to_string(response_.body.size() + remaining_) +
               " body bytes");
      break;
    default:
      Fail(TransportError::kConnection,
           "connection closed in the chunked body");
      break;
  }
}

void HttpResponseParser::Fail(TransportError error, std::string detail) {
  state_ = State::kFailed;
  error_ = error;
  detail_ = std::move(detail);
}

void HttpResponseParser::BodyTooLarge() {
  Fail(TransportError::kBodyTooLarge, "response body larger than " +
                                          std::to_string(max_body_bytes_) +
                                          " bytes");
}

void HttpResponseParser::LineTooLong() {
  Fail(TransportError::kBodyTooLarge,
       std::string(state_ == State::kStatusLine ? "status line"
                   : state_ == State::kHeaders  ? "header line"
                                                : "chunked body line") +
           " longer than " + std::to_string(kMaxLineBytes) + " bytes");
}

void HttpResponseParser::OnLine(std::string_view line) {
  switch (state_) {
    case State::kStatusLine:
      return OnStatusLine(line);
    case State::kHeaders:
      if (line.empty()) return OnEndOfHead();
      return OnField(line, /*trailer=*/false);
    case State::kChunkSize:
      return OnChunkSize(line);
    case State::kChunkEnd:
      if (!line.empty()) {
        return Fail(TransportError::kConnection,
                    "chunk data longer than its size");
      }
      state_ = State::kChunkSize;
      return;
    case State::kTrailers:
      if (line.empty()) {
        state_ = State::kDone;
        return;
      }
      return OnField(line, /*trailer=*/true);
    default:
      return;
  }
}

// "HTTP/1.1 200 OK": the version, a space, three digits, then an
// optional reason.
void HttpResponseParser::OnStatusLine(std::string_view line) {
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || !digit(line[7]) ||
      line[8] != ' ' || !digit(line[9]) || !digit(line[10]) ||
      !digit(line[11]) || (line.size() > 12 && line[12] != ' ')) {
    return Fail(TransportError::kConnection, "malformed status line");
  }
  http_1_0_ = line[7] == '0';
  response_.status =
      (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
  response_.headers.clear();
  field_count_ = 0;
  state_ = State::kHeaders;
}

void HttpResponseParser::OnField(std::string_view line, bool trailer) {
  if (++field_count_ > max_header_count_) {
    return Fail(TransportError::kBodyTooLarge,
                "response with more than " + std::to_string(max_header_count_) +
                    " header fields");
  }
  if (line.front() == ' ' || line.front() == '\t') {
    return Fail(TransportError::kConnection,
                "folded header line (obsolete line folding)");
  }
  size_t colon = line.find(':');
  std::string_view name = line.substr(0, colon);
  if (colon == std::string_view::npos || name.empty() ||
      name.find_first_of(" \t") != std::string_view::npos) {
    return Fail(TransportError::kConnection, "malformed header field");
  }
  if (trailer) return;
  response_.headers.emplace_back(ToLower(name),
                                 std::string(Trim(line.substr(colon + 1))));
}

void HttpResponseParser::OnEndOfHead() {
  int status = response_.status;
  if (status >= 100 && status < 200) {
    if (status == 101) {
      return Fail(TransportError::kConnection,
                  "unexpected 101 Switching Protocols");
    }
    state_ = State::kStatusLine;  // an interim answer: the real one follows
    return;
  }
  if (tunnel_) {
    state_ = State::kDone;
    return;
  }
  bool saw_keep_alive = false;
  std::optional<std::string> transfer_encoding;
  std::optional<uint64_t> content_length;
  for (const auto& [name, value] : response_.headers) {
    if (name == "connection") {
      for (const std::string& token : Split(value, ',')) {
        if (EqualsIgnoreCase(Trim(token), "close")) keep_alive_ = false;
        if (EqualsIgnoreCase(Trim(token), "keep-alive")) {
          saw_keep_alive = true;
        }
      }
    } else if (name == "transfer-encoding") {
      transfer_encoding = value;
    } else if (name == "content-length") {
      for (const std::string& item : Split(value, ',')) {
        std::string_view text = Trim(item);
        uint64_t length = 0;
        auto [end, error] =
            std::from_chars(text.data(), text.data() + text.size(), length);
        if (text.empty() || error != std::errc() ||
            end != text.data() + text.size()) {
          return Fail(TransportError::kConnection,
                      error == std::errc::result_out_of_range
                          ? "Content-Length out of range"
                          : "invalid Content-Length");
        }
        if (content_length && *content_length != length) {
          return Fail(TransportError::kConnection,
                      "conflicting Content-Length fields");
        }
        content_length = length;
      }
    }
  }
  if (http_1_0_ && !saw_keep_alive) keep_alive_ = false;
  if (no_body_ || status == 204 || status == 304) {
    state_ = State::kDone;
  } else if (transfer_encoding) {
    // The body's framing is the transfer coding's; with Content-Length
    // as well, the connection cannot be trusted for another answer.
    if (content_length) keep_alive_ = false;
    std::vector<std::string> codings = Split(*transfer_encoding, ',');
    if (!codings.empty() && EqualsIgnoreCase(Trim(codings.back()), "chunked")) {
      state_ = State::kChunkSize;
    } else {
      state_ = State::kUntilClose;
      keep_alive_ = false;
    }
  } else if (content_length) {
    if (*content_length > max_body_bytes_) return BodyTooLarge();
    remaining_ = static_cast<size_t>(*content_length);
    response_.body.reserve(remaining_);
    state_ = remaining_ == 0 ? State::kDone : State::kFixedBody;
  } else {
    state_ = State::kUntilClose;
    keep_alive_ = false;
  }
}

// "1a3f" or "1a3f;name=value".
void HttpResponseParser::OnChunkSize(std::string_view line) {
  std::string_view size_text = line.substr(0, line.find(';'));
  while (!size_text.empty() &&
         (size_text.back() == ' ' || size_text.back() == '\t')) {
    size_text.remove_suffix(1);
  }
  uint64_t size = 0;
  auto [end, error] = std::from_chars(
      size_text.data(), size_text.data() + size_text.size(), size, 16);
  if (size_text.empty() || error != std::errc() ||
      end != size_text.data() + size_text.size()) {
    return Fail(TransportError::kConnection,
                error == std::errc::result_out_of_range
                    ? "chunk size out of range"
                    : "invalid chunk size");
  }
  if (size == 0) {
    state_ = State::kTrailers;
    return;
  }
  if (size > max_body_bytes_ - response_.body.size()) return BodyTooLarge();
  remaining_ = static_cast<size_t>(size);
  state_ = State::kChunkData;
}

}  // namespace sas::aliyun
