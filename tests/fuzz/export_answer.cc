// aliyun::ParseExportAnswer for each export action. Input: one byte choosing
// the action (kExportActions, modulo), then the 2xx body.

#include <string>
#include <variant>

#include "aliyun/response.h"
#include "fuzz_support.h"
#include "util/strings.h"

namespace {

using sas::aliyun::ApiError;
using sas::aliyun::ExportInfo;

constexpr size_t kMaxAnswerText = 1024;

// ExportStatus, FileName and Message as ExportInfo promises them: printable
// UTF-8, at most 1 KiB.
void CheckText(const std::optional<std::string>& text) {
  if (!text) return;
  SAS_FUZZ_CHECK(text->size() <= kMaxAnswerText, "answer text over 1 KiB");
  SAS_FUZZ_CHECK(sas::UnprintableTextProblem(*text).empty(),
                 "answer text not printable UTF-8");
}

}  // namespace

SAS_FUZZ_TARGET(export_answer) {
  sas::fuzz::InputReader input(data, size);
  auto action = sas::aliyun::kExportActions[input.Byte() %
                                            sas::aliyun::kExportActions.size()];
  sas::aliyun::HttpResponse response;
  response.status = 200;
  response.body = std::string(input.Rest());
  auto result = sas::aliyun::ParseExportAnswer(action, response);
  if (const auto* info = std::get_if<ExportInfo>(&result)) {
    CheckText(info->export_status);
    CheckText(info->file_name);
    CheckText(info->message);
    SAS_FUZZ_CHECK(info->request_id.size() <= 256 &&
                       sas::fuzz::HasNoControlCharacters(info->request_id),
                   "RequestId unbounded or with control characters");
  } else {
    const auto& error = std::get<ApiError>(result);
    SAS_FUZZ_CHECK(!error.code.empty(), "an error without a code");
    SAS_FUZZ_CHECK(sas::fuzz::HasNoControlCharacters(error.message),
                   "error message with control characters");
    SAS_FUZZ_CHECK(error.message.size() <= 1024, "error message unbounded");
  }
  // The same answer gives the same result: nothing depends on hidden state.
  auto again = sas::aliyun::ParseExportAnswer(action, response);
  SAS_FUZZ_CHECK(again.index() == result.index(), "parse not deterministic");
}
