#include "web/basic_auth.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <memory>

#include "util/strings.h"

namespace sas::web {
namespace {

// Successful checks remembered, as the toolkit's cache holds 100.
constexpr size_t kCacheSize = 100;

std::optional<std::string> Base64Decode(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0) return std::nullopt;
  std::string out(text.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  size_t padding = text.ends_with("==") ? 2 : text.ends_with("=") ? 1 : 0;
  out.resize(static_cast<size_t>(n) - padding);
  return out;
}

}  // namespace

bool BcryptMatches(std::string_view password, const std::string& hash) {
  if (password.find('\0') != std::string_view::npos) return false;
  auto data = std::make_unique<crypt_data>();
  std::string phrase(password);
  const char* computed = crypt_r(phrase.c_str(), hash.c_str(), data.get());
  OPENSSL_cleanse(phrase.data(), phrase.size());
  bool match = computed != nullptr && computed[0] != '*' &&
               std::string_view(computed).size() == hash.size() &&
               CRYPTO_memcmp(computed, hash.data(), hash.size()) == 0;
  OPENSSL_cleanse(data.get(), sizeof(crypt_data));
  return match;
}

std::string BcryptHash(std::string_view password, int cost) {
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  // nullptr: libxcrypt takes the salt from the system's random source.
  if (crypt_gensalt_rn("$2b$", static_cast<unsigned long>(cost), nullptr, 0,
                       setting, sizeof(setting)) == nullptr) {
    return "";
  }
  auto data = std::make_unique<crypt_data>();
  std::string phrase(password);
  const char* hash = crypt_r(phrase.c_str(), setting, data.get());
  if (hash == nullptr || hash[0] == '*') return "";
  return hash;
}

int BcryptCost(std::string_view hash) {
  if (hash.size() < 7) return 0;
  return (hash[4] - '0') * 10 + (hash[5] - '0');
}

std::optional<BasicCredentials> ParseBasicAuthorization(
    std::string_view field) {
  constexpr std::string_view kScheme = "basic ";
  if (field.size() < kScheme.size() ||
      ToLower(field.substr(0, kScheme.size())) != kScheme) {
    return std::nullopt;
  }
  std::optional<std::string> decoded =
      Base64Decode(Trim(field.substr(kScheme.size())));
  if (!decoded) return std::nullopt;
  size_t colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  return BasicCredentials{decoded->substr(0, colon),
                          decoded->substr(colon + 1)};
}

BasicAuthenticator::BasicAuthenticator(std::map<std::string, std::string> users)
    : users_(std::move(users)) {
  if (users_.empty()) return;
  int cost = 4;
  for (const auto& [user, hash] : users_)
    cost = std::max(cost, BcryptCost(hash));
  unsigned char random[18];
  RAND_bytes(random, sizeof(random));
  // A password nobody knows: only the time it takes matters.
  unknown_user_hash_ =
      BcryptHash(HexEncode(std::string_view(reinterpret_cast<char*>(random),
                                            sizeof(random))),
                 cost);
  if (unknown_user_hash_.empty()) unknown_user_hash_ = users_.begin()->second;
}

std::string BasicAuthenticator::CacheKey(const std::string& user,
                                         const std::string& hash,
                                         const std::string& password) {
  std::string input = user;
  input += '\0';
  input += hash;
  input += '\0';
  input += password;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(input.data(), input.size(), digest, &size, EVP_sha256(), nullptr);
  OPENSSL_cleanse(input.data(), input.size());
  return std::string(reinterpret_cast<char*>(digest), size);
}

bool BasicAuthenticator::IsCheap(const HttpRequest& request) const {
  if (!required()) return true;
  const std::string* field = request.Header("authorization");
  if (field == nullptr) return true;
  std::optional<BasicCredentials> credentials = ParseBasicAuthorization(*field);
  if (!credentials) return true;
  auto user = users_.find(credentials->user);
  if (user == users_.end()) return false;
  std::string key =
      CacheKey(credentials->user, user->second, credentials->password);
  std::lock_guard lock(mutex_);
  return recent_set_.count(key) > 0;
}

bool BasicAuthenticator::Allowed(const HttpRequest& request) const {
  if (!required()) return true;
  const std::string* field = request.Header("authorization");
  if (field == nullptr) return false;
  std::optional<BasicCredentials> credentials = ParseBasicAuthorization(*field);
  if (!credentials) return false;
  auto user = users_.find(credentials->user);
  const bool known = user != users_.end();
  const std::string& hash = known ? user->second : unknown_user_hash_;
  std::string key = CacheKey(credentials->user, hash, credentials->password);
  if (known) {
    std::lock_guard lock(mutex_);
    if (recent_set_.count(key) > 0) return true;
  }
  const bool match = BcryptMatches(credentials->password, hash);
  OPENSSL_cleanse(credentials->password.data(), credentials->password.size());
  if (!known || !match) return false;
  std::lock_guard lock(mutex_);
  if (recent_set_.insert(key).second) {
    recent_.push_back(key);
    if (recent_.size() > kCacheSize) {
      recent_set_.erase(recent_.front());
      recent_.pop_front();
    }
  }
  return true;
}

}  // namespace sas::web
