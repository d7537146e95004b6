// Request canonicalisation and signing (aliyun/signing.h): ParseQueryString,
// then CanonicalQueryString, CanonicalRequestV3, SignV3 and StringToSignV1
// on what it gave. Input, line by line: the method, the path, the query,
// then "name:value" header lines up to an empty line; the rest is the body.

#include "aliyun/signing.h"

#include <algorithm>
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "util/strings.h"

namespace {

using sas::aliyun::Params;

bool OnlyEncodedCharacters(std::string_view canonical) {
  for (size_t i = 0; i < canonical.size(); ++i) {
    auto c = static_cast<unsigned char>(canonical[i]);
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                      (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                      c == '.' || c == '~';
    if (unreserved || c == '=' || c == '&') continue;
    if (c != '%' || i + 2 >= canonical.size() ||
        std::string_view("0123456789ABCDEF").find(canonical[i + 1]) ==
            std::string_view::npos ||
        std::string_view("0123456789ABCDEF").find(canonical[i + 2]) ==
            std::string_view::npos) {
      return false;
    }
    i += 2;
  }
  return true;
}

// The parameters in canonical order: by name, equal names in given order.
Params SortedByName(Params params) {
  std::stable_sort(
      params.begin(), params.end(),
      [](const auto& a, const auto& b) { return a.first < b.first; });
  return params;
}

}  // namespace

SAS_FUZZ_TARGET(signing) {
  sas::fuzz::InputReader input(data, size);
  std::string method(input.Until('\n'));
  std::string path(input.Until('\n'));
  std::string_view query = input.Until('\n');
  sas::aliyun::Headers headers;
  std::vector<std::string> signed_names;
  while (!input.empty()) {
    std::string_view line = input.Until('\n');
    if (line.empty()) break;
    size_t colon = line.find(':');
    std::string name(line.substr(0, colon));
    std::string value(colon == std::string_view::npos ? std::string_view()
                                                      : line.substr(colon + 1));
    signed_names.push_back(sas::ToLower(name));
    headers.emplace_back(std::move(name), std::move(value));
  }
  std::string payload_hash = sas::aliyun::HexSha256(input.Rest());

  Params params;
  if (!sas::aliyun::ParseQueryString(query, &params)) {
    SAS_FUZZ_CHECK(params.empty(), "a failed parse left parameters behind");
    return;
  }
  std::string canonical = sas::aliyun::CanonicalQueryString(params);
  SAS_FUZZ_CHECK(OnlyEncodedCharacters(canonical),
                 "the canonical query has an unencoded character");
  // Canonical text reads back as the sorted parameters and is a fixed point.
  Params reread;
  SAS_FUZZ_CHECK(sas::aliyun::ParseQueryString(canonical, &reread),
                 "the canonical query does not parse");
  SAS_FUZZ_CHECK(reread == SortedByName(params),
                 "the canonical query reads back as other parameters");
  SAS_FUZZ_CHECK(sas::aliyun::CanonicalQueryString(reread) == canonical,
                 "canonicalisation is not idempotent");
  // The order of the parameters and of distinct headers does not matter;
  // header names are case-insensitive.
  std::string request = sas::aliyun::CanonicalRequestV3(
      method, path, params, headers, signed_names, payload_hash);
  std::string from_sorted = sas::aliyun::CanonicalRequestV3(
      method, path, SortedByName(params), headers, signed_names, payload_hash);
  SAS_FUZZ_CHECK(request == from_sorted,
                 "the canonical request depends on parameter order");
  sas::aliyun::Headers upper = headers;
  for (auto& [name, value] : upper) {
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return std::toupper(c); });
  }
  std::string from_upper = sas::aliyun::CanonicalRequestV3(
      method, path, params, upper, signed_names, payload_hash);
  SAS_FUZZ_CHECK(request == from_upper,
                 "the canonical request depends on header name case");

  sas::aliyun::V3Input v3{method, path, params, headers, payload_hash};
  sas::aliyun::V3Signature signature =
      sas::aliyun::SignV3(v3, "AKID", "secret");
  SAS_FUZZ_CHECK(signature.signature.size() == 64 &&
                     signature.signature.find_first_not_of(
                         "0123456789abcdef") == std::string::npos,
                 "a V3 signature that is not 64 hex digits");
  SAS_FUZZ_CHECK(sas::aliyun::SignV3(v3, "AKID", "secret").signature ==
                     signature.signature,
                 "V3 signing is not deterministic");
  std::string v1 = sas::aliyun::StringToSignV1(method, params);
  SAS_FUZZ_CHECK(
      v1 == sas::aliyun::StringToSignV1(method, SortedByName(params)),
      "the V1 string to sign depends on parameter order");
  SAS_FUZZ_CHECK(sas::aliyun::SignV1(method, params, "secret").size() == 28,
                 "a V1 signature that is not 28 base64 characters");
}
