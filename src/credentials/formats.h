#pragma once

// Pure parsers of the credential sources' formats. Errors name the file and
// line ("path:line: message") and never contain a secret value.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "aliyun/credentials.h"
#include "aliyun/http.h"

namespace sas::credentials {

// One profile of ~/.aliyun/config.json (keys as the aliyun CLI writes them).
struct CliProfile {
  std::string name;
  // As written; the factory matches it case-insensitively against AK,
  // StsToken, RamRoleArn, EcsRamRole, OIDC, ChainableRamRoleArn, External,
  // CredentialsURI (and refuses CloudSSO, OAuth and others by name).
  std::string mode;
  std::string access_key_id;
  std::string access_key_secret;
  std::string sts_token;
  std::string ram_role_arn;
  std::string ram_session_name;
  int64_t expired_seconds = 0;  // 0 when absent
  // RamRoleArn, OIDC, ChainableRamRoleArn: the STS endpoint's region, the
  // VPC endpoint (credentials-go's enable_vpc; only with a region), the
  // session policy and (not OIDC) the ExternalId.
  std::string sts_region;
  bool enable_vpc = false;
  std::string policy;
  std::string external_id;
  std::string ram_role_name;    // EcsRamRole
  std::string oidc_token_file;  // OIDC
  std::string oidc_provider_arn;
  std::string source_profile;   // ChainableRamRoleArn
  std::string process_command;  // External
  std::string credentials_uri;  // CredentialsURI
  int line = 0;                 // where the profile object starts
};

struct CliConfig {
  std::string current;
  std::vector<CliProfile> profiles;
  // The profile with this name, or nullptr.
  const CliProfile* Find(std::string_view name) const;
};

// Parses the aliyun CLI configuration. False with *error
// ("path:line: what is wrong") on malformed JSON or ill-typed fields.
// Unknown fields are ignored and null counts as absent; expired_seconds must
// be a non-negative integer, enable_vpc a boolean. The line is that of the
// offending field (of the JSON syntax error); messages name the profile and
// field and never quote a value.
bool ParseCliConfig(std::string_view json, const std::string& path,
                    CliConfig* out, std::string* error);

// One [section] of an INI credentials file.
struct IniSection {
  std::string name;
  int line = 0;
  std::map<std::string, std::string> values;  // keys lowercased, trimmed
  std::map<std::string, int> lines;           // key -> line
};

// Parses ~/.alibabacloud/credentials (INI: [section], key = value, # and ;
// comments). False with *error ("path:line: ...") on a malformed line, a key
// outside any section, or a repeated section or key. A value in "..." or
// '...' loses its quotes; an unquoted value ends at a '#' or ';' preceded by
// whitespace (an inline comment). Messages never quote a value.
bool ParseIniFile(std::string_view text, const std::string& path,
                  std::vector<IniSection>* out, std::string* error);

// The ECS metadata service's and a credentials URI's answer:
// {"Code": "Success", "AccessKeyId", "AccessKeySecret", "SecurityToken",
//  "Expiration": "yyyy-MM-ddTHH:mm:ssZ"}. A Code other than "Success", a
// missing field or a bad Expiration is an error (code "InvalidCredentials").
aliyun::CredentialsResult ParseMetadataCredentials(std::string_view body);

// The stdout of an External profile's process_command (aliyun CLI README,
// "Use an external program to get credentials"; aliyun/credentials-go,
// credentials/providers/external.go): a JSON object with "mode" ("AK" or
// "StsToken", any case), "access_key_id", "access_key_secret", with
// StsToken "sts_token", and optionally "expiration"
// ("yyyy-MM-ddTHH:mm:ssZ"). Anything else is code "InvalidCredentials",
// with a message that never quotes the output.
aliyun::CredentialsResult ParseExternalCredentials(std::string_view output);

// An STS AssumeRole / AssumeRoleWithOIDC answer. 2xx:
// {"Credentials": {"AccessKeyId", "AccessKeySecret", "SecurityToken",
// "Expiration"}, ...}; an unusable 2xx answer is code "InvalidCredentials".
// Non-2xx: the API error's Code (as aliyun::ParseErrorResponse, so
// "http_<status>" without one) and sanitised Message.
aliyun::CredentialsResult ParseStsCredentials(
    const aliyun::HttpResponse& response);

}  // namespace sas::credentials
