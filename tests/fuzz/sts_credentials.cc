// credentials::ParseStsCredentials (AssumeRole, AssumeRoleWithOIDC). Input:
// one byte choosing the HTTP status, then the body.

#include <string>

#include "credentials/formats.h"
#include "fuzz_support.h"
#include "util/strings.h"

namespace {

constexpr int kStatuses[] = {200, 200, 200, 201, 400, 403, 404, 500, 503};

}  // namespace

SAS_FUZZ_TARGET(sts_credentials) {
  sas::fuzz::InputReader input(data, size);
  sas::aliyun::HttpResponse response;
  response.status = kStatuses[input.Byte() % std::size(kStatuses)];
  response.body = std::string(input.Rest());
  if (auto canaried = sas::fuzz::WithCanaries(
          response.body, {"AccessKeySecret", "SecurityToken"})) {
    sas::aliyun::HttpResponse with_canaries{response.status, {}, *canaried};
    SAS_FUZZ_CHECK(
        sas::credentials::ParseStsCredentials(with_canaries)
                .error_message.find(sas::fuzz::kCanary) == std::string::npos,
        "the message quotes a secret or token");
  }
  sas::aliyun::CredentialsResult result =
      sas::credentials::ParseStsCredentials(response);
  if (result.credentials) {
    SAS_FUZZ_CHECK(response.status >= 200 && response.status <= 299,
                   "credentials from an error answer");
    const sas::aliyun::Credentials& credentials = *result.credentials;
    SAS_FUZZ_CHECK(!sas::Trim(credentials.access_key_id).empty() &&
                       !sas::Trim(credentials.access_key_secret).empty() &&
                       !sas::Trim(credentials.security_token).empty(),
                   "credentials with an empty part");
    SAS_FUZZ_CHECK(credentials.expiration.has_value(),
                   "STS credentials without an expiration");
    return;
  }
  SAS_FUZZ_CHECK(!result.error_code.empty() && !result.error_message.empty(),
                 "a failure without a code or message");
  SAS_FUZZ_CHECK(sas::fuzz::HasNoControlCharacters(result.error_message),
                 "a message with control characters");
}
