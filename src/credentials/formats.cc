#include "credentials/formats.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>

#include "aliyun/json_body.h"
#include "aliyun/response.h"
#include "util/strings.h"

namespace sas::credentials {

using aliyun::Credentials;
using aliyun::CredentialsResult;
using aliyun::JsonTypeName;

namespace {

using nlohmann::json;

constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";
// Answers of the metadata service and STS are a few kilobytes.

// 1-based line of the byte at offset (clamped to the text).
int LineOf(std::string_view text, size_t offset) {
  offset = std::min(offset, text.size());
  return 1 + static_cast<int>(
                 std::count(text.begin(), text.begin() + offset, '\n'));
}

std::string Located(const std::string& path, int line,
                    std::string_view message) {
  return path + ":" + std::to_string(line) + ": " + std::string(message);
}

std::string Quoted(std::string_view text) {
  return "\"" + std::string(text) + "\"";
}

// nlohmann's parse error without its "last read: '...'" excerpt, which may
// hold part of a secret, and without its own position (we give the line).
std::string CleanParseError(std::string_view what) {
  size_t bracket = what.find("] ");
  if (bracket != std::string_view::npos) what.remove_prefix(bracket + 2);
  size_t colon = what.find(": ");
  if (what.starts_with("parse error") && colon != std::string_view::npos) {
    what.remove_prefix(colon + 2);
  }
  size_t last_read = what.find("; last read:");
  if (last_read != std::string_view::npos) what = what.substr(0, last_read);
  return std::string(what);
}

// Walks an already validated JSON document to find the byte offsets that the
// CLI configuration's diagnostics point at. Never reads past the text, even
// if it were not valid JSON.
class JsonScanner {
 public:
  explicit JsonScanner(std::string_view text) : text_(text) {
    if (text_.starts_with(kUtf8Bom)) pos_ = kUtf8Bom.size();
  }

  size_t pos() const { return pos_; }
  char Peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }

  void SkipWhitespace() {
    while (pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' ||
            text_[pos_] == '\r')) {
      ++pos_;
    }
  }

  // At '"': the decoded string; leaves pos_ after the closing quote.
  std::string ReadString() {
    size_t start = pos_++;
    bool escaped = false;
    while (pos_ < text_.size() && text_[pos_] != '"') {
      if (text_[pos_] == '\\') {
        escaped = true;
        ++pos_;
      }
      ++pos_;
    }
    pos_ = std::min(pos_ + 1, text_.size());
    std::string_view raw = text_.substr(start, pos_ - start);
    if (!escaped) {
      return std::string(raw.substr(1, raw.size() >= 2 ? raw.size() - 2 : 0));
    }
    json decoded = json::parse(raw, nullptr, /*allow_exceptions=*/false);
    return decoded.is_string() ? decoded.get<std::string>() : std::string();
  }

  // Skips one value of any kind.
  void SkipValue() {
    SkipWhitespace();
    char c = Peek();
    if (c == '"') {
      ReadString();
      return;
    }
    if (c != '{' && c != '[') {
      while (pos_ < text_.size() &&
             std::string_view(",]} \t\r\n").find(text_[pos_]) ==
                 std::string_view::npos) {
        ++pos_;
      }
      return;
    }
    int depth = 0;
    while (pos_ < text_.size()) {
      char d = text_[pos_];
      if (d == '"') {
        ReadString();
        continue;
      }
      ++pos_;
      if (d == '{' || d == '[') {
        ++depth;
      } else if ((d == '}' || d == ']') && --depth == 0) {
        return;
      }
    }
  }

  // At '{': calls on_member(key, key_offset) with pos_ at the member's
  // value, which on_member must consume; leaves pos_ after '}'.
  template <typename OnMember>
  void Members(OnMember on_member) {
    Items('}', [&] {
      size_t key_offset = pos_;
      std::string key = ReadString();
      SkipWhitespace();
      if (Peek() == ':') ++pos_;
      SkipWhitespace();
      on_member(key, key_offset);
    });
  }

