#include "aliyun/response.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>

#include "aliyun/json_body.h"
#include "util/strings.h"

namespace sas::aliyun {
namespace {

using nlohmann::json;

constexpr size_t kMaxSanitizedMessageBytes = 256;
// ExportStatus, FileName and Message as exposed: at most this many bytes.
constexpr size_t kMaxAnswerText = 1024;
ApiError MakeError(ApiErrorKind kind, std::string code, std::string message,
                   int http_status) {
  ApiError error;
  error.kind = kind;
  error.code = std::move(code);
  error.message = std::move(message);
  error.http_status = http_status;
  return error;
}

bool Is2xx(int status) { return status >= 200 && status <= 299; }

std::string FieldError(std::string_view field, std::string_view what) {
  return "field " + std::string(field) + ": " + std::string(what);
}

// Reads a required integer field within [min, max]. Only JSON integers are
// accepted: 16.0 and "16" are ill-typed.
bool ReadInteger(const json& object, std::string_view field, int64_t min,
                 int64_t max, int64_t* out, std::string* why) {
  auto it = object.find(field);
  if (it == object.end()) {
    *why = FieldError(field, "missing");
    return false;
  }
  const json& value = *it;
  int64_t number = 0;
  if (value.is_number_unsigned()) {
    uint64_t unsigned_number = value.get<uint64_t>();
    if (unsigned_number >
        static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      *why = FieldError(field, "integer out of range");
      return false;
    }
    number = static_cast<int64_t>(unsigned_number);
  } else if (value.is_number_integer()) {
    number = value.get<int64_t>();
  } else {
    *why = FieldError(field, "expected an integer, got " + JsonTypeName(value));
    return false;
  }
  if (number < min || number > max) {
    *why =
        FieldError(field, std::to_string(number) + " is out of range " +
                              std::to_string(min) + ".." + std::to_string(max));
    return false;
  }
  *out = number;
  return true;
}

bool ReadRequiredString(const json& object, std::string_view field,
                        std::string* out, std::string* why) {
  auto it = object.find(field);
  if (it == object.end()) {
    *why = FieldError(field, "missing");
    return false;
  }
  if (!it->is_string()) {
    *why = FieldError(field, "expected a string, got " + JsonTypeName(*it));
    return false;
  }
  *out = it->get<std::string>();
  return true;
}

// An optional string: absent or null leaves *out empty. out may be null to
// check the type only.
bool ReadOptionalString(const json& object, std::string_view field,
                        std::string* out, std::string* why) {
  auto it = object.find(field);
  if (it == object.end() || it->is_null()) return true;
  if (!it->is_string()) {
    *why = FieldError(field, "expected a string, got " + JsonTypeName(*it));
    return false;
  }
  if (out != nullptr) *out = it->get<std::string>();
  return true;
}

// The string member field, or "" when absent or not a string.
std::string StringMember(const json& object, std::string_view field) {
  auto it = object.find(field);
  if (it == object.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

std::chrono::milliseconds RetryAfter(const HttpResponse& response) {
  std::optional<std::string> header = response.Header("x-acs-retry-after");
  if (!header) return std::chrono::milliseconds(0);
  std::string_view text = Trim(*header);
  int64_t millis = 0;
  auto parsed = std::from_chars(text.data(), text.data() + text.size(), millis);
  if (text.empty() || parsed.ec != std::errc() ||
      parsed.ptr != text.data() + text.size() || millis < 0) {
    return std::chrono::milliseconds(0);
  }
  return std::min(std::chrono::milliseconds(millis), kMaxRetryAfter);
}

// The error carried by an already parsed object (Code known to be usable).
ApiError ErrorFromObject(const json& object, const HttpResponse& response,
                         std::string code) {
  ApiError error;
  error.message = SanitizeErrorMessage(code, StringMember(object, "Message"));
  error.code = std::move(code);
  error.request_id =
      SanitizeErrorMessage("", StringMember(object, "RequestId"));
  error.http_status = response.status;
  error.retry_after = RetryAfter(response);
  return error;
}

bool IsCodeOrChild(std::string_view code, std::string_view base) {
  return code == base || (StartsWith(code, base) && code.size() > base.size() &&
                          code[base.size()] == '.');
}

}  // namespace

std::variant<ExportInfo, ApiError> ParseDescribeExportInfo(
    const HttpResponse& response) {
  if (!Is2xx(response.status)) return ParseErrorResponse(response);

  std::string why;
  std::optional<json> object = ParseJsonObject(response.body, "body", &why);
  if (!object) {
    return MakeError(ApiErrorKind::kBadResponse, "bad_response",
                     "DescribeExportInfo answer unusable: " + why,
                     response.status);
  }
  std::string code = StringMember(*object, "Code");
  if (!code.empty() && !object->contains("ExportStatus")) {
    return ErrorFromObject(*object, response, std::move(code));
  }

  ExportInfo info;
  int64_t id = 0, progress = 0, current_count = 0, total_count = 0;
  constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();
  constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();
  constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
  bool ok =
      ReadRequiredString(*object, "RequestId", &info.request_id, &why) &&
      ReadInteger(*object, "Id", kInt64Min, kInt64Max, &id, &why) &&
      ReadInteger(*object, "Progress", 0, 100, &progress, &why) &&
      ReadInteger(*object, "CurrentCount", 0, kInt32Max, &current_count,
                  &why) &&
      ReadInteger(*object, "TotalCount", 0, kInt32Max, &total_count, &why) &&
      ReadRequiredString(*object, "ExportStatus", &info.export_status, &why) &&
      ReadOptionalString(*object, "FileName", &info.file_name, &why) &&
      ReadOptionalString(*object, "Message", &info.message, &why) &&
      ReadOptionalString(*object, "Link", nullptr, &why);
  if (!ok) {
    ApiError error = MakeError(ApiErrorKind::kBadResponse, "bad_response",
                               "DescribeExportInfo answer unusable: " + why,
                               response.status);
    error.request_id = SanitizeErrorMessage("", info.request_id);
    return error;
  }
  // Strings a peer chose become label values and page text: printable and
  // bounded.
  info.export_status = PrintableText(info.export_status, kMaxAnswerText);
  info.file_name = PrintableText(info.file_name, kMaxAnswerText);
  info.message = PrintableText(info.message, kMaxAnswerText);
  info.id = id;
  info.progress = static_cast<int32_t>(progress);
  info.current_count = static_cast<int32_t>(current_count);
  info.total_count = static_cast<int32_t>(total_count);
  return info;
}

ApiError ParseErrorResponse(const HttpResponse& response) {
  std::string why;
  std::optional<json> object = ParseJsonObject(response.body, "body", &why);
  if (object) {
    std::string code = StringMember(*object, "Code");
    if (!Trim(code).empty()) {
      return ErrorFromObject(*object, response, std::string(Trim(code)));
    }
  }
  std::string status = std::to_string(response.status);
  ApiError error =
      MakeError(ApiErrorKind::kHttp, "http_" + status,
                "HTTP " + status + " without an error code", response.status);
  if (object) {
    std::string message =
        SanitizeErrorMessage("", StringMember(*object, "Message"));
    if (!message.empty()) error.message += ": " + message;
    error.request_id =
        SanitizeErrorMessage("", StringMember(*object, "RequestId"));
  }
  error.retry_after = RetryAfter(response);
  return error;
}

ApiError TransportFailure(TransportError error, std::string_view detail) {
  std::string code;
  std::string summary;
  ApiErrorKind kind = ApiErrorKind::kConnection;
  switch (error) {
    case TransportError::kTimeout:
      kind = ApiErrorKind::kTimeout;
      code = "timeout";
      summary = "request timed out";
      break;
    case TransportError::kTls:
      kind = ApiErrorKind::kTls;
      code = "tls";
      summary = "TLS handshake or certificate verification failed";
      break;
    case TransportError::kBodyTooLarge:
      kind = ApiErrorKind::kBadResponse;
      code = "bad_response";
      summary = "response body exceeded " + std::to_string(kMaxResponseBytes) +
                " bytes";
      break;
    case TransportError::kCancelled:
      kind = ApiErrorKind::kCancelled;
      code = "cancelled";
      summary = "request cancelled at shutdown";
      break;
    case TransportError::kConnection:
    case TransportError::kNone:
      code = "connection";
      summary = "connection failed";
      break;
  }
  std::string clean = SanitizeErrorMessage(code, detail);
  if (!clean.empty()) summary += ": " + clean;
  return MakeError(kind, std::move(code), std::move(summary), 0);
}

bool IsRetryable(const ApiError& error) {
  const std::string& code = error.code;
  if (IsPermanentAuthError(code)) return false;
  if (StartsWith(code, "Throttling")) return true;
  if (code == "InternalError" || code == "ServerError" ||
      code == "ServiceUnavailable" || code == "RdCheckInnerError" ||
      error.kind == ApiErrorKind::kTimeout ||
      error.kind == ApiErrorKind::kConnection) {
    return true;
  }
  return error.http_status >= 500;
}

bool IsPermanentAuthError(std::string_view code) {
  return code == "SignatureDoesNotMatch" || code == "IncompleteSignature" ||
         code == "InvalidSignatureMethod" || code == "NoPermission" ||
         code == "RdCheckNoPermission" || code == "MissingSecurityToken" ||
         IsCodeOrChild(code, "InvalidAccessKeyId") ||
         IsCodeOrChild(code, "Forbidden") ||
         IsCodeOrChild(code, "InvalidSecurityToken");
}

std::string SanitizeErrorMessage(std::string_view /*code*/,
                                 std::string_view message) {
  std::string lower = ToLower(message);
  size_t cut = lower.find("string to sign");
  if (cut != std::string::npos) message = message.substr(0, cut);

  std::string out;
  out.reserve(message.size());
  for (size_t i = 0; i < message.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(message[i]);
    if (c == '\t' || c == '\n' || c == '\r') {
      out += ' ';
    } else if (c < 0x20 || c == 0x7f) {
      continue;
    } else if (c == 0xc2 && i + 1 < message.size() &&
               static_cast<unsigned char>(message[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(message[i + 1]) <= 0x9f) {
      ++i;  // A C1 control character, U+0080..U+009F.
    } else {
      out += static_cast<char>(c);
    }
  }
  std::string_view trimmed = Trim(out);
  if (trimmed.size() > kMaxSanitizedMessageBytes) {
    size_t end = kMaxSanitizedMessageBytes;
    while (end > 0 &&
           (static_cast<unsigned char>(trimmed[end]) & 0xc0) == 0x80) {
      --end;
    }
    trimmed = Trim(trimmed.substr(0, end));
  }
  return std::string(trimmed);
}

}  // namespace sas::aliyun
