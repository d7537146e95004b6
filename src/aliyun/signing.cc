#include "aliyun/signing.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <map>
#include <memory>

#include "util/strings.h"

namespace sas::aliyun {
namespace {

constexpr std::string_view kV3Algorithm = "ACS3-HMAC-SHA256";

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~';
}

// A digest fetched from the default provider once: EVP_sha256() and the
// EVP_Q_* one-shots fetch on every call, which dominated signing time.
const EVP_MD* FetchedDigest(const char* name) {
  static const EVP_MD* sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  static const EVP_MD* sha1 = EVP_MD_fetch(nullptr, "SHA1", nullptr);
  return std::string_view(name) == "SHA256" ? sha256 : sha1;
}

// Appends the digest of the concatenated parts to *out; false on an OpenSSL
// failure (only allocation failure can cause one).
bool DigestParts(const EVP_MD* md,
                 std::initializer_list<std::string_view> parts,
                 std::string* out) {
  thread_local std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(
      EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!ctx || md == nullptr || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1) {
    return false;
  }
  for (std::string_view part : parts) {
    if (EVP_DigestUpdate(ctx.get(), part.data(), part.size()) != 1)
      return false;
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(ctx.get(), digest, &length) != 1) return false;
  out->append(reinterpret_cast<const char*>(digest), length);
  return true;
}

// HMAC (RFC 2104) over the named digest, built on the fetched digest so no
// algorithm lookup happens per call; empty on an OpenSSL failure.
std::string Hmac(const char* digest, std::string_view key,
                 std::string_view data) {
  const EVP_MD* md = FetchedDigest(digest);
  if (md == nullptr) return {};
  const size_t block = static_cast<size_t>(EVP_MD_get_block_size(md));
  std::string block_key;
  if (key.size() > block) {
    if (!DigestParts(md, {key}, &block_key)) return {};
  } else {
    block_key = std::string(key);
  }
  block_key.resize(block, '\0');
  std::string inner_pad(block, '\0'), outer_pad(block, '\0');
  for (size_t i = 0; i < block; ++i) {
    inner_pad[i] = static_cast<char>(block_key[i] ^ 0x36);
    outer_pad[i] = static_cast<char>(block_key[i] ^ 0x5c);
  }
  std::string inner, mac;
  if (!DigestParts(md, {inner_pad, data}, &inner) ||
      !DigestParts(md, {outer_pad, inner}, &mac)) {
    return {};
  }
  return mac;
}

bool IsSignedHeader(std::string_view lowercase_name) {
  return lowercase_name == "host" || lowercase_name == "content-type" ||
         StartsWith(lowercase_name, "x-acs-");
}

// Lowercased names mapped to their trimmed values, repeated names merged
// "v1,v2" in order of appearance; only names accepted by keep.
template <typename Predicate>
std::map<std::string, std::string> MergeHeaders(const Headers& headers,
                                                Predicate keep) {
  std::map<std::string, std::string> merged;
  for (const auto& [name, value] : headers) {
    std::string lower = ToLower(Trim(name));
    if (!keep(lower)) continue;
    auto [it, inserted] = merged.try_emplace(lower, Trim(value));
    if (!inserted) {
      it->second += ',';
      it->second += Trim(value);
    }
  }
  return merged;
}

std::string BuildCanonicalRequest(
    std::string_view method, std::string_view canonical_uri,
    const Params& query,
    const std::vector<std::pair<std::string, std::string>>& canonical_headers,
    std::string_view signed_headers, std::string_view hashed_payload) {
  std::string out;
  out += method;
  out += '\n';
  out += canonical_uri.empty() ? std::string_view("/") : canonical_uri;
  out += '\n';
  out += CanonicalQueryString(query);
  out += '\n';
  for (const auto& [name, value] : canonical_headers) {
    out += name;
    out += ':';
    out += value;
    out += '\n';
  }
  out += '\n';
  out += signed_headers;
  out += '\n';
  out += hashed_payload;
  return out;
}

}  // namespace

