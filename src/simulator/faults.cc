#include "simulator/faults.h"

#include <algorithm>
#include <charconv>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>

#include "util/strings.h"

namespace sas::simulator {
namespace {

constexpr Millis kMaxWindow{std::chrono::hours(24)};
constexpr Millis kMaxLatency{10 * 60'000};
constexpr int64_t kMaxCount = 1'000'000;

constexpr std::pair<FaultKind, std::string_view> kKindNames[] = {
    {FaultKind::kLatency, "latency"},
    {FaultKind::kReset, "reset"},
    {FaultKind::kTruncate, "truncate"},
    {FaultKind::kError, "error"},
    {FaultKind::kThrottle, "throttle"},
    {FaultKind::kClockSkew, "clock_skew"},
    {FaultKind::kStall, "stall"},
    {FaultKind::kStsUnavailable, "sts_unavailable"},
    {FaultKind::kMetadataUnavailable, "metadata_unavailable"}};

std::string Quote(std::string_view text) {
  std::string out;
  AppendJsonString(out, text);
  return out;
}

std::string KindList() {
  std::string out;
  for (const auto& [kind, name] : kKindNames) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

std::optional<int64_t> ParseInteger(std::string_view text, int64_t min,
                                    int64_t max) {
  int64_t value = 0;
  auto [end, ec] =
      std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() ||
      value < min || value > max) {
    return std::nullopt;
  }
  return value;
}

bool IsCodeChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

// Which keys each kind takes, besides kind, after, duration.
bool KeyApplies(FaultKind kind, std::string_view key) {
  if (key == "kind" || key == "after" || key == "duration") return true;
  bool answer = kind == FaultKind::kLatency || kind == FaultKind::kReset ||
                kind == FaultKind::kTruncate || kind == FaultKind::kError ||
                kind == FaultKind::kThrottle;
  if (key == "export_id") return answer;
  if (key == "count") {
    return kind != FaultKind::kClockSkew && kind != FaultKind::kStall;
  }
  if (key == "latency") return kind == FaultKind::kLatency;
  if (key == "status" || key == "code") {
    return kind == FaultKind::kError || kind == FaultKind::kThrottle;
  }
  if (key == "retry_after") return kind == FaultKind::kThrottle;
  if (key == "skew") return kind == FaultKind::kClockSkew;
  return false;
}

// Parses one field into *spec (kind already set); "" or the reason.
std::string SetField(FaultSpec* spec, std::string_view key,
                     std::string_view text) {
  std::string subject = Quote(key) + " ";
  auto duration = [&](Millis max, Millis* out) -> std::string {
    std::optional<Millis> value = ParseDuration(text);
    if (!value) {
      return subject + "wants a duration like \"500ms\" or \"2s\", not " +
             Quote(text);
    }
    if (*value > max) {
      return subject + "must be at most " + FormatDuration(max) + ", not " +
             Quote(text);
    }
    *out = *value;
    return "";
  };
  if (key == "export_id") {
    std::optional<int64_t> id =
        ParseInteger(text, 1, std::numeric_limits<int64_t>::max());
    if (!id) return subject + "must be a positive integer, not " + Quote(text);
    spec->export_id = *id;
  } else if (key == "count") {
    std::optional<int64_t> count = ParseInteger(text, 1, kMaxCount);
    if (!count) {
      return subject + "must be a whole number from 1 to " +
             std::to_string(kMaxCount) + ", not " + Quote(text);
    }
    spec->count = *count;
  } else if (key == "status") {
    std::optional<int64_t> status = ParseInteger(text, 400, 599);
    if (!status) {
      return subject + "must be an HTTP status from 400 to 599, not " +
             Quote(text);
    }
    spec->status = static_cast<int>(*status);
  } else if (key == "code") {
    if (text.empty() || text.size() > 64 ||
        !std::all_of(text.begin(), text.end(), IsCodeChar)) {
      return subject + "must be 1 to 64 of A-Z a-z 0-9 . _ -";
    }
    spec->code = std::string(text);
  } else if (key == "after") {
    return duration(kMaxWindow, &spec->after);
  } else if (key == "duration") {
    Millis value{0};
    std::string problem = duration(kMaxWindow, &value);
    if (problem.empty() && value.count() == 0) {
      return subject + "must be longer than 0s";
    }
    spec->duration = value;
    return problem;
  } else if (key == "latency") {
    return duration(kMaxLatency, &spec->latency);
  } else if (key == "retry_after") {
    return duration(kMaxWindow, &spec->retry_after);
  } else if (key == "skew") {
    bool negative = !text.empty() && text.front() == '-';
    if (negative) text.remove_prefix(1);
    std::string problem = duration(kMaxWindow, &spec->skew);
    if (!problem.empty()) return problem;
    if (spec->skew.count() == 0) return subject + "must not be 0s";
    if (negative) spec->skew = -spec->skew;
  }
  return "";
}

}  // namespace

std::string_view FaultKindName(FaultKind kind) {
  for (const auto& [candidate, name] : kKindNames) {
    if (candidate == kind) return name;
  }
  return "?";
}

bool FaultSpec::IsAnswerFault() const { return KeyApplies(kind, "export_id"); }

bool IsIntegerFaultKey(std::string_view key) {
  return key == "export_id" || key == "count" || key == "status";
}

std::optional<FaultSpec> ParseFault(
    const std::vector<std::pair<std::string, std::string>>& fields,
    FaultError* error) {
  std::map<std::string, std::string, std::less<>> values;
  for (const auto& [key, text] : fields) {
    if (std::find(std::begin(kFaultKeys), std::end(kFaultKeys), key) ==
        std::end(kFaultKeys)) {
      std::string message = "unknown key " + Quote(key);
      std::string nearest =
          NearestWord(key, std::vector<std::string_view>(std::begin(kFaultKeys),
                                                         std::end(kFaultKeys)));
      if (!nearest.empty()) message += "; did you mean " + Quote(nearest) + "?";
      *error = {key, message};
      return std::nullopt;
    }
    if (!values.emplace(key, text).second) {
      *error = {key, Quote(key) + " given twice"};
      return std::nullopt;
    }
  }
  auto kind_text = values.find("kind");
  if (kind_text == values.end()) {
    *error = {"", "a fault needs a \"kind\" (" + KindList() + ")"};
    return std::nullopt;
  }
  FaultSpec spec;
  auto kind = std::find_if(
      std::begin(kKindNames), std::end(kKindNames),
      [&](const auto& entry) { return entry.second == kind_text->second; });
  if (kind == std::end(kKindNames)) {
    *error = {"kind", "\"kind\" must be one of " + KindList() + ", not " +
                          Quote(kind_text->second)};
    return std::nullopt;
  }
  spec.kind = kind->first;
  if (spec.kind == FaultKind::kError) {
    spec.status = 503;
    spec.code = "ServiceUnavailable";
  } else if (spec.kind == FaultKind::kThrottle) {
    spec.status = 400;
    spec.code = "Throttling.User";
  }
  for (const auto& [key, text] : values) {
    if (key == "kind") continue;
    if (!KeyApplies(spec.kind, key)) {
      *error = {key, Quote(key) + " has no effect on a " +
                         Quote(kind_text->second) + " fault"};
      return std::nullopt;
    }
    if (std::string problem = SetField(&spec, key, text); !problem.empty()) {
      *error = {key, problem};
      return std::nullopt;
    }
  }
  for (std::string_view required : {"latency", "skew"}) {
    if (KeyApplies(spec.kind, required) && !values.contains(required)) {
      *error = {"", "a " + Quote(kind_text->second) + " fault needs " +
                        Quote(required)};
      return std::nullopt;
    }
  }
  return spec;
}

bool FaultSet::Add(const FaultSpec& spec, SteadyTime origin,
                   std::string* error) {
  std::lock_guard<std::mutex> lock(mutex_);
  Prune(clock_.SteadyNow());
  if (entries_.size() >= kMaxFaults) {
    *error = "at most " + std::to_string(kMaxFaults) +
             " faults at once; clear some first";
    return false;
  }
  entries_.push_back({spec, origin + spec.after, spec.count});
  return true;
}

void FaultSet::Clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  entries_.clear();
}

bool FaultSet::Active(const Entry& entry, SteadyTime now) const {
  if (now < entry.start) return false;
  if (entry.spec.duration && now >= entry.start + *entry.spec.duration) {
    return false;
  }
  return entry.spec.count == 0 || entry.left > 0;
}

void FaultSet::Prune(SteadyTime now) {
  std::erase_if(entries_, [&](const Entry& entry) {
    return (entry.spec.count > 0 && entry.left <= 0) ||
           (entry.spec.duration && now >= entry.start + *entry.spec.duration);
  });
}

const FaultSet::Entry* FaultSet::FindActive(FaultKind kind,
                                            SteadyTime now) const {
  for (const Entry& entry : entries_) {
    if (entry.spec.kind == kind && Active(entry, now)) return &entry;
  }
  return nullptr;
}

std::optional<FaultSpec> FaultSet::TakeAnswerFault(int64_t export_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  SteadyTime now = clock_.SteadyNow();
  for (Entry& entry : entries_) {
    if (!entry.spec.IsAnswerFault() || !Active(entry, now) ||
        (entry.spec.export_id != 0 && entry.spec.export_id != export_id)) {
      continue;
    }
    --entry.left;
    return entry.spec;
  }
  return std::nullopt;
}

bool FaultSet::TakeOutage(FaultKind kind) {
  std::lock_guard<std::mutex> lock(mutex_);
  SteadyTime now = clock_.SteadyNow();
  for (Entry& entry : entries_) {
    if (entry.spec.kind == kind && Active(entry, now)) {
      --entry.left;
      return true;
    }
  }
  return false;
}

Millis FaultSet::ClockSkew() const {
  std::lock_guard<std::mutex> lock(mutex_);
  const Entry* entry = FindActive(FaultKind::kClockSkew, clock_.SteadyNow());
  return entry != nullptr ? entry->spec.skew : Millis(0);
}

bool FaultSet::Stalling() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return FindActive(FaultKind::kStall, clock_.SteadyNow()) != nullptr;
}

std::string FaultSet::Json() const {
  std::lock_guard<std::mutex> lock(mutex_);
  SteadyTime now = clock_.SteadyNow();
  nlohmann::ordered_json faults = nlohmann::ordered_json::array();
  for (const Entry& entry : entries_) {
    bool ended =
        (entry.spec.count > 0 && entry.left <= 0) ||
        (entry.spec.duration && now >= entry.start + *entry.spec.duration);
    if (ended) continue;
    nlohmann::ordered_json fault = {
        {"kind", FaultKindName(entry.spec.kind)},
        {"export_id", entry.spec.export_id},
        {"state", now < entry.start ? "pending" : "active"}};
    fault["count_left"] = entry.spec.count > 0
                              ? nlohmann::ordered_json(entry.left)
                              : nlohmann::ordered_json(nullptr);
    faults.push_back(std::move(fault));
  }
  return nlohmann::ordered_json{{"faults", faults}}.dump();
}

WallTime SkewedClock::Now() const { return base_.Now() + faults_.ClockSkew(); }

}  // namespace sas::simulator