  // At '[': calls on_element(element_offset) with pos_ at each element,
  // which on_element must consume; leaves pos_ after ']'.
  template <typename OnElement>
  void Elements(OnElement on_element) {
    Items(']', [&] { on_element(pos_); });
  }

 private:
  template <typename OnItem>
  void Items(char close, OnItem on_item) {
    ++pos_;
    SkipWhitespace();
    while (pos_ < text_.size() && Peek() != close) {
      size_t before = pos_;
      on_item();
      SkipWhitespace();
      if (Peek() == ',') ++pos_;
      SkipWhitespace();
      if (pos_ == before) ++pos_;  // Malformed input: always progress.
    }
    pos_ = std::min(pos_ + 1, text_.size());
  }

  std::string_view text_;
  size_t pos_ = 0;
};

struct ProfilePositions {
  size_t start = 0;
  std::map<std::string, size_t> keys;
};

struct CliPositions {
  size_t root = 0;
  std::map<std::string, size_t> root_keys;
  std::vector<ProfilePositions> profiles;
};

CliPositions LocateCliParts(std::string_view text) {
  CliPositions positions;
  JsonScanner scanner(text);
  scanner.SkipWhitespace();
  positions.root = scanner.pos();
  if (scanner.Peek() != '{') return positions;
  scanner.Members([&](const std::string& key, size_t key_offset) {
    positions.root_keys[key] = key_offset;
    if (key != "profiles" || scanner.Peek() != '[') {
      scanner.SkipValue();
      return;
    }
    positions.profiles.clear();  // A repeated key: the last one counts.
    scanner.Elements([&](size_t element_offset) {
      ProfilePositions& profile = positions.profiles.emplace_back();
      profile.start = element_offset;
      if (scanner.Peek() != '{') {
        scanner.SkipValue();
        return;
      }
      scanner.Members([&](const std::string& field, size_t field_offset) {
        profile.keys[field] = field_offset;
        scanner.SkipValue();
      });
    });
  });
  return positions;
}

// The CLI profile's string fields, by JSON key.
struct StringField {
  std::string_view key;
  std::string CliProfile::*member;
};

constexpr StringField kStringFields[] = {
    {"mode", &CliProfile::mode},
    {"access_key_id", &CliProfile::access_key_id},
    {"access_key_secret", &CliProfile::access_key_secret},
    {"sts_token", &CliProfile::sts_token},
    {"ram_role_arn", &CliProfile::ram_role_arn},
    {"ram_session_name", &CliProfile::ram_session_name},
    {"sts_region", &CliProfile::sts_region},
    {"ram_role_name", &CliProfile::ram_role_name},
    {"oidc_token_file", &CliProfile::oidc_token_file},
    {"oidc_provider_arn", &CliProfile::oidc_provider_arn},
    {"source_profile", &CliProfile::source_profile},
    {"policy", &CliProfile::policy},
    {"external_id", &CliProfile::external_id},
    {"process_command", &CliProfile::process_command},
    {"credentials_uri", &CliProfile::credentials_uri},
};

CredentialsResult Invalid(std::string message) {
  return {std::nullopt, "InvalidCredentials", std::move(message)};
}

// Reads the four credential fields of object (the metadata answer or STS's
// Credentials), each a non-empty string. `where` prefixes errors.
CredentialsResult ReadCredentialFields(const json& object,
                                       std::string_view where) {
  Credentials credentials;
  const std::pair<std::string_view, std::string*> fields[] = {
      {"AccessKeyId", &credentials.access_key_id},
      {"AccessKeySecret", &credentials.access_key_secret},
      {"SecurityToken", &credentials.security_token},
  };
  for (const auto& [name, out] : fields) {
    auto it = object.find(name);
    if (it == object.end() || it->is_null()) {
      return Invalid(std::string(where) + " lacks " + std::string(name));
    }
    if (!it->is_string()) {
      return Invalid(std::string(where) + ": " + std::string(name) +
                     ": expected a string, got " + JsonTypeName(*it));
    }
    *out = it->get<std::string>();
    if (Trim(*out).empty()) {
      return Invalid(std::string(where) + ": " + std::string(name) +
                     " is empty");
    }
  }
  auto it = object.find("Expiration");
  if (it == object.end() || it->is_null()) {
    return Invalid(std::string(where) + " lacks Expiration");
  }
  WallTime expiration;
  if (!it->is_string() ||
      !ParseIso8601(it->get_ref<const std::string&>(), &expiration)) {
    return Invalid(std::string(where) +
                   ": Expiration is not of the form yyyy-MM-ddTHH:mm:ssZ "
                   "within " +
                   std::string(kWallTimeRangeText));
  }
  credentials.expiration = expiration;
  return {std::move(credentials), "", ""};
}

}  // namespace

