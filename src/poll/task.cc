#include "poll/task.h"

namespace sas::poll {

std::string TaskKey::ToString() const {
  std::string out = account + "/";
  if (rd_account_id) out += std::to_string(*rd_account_id) + "/";
  if (action != aliyun::kDefaultExportAction) {
    out += std::string(aliyun::ExportActionName(action)) + "/";
  }
  out += std::to_string(export_id);
  return out;
}

ExportState ClassifyExportStatus(aliyun::ExportAction action,
                                 std::string_view status) {
  using aliyun::ExportAction;
  switch (action) {
    case ExportAction::kDescribeExportInfo:
    case ExportAction::kDescribeVulExportInfo:
    case ExportAction::kDescribeWarningExportInfo:
    case ExportAction::kDescribeBackUpExportInfo:  // Data[].Status
      if (status == "init") return ExportState::kInit;
      if (status == "exporting") return ExportState::kExporting;
      if (status == "success") return ExportState::kSuccess;
      break;
    case ExportAction::kDescribeHcExportInfo:
      if (status == "exporting") return ExportState::kExporting;
      if (status == "success") return ExportState::kSuccess;
      break;
    case ExportAction::kDescribeSuspEventExportInfo:
      if (status == "pending") return ExportState::kPending;
      if (status == "exporting") return ExportState::kExporting;
      if (status == "success") return ExportState::kSuccess;
      if (status == "failed") return ExportState::kFailed;
      break;
    case ExportAction::kDescribeReportExport:
      if (status == "-1") return ExportState::kFailed;
      if (status == "0") return ExportState::kInit;
      if (status == "1") return ExportState::kExporting;
      if (status == "2") return ExportState::kSuccess;
      break;
  }
  return ExportState::kUnknown;
}

std::string_view ExportStateName(ExportState state) {
  switch (state) {
    case ExportState::kPending:
      return "pending";
    case ExportState::kInit:
      return "init";
    case ExportState::kExporting:
      return "exporting";
    case ExportState::kSuccess:
      return "success";
    case ExportState::kFailed:
      return "failed";
    case ExportState::kUnknown:
      return "unknown";
  }
  return "unknown";
}

bool IsFinal(ExportState state) {
  return state == ExportState::kSuccess || state == ExportState::kFailed;
}

}  // namespace sas::poll
