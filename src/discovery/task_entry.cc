#include "discovery/task_entry.h"

#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <set>

#include "util/strings.h"

namespace sas::discovery {
namespace {

using json = nlohmann::json;

constexpr std::string_view kKeys[] = {"account",       "action", "export_id",
                                      "rd_account_id", "name",   "created_at"};

// The 1-based line and column of byte `offset` in text.
std::pair<int, int> LineColumn(std::string_view text, size_t offset) {
  int line = 1, column = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return {line, column};
}

// The byte offset of the first number in JSON text whose value is beyond a
// double's range, or 0 when there is none.
size_t FirstHugeNumber(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '"') {
      i = JsonStringEnd(text, i);
      continue;
    }
    if (c != '-' && (c < '0' || c > '9')) continue;
    size_t end = text.find_first_not_of("0123456789+-.eE", i);
    if (end == std::string_view::npos) end = text.size();
    std::string number(text.substr(i, end - i));
    if (std::isinf(std::strtod(number.c_str(), nullptr))) return i;
    i = end - 1;
  }
  return 0;
}

bool PositiveInteger(const json& value, int64_t* out) {
  if (value.is_number_unsigned()) {
    uint64_t v = value.get<uint64_t>();
    if (v == 0 || v > static_cast<uint64_t>(INT64_MAX)) return false;
    *out = static_cast<int64_t>(v);
    return true;
  }
  if (value.is_number_integer()) {
    *out = value.get<int64_t>();
    return *out > 0;
  }
  return false;
}

// Validates one task object; *error names the field.
bool ReadTask(const json& object, TaskEntry* out, std::string* error) {
  if (!object.is_object()) {
    *error =
        std::string("a task must be a JSON object, got ") + object.type_name();
    return false;
  }
  for (const auto& [key, value] : object.items()) {
    if (std::find(std::begin(kKeys), std::end(kKeys), key) == std::end(kKeys)) {
      *error = "unknown field \"" + key +
               "\" (valid: account, action, export_id, rd_account_id, name, "
               "created_at)";
      return false;
    }
  }
  TaskEntry entry;
  auto account = object.find("account");
  if (account == object.end() || !account->is_string() ||
      account->get<std::string>().empty()) {
    *error =
        "\"account\" must be a non-empty string naming a configured "
        "account";
    return false;
  }
  entry.account = account->get<std::string>();
  if (std::string problem = UnprintableTextProblem(entry.account);
      !problem.empty()) {
    *error = "\"account\" " + problem + "; it must name a configured account";
    return false;
  }
  if (auto action = object.find("action");
      action != object.end() && !action->is_null()) {
    std::optional<aliyun::ExportAction> parsed;
    if (action->is_string()) {
      parsed = aliyun::ParseExportAction(action->get<std::string>());
    }
    if (!parsed) {
      *error = "\"action\" must be one of " + aliyun::ExportActionNames() +
               " (the progress API of the export; default DescribeExportInfo)";
      return false;
    }
    if (aliyun::IsDiscoveredAction(*parsed)) {
      *error = "\"action\": " + aliyun::DiscoveredActionRefusal(*parsed);
      return false;
    }
    entry.action = *parsed;
  }
  auto export_id = object.find("export_id");
  if (export_id == object.end() ||
      !PositiveInteger(*export_id, &entry.export_id) ||
      entry.export_id > aliyun::MaxExportId(entry.action)) {
    *error =
        "\"export_id\" must be a positive integer" +
        std::string(entry.action ==
                            aliyun::ExportAction::kDescribeSuspEventExportInfo
                        ? " of at most 2147483647"
                        : "") +
        " (the id the export API returned)";
    return false;
  }
  if (auto rd = object.find("rd_account_id");
      rd != object.end() && !rd->is_null()) {
    int64_t value;
    if (!PositiveInteger(*rd, &value)) {
      *error =
          "\"rd_account_id\" must be a positive integer (a member "
          "account id)";
      return false;
    }
    entry.rd_account_id = value;
  }
  if (auto name = object.find("name");
      name != object.end() && !name->is_null()) {
    if (!name->is_string()) {
      *error = "\"name\" must be a string";
      return false;
    }
    entry.name = name->get<std::string>();
    if (entry.name.size() > 256) {
      *error = "\"name\" must be at most 256 bytes";
      return false;
    }
    if (std::string problem = UnprintableTextProblem(entry.name);
        !problem.empty()) {
      *error = "\"name\" " + problem +
               "; it must be UTF-8 text without control characters";
      return false;
    }
  }
  if (auto created = object.find("created_at");
      created != object.end() && !created->is_null()) {
    WallTime t;
    std::optional<WallTime> seconds;
    if (created->is_number() && created->get<double>() > 0) {
      seconds = WallTimeFromUnixSeconds(created->get<double>());
    }
    if (created->is_string() && ParseIso8601(created->get<std::string>(), &t)) {
      entry.created_at = t;
    } else if (seconds) {
      entry.created_at = *seconds;
    } else {
      *error =
          "\"created_at\" must be \"yyyy-MM-ddTHH:mm:ssZ\" or Unix "
          "seconds (not milliseconds) within " +
          std::string(kWallTimeRangeText) + " (at most " +
          std::to_string(kMaxUnixSeconds) + ")";
      return false;
    }
  }
  *out = std::move(entry);
  return true;
}

