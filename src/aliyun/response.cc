#include "aliyun/response.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <initializer_list>
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

// A field as an integer, read leniently: a JSON integer, an integral number
// (16.0) or a string holding a decimal integer (" 16 "), within int64.
// nullopt for anything else, including absent and null.
std::optional<int64_t> LenientInteger(const json& object,
                                      std::string_view field) {
  auto it = object.find(field);
  if (it == object.end()) return std::nullopt;
  const json& value = *it;
  if (value.is_number_unsigned()) {
    uint64_t number = value.get<uint64_t>();
    if (number > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return std::nullopt;
    }
    return static_cast<int64_t>(number);
  }
  if (value.is_number_integer()) return value.get<int64_t>();
  if (value.is_number_float()) {
    double number = value.get<double>();
    // 2^63 as a double: the first value beyond int64.
    constexpr double kLimit = 9223372036854775808.0;
    if (std::isfinite(number) && std::trunc(number) == number &&
        number >= -kLimit && number < kLimit) {
      return static_cast<int64_t>(number);
    }
    return std::nullopt;
  }
  if (value.is_string()) {
    std::string_view text = Trim(value.get_ref<const std::string&>());
    if (!text.empty() && text.front() == '+') text.remove_prefix(1);
    int64_t number = 0;
    auto parsed =
        std::from_chars(text.data(), text.data() + text.size(), number);
    if (text.empty() || parsed.ec != std::errc() ||
        parsed.ptr != text.data() + text.size()) {
      return std::nullopt;
    }
    return number;
  }
  return std::nullopt;
}

// A field as text: a string as it is, an integer in decimal (a status such
// as DescribeReportExport's 2). Printable and bounded. nullopt for anything
// else.
std::optional<std::string> LenientText(const json& object,
                                       std::string_view field,
                                       bool numbers_too) {
  auto it = object.find(field);
  if (it == object.end()) return std::nullopt;
  if (it->is_string()) {
    return PrintableText(it->get_ref<const std::string&>(), kMaxAnswerText);
  }
  if (numbers_too && (it->is_number_integer() || it->is_number_unsigned())) {
    return it->dump();
  }
  return std::nullopt;
}

// Where each action's answer keeps what ExportInfo holds; "" = the action's
// answer has no such field. Field names from the official Go SDK
// alibabacloud-go/sas-20181203, client/<action>_response_body_model.go.
struct AnswerShape {
  std::string_view status;
  std::string_view id;
  std::string_view progress;
  std::string_view current_count;
  std::string_view total_count;
  std::string_view file_name;
  std::string_view message;
  // Other declared fields, which make a body recognisable (not kept).
  std::initializer_list<std::string_view> others;
};

const AnswerShape& ShapeOf(ExportAction action) {
  static const AnswerShape kExportInfo{"ExportStatus", "Id",         "Progress",
                                       "CurrentCount", "TotalCount", "FileName",
                                       "Message",      {"Link"}};
  static const AnswerShape kHc{
      "ResultStatus", "Id",       "Progress", "CurrentCount",
      "TotalCount",   "FileName", "",         {"Link", "GmtCreate"}};
  static const AnswerShape kSuspEvent{
      "ExportStatus",
      "Id",
      "Progress",
      "",
      "TotalCount",
      "FileName",
      "",
      {"Link", "GmtCreate", "GmtModified", "Properties", "Type"}};
  static const AnswerShape kReport{
      "ExportStatus",
      "ExportId",
      "",
      "",
      "",
      "",
      "",
      {"DownloadUrl", "ExportDate", "ReportId", "UrlExpiredTime"}};
  switch (action) {
    case ExportAction::kDescribeHcExportInfo:
      return kHc;
    case ExportAction::kDescribeSuspEventExportInfo:
      return kSuspEvent;
    case ExportAction::kDescribeReportExport:
      return kReport;
    default:
      return kExportInfo;
  }
}

bool Declares(const json& object, std::string_view field) {
  if (field.empty()) return false;
  auto it = object.find(field);
  return it != object.end() && !it->is_null();
}

