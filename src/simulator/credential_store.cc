#include "simulator/credential_store.h"

namespace sas::simulator {

CredentialStore::CredentialStore(const Clock& clock, RandomSource& random,
                                 size_t capacity)
    : clock_(clock), random_(random), capacity_(capacity) {}

IssuedCredentials CredentialStore::Issue(const std::string& role_arn,
                                         std::chrono::seconds lifetime) {
  IssuedCredentials issued;
  issued.issued = std::chrono::floor<std::chrono::seconds>(clock_.Now());
  issued.expiration = issued.issued + lifetime;
  issued.role_arn = role_arn;
  std::string token_bytes;
  std::lock_guard<std::mutex> lock(mutex_);
  PruneLocked(issued.issued);
  // 143 bits of key id and 380 of token: a collision is a broken generator.
  do {
    issued.access_key_id = "STS." + RandomText(random_, 24);
  } while (by_key_.contains(issued.access_key_id));
  issued.access_key_secret = RandomText(random_, 44);
  do {
    token_bytes.clear();
    for (int i = 0; i < 36; ++i) {
      uint64_t word = random_.NextU64();
      token_bytes.append(reinterpret_cast<const char*>(&word), sizeof(word));
    }
    issued.security_token = "CAIS" + Base64(token_bytes);
  } while (key_by_token_.contains(issued.security_token));
  by_key_.emplace(issued.access_key_id, issued);
  key_by_token_.emplace(issued.security_token, issued.access_key_id);
  keys_by_expiration_.emplace(issued.expiration, issued.access_key_id);
  return issued;
}

void CredentialStore::PruneLocked(WallTime now) {
  auto forget_first = [this] {
    auto first = keys_by_expiration_.begin();
    auto found = by_key_.find(first->second);
    key_by_token_.erase(found->second.security_token);
    by_key_.erase(found);
    keys_by_expiration_.erase(first);
  };
  while (!keys_by_expiration_.empty() &&
         keys_by_expiration_.begin()->first + kRetention <= now) {
    forget_first();
  }
  while (keys_by_expiration_.size() >= capacity_) forget_first();
}

std::optional<IssuedCredentials> CredentialStore::Find(
    const std::string& access_key_id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = by_key_.find(access_key_id);
  if (found == by_key_.end()) return std::nullopt;
  return found->second;
}

bool CredentialStore::CheckToken(const IssuedCredentials& credentials,
                                 const std::string* token,
                                 ApiError* error) const {
  if (token == nullptr || token->empty()) {
    *error = {400, "MissingSecurityToken",
              "The security token is missing: temporary credentials need "
              "their SecurityToken."};
    return false;
  }
  if (*token != credentials.security_token) {
    bool known;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      known = key_by_token_.contains(*token);
    }
    *error = known ? ApiError{400, "InvalidSecurityToken.MismatchWithAccessKey",
                              "The security token does not belong to the "
                              "specified AccessKeyId."}
                   : ApiError{400, "InvalidSecurityToken.Malformed",
                              "The security token you provided is malformed."};
    return false;
  }
  if (clock_.Now() >= credentials.expiration) {
    *error = {400, "InvalidSecurityToken.Expired",
              "The security token you provided has expired."};
    return false;
  }
  return true;
}

size_t CredentialStore::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return by_key_.size();
}

}  // namespace sas::simulator
