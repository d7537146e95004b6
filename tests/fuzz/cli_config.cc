// credentials::ParseCliConfig (~/.aliyun/config.json). Input: the file.

#include <string>

#include "credentials/formats.h"
#include "fuzz_support.h"

SAS_FUZZ_TARGET(cli_config) {
  std::string_view text = sas::fuzz::AsText(data, size);
  sas::credentials::CliConfig config;
  std::string error;
  // Messages name the profile and the field, never a value.
  if (auto canaried = sas::fuzz::WithCanaries(
          text,
          {"mode", "access_key_id", "access_key_secret", "sts_token",
           "ram_role_arn", "ram_session_name", "sts_region", "ram_role_name",
           "oidc_token_file", "oidc_provider_arn", "source_profile", "policy",
           "external_id", "process_command", "credentials_uri"})) {
    if (!sas::credentials::ParseCliConfig(*canaried, "config.json", &config,
                                          &error)) {
      SAS_FUZZ_CHECK(error.find(sas::fuzz::kCanary) == std::string::npos,
                     "the message quotes a value");
    }
  }
  config = {};
  error.clear();
  if (sas::credentials::ParseCliConfig(text, "config.json", &config, &error)) {
    size_t lines = 1;
    for (char c : text) lines += c == '\n';
    for (const sas::credentials::CliProfile& profile : config.profiles) {
      SAS_FUZZ_CHECK(
          profile.line >= 1 && static_cast<size_t>(profile.line) <= lines,
          "a profile's line outside the file");
      SAS_FUZZ_CHECK(profile.expired_seconds >= 0,
                     "a negative expired_seconds");
      if (!profile.name.empty()) {
        SAS_FUZZ_CHECK(config.Find(profile.name) != nullptr,
                       "a profile that Find() does not find");
      }
    }
    return;
  }
  SAS_FUZZ_CHECK(error.starts_with("config.json:"),
                 "an error that does not name the file and line");
}
