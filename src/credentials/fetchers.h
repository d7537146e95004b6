#pragma once

// Fetchers of temporary credentials over HTTP, and of static keys. Each
// Fetch() blocks for at most its transport's timeouts. Every credential they
// fetch over HTTP has its expiration set. Error codes: a transport failure
// gives the API client's ("timeout", "connection", "tls", "bad_response",
// "cancelled"; see aliyun::TransportFailure); an unusable answer gives
// "InvalidCredentials". Messages name the source (role ARN, token file,
// role name, URI's scheme and host) and never a secret or a URI's path.

#include <memory>
#include <string>
#include <vector>

#include "aliyun/credentials.h"
#include "aliyun/http.h"
#include "credentials/refreshing_provider.h"
#include "util/clock.h"
#include "util/duration.h"
#include "util/file_system.h"
#include "util/nonce.h"
#include "util/process.h"

namespace sas::credentials {

// Fixed keys (with an optional STS token); type is the `provider` label.
std::unique_ptr<CredentialsFetcher> MakeStaticFetcher(
    aliyun::Credentials credentials, std::string type);

struct StsOptions {
  aliyun::Endpoint endpoint{"https", "sts.aliyuncs.com", 443};
  std::string role_arn;  // acs:ram::<account id>:role/<name>
  std::string role_session_name = "aliyun_sas_exporter";
  Millis duration{std::chrono::hours(1)};  // DurationSeconds
  std::string policy;                      // "" = none
  std::string external_id;                 // "" = none
  std::string user_agent;
};

// STS AssumeRole (version 2015-04-01), V1-signed POST with the source's
// credentials (taken from `source` at every fetch, so chains refresh; the
// source's error is returned as is). STS errors as ParseStsCredentials.
// Type "ram_role_arn".
std::unique_ptr<CredentialsFetcher> MakeAssumeRoleFetcher(
    StsOptions options, aliyun::CredentialsProvider& source,
    aliyun::HttpTransport& transport, const Clock& clock, NonceSource& nonces);

struct OidcOptions {
  aliyun::Endpoint endpoint{"https", "sts.aliyuncs.com", 443};
  std::string role_arn;
  std::string oidc_provider_arn;
  std::string oidc_token_file;  // re-read at every fetch (RRSA rotates it)
  std::string role_session_name = "aliyun_sas_exporter";
  Millis duration{std::chrono::hours(1)};
  std::string policy;  // "" = none
  std::string user_agent;
};

// STS AssumeRoleWithOIDC, unsigned POST; the token file's content (trimmed)
// as OIDCToken. Type "oidc_role_arn". An unreadable token file is an error
// naming the path ("OIDCTokenFileUnreadable"), never the token.
std::unique_ptr<CredentialsFetcher> MakeOidcFetcher(
    OidcOptions options, const FileSystem& files,
    aliyun::HttpTransport& transport, const Clock& clock, NonceSource& nonces);

struct EcsMetadataOptions {
  aliyun::Endpoint endpoint{"http", "100.100.100.200", 80};
  std::string role_name;          // "" = discover from the service
  bool imds_v1_disabled = false;  // true: fail when no IMDSv2 token
};

// The instance metadata service: PUT /latest/api/token with
// X-aliyun-ecs-metadata-token-ttl-seconds: 21600 (IMDSv2), then
// GET /latest/meta-data/ram/security-credentials/ (role discovery, when
// role_name is empty) and .../<role> with header
// X-aliyun-ecs-metadata-token; without a token (the PUT failed), the same
// GETs unauthenticated unless imds_v1_disabled (then the error
// "MetadataTokenUnavailable"). The first line of the listing is the role;
// it is kept for later fetches, and forgotten when its credentials answer
// 404 (the instance's role was replaced). A non-200 answer or an empty
// listing is "MetadataServiceError". Type "ecs_ram_role".
std::unique_ptr<CredentialsFetcher> MakeEcsRamRoleFetcher(
    EcsMetadataOptions options, aliyun::HttpTransport& transport);

// GET `uri` (http or https), answer as ParseMetadataCredentials; a non-200
// answer is "MetadataServiceError". A malformed uri makes every Fetch fail
// with "InvalidCredentialsUri". Type "credentials_uri".
std::unique_ptr<CredentialsFetcher> MakeCredentialsUriFetcher(
    std::string uri, aliyun::HttpTransport& transport);

struct ExternalOptions {
  std::vector<std::string> argv;  // the split process_command
  Millis timeout{60'000};         // as credentials-go's default
  size_t max_output = 64 << 10;   // bytes of stdout and of stderr
};

// An External CLI profile: runs argv through `processes` (no shell) at
// every fetch and reads its stdout as ParseExternalCredentials. Without
// an expiration in the output the credentials are kept until an API call
// finds them rejected. Failures ("ExternalProcessFailed"): could not start,
// timed out, killed, too much output, non-zero exit; their messages name
// argv[0] and quote up to 512 bytes of stderr, never stdout or the other
// arguments. Type "external".
std::unique_ptr<CredentialsFetcher> MakeExternalFetcher(
    ExternalOptions options, ProcessRunner& processes);

}  // namespace sas::credentials