std::string PercentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (unsigned char c : text) {
    if (IsUnreserved(c)) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

std::string CanonicalQueryString(const Params& params) {
  std::vector<const std::pair<std::string, std::string>*> sorted;
  sorted.reserve(params.size());
  for (const auto& param : params) sorted.push_back(&param);
  // std::string comparison is by unsigned byte (char_traits<char>::lt).
  std::stable_sort(
      sorted.begin(), sorted.end(),
      [](const auto* a, const auto* b) { return a->first < b->first; });
  std::string out;
  for (const auto* param : sorted) {
    if (!out.empty()) out += '&';
    out += PercentEncode(param->first);
    out += '=';
    out += PercentEncode(param->second);
  }
  return out;
}

std::string HexSha256(std::string_view data) {
  std::string digest;
  if (!DigestParts(FetchedDigest("SHA256"), {data}, &digest)) return {};
  return HexEncode(digest);
}

std::string HexHmacSha256(std::string_view key, std::string_view data) {
  return HexEncode(Hmac("SHA256", key, data));
}

std::string Base64HmacSha1(std::string_view key, std::string_view data) {
  std::string mac = Hmac("SHA1", key, data);
  std::string out(4 * ((mac.size() + 2) / 3) + 1, '\0');
  int written =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(mac.data()),
                      static_cast<int>(mac.size()));
  out.resize(written < 0 ? 0 : static_cast<size_t>(written));
  return out;
}

V3Signature SignV3(const V3Input& input, std::string_view access_key_id,
                   std::string_view access_key_secret) {
  auto merged = MergeHeaders(input.headers, IsSignedHeader);
  std::vector<std::pair<std::string, std::string>> canonical_headers(
      merged.begin(), merged.end());

  V3Signature result;
  for (const auto& [name, value] : canonical_headers) {
    if (!result.signed_headers.empty()) result.signed_headers += ';';
    result.signed_headers += name;
  }
  result.canonical_request = BuildCanonicalRequest(
      input.method, input.canonical_uri, input.query, canonical_headers,
      result.signed_headers, input.hashed_payload);
  result.string_to_sign =
      std::string(kV3Algorithm) + "\n" + HexSha256(result.canonical_request);
  result.signature = HexHmacSha256(access_key_secret, result.string_to_sign);
  result.authorization = std::string(kV3Algorithm) +
                         " Credential=" + std::string(access_key_id) +
                         ",SignedHeaders=" + result.signed_headers +
                         ",Signature=" + result.signature;
  return result;
}

std::string CanonicalRequestV3(std::string_view method,
                               std::string_view canonical_uri,
                               const Params& query, const Headers& headers,
                               const std::vector<std::string>& signed_headers,
                               std::string_view hashed_payload) {
  std::vector<std::string> names;
  names.reserve(signed_headers.size());
  for (const auto& name : signed_headers) names.push_back(ToLower(name));
  auto merged = MergeHeaders(headers, [&names](const std::string& lower) {
    return std::find(names.begin(), names.end(), lower) != names.end();
  });

  std::vector<std::pair<std::string, std::string>> canonical_headers;
  std::string joined;
  for (const auto& name : names) {
    auto it = merged.find(name);
    canonical_headers.emplace_back(
        name, it == merged.end() ? std::string() : it->second);
    if (!joined.empty()) joined += ';';
    joined += name;
  }
  return BuildCanonicalRequest(method, canonical_uri, query, canonical_headers,
                               joined, hashed_payload);
}

std::string StringToSignV1(std::string_view method, const Params& params) {
  Params unsigned_params;
  unsigned_params.reserve(params.size());
  for (const auto& param : params) {
    if (param.first != "Signature") unsigned_params.push_back(param);
  }
  return std::string(method) + "&" + PercentEncode("/") + "&" +
         PercentEncode(CanonicalQueryString(unsigned_params));
}

std::string SignV1(std::string_view method, const Params& params,
                   std::string_view access_key_secret) {
  return Base64HmacSha1(std::string(access_key_secret) + "&",
                        StringToSignV1(method, params));
}

bool ParseQueryString(std::string_view query, Params* out) {
  out->clear();
  if (query.empty()) return true;
  for (const std::string& part : Split(query, '&')) {
    if (part.empty()) continue;
    size_t equals = part.find('=');
    std::string_view raw_name = std::string_view(part).substr(0, equals);
    std::string_view raw_value =
        equals == std::string::npos ? std::string_view()
                                    : std::string_view(part).substr(equals + 1);
    std::string name, value;
    if (!PercentDecode(raw_name, &name) || !PercentDecode(raw_value, &value)) {
      out->clear();
      return false;
    }
    out->emplace_back(std::move(name), std::move(value));
  }
  return true;
}

const std::string* FindParam(const Params& params, std::string_view name) {
  for (const auto& [key, value] : params) {
    if (key == name) return &value;
  }
  return nullptr;
}

}  // namespace sas::aliyun
