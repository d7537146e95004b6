#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace sas::aliyun {

// The progress APIs ("Describe...") a task can be polled with. Each answers
// in its own shape (see ParseExportAnswer) and numbers its exports in its
// own space: export 7 of DescribeExportInfo and export 7 of
// DescribeVulExportInfo are different exports. Request and response fields
// as the official Go SDK alibabacloud-go/sas-20181203 (v9) declares them,
// client/<action>_request_model.go and _response_body_model.go.
enum class ExportAction {
  kDescribeExportInfo = 0,       // started by ExportRecord
  kDescribeVulExportInfo,        // started by ExportVul
  kDescribeWarningExportInfo,    // started by ExportWarning
  kDescribeHcExportInfo,         // started by ExportWarning (baseline)
  kDescribeSuspEventExportInfo,  // started by ExportSuspEvents
  kDescribeReportExport,         // started by ExportCustomizeReport
  // Not a per-export query: lists the archived suspicious-event exports of
  // an account, paginated (request CurrentPage, PageSize, ExportType
  // "suspiciousExport"; answer Data[] with Status, PageInfo). Its tasks are
  // discovered (an account's discover_backup_exports), never registered.
  kDescribeBackUpExportInfo,
};

// The actions a task can name (config, task files, task API): each answers
// for one ExportId. kDescribeBackUpExportInfo is not among them.
inline constexpr std::array<ExportAction, 6> kExportActions = {
    ExportAction::kDescribeExportInfo,
    ExportAction::kDescribeVulExportInfo,
    ExportAction::kDescribeWarningExportInfo,
    ExportAction::kDescribeHcExportInfo,
    ExportAction::kDescribeSuspEventExportInfo,
    ExportAction::kDescribeReportExport};

// The action a task has when it names none: what every task polled before
// actions existed.
inline constexpr ExportAction kDefaultExportAction =
    ExportAction::kDescribeExportInfo;

// The API's name, e.g. "DescribeVulExportInfo": the `action` key's value and
// label.
std::string_view ExportActionName(ExportAction action);

// The action named exactly (case-sensitive) `name`, or nullopt. Knows
// kDescribeBackUpExportInfo too: callers taking registrations refuse it
// with DiscoveredActionRefusal.
std::optional<ExportAction> ParseExportAction(std::string_view name);

// True for kDescribeBackUpExportInfo: its exports are found by listing, not
// polled one by one, so no task may name it.
bool IsDiscoveredAction(ExportAction action);

// The message refusing a registration of a discovered action.
std::string DiscoveredActionRefusal(ExportAction action);

// "DescribeExportInfo, DescribeVulExportInfo, ...", for messages.
std::string ExportActionNames();

// True when the action's request has ResourceDirectoryAccountId (a
// resource-directory member account): DescribeExportInfo and
// DescribeVulExportInfo. A task of any other action must not set
// rd_account_id.
bool HasMemberAccountParameter(ExportAction action);

// The largest ExportId the action's request takes: DescribeSuspEventExportInfo
// declares it int32, every other action int64.
int64_t MaxExportId(ExportAction action);

// The message refusing rd_account_id for an action without the member-account
// parameter.
std::string MemberAccountRefusal(ExportAction action);

}  // namespace sas::aliyun