// The first of `fields` that is a non-empty string, or "".
std::string FirstStringMember(const json& object,
                              std::initializer_list<std::string_view> fields) {
  for (std::string_view field : fields) {
    auto it = object.find(field);
    if (it != object.end() && it->is_string() &&
        !Trim(it->get_ref<const std::string&>()).empty()) {
      return it->get<std::string>();
    }
  }
  return {};
}

// x-acs-retry-after in milliseconds when it is a positive integer (at most
// kMaxRetryAfter), else 0: the official client's GetThrottlingTimeLeft
// (aliyun/darabonba-openapi, golang/utils/client.go).
std::chrono::milliseconds RetryAfter(const HttpResponse& response) {
  std::optional<std::string> header = response.Header("x-acs-retry-after");
  if (!header) return std::chrono::milliseconds(0);
  std::string_view text = Trim(*header);
  int64_t millis = 0;
  auto parsed = std::from_chars(text.data(), text.data() + text.size(), millis);
  if (text.empty() || parsed.ec != std::errc() ||
      parsed.ptr != text.data() + text.size() || millis <= 0) {
    return std::chrono::milliseconds(0);
  }
  return std::min(std::chrono::milliseconds(millis), kMaxRetryAfter);
}

// The error carried by an already parsed object (code known to be usable).
ApiError ErrorFromObject(const json& object, const HttpResponse& response,
                         std::string_view code) {
  ApiError error;
  error.message = SanitizeErrorMessage(
      code, FirstStringMember(object, {"Message", "message"}));
  error.code = PrintableText(code, kMaxErrorCodeBytes);
  error.request_id = SanitizeErrorMessage(
      "", FirstStringMember(object, {"RequestId", "requestId"}));
  error.http_status = response.status;
  error.retry_after = RetryAfter(response);
  return error;
}

bool IsCodeOrChild(std::string_view code, std::string_view base) {
  return code == base || (StartsWith(code, base) && code.size() > base.size() &&
                          code[base.size()] == '.');
}

}  // namespace

std::variant<ExportInfo, ApiError> ParseExportAnswer(
    ExportAction action, const HttpResponse& response) {
  if (!Is2xx(response.status)) return ParseErrorResponse(response);

  std::string_view name = ExportActionName(action);
  std::string why;
  std::optional<json> object = ParseJsonObject(response.body, "body", &why);
  if (!object) {
    return MakeError(ApiErrorKind::kBadResponse, "bad_response",
                     std::string(name) + " answer unusable: " + why,
                     response.status);
  }
  const AnswerShape& shape = ShapeOf(action);
  std::string code =
      std::string(Trim(FirstStringMember(*object, {"Code", "code"})));
  if (!code.empty() && !Declares(*object, shape.status)) {
    return ErrorFromObject(*object, response, code);
  }

  ExportInfo info;
  info.request_id = SanitizeErrorMessage(
      "", FirstStringMember(*object, {"RequestId", "requestId"}));
  bool known = Declares(*object, shape.status);
  for (std::string_view field :
       {shape.id, shape.progress, shape.current_count, shape.total_count,
        shape.file_name, shape.message}) {
    known = known || Declares(*object, field);
  }
  for (std::string_view field : shape.others) {
    known = known || Declares(*object, field);
  }
  if (!known) {
    ApiError error = MakeError(
        ApiErrorKind::kBadResponse, "bad_response",
        std::string(name) + " answer unusable: neither " +
            std::string(shape.status) + " nor any other field of the answer",
        response.status);
    error.request_id = info.request_id;
    return error;
  }
  auto integer = [&](std::string_view field) -> std::optional<int64_t> {
    if (field.empty()) return std::nullopt;
    return LenientInteger(*object, field);
  };
  auto text = [&](std::string_view field) -> std::optional<std::string> {
    if (field.empty()) return std::nullopt;
    return LenientText(*object, field, /*numbers_too=*/false);
  };
  info.id = integer(shape.id);
  info.progress = integer(shape.progress);
  info.current_count = integer(shape.current_count);
  info.total_count = integer(shape.total_count);
  info.export_status = LenientText(*object, shape.status, /*numbers_too=*/true);
  info.file_name = text(shape.file_name);
  info.message = text(shape.message);
  return info;
}

