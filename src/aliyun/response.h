#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <variant>

#include "aliyun/http.h"

namespace sas::aliyun {

// The fields of a DescribeExportInfo answer the exporter uses. The download
// Link is deliberately not kept: it is a secret (a signed OSS URL).
struct ExportInfo {
  int64_t id = 0;
  int32_t progress = 0;  // percent, 0..100
  int32_t current_count = 0;
  int32_t total_count = 0;
  std::string export_status;  // "init", "exporting", "success" or other
  std::string file_name;
  std::string message;
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
  // with.
  std::string code;
  // Human-readable; safe to log (no AccessKeyId, secret, token or link).
  std::string message;
  std::string request_id;
  int http_status = 0;  // 0 when there was no HTTP response
  // The server's x-acs-retry-after, if it sent one; at most kMaxRetryAfter.
  std::chrono::milliseconds retry_after{0};
  ApiErrorKind kind = ApiErrorKind::kApi;
};

// Longer x-acs-retry-after values are held here: no poll waits longer than
// its interval (at most 24h) anyway.
inline constexpr std::chrono::milliseconds kMaxRetryAfter{
    std::chrono::hours(24)};

// Responses larger than this are refused as bad_response.
inline constexpr size_t kMaxResponseBytes = 1 << 20;

// Interprets a DescribeExportInfo HTTP response. 2xx: every field read with
// its type (a missing or ill-typed field, non-JSON, or a body over
// kMaxResponseBytes -> ApiError{"bad_response"}). Non-2xx: see
// ParseErrorResponse.
std::variant<ExportInfo, ApiError> ParseDescribeExportInfo(
    const HttpResponse& response);

// The error carried by a non-2xx response: Code, Message (sanitised),
// RequestId, the HTTP status and x-acs-retry-after. A body without a Code
// gives code "http_<status>".
ApiError ParseErrorResponse(const HttpResponse& response);

// Maps a transport failure to its ApiError ("timeout", "connection", "tls",
// "bad_response" for an oversized body, "cancelled").
ApiError TransportFailure(TransportError error, std::string_view detail);

// Throttling codes, 5xx, InternalError/ServerError/ServiceUnavailable,
// timeouts and connection errors are retryable; signature, key, permission,
// parameter, tls, bad_response and cancelled are not. A permanent auth error
// (IsPermanentAuthError) is never retryable, whatever its HTTP status.
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
