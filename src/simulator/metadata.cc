#include "simulator/metadata.h"

#include <charconv>
#include <nlohmann/json.hpp>

#include "util/strings.h"

namespace sas::simulator {

MetadataRoute RouteOf(std::string_view path) {
  if (path == kMetadataTokenPath) return MetadataRoute::kToken;
  std::string_view listing = kSecurityCredentialsPath;
  if (StartsWith(path, listing) ||
      path == listing.substr(0, listing.size() - 1)) {
    return MetadataRoute::kCredentials;
  }
  return MetadataRoute::kOther;
}

MetadataService::MetadataService(const std::optional<MetadataSpec>& spec,
                                 CredentialStore& store, const Clock& clock,
                                 RandomSource& random)
    : spec_(spec), store_(store), clock_(clock), random_(random) {}

ApiResponse MetadataService::Text(int status, std::string code,
                                  std::string body) {
  ApiResponse response;
  response.status = status;
  response.headers = {{"content-type", "text/plain"}};
  response.body = std::move(body);
  response.code = std::move(code);
  return response;
}

ApiResponse MetadataService::Handle(const ApiRequest& request) {
  std::string_view path = request.Path();
  MetadataRoute route = RouteOf(path);
  if (!spec_ || route == MetadataRoute::kOther) {
    return Text(404, "NotFound", "Not Found");
  }
  if (route == MetadataRoute::kToken) {
    if (request.method != "PUT") {
      return Text(405, "MethodNotAllowed", "Method Not Allowed");
    }
    return IssueToken(request);
  }
  if (request.method != "GET") {
    return Text(405, "MethodNotAllowed", "Method Not Allowed");
  }
  std::string_view role = path.size() > kSecurityCredentialsPath.size()
                              ? path.substr(kSecurityCredentialsPath.size())
                              : std::string_view();
  if (std::optional<ApiResponse> refused = CheckToken(request)) {
    return *refused;
  }
  if (!role.empty() && role != spec_->role_name) {
    return Text(404, "NotFound", "Not Found");
  }
  if (role.empty()) return Text(200, "Success", spec_->role_name);

  IssuedCredentials issued = store_.Issue(
      spec_->role_arn, std::chrono::duration_cast<std::chrono::seconds>(
                           spec_->credential_lifetime));
  nlohmann::ordered_json body = {
      {"Code", "Success"},
      {"AccessKeyId", issued.access_key_id},
      {"AccessKeySecret", issued.access_key_secret},
      {"SecurityToken", issued.security_token},
      {"Expiration", FormatIso8601(issued.expiration)},
      {"LastUpdated", FormatIso8601(issued.issued)}};
  ApiResponse response;
  response.headers = {{"content-type", "application/json"}};
  response.body = body.dump(2);
  response.code = "Success";
  return response;
}

ApiResponse MetadataService::IssueToken(const ApiRequest& request) {
  const std::string* ttl_text = request.Header(kMetadataTokenTtlHeader);
  int64_t ttl = 0;
  if (ttl_text != nullptr) {
    auto [end, ec] = std::from_chars(ttl_text->data(),
                                     ttl_text->data() + ttl_text->size(), ttl);
    if (ec != std::errc() || end != ttl_text->data() + ttl_text->size()) {
      ttl = 0;
    }
  }
  if (ttl < 1 || ttl > kMaxTokenTtlSeconds) {
    return Text(400, "BadRequest",
                std::string(kMetadataTokenTtlHeader) +
                    " must be a whole number of seconds from 1 to 21600");
  }
  SteadyTime now = clock_.SteadyNow();
  SteadyTime expiry = now + std::chrono::seconds(ttl);
  std::string token;
  std::lock_guard<std::mutex> lock(mutex_);
  while (!tokens_by_expiry_.empty() &&
         (tokens_by_expiry_.begin()->first <= now ||
          tokens_by_expiry_.size() >= kMaxTokens)) {
    token_expiry_.erase(tokens_by_expiry_.begin()->second);
    tokens_by_expiry_.erase(tokens_by_expiry_.begin());
  }
  do {
    token = RandomText(random_, 56);
  } while (token_expiry_.contains(token));
  token_expiry_.emplace(token, expiry);
  tokens_by_expiry_.emplace(expiry, token);
  return Text(200, "Success", token);
}

std::optional<ApiResponse> MetadataService::CheckToken(
    const ApiRequest& request) {
  const std::string* token = request.Header(kMetadataTokenHeader);
  if (token == nullptr) {
    if (spec_->require_token) {
      return Text(403, "Forbidden",
                  "Forbidden: this instance requires a metadata token "
                  "(IMDSv2)");
    }
    return std::nullopt;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = token_expiry_.find(*token);
  if (found == token_expiry_.end() || found->second <= clock_.SteadyNow()) {
    return Text(401, "Unauthorized",
                "Unauthorized: the metadata token is invalid or expired");
  }
  return std::nullopt;
}

}  // namespace sas::simulator
