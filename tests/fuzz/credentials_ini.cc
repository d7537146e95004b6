// credentials::ParseIniFile (~/.alibabacloud/credentials). Input: the file.
// A file that parses is written back out and must read back the same.

#include <string>
#include <vector>

#include "credentials/formats.h"
#include "fuzz_support.h"
#include "util/strings.h"

namespace {

using sas::credentials::IniSection;

// `value` as the right-hand side of "key = ...", or false when no spelling
// reads back as exactly this value.
bool WriteValue(const std::string& value, std::string* out) {
  if (value.find('"') == std::string::npos) {
    *out = "\"" + value + "\"";
    return true;
  }
  if (value.find('\'') == std::string::npos) {
    *out = "'" + value + "'";
    return true;
  }
  return false;
}

}  // namespace

SAS_FUZZ_TARGET(credentials_ini) {
  std::string_view text = sas::fuzz::AsText(data, size);
  std::vector<IniSection> sections;
  std::string error;
  if (!sas::credentials::ParseIniFile(text, "credentials", &sections, &error)) {
    SAS_FUZZ_CHECK(error.starts_with("credentials:"),
                   "an error that does not name the file and line");
    return;
  }
  size_t lines = 1;
  for (char c : text) lines += c == '\n';
  std::string written;
  bool writable = true;
  for (size_t i = 0; i < sections.size(); ++i) {
    const IniSection& section = sections[i];
    SAS_FUZZ_CHECK(
        !section.name.empty() && sas::Trim(section.name) == section.name,
        "a section name empty or with blanks around it");
    for (size_t j = 0; j < i; ++j) {
      SAS_FUZZ_CHECK(sections[j].name != section.name, "a repeated section");
    }
    SAS_FUZZ_CHECK(
        section.line >= 1 && static_cast<size_t>(section.line) <= lines,
        "a section line outside the file");
    SAS_FUZZ_CHECK(section.values.size() == section.lines.size(),
                   "values and lines disagree");
    written += "[" + section.name + "]\n";
    for (const auto& [key, value] : section.values) {
      SAS_FUZZ_CHECK(
          !key.empty() && sas::ToLower(key) == key && sas::Trim(key) == key,
          "a key empty, not lowercased or not trimmed");
      auto line = section.lines.find(key);
      SAS_FUZZ_CHECK(line != section.lines.end() &&
                         line->second > section.line &&
                         static_cast<size_t>(line->second) <= lines,
                     "a key's line outside its section");
      std::string spelled;
      writable = writable && WriteValue(value, &spelled);
      written += key + " = " + spelled + "\n";
    }
  }
  if (!writable) return;
  std::vector<IniSection> again;
  SAS_FUZZ_CHECK(
      sas::credentials::ParseIniFile(written, "written", &again, &error),
      "the file written back does not parse");
  SAS_FUZZ_CHECK(again.size() == sections.size(),
                 "the file written back has other sections");
  for (size_t i = 0; i < again.size(); ++i) {
    SAS_FUZZ_CHECK(again[i].name == sections[i].name &&
                       again[i].values == sections[i].values,
                   "the file written back reads differently");
  }
}
