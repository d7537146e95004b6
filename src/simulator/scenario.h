#pragma once

// The simulator's scenario: which export tasks exist and how each behaves
// over time. Loaded from TOML (see docs/simulator.md for the format).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aliyun/export_action.h"
#include "simulator/faults.h"
#include "util/duration.h"
#include "util/file_system.h"

namespace sas::simulator {

// One export task. Every field documents its TOML key and default.
struct ExportSpec {
  int64_t id = 0;  // `id`: the ExportId; required, > 0, unique per action
  // `action`: the progress API that answers for it, with that action's body
  // shape and status values; default DescribeExportInfo.
  aliyun::ExportAction action = aliyun::kDefaultExportAction;
  // `sparse`: answers carry only RequestId and the status field.
  bool sparse = false;
  std::string file_name;        // `file_name`: default "export_<id>"
  int64_t total_count = 1000;   // `total_count`: >= 0
  Millis init_duration{0};      // `init_duration`: time in "init"
  Millis duration{60'000};      // `duration`: init end to 100%
  std::optional<int> stuck_at;  // `stuck_at`: 0..100, progress stops here
  bool stuck_in_init = false;   // `stuck_in_init`: "init" forever
  // `final_status`: reported instead of "success" when the curve ends
  // (at 100%, or at stuck_at when both are set).
  std::optional<std::string> final_status;
  std::string error_code;      // `error_code`: empty means no error
  int error_status = 500;      // `error_status`: HTTP status, 400..599
  std::string error_message;   // `error_message`: default error_code
  double error_rate = 1.0;     // `error_rate`: 0..1
  double throttle_rate = 0.0;  // `throttle_rate`: 0..1
  int throttle_status = 400;   // `throttle_status`: HTTP status, 400..599
  // `throttle_code`: the Code of a throttled answer (any code: the
  // x-acs-retry-after header makes it throttling).
  std::string throttle_code = "Throttling.User";
  Millis retry_after{1000};  // `retry_after`: x-acs-retry-after; <= 24h
  Millis latency{0};         // `latency`: added before every answer; <= 10m
  // `created_ago`: GmtCreate (where an answer has it) is this long before
  // the simulator started; <= 3650 days.
  Millis created_ago{0};
  std::optional<int64_t> rd_account_id;  // `rd_account_id`: > 0
  double non_json_rate = 0.0;            // `non_json_rate`: 0..1
};

// The parts of "acs:ram::<account id>:<kind>/<name>" (a role ARN when kind
// is "role", an OIDC provider ARN when kind is "oidc-provider").
struct RamArn {
  std::string account_id;  // 1..32 decimal digits
  std::string name;        // 1..64 of [A-Za-z0-9._-]
};

// Parses a RAM ARN of the given kind; nullopt if `arn` is not exactly
// "acs:ram::<account id>:<kind>/<name>" with the character sets above.
std::optional<RamArn> ParseRamArn(std::string_view arn, std::string_view kind);

// One `[[role]]`: a RAM role STS can issue credentials for.
struct RoleSpec {
  // `arn`: "acs:ram::<account id>:role/<name>"; required, unique.
  std::string arn;
  RamArn parsed;  // account id and name of `arn`
  // `max_duration`: the longest DurationSeconds allowed; 15m..12h, whole
  // seconds; default 1h.
  Millis max_duration{std::chrono::hours(1)};
  // `trusted_principals`: who may AssumeRole it: long-lived AccessKeyIds and
  // role ARNs (of scenario roles; callers holding credentials issued for
  // that role). Default none.
  std::vector<std::string> trusted_principals;
  // `external_id`: when set, AssumeRole must send this ExternalId.
  std::optional<std::string> external_id;
  // `oidc_provider_arn`: "acs:ram::<account id>:oidc-provider/<name>"; the
  // provider AssumeRoleWithOIDC must name. None: no OIDC for this role.
  std::optional<std::string> oidc_provider_arn;
  // `oidc_tokens`: the OIDCToken values accepted (needs oidc_provider_arn).
  std::vector<std::string> oidc_tokens;
};

// `[metadata]`: the ECS instance metadata service and its instance role.
struct MetadataSpec {
  std::string role_name;  // `role_name`: required; no '/'
  // `role_arn`: required, a scenario role: the principal of the issued
  // credentials (for [[access]] and trust checks).
  std::string role_arn;
  Millis credential_lifetime{
      std::chrono::hours(6)};  // `credential_lifetime`: >= 1s
  bool require_token = false;  // `require_token`: IMDSv2 only
};

// One `[[access]]`: what a principal may do on Security Center.
struct AccessSpec {
  // `principal`: a long-lived AccessKeyId or a role ARN; required, unique.
  std::string principal;
  // `rd_account_ids`: the ResourceDirectoryAccountIds it may read; nullopt
  // (key absent) = any.
  std::optional<std::vector<int64_t>> rd_account_ids;
  // `allow_sas`: false = every DescribeExportInfo answers NoPermission.
  bool allow_sas = true;
};

struct Scenario {
  // `[simulator] seed`: seeds the random source; nullopt = from the time.
  std::optional<uint64_t> seed;
  std::vector<ExportSpec> exports;
  // `[sts] credential_lifetime`: caps every lifetime STS issues (>= 1s);
  // nullopt = DurationSeconds alone decides.
  std::optional<Millis> sts_credential_lifetime;
  std::vector<RoleSpec> roles;
  // nullopt: no metadata service (every /latest/ path answers 404).
  std::optional<MetadataSpec> metadata;
  std::vector<AccessSpec> access;
  // `[[fault]]`: faults timed from the simulator's start (`after`); the keys
  // as for POST /_simulator/faults (see FaultSpec).
  std::vector<FaultSpec> faults;

