// aliyun::ParseBackUpExportPage. Input: the 2xx body.

#include <string>
#include <variant>

#include "aliyun/response.h"
#include "fuzz_support.h"
#include "util/strings.h"

SAS_FUZZ_TARGET(backup_export_page) {
  sas::aliyun::HttpResponse response;
  response.status = 200;
  response.body = std::string(sas::fuzz::AsText(data, size));
  auto result = sas::aliyun::ParseBackUpExportPage(response);
  if (const auto* page = std::get_if<sas::aliyun::BackUpExportPage>(&result)) {
    SAS_FUZZ_CHECK(page->skipped >= 0, "negative skipped count");
    // Items are separated by commas: n of them take 2n - 1 bytes at least.
    SAS_FUZZ_CHECK(page->exports.size() + static_cast<size_t>(page->skipped) <=
                       (size + 1) / 2,
                   "more exports than the body can hold");
    for (const sas::aliyun::BackUpExport& item : page->exports) {
      SAS_FUZZ_CHECK(item.info.id && *item.info.id > 0,
                     "a listed export without a positive Id");
      for (const auto* text : {&item.info.export_status, &item.info.file_name,
                               &item.info.message}) {
        SAS_FUZZ_CHECK(!*text || ((*text)->size() <= 1024 &&
                                  sas::UnprintableTextProblem(**text).empty()),
                       "export text unbounded or not printable");
      }
    }
  } else {
    const auto& error = std::get<sas::aliyun::ApiError>(result);
    SAS_FUZZ_CHECK(!error.code.empty(), "an error without a code");
    SAS_FUZZ_CHECK(sas::fuzz::HasNoControlCharacters(error.message),
                   "error message with control characters");
  }
}
