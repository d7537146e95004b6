#include "util/toml_reader.h"

#include <algorithm>

#include "util/strings.h"

namespace sas {
namespace {

// "a string", "an integer"; phrases that already start with an article
// stay as they are.
std::string WithArticle(std::string_view noun) {
  if (StartsWith(noun, "a ") || StartsWith(noun, "an ")) {
    return std::string(noun);
  }
  bool vowel = !noun.empty() && std::string_view("aeiou").find(noun[0]) !=
                                    std::string_view::npos;
  return (vowel ? "an " : "a ") + std::string(noun);
}

bool IsDigits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return c >= '0' && c <= '9';
  });
}

// toml++ quotes bits of the offending text in its messages ("saw 's'").
// When the broken line mentions a secret or a token, those bits are removed.
std::string RedactParseError(std::string description,
                             std::string_view line_text) {
  std::string line = ToLower(line_text);
  if (line.find("secret") == std::string::npos &&
      line.find("token") == std::string::npos) {
    return description;
  }
  std::string out;
  bool in_quote = false;
  for (char c : description) {
    if (c == '\'') {
      if (!in_quote) out += "'<redacted>'";
      in_quote = !in_quote;
    } else if (!in_quote) {
      out += c;
    }
  }
  return out;
}

std::string_view LineOf(std::string_view text, size_t line) {
  for (size_t i = 1; i < line; ++i) {
    size_t newline = text.find('\n');
    if (newline == std::string_view::npos) return {};
    text.remove_prefix(newline + 1);
  }
  return text.substr(0, text.find('\n'));
}

}  // namespace