  // The export with this id under this action, or nullptr. The pointer lives as
  // long as the scenario is not modified (as for the finders below).
  const ExportSpec* Find(int64_t id, aliyun::ExportAction action =
                                         aliyun::kDefaultExportAction) const;
  // The role with exactly this ARN, or nullptr.
  const RoleSpec* FindRole(std::string_view arn) const;
  // The [[access]] entry of this principal, or nullptr (= all allowed).
  const AccessSpec* FindAccess(std::string_view principal) const;
};

// Parses a scenario. On failure returns nullopt and sets *error to
// "<source_name>:<line>:<column>: <what is wrong>[; did you mean "<key>"?]".
std::optional<Scenario> ParseScenario(std::string_view toml_text,
                                      std::string_view source_name,
                                      std::string* error);

// Reads and parses a scenario file; errors as ParseScenario (a read failure
// names the path and the reason).
std::optional<Scenario> LoadScenarioFile(const FileSystem& files,
                                         const std::string& path,
                                         std::string* error);

// What an export's progress API reports at one moment, in DescribeExportInfo
// words (WireStatus turns them into the action's own values).
struct ExportState {
  std::string status;         // "init", "exporting", "success" or final_status
  int progress = 0;           // percent, 0..100
  int64_t current_count = 0;  // total_count * progress / 100
};

// The state of `spec` after `elapsed` time since the simulator started.
// Pure: "init" while elapsed < init_duration (or forever with stuck_in_init);
// then progress = floor(100 * (elapsed - init_duration) / duration), capped
// at stuck_at ("exporting" forever, unless final_status is set) and at 100
// (final_status, default "success").
ExportState StateAt(const ExportSpec& spec, Millis elapsed);

// `status` (init, exporting, success, failed; anything else passes through)
// as `action` reports it, per the official SDK's documented values:
// DescribeHcExportInfo has no init (exporting instead);
// DescribeSuspEventExportInfo says pending for init; DescribeReportExport
// uses -1 failed, 0 init, 1 exporting, 2 success.
std::string WireStatus(aliyun::ExportAction action, const std::string& status);

}  // namespace sas::simulator
