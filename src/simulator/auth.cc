#include "simulator/auth.h"

#include <algorithm>

#include "util/strings.h"

namespace sas::simulator {
namespace {

constexpr std::string_view kV3Prefix = "ACS3-HMAC-SHA256 ";
constexpr std::string_view kSignatureMismatch =
    "Specified signature is not matched with our calculation. server string "
    "to sign is:";

ApiError Incomplete(std::string_view detail = {}) {
  std::string message =
      "The request signature does not conform to Aliyun standards.";
  if (!detail.empty()) {
    // Appended, not `" " + std::string(detail)`: GCC 12 warns falsely on
    // that at -O2 (-Wrestrict, GCC bug 105329).
    message += ' ';
    message += detail;
  }
  return {400, "IncompleteSignature", message};
}

ApiError Missing(std::string_view name) {
  return {400, "MissingParameter",
          "The input parameter \"" + std::string(name) +
              "\" that is mandatory for processing this request is not "
              "supplied."};
}

AuthResult Fail(ApiError error, std::string access_key_id = {}) {
  AuthResult result;
  result.error = std::move(error);
  result.access_key_id = std::move(access_key_id);
  return result;
}

// Appends the form-encoded body's parameters, if the body is a form.
bool AppendFormBody(const ApiRequest& request, aliyun::Params* params) {
  if (!IsFormEncoded(request) || request.body.empty()) return true;
  aliyun::Params form;
  if (!aliyun::ParseQueryString(request.body, &form)) return false;
  params->insert(params->end(), form.begin(), form.end());
  return true;
}

ApiError MalformedQuery() {
  return {400, "InvalidParameter", "Specified query string is malformed."};
}

}  // namespace

bool IsFormEncoded(const ApiRequest& request) {
  const std::string* type = request.Header("content-type");
  return type != nullptr &&
         StartsWith(ToLower(Trim(*type)), "application/x-www-form-urlencoded");
}

bool RequestParams(const ApiRequest& request, aliyun::Params* out) {
  out->clear();
  size_t question = request.target.find('?');
  std::string_view query =
      question == std::string::npos
          ? std::string_view()
          : std::string_view(request.target).substr(question + 1);
  return aliyun::ParseQueryString(query, out) && AppendFormBody(request, out);
}

Authenticator::Authenticator(KeyPairs keys, const Clock& clock,
                             const CredentialStore* issued)
    : keys_(std::move(keys)), clock_(clock), issued_(issued) {}

bool Authenticator::FindSigner(const std::string& access_key_id,
                               const std::string* token, Signer* signer,
                               ApiError* error) const {
  if (auto key = keys_.find(access_key_id); key != keys_.end()) {
    *signer = {key->first, key->second, key->first, false};
    return true;
  }
  std::optional<IssuedCredentials> issued;
  if (issued_ != nullptr) issued = issued_->Find(access_key_id);
  if (!issued) {
    *error = {404, "InvalidAccessKeyId.NotFound",
              "Specified access key is not found."};
    return false;
  }
  *signer = {issued->access_key_id, issued->access_key_secret, issued->role_arn,
             true};
  return issued_->CheckToken(*issued, token, error);
}

AuthResult Authenticator::Verify(const ApiRequest& request) {
  std::string_view target = request.target;
  size_t question = target.find('?');
  std::string_view path = target.substr(0, question);
  std::string_view query =
      question == std::string_view::npos ? "" : target.substr(question + 1);

  const std::string* authorization = request.Header("authorization");
  if (authorization != nullptr && StartsWith(*authorization, kV3Prefix)) {
    return VerifyV3(request, path, query);
  }
  aliyun::Params params;
  if (!RequestParams(request, &params)) return Fail(MalformedQuery());
  if (aliyun::FindParam(params, "Signature") != nullptr) {
    return VerifyV1(request, path, query);
  }
  return Fail(Incomplete());
}

AuthResult Authenticator::VerifyV3(const ApiRequest& request,
                                   std::string_view path,
                                   std::string_view query) {
  // Credential=..,SignedHeaders=..,Signature=..
  std::string credential, signed_headers_text, signature;
  std::string_view fields = std::string_view(*request.Header("authorization"))
                                .substr(kV3Prefix.size());
  for (const std::string& part : Split(fields, ',')) {
    std::string_view item = Trim(part);
    size_t equals = item.find('=');
    if (equals == std::string_view::npos) continue;
    std::string_view name = item.substr(0, equals);
    std::string value(Trim(item.substr(equals + 1)));
    if (name == "Credential") credential = value;
    if (name == "SignedHeaders") signed_headers_text = value;
    if (name == "Signature") signature = value;
  }
  if (credential.empty()) return Fail(Incomplete("Credential is missing."));
  if (signed_headers_text.empty()) {
    return Fail(Incomplete("SignedHeaders is missing."));
  }
  if (signature.empty()) return Fail(Incomplete("Signature is missing."));

  std::vector<std::string> signed_headers;
  for (const std::string& name : Split(signed_headers_text, ';')) {
    signed_headers.push_back(ToLower(Trim(name)));
  }
  auto is_signed = [&](const std::string& name) {
    return std::find(signed_headers.begin(), signed_headers.end(), name) !=
           signed_headers.end();
  };
  for (const auto& [key, value] : request.headers) {
    std::string name = ToLower(key);
    if ((name == "host" || StartsWith(name, "x-acs-")) && !is_signed(name)) {
      return Fail(Incomplete("The header \"" + name + "\" is not signed."));
    }
  }
  for (std::string_view name : {"x-acs-date", "x-acs-signature-nonce",
                                "x-acs-action", "x-acs-version"}) {
    if (request.Header(name) == nullptr) return Fail(Missing(name));
  }

  Signer signer;
  ApiError error;
  if (!FindSigner(credential, request.Header("x-acs-security-token"), &signer,
                  &error)) {
    return Fail(error, signer.access_key_id);
  }
  const std::string& access_key_id = signer.access_key_id;
  if (!CheckDate(*request.Header("x-acs-date"), &error)) {
    return Fail(error, access_key_id);
  }

  std::string body_sha256 = aliyun::HexSha256(request.body);
  const std::string* content_sha256 = request.Header("x-acs-content-sha256");
  if (content_sha256 != nullptr && Trim(*content_sha256) != body_sha256) {
    return Fail({400, "SignatureDoesNotMatch",
                 "Specified content sha256 is not matched with our "
                 "calculation. server content sha256 is:" +
                     body_sha256},
                access_key_id);
  }

  aliyun::Params query_params;
  if (!aliyun::ParseQueryString(query, &query_params)) {
    return Fail(MalformedQuery(), access_key_id);
  }
  std::string canonical = aliyun::CanonicalRequestV3(
      request.method, path.empty() ? "/" : path, query_params, request.headers,
      signed_headers, body_sha256);
  std::string string_to_sign =
      "ACS3-HMAC-SHA256\n" + aliyun::HexSha256(canonical);
  if (aliyun::HexHmacSha256(signer.secret, string_to_sign) != signature) {
    return Fail({400, "SignatureDoesNotMatch",
                 std::string(kSignatureMismatch) + string_to_sign},
                access_key_id);
  }

  AuthResult result;
  result.access_key_id = access_key_id;
  result.principal = signer.principal;
  result.temporary = signer.temporary;
  result.params = std::move(query_params);
  if (!AppendFormBody(request, &result.params)) {
    return Fail(MalformedQuery(), access_key_id);
  }
  if (!UseNonce(access_key_id, *request.Header("x-acs-signature-nonce"))) {
    return Fail({400, "SignatureNonceUsed",
                 "Specified signature nonce was used already."},
                access_key_id);
  }
  result.ok = true;
  result.action = Trim(*request.Header("x-acs-action"));
  result.version = Trim(*request.Header("x-acs-version"));
  return result;
}

AuthResult Authenticator::VerifyV1(const ApiRequest& request,
                                   std::string_view /*path*/,
                                   std::string_view query) {
  aliyun::Params params;
  if (!aliyun::ParseQueryString(query, &params) ||
      !AppendFormBody(request, &params)) {
    return Fail(MalformedQuery());
  }
  static constexpr std::string_view kCommon[] = {
      "Format",           "Version",        "AccessKeyId", "SignatureMethod",
      "SignatureVersion", "SignatureNonce", "Timestamp",   "Action"};
  for (std::string_view name : kCommon) {
    if (aliyun::FindParam(params, name) == nullptr) return Fail(Missing(name));
  }
  if (*aliyun::FindParam(params, "SignatureMethod") != "HMAC-SHA1") {
    return Fail({400, "InvalidSignatureMethod",
                 "Specified signature method is not valid."});
  }
  if (*aliyun::FindParam(params, "SignatureVersion") != "1.0") {
    return Fail({400, "InvalidParameter",
                 "Specified parameter SignatureVersion is not valid."});
  }
  Signer signer;
  ApiError error;
  if (!FindSigner(*aliyun::FindParam(params, "AccessKeyId"),
                  aliyun::FindParam(params, "SecurityToken"), &signer,
                  &error)) {
    return Fail(error, signer.access_key_id);
  }
  const std::string& access_key_id = signer.access_key_id;
  if (!CheckDate(*aliyun::FindParam(params, "Timestamp"), &error)) {
    return Fail(error, access_key_id);
  }
  if (aliyun::SignV1(request.method, params, signer.secret) !=
      *aliyun::FindParam(params, "Signature")) {
    // The string to sign quotes every parameter: never the token.
    aliyun::Params echoed = params;
    for (auto& [name, value] : echoed) {
      if (name == "SecurityToken") value = "***";
    }
    return Fail({400, "SignatureDoesNotMatch",
                 std::string(kSignatureMismatch) +
                     aliyun::StringToSignV1(request.method, echoed)},
                access_key_id);
  }
  if (!UseNonce(access_key_id, *aliyun::FindParam(params, "SignatureNonce"))) {
    return Fail({400, "SignatureNonceUsed",
                 "Specified signature nonce was used already."},
                access_key_id);
  }

  AuthResult result;
  result.ok = true;
  result.access_key_id = access_key_id;
  result.principal = signer.principal;
  result.temporary = signer.temporary;
  result.action = *aliyun::FindParam(params, "Action");
  result.version = *aliyun::FindParam(params, "Version");
  for (auto& [name, value] : params) {
    bool common = name == "Signature" || name == "SecurityToken" ||
                  std::find(std::begin(kCommon), std::end(kCommon), name) !=
                      std::end(kCommon);
    if (!common) result.params.emplace_back(std::move(name), std::move(value));
  }
  return result;
}

bool Authenticator::CheckDate(std::string_view date, ApiError* error) const {
  WallTime when;
  if (!ParseIso8601(Trim(date), &when)) {
    *error = {400, "InvalidTimeStamp.Format",
              "Specified time stamp or date value is not well formatted."};
    return false;
  }
  auto skew = clock_.Now() - when;
  if (skew > kNonceWindow || skew < -kNonceWindow) {
    *error = {400, "InvalidTimeStamp.Expired",
              "Specified time stamp or date value is expired."};
    return false;
  }
  return true;
}

bool Authenticator::UseNonce(const std::string& access_key_id,
                             const std::string& nonce) {
  SteadyTime now = clock_.SteadyNow();
  std::lock_guard<std::mutex> lock(mutex_);
  // Temporary credentials come and go: drop the histories of keys unused
  // for a whole window, at most once per window.
  if (now - last_sweep_ >= kNonceWindow) {
    last_sweep_ = now;
    std::erase_if(nonces_, [now](const auto& entry) {
      const auto& by_age = entry.second.by_age;
      return by_age.empty() || now - by_age.back().first >= kNonceWindow;
    });
  }
  NonceHistory& history = nonces_[access_key_id];
  auto forget_oldest = [&history] {
    history.seen.erase(history.by_age.front().second);
    history.by_age.pop_front();
  };
  while (!history.by_age.empty() &&
         now - history.by_age.front().first >= kNonceWindow) {
    forget_oldest();
  }
  if (!history.seen.insert(nonce).second) return false;
  history.by_age.emplace_back(now, nonce);
  if (history.by_age.size() > kMaxNoncesPerKey) forget_oldest();
  return true;
}

}  // namespace sas::simulator
