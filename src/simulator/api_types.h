#pragma once

// The simulator's view of one HTTP exchange: the request as received and
// the answer to send. Plain data.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "aliyun/http.h"
#include "util/duration.h"

namespace sas::simulator {

// One HTTP request as received.
struct ApiRequest {
  std::string method = "POST";
  // Path and raw (still percent-encoded) query: "/?ExportId=1".
  std::string target = "/";
  aliyun::Headers headers;  // any case
  std::string body;

  // The first header with this name (case-insensitive), or nullptr.
  const std::string* Header(std::string_view name) const;
  // The path: the target up to '?'.
  std::string_view Path() const;
};

// An error answer in the gateway's shape (the JSON body adds RequestId,
// HostId and Recommend). The message never quotes a secret or a token.
struct ApiError {
  int http_status = 400;
  std::string code;
  std::string message;
};

// How the server breaks an answer on the wire (the faults reset and
// truncate): both send the headers, with the whole body's Content-Length,
// and half the body.
enum class Breakage {
  kNone,
  kReset,     // then a TCP reset (RST)
  kTruncate,  // then an orderly close (FIN)
};

struct ApiResponse {
  int status = 200;
  // Always includes content-type; API answers also x-acs-request-id.
  aliyun::Headers headers;
  std::string body;
  // How long the server must wait before answering (the export's latency).
  Millis delay{0};
  Breakage breakage = Breakage::kNone;
  // The stats bucket: the error Code, "Success", or "NonJson".
  std::string code;
  // For logging: the ExportId asked for (0 if none valid) and the
  // AccessKeyId used (empty unless it is an accepted key).
  int64_t export_id = 0;
  std::string access_key_id;

  std::optional<std::string> Header(std::string_view lowercase_name) const;
};

}  // namespace sas::simulator