std::variant<BackUpExportPage, ApiError> ParseBackUpExportPage(
    const HttpResponse& response) {
  if (!Is2xx(response.status)) return ParseErrorResponse(response);
  constexpr std::string_view kName = "DescribeBackUpExportInfo";
  std::string why;
  std::optional<json> object = ParseJsonObject(response.body, "body", &why);
  if (!object) {
    return MakeError(ApiErrorKind::kBadResponse, "bad_response",
                     std::string(kName) + " answer unusable: " + why,
                     response.status);
  }
  bool has_data = Declares(*object, "Data");
  bool has_page_info = Declares(*object, "PageInfo");
  std::string code =
      std::string(Trim(FirstStringMember(*object, {"Code", "code"})));
  if (!code.empty() && !has_data && !has_page_info) {
    return ErrorFromObject(*object, response, code);
  }
  BackUpExportPage page;
  page.request_id = SanitizeErrorMessage(
      "", FirstStringMember(*object, {"RequestId", "requestId"}));
  auto unusable = [&](std::string what) {
    ApiError error =
        MakeError(ApiErrorKind::kBadResponse, "bad_response",
                  std::string(kName) + " answer unusable: " + std::move(what),
                  response.status);
    error.request_id = page.request_id;
    return error;
  };
  if (!has_data && !has_page_info) {
    return unusable("neither Data nor PageInfo");
  }
  if (has_data && !object->at("Data").is_array()) {
    return unusable("Data is not a list");
  }
  if (has_page_info && object->at("PageInfo").is_object()) {
    page.total_count = LenientInteger(object->at("PageInfo"), "TotalCount");
  }
  if (!has_data) return page;
  for (const json& item : object->at("Data")) {
    std::optional<int64_t> id =
        item.is_object() ? LenientInteger(item, "Id") : std::nullopt;
    if (!id || *id <= 0) {
      ++page.skipped;
      continue;
    }
    BackUpExport entry;
    ExportInfo& info = entry.info;
    info.id = id;
    info.request_id = page.request_id;
    info.progress = LenientInteger(item, "Progress");
    info.current_count = LenientInteger(item, "CurrentCount");
    info.total_count = LenientInteger(item, "TotalCount");
    info.export_status = LenientText(item, "Status", /*numbers_too=*/true);
    info.file_name = LenientText(item, "FileName", /*numbers_too=*/false);
    info.message = LenientText(item, "Message", /*numbers_too=*/false);
    entry.created_ms = LenientInteger(item, "GmtCreate");
    page.exports.push_back(std::move(entry));
  }
  return page;
}

ApiError ParseErrorResponse(const HttpResponse& response) {
  std::string why;
  std::optional<json> object = ParseJsonObject(response.body, "body", &why);
  if (object) {
    std::string code = FirstStringMember(*object, {"Code", "code"});
    if (!code.empty()) {
      return ErrorFromObject(*object, response, Trim(code));
    }
  }
  std::string status = std::to_string(response.status);
  ApiError error =
      MakeError(ApiErrorKind::kHttp, "http_" + status,
                "HTTP " + status + " without an error code", response.status);
  if (object) {
    std::string message = SanitizeErrorMessage(
        "", FirstStringMember(*object, {"Message", "message"}));
    if (!message.empty()) error.message += ": " + message;
    error.request_id = SanitizeErrorMessage(
        "", FirstStringMember(*object, {"RequestId", "requestId"}));
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
      summary = "response too large";
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

bool IsThrottling(const ApiError& error) {
  if (error.retry_after.count() > 0 && error.http_status >= 400 &&
      error.http_status <= 599) {
    return true;
  }
  return StartsWith(error.code, "Throttling");
}

bool IsRetryable(const ApiError& error) {
  const std::string& code = error.code;
  if (IsThrottling(error)) return true;
  if (IsPermanentAuthError(code)) return false;
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
