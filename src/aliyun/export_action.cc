#include "aliyun/export_action.h"

#include <cstdint>
#include <limits>

namespace sas::aliyun {

std::string_view ExportActionName(ExportAction action) {
  switch (action) {
    case ExportAction::kDescribeExportInfo:
      return "DescribeExportInfo";
    case ExportAction::kDescribeVulExportInfo:
      return "DescribeVulExportInfo";
    case ExportAction::kDescribeWarningExportInfo:
      return "DescribeWarningExportInfo";
    case ExportAction::kDescribeHcExportInfo:
      return "DescribeHcExportInfo";
    case ExportAction::kDescribeSuspEventExportInfo:
      return "DescribeSuspEventExportInfo";
    case ExportAction::kDescribeReportExport:
      return "DescribeReportExport";
    case ExportAction::kDescribeBackUpExportInfo:
      return "DescribeBackUpExportInfo";
  }
  return "DescribeExportInfo";
}

std::optional<ExportAction> ParseExportAction(std::string_view name) {
  for (ExportAction action : kExportActions) {
    if (ExportActionName(action) == name) return action;
  }
  if (name == ExportActionName(ExportAction::kDescribeBackUpExportInfo)) {
    return ExportAction::kDescribeBackUpExportInfo;
  }
  return std::nullopt;
}

bool IsDiscoveredAction(ExportAction action) {
  return action == ExportAction::kDescribeBackUpExportInfo;
}

std::string DiscoveredActionRefusal(ExportAction action) {
  return std::string(ExportActionName(action)) +
         " lists exports rather than polling one: its tasks are discovered, "
         "not registered; set discover_backup_exports = true on the account";
}

std::string ExportActionNames() {
  std::string out;
  for (ExportAction action : kExportActions) {
    if (!out.empty()) out += ", ";
    out += ExportActionName(action);
  }
  return out;
}

bool HasMemberAccountParameter(ExportAction action) {
  return action == ExportAction::kDescribeExportInfo ||
         action == ExportAction::kDescribeVulExportInfo;
}

int64_t MaxExportId(ExportAction action) {
  return action == ExportAction::kDescribeSuspEventExportInfo
             ? std::numeric_limits<int32_t>::max()
             : std::numeric_limits<int64_t>::max();
}

std::string MemberAccountRefusal(ExportAction action) {
  return std::string(ExportActionName(action)) +
         " has no member-account parameter (ResourceDirectoryAccountId): "
         "remove rd_account_id, or poll the export with the member account's "
         "own credentials";
}

}  // namespace sas::aliyun
