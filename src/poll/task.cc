#include "poll/task.h"

namespace sas::poll {

std::string TaskKey::ToString() const {
  std::string out = account + "/";
  if (rd_account_id) out += std::to_string(*rd_account_id) + "/";
  out += std::to_string(export_id);
  return out;
}

ExportState ClassifyExportStatus(std::string_view status) {
  if (status == "init") return ExportState::kInit;
  if (status == "exporting") return ExportState::kExporting;
  if (status == "success") return ExportState::kSuccess;
  return ExportState::kUnknown;
}

std::string_view ExportStateName(ExportState state) {
  switch (state) {
    case ExportState::kInit:
      return "init";
    case ExportState::kExporting:
      return "exporting";
    case ExportState::kSuccess:
      return "success";
    case ExportState::kUnknown:
      return "unknown";
  }
  return "unknown";
}

}  // namespace sas::poll
