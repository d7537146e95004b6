#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "aliyun/export_action.h"
#include "aliyun/http.h"

namespace sas::aliyun {

// The fields of a progress answer the exporter uses, in the shape common to
// every ExportAction. Like the official SDK's models, which declare every
// body field optional, each field is nullopt when the answer left it out,
// sent null or sent a value that cannot be read as the field's type; the
// metrics then omit its series rather than invent a value. The download
// link (Link, DownloadUrl) is deliberately not kept: it is a secret (a signed
// OSS URL).
struct ExportInfo {
  // Id; DescribeReportExport: ExportId.
  std::optional<int64_t> id;
  // Progress in percent, as given: values above 100 are kept. Numbers given
  // as strings ("16") are read as numbers, here and in the counts.
  std::optional<int64_t> progress;
  std::optional<int64_t> current_count;  // CurrentCount
  std::optional<int64_t> total_count;    // TotalCount
  // The status field as text: ExportStatus (DescribeHcExportInfo:
  // ResultStatus); a number, such as DescribeReportExport's 2, in decimal.
  // Printable, at most 1 KiB.
  std::optional<std::string> export_status;
  std::optional<std::string> file_name;  // FileName
  std::optional<std::string> message;    // Message
  std::string request_id;                // RequestId, "" when absent
};

// One export of a DescribeBackUpExportInfo page (a Data[] item): Id,
// Status (in export_status), Progress, CurrentCount, TotalCount, FileName
// and Message as ExportInfo holds them; Link is not kept.
struct BackUpExport {
  ExportInfo info;                    // info.id is set and positive
  std::optional<int64_t> created_ms;  // GmtCreate, Unix milliseconds
};

// A DescribeBackUpExportInfo answer: Data and PageInfo as the official Go
// SDK alibabacloud-go/sas-20181203 declares them
// (client/describe_back_up_export_info_response_body_model.go).
struct BackUpExportPage {
  std::vector<BackUpExport> exports;
  // Data items left out: not an object, or without a positive Id.
  int skipped = 0;
  std::optional<int64_t> total_count;  // PageInfo.TotalCount: all pages
  std::string request_id;
};

// What kind of failure an ApiError is: for code that must tell failures
// apart (retries, shutdown) without comparing metric codes.
enum class ApiErrorKind {
  kApi,          // the service answered with an error Code
  kHttp,         // a non-2xx answer without a Code ("http_<status>")
  kTimeout,      // "timeout"
  kConnection,   // "connection"
  kTls,          // "tls"
  kBadResponse,  // "bad_response": not an answer the API documents
  kCancelled,    // "cancelled": the exporter is stopping
  kCredentials,  // "credentials": nothing to sign with
};

// A failed API call, from any layer.
struct ApiError {
  // The metric's `code`: the API's Code, or "timeout", "connection", "tls",
  // "bad_response", "http_<status>" for a non-2xx answer without a Code,
  // "cancelled" at shutdown, "credentials" when there was nothing to sign
  // with. A peer's Code becomes a label value: trimmed, then at most
  // kMaxErrorCodeBytes of printable UTF-8 (control characters replaced by
  // U+FFFD).
  std::string code;
  // Human-readable; safe to log (no AccessKeyId, secret, token or link).
  std::string message;
  std::string request_id;
  int http_status = 0;  // 0 when there was no HTTP response
  // The server's x-acs-retry-after when it is a positive number of
  // milliseconds, at most kMaxRetryAfter; 0 otherwise.
  std::chrono::milliseconds retry_after{0};
  ApiErrorKind kind = ApiErrorKind::kApi;
};

// Longer x-acs-retry-after values are held here: the official client's
// MAX_DELAY_TIME (the darabonba tea library, dara/retry.go: 120 * 1000 ms).
inline constexpr std::chrono::milliseconds kMaxRetryAfter{120'000};

// The longest error code kept; longer ones are cut on a character boundary.
// Documented codes are under 64 bytes ("InvalidAccessKeyId.NotFound").
inline constexpr size_t kMaxErrorCodeBytes = 128;

// Responses larger than this are refused as bad_response.
inline constexpr size_t kMaxResponseBytes = 1 << 20;

// Interprets the HTTP response to a progress request of `action`.
// 2xx: a JSON object read as leniently as the SDK reads it: every field is
// optional (see ExportInfo), unknown fields are ignored. It is
// ApiError{"bad_response"} only when the body is not a JSON object (or is
// over kMaxResponseBytes), or has neither the action's status field nor any
// other field the action's answer declares (RequestId does not count). A 2xx
// body with a Code (or code) and no status field is that error. Non-2xx: see
// ParseErrorResponse.
std::variant<ExportInfo, ApiError> ParseExportAnswer(
    ExportAction action, const HttpResponse& response);

// Interprets the answer to one DescribeBackUpExportInfo page, as leniently
// as ParseExportAnswer: ApiError{"bad_response"} only when the body is not
// a JSON object, or has neither Data nor PageInfo, or Data is not an array.
// A 2xx body with a Code and neither is that error. Non-2xx: see
// ParseErrorResponse.
std::variant<BackUpExportPage, ApiError> ParseBackUpExportPage(
    const HttpResponse& response);

// The error carried by a non-2xx response: Code, Message (sanitised) and
// RequestId, each also read in lower case (code, message, requestId) as the
// official client darabonba-openapi does; the HTTP status and
// x-acs-retry-after. A body without a code gives code "http_<status>".
ApiError ParseErrorResponse(const HttpResponse& response);

// Maps a transport failure to its ApiError ("timeout", "connection", "tls",
// "bad_response" for an oversized body, "cancelled").
ApiError TransportFailure(TransportError error, std::string_view detail);

// Throttling, the rule of the official client (darabonba-openapi, the
// multi-language source aliyun/darabonba-openapi, golang/client/client.go,
// commit "fix: detect throttling by x-acs-retry-after header (#283)"): any
// 4xx or 5xx answer with a positive x-acs-retry-after is throttling, whatever
// its code; so is a code Throttling, Throttling.User or Throttling.Api (or any
// other starting with "Throttling"), the rule of darabonba-openapi v2.1.16.
bool IsThrottling(const ApiError& error);

// The retry rule. Throttling (IsThrottling) is retried, after the server's
// x-acs-retry-after when it gave one (see BackoffDelay); it comes first, so
// even an answer with a permission code is retried when the server asked for
// a retry. Otherwise 5xx, InternalError/ServerError/ServiceUnavailable/
// RdCheckInnerError, timeouts and connection errors are retryable;
// signature, key, permission (IsPermanentAuthError, whatever the HTTP
// status), parameter, tls, bad_response and cancelled are not.
bool IsRetryable(const ApiError& error);

// Errors that need a person: signature, key, permission (the
// AliyunSasApiPermissionDenied alert keys on these codes).
bool IsPermanentAuthError(std::string_view code);

// Removes what must not be logged from an API error message: a
// SignatureDoesNotMatch message echoes the server's string to sign, which
// contains the AccessKeyId. Also bounds the length.
std::string SanitizeErrorMessage(std::string_view code,
                                 std::string_view message);

}  // namespace sas::aliyun