const CliProfile* CliConfig::Find(std::string_view name) const {
  for (const CliProfile& profile : profiles) {
    if (profile.name == name) return &profile;
  }
  return nullptr;
}

bool ParseCliConfig(std::string_view text, const std::string& path,
                    CliConfig* out, std::string* error) {
  auto fail = [&](size_t offset, std::string_view message) {
    *error = Located(path, LineOf(text, offset), message);
    return false;
  };
  std::string_view body = text;
  if (body.starts_with(kUtf8Bom)) body.remove_prefix(kUtf8Bom.size());
  if (Trim(body).empty()) return fail(0, "the file is empty");

  json document;
  try {
    document = json::parse(text);
  } catch (const json::parse_error& e) {
    // e.byte is 1-based: the last character read.
    return fail(e.byte > 0 ? e.byte - 1 : 0,
                "invalid JSON: " + CleanParseError(e.what()));
  } catch (const json::exception&) {
    // out_of_range: a number beyond a double, such as 1e400. Its text is
    // not quoted: it may sit next to a secret.
    return fail(0, "invalid JSON: a number is too large (beyond +-1.8e308)");
  }
  CliPositions positions = LocateCliParts(text);
  if (!document.is_object()) {
    return fail(positions.root,
                "expected a JSON object, got " + JsonTypeName(document));
  }

  CliConfig config;
  if (auto it = document.find("current");
      it != document.end() && !it->is_null()) {
    if (!it->is_string()) {
      return fail(
          positions.root_keys["current"],
          "field \"current\": expected a string, got " + JsonTypeName(*it));
    }
    config.current = it->get<std::string>();
  }

  auto profiles = document.find("profiles");
  if (profiles != document.end() && !profiles->is_null()) {
    if (!profiles->is_array()) {
      return fail(positions.root_keys["profiles"],
                  "field \"profiles\": expected an array, got " +
                      JsonTypeName(*profiles));
    }
    for (size_t i = 0; i < profiles->size(); ++i) {
      const json& item = (*profiles)[i];
      ProfilePositions where = i < positions.profiles.size()
                                   ? positions.profiles[i]
                                   : ProfilePositions{positions.root, {}};
      std::string label = "profiles[" + std::to_string(i) + "]";
      if (!item.is_object()) {
        return fail(where.start,
                    label + ": expected an object, got " + JsonTypeName(item));
      }
      auto field_offset = [&](std::string_view key) {
        auto it = where.keys.find(std::string(key));
        return it != where.keys.end() ? it->second : where.start;
      };

      CliProfile profile;
      profile.line = LineOf(text, where.start);
      if (auto it = item.find("name"); it != item.end() && !it->is_null()) {
        if (!it->is_string()) {
          return fail(field_offset("name"),
                      label + ": field \"name\": expected a string, got " +
                          JsonTypeName(*it));
        }
        profile.name = it->get<std::string>();
        label = "profile " + Quoted(profile.name);
      }
      for (const StringField& field : kStringFields) {
        auto it = item.find(field.key);
        if (it == item.end() || it->is_null()) continue;
        if (!it->is_string()) {
          return fail(field_offset(field.key),
                      label + ": field " + Quoted(field.key) +
                          ": expected a string, got " + JsonTypeName(*it));
        }
        profile.*field.member = it->get<std::string>();
      }
      if (auto it = item.find("enable_vpc");
          it != item.end() && !it->is_null()) {
        if (!it->is_boolean()) {
          return fail(field_offset("enable_vpc"),
                      label +
                          ": field \"enable_vpc\": expected a boolean, got " +
                          JsonTypeName(*it));
        }
        profile.enable_vpc = it->get<bool>();
      }
      if (auto it = item.find("expired_seconds");
          it != item.end() && !it->is_null()) {
        std::string problem;
        if (it->is_number_unsigned()) {
          if (it->get<uint64_t>() >
              static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
            problem = "integer out of range";
          }
        } else if (it->is_number_integer()) {
          if (it->get<int64_t>() < 0) problem = "must not be negative";
        } else {
          problem = "expected an integer, got " + JsonTypeName(*it);
        }
        if (!problem.empty()) {
          return fail(field_offset("expired_seconds"),
                      label + ": field \"expired_seconds\": " + problem);
        }
        profile.expired_seconds = it->get<int64_t>();
      }
      config.profiles.push_back(std::move(profile));
    }
  }
  *out = std::move(config);
  return true;
}

