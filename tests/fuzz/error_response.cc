// aliyun::ParseErrorResponse (non-2xx answers). Input: one byte choosing the
// HTTP status, the x-acs-retry-after value up to a newline (none when
// empty), then the body.

#include <string>

#include "aliyun/response.h"
#include "fuzz_support.h"

namespace {

constexpr int kStatuses[] = {400, 401, 403, 404, 409, 429,
                             500, 502, 503, 504, 302, 0};

}  // namespace

SAS_FUZZ_TARGET(error_response) {
  sas::fuzz::InputReader input(data, size);
  sas::aliyun::HttpResponse response;
  response.status = kStatuses[input.Byte() % std::size(kStatuses)];
  std::string_view retry_after = input.Until('\n');
  if (!retry_after.empty()) {
    response.headers.emplace_back("x-acs-retry-after",
                                  std::string(retry_after));
  }
  response.body = std::string(input.Rest());
  sas::aliyun::ApiError error = sas::aliyun::ParseErrorResponse(response);
  SAS_FUZZ_CHECK(!error.code.empty(), "an error without a code");
  SAS_FUZZ_CHECK(error.http_status == response.status,
                 "the HTTP status is not kept");
  SAS_FUZZ_CHECK(error.retry_after.count() >= 0 &&
                     error.retry_after <= sas::aliyun::kMaxRetryAfter,
                 "retry_after outside 0..kMaxRetryAfter");
  SAS_FUZZ_CHECK(sas::fuzz::HasNoControlCharacters(error.message) &&
                     error.message.size() <= 1024,
                 "message unbounded or with control characters");
  SAS_FUZZ_CHECK(sas::fuzz::HasNoControlCharacters(error.request_id) &&
                     error.request_id.size() <= 256,
                 "RequestId unbounded or with control characters");
  // The retry rule decides on any error without tripping.
  (void)sas::aliyun::IsRetryable(error);
}