std::string TomlTypeName(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return "string";
    case toml::node_type::integer:
      return "integer";
    case toml::node_type::floating_point:
      return "float";
    case toml::node_type::boolean:
      return "boolean";
    case toml::node_type::table:
      return "table";
    case toml::node_type::array:
      return "array";
    case toml::node_type::date:
      return "date";
    case toml::node_type::time:
      return "time";
    case toml::node_type::date_time:
      return "date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

std::string JoinKeyPath(std::string_view path, std::string_view key) {
  if (path.empty()) return std::string(key);
  std::string out(path);
  out += '.';
  out += key;
  return out;
}

std::string Quoted(std::string_view text) {
  std::string out;
  AppendJsonString(out, text);
  return out;
}

std::string QuotedList(std::span<const std::string_view> words) {
  std::string out;
  for (std::string_view word : words) {
    if (!out.empty()) out += ", ";
    out += Quoted(word);
  }
  return out;
}

TomlReader::TomlReader(std::string file, Wording wording, Sink sink)
    : file_(std::move(file)), wording_(wording), sink_(std::move(sink)) {}

std::optional<toml::table> TomlReader::Parse(std::string_view text) {
  try {
    return toml::parse(text, std::string_view(file_));
  } catch (const toml::parse_error& error) {
    std::string description(error.description());
    if (wording_ == Wording::kKeyPath) {
      constexpr std::string_view kPrefix = "Error while ";
      if (StartsWith(description, kPrefix)) {
        description =
            "invalid TOML while " + description.substr(kPrefix.size());
      } else {
        description = "invalid TOML: " + description;
      }
      description = RedactParseError(std::move(description),
                                     LineOf(text, error.source().begin.line));
    }
    Error(At(error.source()), std::move(description));
  }
  return std::nullopt;
}

SourcePosition TomlReader::At(const toml::source_region& region) const {
  return {file_, static_cast<int>(region.begin.line),
          static_cast<int>(region.begin.column)};
}

SourcePosition TomlReader::At(const toml::node& node) const {
  return At(node.source());
}

void TomlReader::Error(const SourcePosition& position, std::string message) {
  has_errors_ = true;
  sink_({Diagnostic::Severity::kError, position, std::move(message)});
}

void TomlReader::Warning(const SourcePosition& position, std::string message) {
  sink_({Diagnostic::Severity::kWarning, position, std::move(message)});
}

TomlField TomlReader::Get(const toml::table& table, std::string_view path,
                          std::string_view key) {
  return {table.get(key), JoinKeyPath(path, key)};
}

TomlField TomlReader::Require(const toml::table& table, std::string_view path,
                              std::string_view key, std::string_view hint) {
  TomlField field = Get(table, path, key);
  if (field.node == nullptr) {
    std::string message = field.path + ": required key is missing";
    if (!hint.empty()) {
      message += "; ";
      message += hint;
    }
    Error(At(table), std::move(message));
  }
  return field;
}

void TomlReader::CheckKeys(const toml::table& table, std::string_view path,
                           std::span<const std::string_view> allowed,
                           std::string_view owner) {
  const std::vector<std::string_view> candidates(allowed.begin(),
                                                 allowed.end());
  for (auto&& [key, node] : table) {
    std::string_view name = key.str();
    if (std::find(allowed.begin(), allowed.end(), name) != allowed.end()) {
      continue;
    }
    std::string nearest = NearestWord(name, candidates);
    std::string message;
    if (wording_ == Wording::kKeyPath) {
      message = JoinKeyPath(path, name) + ": unknown key";
      if (!owner.empty()) {
        message += " for ";
        message += owner;
      }
      if (nearest.empty()) {
        message += "; valid keys here: " + QuotedList(allowed);
      }
    } else {
      message = "unknown key " + Quoted(name) + " in " + std::string(owner);
    }
    if (!nearest.empty()) message += "; did you mean " + Quoted(nearest) + "?";
    Error(At(key.source()), std::move(message));
  }
}

std::string TomlReader::Subject(std::string_view path) const {
  if (wording_ == Wording::kKeyPath) return std::string(path) + ": ";
  return Quoted(path) + " ";
}

std::string TomlReader::FoundName(const toml::node& node) const {
  if (wording_ == Wording::kKeyPath) return TomlTypeName(node);
  if (node.is_date() || node.is_time() || node.is_date_time()) {
    return "a date/time";
  }
  return WithArticle(TomlTypeName(node));
}

std::string TomlReader::ElementPath(std::string_view path, size_t index) const {
  if (wording_ == Wording::kQuotedKey) return std::string(path) + "[]";
  return std::string(path) + "[" + std::to_string(index + 1) + "]";
}

void TomlReader::WrongType(const toml::node& node, std::string_view path,
                           std::string_view expected, std::string_view hint) {
  std::string message = Subject(path);
  if (wording_ == Wording::kKeyPath) {
    message += "expected " + std::string(expected) + ", found " +
               FoundName(node) + std::string(hint);
  } else {
    message += "must be " + WithArticle(expected) + ", not " + FoundName(node);
  }
  Error(At(node), std::move(message));
}

std::optional<std::string> TomlReader::String(const TomlField& field) {
  if (field.node == nullptr) return std::nullopt;
  if (const auto* value = field.node->as_string()) return value->get();
  WrongType(*field.node, field.path, "string");
  return std::nullopt;
}

std::optional<std::string> TomlReader::NonEmptyString(const TomlField& field,
                                                      std::string_view hint) {
  std::optional<std::string> value = String(field);
  if (value && value->empty()) {
    std::string message = Subject(field.path) + "must not be empty";
    if (!hint.empty()) message += "; " + std::string(hint);
    Error(At(*field.node), std::move(message));
    return std::nullopt;
  }
  return value;
}

std::optional<bool> TomlReader::Boolean(const TomlField& field) {
  if (field.node == nullptr) return std::nullopt;
  if (const auto* value = field.node->as_boolean()) return value->get();
  const auto* text = field.node->as_string();
  bool quoted =
      text != nullptr && (text->get() == "true" || text->get() == "false");
  WrongType(*field.node, field.path, "boolean",
            quoted ? "; write it without quotes" : "");
  return std::nullopt;
}

std::optional<int64_t> TomlReader::Integer(const TomlField& field) {
  if (field.node == nullptr) return std::nullopt;
  if (const auto* value = field.node->as_integer()) return value->get();
  const auto* text = field.node->as_string();
  bool quoted = text != nullptr && IsDigits(text->get());
  WrongType(*field.node, field.path, "integer",
            quoted ? "; write it without quotes" : "");
  return std::nullopt;
}

std::optional<int64_t> TomlReader::Integer(const TomlField& field, int64_t min,
                                           int64_t max) {
  std::optional<int64_t> value = Integer(field);
  if (value && (*value < min || *value > max)) {
    Error(At(*field.node),
          Subject(field.path) + "must be between " + std::to_string(min) +
              " and " + std::to_string(max) +
              (wording_ == Wording::kKeyPath ? ", got " : ", not ") +
              std::to_string(*value));
    return std::nullopt;
  }
  return value;
}

std::optional<double> TomlReader::Number(const TomlField& field,
                                         std::string_view expected) {
  if (field.node == nullptr) return std::nullopt;
  if (const auto* value = field.node->as_integer()) {
    return static_cast<double>(value->get());
  }
  if (const auto* value = field.node->as_floating_point()) return value->get();
  WrongType(*field.node, field.path, expected);
  return std::nullopt;
}

std::optional<Millis> TomlReader::Duration(const TomlField& field) {
  if (field.node == nullptr) return std::nullopt;
  const bool key_path = wording_ == Wording::kKeyPath;
  if (const auto* value = field.node->as_integer(); value && key_path) {
    std::string n = std::to_string(value->get());
    Error(At(*field.node), field.path + ": expected a duration string, found " +
                               "integer " + n +
                               "; write the unit too, e.g. \"" + n + "s\"");
    return std::nullopt;
  }
  const auto* text = field.node->as_string();
  if (text == nullptr) {
    WrongType(*field.node, field.path, "a duration string such as \"30s\"");
    return std::nullopt;
  }
  std::optional<Millis> duration = ParseDuration(text->get());
  if (!duration) {
    Error(At(*field.node),
          key_path
              ? field.path + ": invalid duration " + Quoted(text->get()) +
                    "; write numbers with units ms, s, m or h, e.g. "
                    "\"500ms\", \"30s\", \"5m\", \"1h30m\""
              : Quoted(field.path) + ": bad duration " + Quoted(text->get()) +
                    " (use <number><unit> groups with units ms, s, m, "
                    "h, e.g. \"1m30s\")");
  }
  return duration;
}

std::optional<Millis> TomlReader::Duration(const TomlField& field, Millis min,
                                           Millis max) {
  std::optional<Millis> value = Duration(field);
  if (!value || (*value >= min && *value <= max)) return value;
  std::string message = Subject(field.path);
  if (wording_ == Wording::kKeyPath) {
    message += "must be between " + FormatDuration(min) + " and " +
               FormatDuration(max) + ", got " + Quoted(FormatDuration(*value));
  } else if (min == Millis(0)) {
    message += "must be at most " + FormatDuration(max) + ", not " +
               FormatDuration(*value);
  } else {
    message += "must be between " + FormatDuration(min) + " and " +
               FormatDuration(max) + ", not " + FormatDuration(*value);
  }
  Error(At(*field.node), std::move(message));
  return std::nullopt;
}

const toml::table* TomlReader::Table(const TomlField& field) {
  if (field.node == nullptr) return nullptr;
  if (const auto* table = field.node->as_table()) return table;
  WrongType(*field.node, field.path, "table");
  return nullptr;
}

std::vector<std::pair<const toml::table*, std::string>> TomlReader::TableArray(
    const TomlField& field) {
  std::vector<std::pair<const toml::table*, std::string>> tables;
  if (field.node == nullptr) return tables;
  const auto* array = field.node->as_array();
  if (wording_ == Wording::kQuotedKey && !field.node->is_array_of_tables()) {
    WrongType(*field.node, field.path,
              "an array of tables ([[" + field.path + "]])");
    return tables;
  }
  if (array == nullptr) {
    WrongType(*field.node, field.path, "an array of tables",
              field.node->is_table() ? "; write [[" + field.path +
                                           "]] instead of [" + field.path + "]"
                                     : "");
    return tables;
  }
  for (size_t i = 0; i < array->size(); ++i) {
    const toml::node& element = *array->get(i);
    std::string path = ElementPath(field.path, i);
    if (const auto* table = element.as_table()) {
      tables.emplace_back(table, std::move(path));
    } else {
      WrongType(element, path, "table");
    }
  }
  return tables;
}

std::optional<std::vector<TomlString>> TomlReader::StringArray(
    const TomlField& field, std::string_view array, std::string_view element) {
  if (field.node == nullptr) return std::nullopt;
  const auto* values = field.node->as_array();
  if (values == nullptr) {
    WrongType(*field.node, field.path, array);
    return std::nullopt;
  }
  std::vector<TomlString> strings;
  for (size_t i = 0; i < values->size(); ++i) {
    const toml::node& node = *values->get(i);
    const auto* text = node.as_string();
    if (text != nullptr && !text->get().empty()) {
      strings.push_back({text->get(), At(node)});
    } else if (text == nullptr || wording_ == Wording::kKeyPath) {
      WrongType(node, ElementPath(field.path, i), element);
    } else {
      Error(At(node), Subject(field.path) + "must not contain empty strings");
    }
  }
  return strings;
}

std::optional<std::vector<int64_t>> TomlReader::IntegerArray(
    const TomlField& field, int64_t min) {
  if (field.node == nullptr) return std::nullopt;
  const auto* values = field.node->as_array();
  if (values == nullptr) {
    WrongType(*field.node, field.path, "an array of integers");
    return std::nullopt;
  }
  std::vector<int64_t> integers;
  for (size_t i = 0; i < values->size(); ++i) {
    const toml::node& node = *values->get(i);
    const auto* value = node.as_integer();
    if (value == nullptr) {
      WrongType(node, ElementPath(field.path, i), "integer");
    } else if (value->get() < min) {
      Error(At(node), wording_ == Wording::kKeyPath
                          ? ElementPath(field.path, i) + ": must be at least " +
                                std::to_string(min) + ", got " +
                                std::to_string(value->get())
                          : Subject(field.path) + "values must be at least " +
                                std::to_string(min) + ", not " +
                                std::to_string(value->get()));
    } else {
      integers.push_back(value->get());
    }
  }
  return integers;
}

}  // namespace sas
