// credentials::ParseMetadataCredentials (the ECS metadata service's and a
// credentials URI's answer). Input: the body.

#include "credentials/formats.h"
#include "fuzz_support.h"
#include "util/strings.h"

SAS_FUZZ_TARGET(metadata_credentials) {
  std::string_view body = sas::fuzz::AsText(data, size);
  if (auto canaried =
          sas::fuzz::WithCanaries(body, {"AccessKeySecret", "SecurityToken"})) {
    SAS_FUZZ_CHECK(
        sas::credentials::ParseMetadataCredentials(*canaried)
                .error_message.find(sas::fuzz::kCanary) == std::string::npos,
        "the message quotes a secret or token");
  }
  sas::aliyun::CredentialsResult result =
      sas::credentials::ParseMetadataCredentials(body);
  if (result.credentials) {
    SAS_FUZZ_CHECK(
        !sas::Trim(result.credentials->access_key_id).empty() &&
            !sas::Trim(result.credentials->access_key_secret).empty() &&
            !sas::Trim(result.credentials->security_token).empty(),
        "credentials with an empty part");
    SAS_FUZZ_CHECK(result.credentials->expiration.has_value(),
                   "metadata credentials without an expiration");
    return;
  }
  SAS_FUZZ_CHECK(result.error_code == "InvalidCredentials",
                 "a failure with another code than InvalidCredentials");
  SAS_FUZZ_CHECK(sas::fuzz::HasNoControlCharacters(result.error_message),
                 "a message with control characters");
}
