#pragma once

// Faults: misbehaviour of the simulated cloud, switched on by the scenario's
// [[fault]] tables or at run time through /_simulator/faults, each for a
// time window and/or a number of answers (see docs/simulator.md, "Faults").
// One set of keys serves both: the scenario gives them as TOML values, the
// control endpoint as query parameters, and both reach ParseFault as text.

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/clock.h"
#include "util/duration.h"

namespace sas::simulator {

enum class FaultKind {
  kLatency,    // the answer waits `latency` first
  kReset,      // half the answer, then a TCP reset
  kTruncate,   // Content-Length of the whole answer, half of it, then close
  kError,      // `status` `code` instead of the answer (a 5xx burst)
  kThrottle,   // `status` `code` with x-acs-retry-after: `retry_after`
  kClockSkew,  // the signature check's clock is off by `skew`
  kStall,      // connections are accepted and never answered
  kStsUnavailable,       // STS answers 503 ServiceUnavailable
  kMetadataUnavailable,  // metadata credential GETs answer 503
};

// "latency", "reset", "truncate", "error", "throttle", "clock_skew",
// "stall", "sts_unavailable", "metadata_unavailable".
std::string_view FaultKindName(FaultKind kind);

// One fault. Keys (TOML and query parameter names) in backquotes.
struct FaultSpec {
  FaultKind kind = FaultKind::kError;  // `kind`: required
  // `export_id`: only Security Center calls for this ExportId; 0 (absent) =
  // every Security Center call. Answer kinds only.
  int64_t export_id = 0;
  // `after`: starts this long after the simulator started (scenario) or
  // after it was added (control endpoint); <= 24h.
  Millis after{0};
  // `duration`: lasts this long once started, <= 24h; nullopt = until
  // cleared.
  std::optional<Millis> duration;
  // `count`: the calls it affects, 1..1000000, then it is spent; 0 (absent)
  // = no limit. Not for clock_skew and stall, which affect no single call.
  int64_t count = 0;
  Millis latency{0};  // `latency`: latency only, required, <= 10m
  // `status` and `code`: error (default 503 ServiceUnavailable) and
  // throttle (default 400 Throttling.User); status 400..599, code 1..64 of
  // [A-Za-z0-9._-].
  int status = 0;
  std::string code;
  Millis retry_after{1000};  // `retry_after`: throttle only, <= 24h
  // `skew`: clock_skew only, required, non-zero, at most 24h either way
  // ("-20m"): added to the wall clock the signature check reads, so that
  // the request's timestamp is rejected as the real API rejects it.
  Millis skew{0};

  bool IsAnswerFault() const;
};

// Every key of a fault, for unknown-key suggestions.
inline constexpr std::string_view kFaultKeys[] = {
    "kind",    "export_id", "after", "duration",    "count",
    "latency", "status",    "code",  "retry_after", "skew"};

// Keys whose TOML value is an integer; the others are strings.
bool IsIntegerFaultKey(std::string_view key);

// What is wrong with a fault: the key at fault ("" for the fault as a
// whole) and the reason, which names the key.
struct FaultError {
  std::string key;
  std::string message;
};

// Builds a fault from (key, text) pairs: integers in decimal, durations
// Go-style. On failure returns nullopt and sets *error: an unknown or
// repeated key, a bad value, a missing `kind` or required key, or a key
// that has no effect with this kind.
std::optional<FaultSpec> ParseFault(
    const std::vector<std::pair<std::string, std::string>>& fields,
    FaultError* error);

// The faults in play. Times on the injected clock. Thread-safe.
class FaultSet {
 public:
  // At most this many faults at once (spent and ended ones are dropped).
  static constexpr size_t kMaxFaults = 64;

  // `clock` must outlive the set.
  explicit FaultSet(const Clock& clock) : clock_(clock) {}

  // Adds `spec`, its `after` counted from `origin`. False (with *error) when
  // kMaxFaults are already in play.
  bool Add(const FaultSpec& spec, SteadyTime origin, std::string* error);
  // Removes every fault.
  void Clear();

  // The first active answer fault for a Security Center call about
  // `export_id` (0: a call without one), one use of its count taken; nullopt
  // when none applies.
  std::optional<FaultSpec> TakeAnswerFault(int64_t export_id);
  // True, one use taken, when a fault of `kind` (kStsUnavailable or
  // kMetadataUnavailable) is active.
  bool TakeOutage(FaultKind kind);
  // The skew of the first active clock_skew fault, else 0.
  Millis ClockSkew() const;
  // True while a stall fault is active.
  bool Stalling() const;

  // {"faults": [{"kind": .., "export_id": .., "state": "pending"|"active",
  //   "count_left": n|null}]}: the faults not yet spent or ended.
  std::string Json() const;

 private:
  struct Entry {
    FaultSpec spec;
    SteadyTime start;
    int64_t left = 0;  // uses left when spec.count > 0
  };
  bool Active(const Entry& entry, SteadyTime now) const;
  // Drops spent and ended faults. Needs mutex_.
  void Prune(SteadyTime now);
  // The first active entry of `kind`, or nullptr. Needs mutex_.
  const Entry* FindActive(FaultKind kind, SteadyTime now) const;

  const Clock& clock_;
  mutable std::mutex mutex_;
  std::vector<Entry> entries_;  // guarded by mutex_
};

// A clock whose wall time is the base clock's plus the active clock skew:
// what the simulated gateway believes the time is.
class SkewedClock : public Clock {
 public:
  // Both must outlive this clock.
  SkewedClock(const Clock& base, const FaultSet& faults)
      : base_(base), faults_(faults) {}
  WallTime Now() const override;
  SteadyTime SteadyNow() const override { return base_.SteadyNow(); }

 private:
  const Clock& base_;
  const FaultSet& faults_;
};

}  // namespace sas::simulator
