#pragma once

// Typed reads from a parsed TOML document, every problem reported with its
// position to a sink. The exporter's configuration and the simulator's
// scenario both read through it. It brings in toml++'s declarations: include
// it from .cc files, not from headers others include.

#include <toml++/toml.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/diagnostic.h"
#include "util/duration.h"

namespace sas {

// A value looked up in a table: its node (nullptr when the key is absent)
// and the path of its key, which messages name.
struct TomlField {
  const toml::node* node = nullptr;
  std::string path;
};

// A string read from an array, with where it was written.
struct TomlString {
  std::string value;
  SourcePosition position;
};

// "string", "integer", "float", "boolean", "table", "array", "date", "time"
// or "date-time".
std::string TomlTypeName(const toml::node& node);

// "path.key", or "key" when path is empty.
std::string JoinKeyPath(std::string_view path, std::string_view key);

// A non-secret text as a JSON string literal, control characters escaped.
std::string Quoted(std::string_view text);
// Quoted words joined by ", ".
std::string QuotedList(std::span<const std::string_view> words);

// Reads values out of one document. Every getter returns nullopt (or
// nullptr, or nothing) when the key is absent, and also, after reporting
// it, when the value has the wrong type or is out of range; reading goes on
// after a problem unless the sink throws. Not thread-safe; one reader per
// document.
class TomlReader {
 public:
  // How messages name a value and what they say.
  enum class Wording {
    // The key's full path first, then what was expected and what was
    // found, with a fix where one is plain:
    // "account[2].region: expected string, found integer"; elements of
    // arrays count from 1 ("task[3]"). The exporter's configuration.
    kKeyPath,
    // The quoted key, then the rule: "\"id\" must be an integer, not a
    // string"; elements of arrays are "key[]". The simulator's scenario.
    kQuotedKey,
  };
  // Receives every diagnostic as it is found. A sink may throw to stop
  // reading at the first problem; the exception passes through the reader.
  using Sink = std::function<void(Diagnostic)>;

  // `file` names the document in every position.
  TomlReader(std::string file, Wording wording, Sink sink);

  // Parses a document. A syntax error is reported at its position and gives
  // nullopt. kKeyPath: "invalid TOML while parsing ...", with the bits of
  // text toml++ quotes removed when the line mentions a secret or a token;
  // kQuotedKey: toml++'s description as it is.
  std::optional<toml::table> Parse(std::string_view text);

  SourcePosition At(const toml::source_region& region) const;
  SourcePosition At(const toml::node& node) const;
  void Error(const SourcePosition& position, std::string message);
  void Warning(const SourcePosition& position, std::string message);
  // True once any error was reported.
  bool has_errors() const { return has_errors_; }
  const std::string& file() const { return file_; }

  // table[key], its path being JoinKeyPath(path, key).
  static TomlField Get(const toml::table& table, std::string_view path,
                       std::string_view key);
  // Like Get, but a missing key is reported at the table:
  // "<path>: required key is missing; <hint>".
  TomlField Require(const toml::table& table, std::string_view path,
                    std::string_view key, std::string_view hint);

  // Reports every key of table not in `allowed`, at the key, suggesting the
  // nearest allowed key. `owner` says whose keys they are: kKeyPath
  // "<path.key>: unknown key for <owner>" (without a suggestion, the valid
  // keys are listed); kQuotedKey "unknown key \"key\" in <owner>".
  void CheckKeys(const toml::table& table, std::string_view path,
                 std::span<const std::string_view> allowed,
                 std::string_view owner = "");

  std::optional<std::string> String(const TomlField& field);
  // A string that must not be empty: "" is reported, followed by hint when
  // there is one.
  std::optional<std::string> NonEmptyString(const TomlField& field,
                                            std::string_view hint = "");
  std::optional<bool> Boolean(const TomlField& field);
  std::optional<int64_t> Integer(const TomlField& field);
  // An integer in [min, max].
  std::optional<int64_t> Integer(const TomlField& field, int64_t min,
                                 int64_t max);
  // An integer or a float, as a double; `expected` describes what was
  // wanted ("a number between 0 and 1") when it is neither.
  std::optional<double> Number(const TomlField& field,
                               std::string_view expected = "a number");
  // A duration string ("30s", "1h30m"; see ParseDuration).
  std::optional<Millis> Duration(const TomlField& field);
  // A duration in [min, max].
  std::optional<Millis> Duration(const TomlField& field, Millis min,
                                 Millis max);
  const toml::table* Table(const TomlField& field);
  // The elements of an array of tables ([[key]]) with their paths; elements
  // that are not tables are reported (kQuotedKey: the array as a whole).
  std::vector<std::pair<const toml::table*, std::string>> TableArray(
      const TomlField& field);
  // The non-empty strings of an array, each with its position; elements
  // that are not, are reported and left out. `array` and `element` describe
  // what was expected ("an array of strings", "a string").
  std::optional<std::vector<TomlString>> StringArray(
      const TomlField& field, std::string_view array = "an array of strings",
      std::string_view element = "a string");
  // The integers of an array, each at least min; others are reported and
  // left out.
  std::optional<std::vector<int64_t>> IntegerArray(const TomlField& field,
                                                   int64_t min);

  // The name messages use for field: its path (kKeyPath) or its quoted
  // path (kQuotedKey), followed by what applies to it. Callers word their
  // own checks with it: Subject(field) + "must not contain '/'".
  std::string Subject(std::string_view path) const;

 private:
  // "<subject>expected <expected>, found <type>" or "<subject>must be
  // <expected>, not <a type>", at the node.
  void WrongType(const toml::node& node, std::string_view path,
                 std::string_view expected, std::string_view hint = "");
  // How messages name node's type under this wording.
  std::string FoundName(const toml::node& node) const;
  // The path of an array's element.
  std::string ElementPath(std::string_view path, size_t index) const;

  std::string file_;
  Wording wording_;
  Sink sink_;
  bool has_errors_ = false;
};

}  // namespace sas