bool ParseIniFile(std::string_view text, const std::string& path,
                  std::vector<IniSection>* out, std::string* error) {
  if (text.starts_with(kUtf8Bom)) text.remove_prefix(kUtf8Bom.size());
  std::vector<IniSection> sections;
  int line_number = 0;
  auto fail = [&](std::string_view message) {
    *error = Located(path, line_number, message);
    return false;
  };

  size_t begin = 0;
  while (begin <= text.size()) {
    size_t end = text.find('\n', begin);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = Trim(text.substr(begin, end - begin));
    begin = end + 1;
    ++line_number;
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;

    if (line[0] == '[') {
      size_t close = line.find(']');
      if (close == std::string_view::npos) {
        return fail("section header without a closing ']'");
      }
      std::string_view rest = Trim(line.substr(close + 1));
      if (!rest.empty() && rest[0] != '#' && rest[0] != ';') {
        return fail("unexpected text after the section header");
      }
      std::string name(Trim(line.substr(1, close - 1)));
      if (name.empty()) return fail("empty section name");
      for (const IniSection& section : sections) {
        if (section.name == name) {
          return fail("duplicate section [" + name + "] (first at line " +
                      std::to_string(section.line) + ")");
        }
      }
      IniSection& section = sections.emplace_back();
      section.name = std::move(name);
      section.line = line_number;
      continue;
    }

    size_t equals = line.find('=');
    if (equals == std::string_view::npos) {
      return fail("expected [section], key = value or a comment");
    }
    std::string key = ToLower(Trim(line.substr(0, equals)));
    if (key.empty()) return fail("a value without a key before '='");
    if (sections.empty()) {
      return fail("key " + Quoted(key) + " outside any [section]");
    }
    IniSection& section = sections.back();
    if (auto it = section.lines.find(key); it != section.lines.end()) {
      return fail("duplicate key " + Quoted(key) + " in [" + section.name +
                  "] (first at line " + std::to_string(it->second) + ")");
    }

    std::string_view value = Trim(line.substr(equals + 1));
    if (!value.empty() && (value[0] == '"' || value[0] == '\'')) {
      size_t close = value.find(value[0], 1);
      if (close == std::string_view::npos) {
        return fail("unterminated quoted value of key " + Quoted(key));
      }
      std::string_view rest = Trim(value.substr(close + 1));
      if (!rest.empty() && rest[0] != '#' && rest[0] != ';') {
        return fail("unexpected text after the quoted value of key " +
                    Quoted(key));
      }
      value = value.substr(1, close - 1);
    } else {
      // An inline comment starts at '#' or ';' after whitespace, so values
      // containing those characters survive.
      for (size_t i = 1; i < value.size(); ++i) {
        if ((value[i] == '#' || value[i] == ';') &&
            (value[i - 1] == ' ' || value[i - 1] == '\t')) {
          value = Trim(value.substr(0, i));
          break;
        }
      }
    }
    section.values[key] = std::string(value);
    section.lines[key] = line_number;
  }
  *out = std::move(sections);
  return true;
}

