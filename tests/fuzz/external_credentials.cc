// credentials::ParseExternalCredentials (an External profile's
// process_command output). Input: the output.

#include "credentials/formats.h"
#include "fuzz_support.h"
#include "util/strings.h"

SAS_FUZZ_TARGET(external_credentials) {
  std::string_view output = sas::fuzz::AsText(data, size);
  // The messages never quote the output, any field of it.
  if (auto canaried = sas::fuzz::WithCanaries(
          output, {"mode", "access_key_id", "access_key_secret", "sts_token",
                   "expiration"})) {
    SAS_FUZZ_CHECK(
        sas::credentials::ParseExternalCredentials(*canaried)
                .error_message.find(sas::fuzz::kCanary) == std::string::npos,
        "the message quotes the output");
  }
  sas::aliyun::CredentialsResult result =
      sas::credentials::ParseExternalCredentials(output);
  if (result.credentials) {
    SAS_FUZZ_CHECK(
        !sas::Trim(result.credentials->access_key_id).empty() &&
            !sas::Trim(result.credentials->access_key_secret).empty(),
        "credentials without a key");
    return;
  }
  SAS_FUZZ_CHECK(result.error_code == "InvalidCredentials",
                 "a failure with another code than InvalidCredentials");
  SAS_FUZZ_CHECK(sas::fuzz::HasNoControlCharacters(result.error_message),
                 "a message with control characters");
}