// Byte offsets of the top-level array's elements (after a successful parse,
// so the text is valid JSON).
std::vector<size_t> TopLevelElementStarts(std::string_view text) {
  std::vector<size_t> starts;
  int depth = 0;
  bool expect_element = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
    if (depth == 1 && expect_element) {
      starts.push_back(i);
      expect_element = false;
    }
    if (c == '"') {
      i = JsonStringEnd(text, i);
    } else if (c == '[' || c == '{') {
      if (++depth == 1 && c == '[') expect_element = true;
    } else if (c == ']' || c == '}') {
      --depth;
    } else if (c == ',' && depth == 1) {
      expect_element = true;
    }
  }
  return starts;
}

}  // namespace

poll::TaskDefinition TaskEntry::Definition() const {
  return {Key(), name.empty() ? std::to_string(export_id) : name};
}

bool ParseTaskFile(std::string_view text, const std::string& path,
                   std::vector<TaskEntry>* out, std::string* error) {
  json document;
  try {
    document = json::parse(text);
  } catch (const json::out_of_range&) {
    // A number beyond a double's range (406), such as 1e400; nlohmann gives
    // no position, so point at the first such number.
    auto [line, column] = LineColumn(text, FirstHugeNumber(text));
    *error = path + ":" + std::to_string(line) + ":" + std::to_string(column) +
             ": invalid JSON: a number is too large (beyond +-1.8e308)";
    return false;
  } catch (const json::parse_error& e) {
    auto [line, column] = LineColumn(text, e.byte > 0 ? e.byte - 1 : 0);
    std::string what = e.what();
    // nlohmann's message: "[json.exception.parse_error.101] parse error at
    // line 1, column 5: syntax error while parsing value - ..."; keep the
    // part after the position.
    if (auto colon = what.find(": ", what.find("column"));
        colon != std::string::npos) {
      what = what.substr(colon + 2);
    }
    *error = path + ":" + std::to_string(line) + ":" + std::to_string(column) +
             ": invalid JSON: " + what;
    return false;
  } catch (const json::exception& e) {
    *error = path + ":1:1: invalid JSON: " + std::string(e.what());
    return false;
  }
  if (!document.is_array()) {
    *error = path + ":1:1: a task file must be a JSON array of tasks, got " +
             std::string(document.type_name());
    return false;
  }
  std::vector<size_t> starts = TopLevelElementStarts(text);
  std::vector<TaskEntry> entries;
  std::set<poll::TaskKey> seen;
  for (size_t i = 0; i < document.size(); ++i) {
    TaskEntry entry;
    std::string why;
    auto [line, column] = LineColumn(text, i < starts.size() ? starts[i] : 0);
    std::string where = path + ":" + std::to_string(line) + ":" +
                        std::to_string(column) + ": task " +
                        std::to_string(i + 1) + ": ";
    if (!ReadTask(document[i], &entry, &why)) {
      *error = where + why;
      return false;
    }
    if (std::string problem = MemberAccountProblem(entry); !problem.empty()) {
      *error = where + problem;
      return false;
    }
    if (!seen.insert(entry.Key()).second) {
      *error = where +
               "the same task (account, rd_account_id, action, export_id) "
               "is listed twice";
      return false;
    }
    entries.push_back(std::move(entry));
  }
  *out = std::move(entries);
  return true;
}

bool ParseTaskObject(std::string_view text, TaskEntry* out,
                     std::string* error) {
  json document = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) {
    *error = "the body is not valid JSON";
    return false;
  }
  return ReadTask(document, out, error);
}

std::string MemberAccountProblem(const TaskEntry& entry) {
  if (!entry.rd_account_id || aliyun::HasMemberAccountParameter(entry.action)) {
    return {};
  }
  return aliyun::MemberAccountRefusal(entry.action);
}

std::string TaskEntriesToJson(const std::vector<TaskEntry>& entries) {
  json array = json::array();
  for (const TaskEntry& entry : entries) {
    json object = {{"account", entry.account}, {"export_id", entry.export_id}};
    // Written only when not the default, so files stay readable by the
    // version before actions.
    if (entry.action != aliyun::kDefaultExportAction) {
      object["action"] = aliyun::ExportActionName(entry.action);
    }
    if (entry.rd_account_id) object["rd_account_id"] = *entry.rd_account_id;
    if (!entry.name.empty()) object["name"] = entry.name;
    if (entry.created_at)
      object["created_at"] = FormatIso8601(*entry.created_at);
    array.push_back(std::move(object));
  }
  return array.dump(2) + "\n";
}

}  // namespace sas::discovery