CredentialsResult ParseMetadataCredentials(std::string_view body) {
  std::string why;
  std::optional<json> object =
      aliyun::ParseJsonObject(body, "credentials answer", &why);
  if (!object) return Invalid(why);
  auto code = object->find("Code");
  if (code == object->end() || !code->is_string()) {
    return Invalid("credentials answer lacks Code");
  }
  if (code->get_ref<const std::string&>() != "Success") {
    return Invalid("credentials answer has Code " +
                   Quoted(aliyun::SanitizeErrorMessage(
                       "", code->get_ref<const std::string&>().substr(0, 64))) +
                   ", not \"Success\"");
  }
  return ReadCredentialFields(*object, "credentials answer");
}

CredentialsResult ParseExternalCredentials(std::string_view output) {
  constexpr std::string_view kWhere = "the command's output";
  json object = json::parse(output, nullptr, /*allow_exceptions=*/false);
  if (object.is_discarded()) {
    return Invalid(std::string(kWhere) + " is not JSON");
  }
  if (!object.is_object()) {
    return Invalid(std::string(kWhere) + " is not a JSON object but " +
                   JsonTypeName(object));
  }
  auto text = [&](std::string_view key, std::string* out) -> std::string {
    auto it = object.find(key);
    if (it == object.end() || it->is_null()) return "";
    if (!it->is_string()) {
      return std::string(kWhere) + ": " + std::string(key) +
             ": expected a string, got " + JsonTypeName(*it);
    }
    *out = it->get<std::string>();
    return "";
  };
  std::string mode;
  Credentials credentials;
  std::string expiration;
  for (auto [key, out] : {std::pair{"mode", &mode},
                          {"access_key_id", &credentials.access_key_id},
                          {"access_key_secret", &credentials.access_key_secret},
                          {"sts_token", &credentials.security_token},
                          {"expiration", &expiration}}) {
    if (std::string problem = text(key, out); !problem.empty()) {
      return Invalid(problem);
    }
  }
  std::string lower = ToLower(mode);
  if (lower != "ak" && lower != "ststoken") {
    return Invalid(std::string(kWhere) +
                   (mode.empty()
                        ? " lacks \"mode\" (\"AK\" or \"StsToken\")"
                        : ": mode is neither \"AK\" nor \"StsToken\""));
  }
  if (Trim(credentials.access_key_id).empty() ||
      Trim(credentials.access_key_secret).empty()) {
    return Invalid(std::string(kWhere) +
                   " lacks access_key_id or access_key_secret");
  }
  if (lower == "ststoken" && Trim(credentials.security_token).empty()) {
    return Invalid(std::string(kWhere) + ": mode StsToken lacks sts_token");
  }
  if (lower == "ak") credentials.security_token.clear();
  if (!expiration.empty()) {
    WallTime when;
    if (!ParseIso8601(expiration, &when)) {
      return Invalid(std::string(kWhere) +
                     ": expiration is not of the form yyyy-MM-ddTHH:mm:ssZ "
                     "within " +
                     std::string(kWallTimeRangeText));
    }
    credentials.expiration = when;
  }
  return {std::move(credentials), "", ""};
}

CredentialsResult ParseStsCredentials(const aliyun::HttpResponse& response) {
  if (response.status < 200 || response.status > 299) {
    aliyun::ApiError error = aliyun::ParseErrorResponse(response);
    std::string message = "HTTP " + std::to_string(response.status);
    if (!error.code.starts_with("http_")) message += " " + error.code;
    if (!error.message.empty()) message += ": " + error.message;
    if (!error.request_id.empty()) {
      message += " (RequestId " + error.request_id + ")";
    }
    return {std::nullopt, error.code, message};
  }
  std::string why;
  std::optional<json> object =
      aliyun::ParseJsonObject(response.body, "STS answer", &why);
  if (!object) return Invalid(why);
  auto it = object->find("Credentials");
  if (it == object->end() || !it->is_object()) {
    return Invalid("STS answer lacks a Credentials object");
  }
  return ReadCredentialFields(*it, "STS answer's Credentials");
}

}  // namespace sas::credentials
