#include "aliyun/response.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace sas::aliyun {
namespace {

using nlohmann::json;

std::string ReadTestdata(const std::string& name) {
  std::ifstream in(std::string(SAS_TESTDATA_DIR) + "/responses/" + name,
                   std::ios::binary);
  EXPECT_TRUE(in.good()) << name;
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

json SuccessJson() {
  return json::parse(ReadTestdata("describe_export_info_success.json"));
}

HttpResponse Response(int status, std::string body, Headers headers = {}) {
  HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  response.headers = std::move(headers);
  return response;
}

ApiError ExpectError(const HttpResponse& response,
                     ExportAction action = kDefaultExportAction) {
  auto result = ParseExportAnswer(action, response);
  EXPECT_TRUE(std::holds_alternative<ApiError>(result));
  if (!std::holds_alternative<ApiError>(result)) return {};
  return std::get<ApiError>(result);
}

ExportInfo ExpectInfo(const HttpResponse& response,
                      ExportAction action = kDefaultExportAction) {
  auto result = ParseExportAnswer(action, response);
  if (auto* error = std::get_if<ApiError>(&result)) {
    ADD_FAILURE() << error->code << ": " << error->message;
    return {};
  }
  return std::get<ExportInfo>(result);
}

TEST(ParseDescribeExportInfo, ReadsDocumentedExample) {
  ExportInfo info = ExpectInfo(
      Response(200, ReadTestdata("describe_export_info_success.json")));
  EXPECT_EQ(info.id, 131231);
  EXPECT_EQ(info.progress, 16);
  EXPECT_EQ(info.current_count, 20);
  EXPECT_EQ(info.total_count, 100);
  EXPECT_EQ(info.export_status, "success");
  EXPECT_EQ(info.file_name, "health_check_export_20171123");
  EXPECT_EQ(info.message, "success");
  EXPECT_EQ(info.request_id, "CE500770-42D3-442E-9DDD-156E0F9F3B45");
}

TEST(ParseDescribeExportInfo, EveryFieldMayBeAbsentOrNull) {
  // The SDK declares every body field optional: an absent or null field is
  // nullopt, never a made-up zero, and the answer is still usable.
  for (const char* field :
       {"Id", "Progress", "CurrentCount", "TotalCount", "ExportStatus",
        "FileName", "Message", "RequestId", "Link"}) {
    for (bool null : {false, true}) {
      json body = SuccessJson();
      if (null) {
        body[field] = nullptr;
      } else {
        body.erase(field);
      }
      ExportInfo info = ExpectInfo(Response(200, body.dump()));
      std::string f = field;
      EXPECT_EQ(info.id.has_value(), f != "Id") << f;
      EXPECT_EQ(info.progress.has_value(), f != "Progress") << f;
      EXPECT_EQ(info.current_count.has_value(), f != "CurrentCount") << f;
      EXPECT_EQ(info.total_count.has_value(), f != "TotalCount") << f;
      EXPECT_EQ(info.export_status.has_value(), f != "ExportStatus") << f;
      EXPECT_EQ(info.file_name.has_value(), f != "FileName") << f;
      EXPECT_EQ(info.message.has_value(), f != "Message") << f;
      EXPECT_EQ(info.request_id.empty(), f == "RequestId") << f;
    }
  }
}

TEST(ParseDescribeExportInfo, SparseInitAnswerIsUsable) {
  ExportInfo info = ExpectInfo(
      Response(200, R"({"RequestId": "R-1", "ExportStatus": "init"})"));
  EXPECT_EQ(info.export_status, "init");
  EXPECT_FALSE(info.progress);
  EXPECT_FALSE(info.current_count);
  EXPECT_FALSE(info.total_count);
  EXPECT_FALSE(info.id);
  EXPECT_FALSE(info.file_name);
  // Without a status, any other field of the answer makes it usable.
  info = ExpectInfo(Response(200, R"({"Progress": 5})"));
  EXPECT_EQ(info.progress, 5);
  EXPECT_FALSE(info.export_status);
}

TEST(ParseDescribeExportInfo, NeitherStatusNorAnyKnownFieldIsBadResponse) {
  for (const char* body :
       {"{}", R"({"RequestId": "R-2"})", R"({"Something": 1})",
        R"({"ExportStatus": null, "Progress": null, "RequestId": "R-3"})"}) {
    ApiError error = ExpectError(Response(200, body));
    EXPECT_EQ(error.code, "bad_response") << body;
    EXPECT_NE(error.message.find("neither ExportStatus"), std::string::npos)
        << error.message;
  }
  EXPECT_EQ(ExpectError(Response(200, R"({"RequestId": "R-2"})")).request_id,
            "R-2");
}

TEST(ParseDescribeExportInfo, UnknownFieldsAndStatusesPassThrough) {
  for (const char* status : {"init", "exporting", "failed", "", "EXPIRED"}) {
    json body = SuccessJson();
    body["ExportStatus"] = status;
    body["SomethingNew"] = {{"nested", true}};
    EXPECT_EQ(ExpectInfo(Response(200, body.dump())).export_status, status);
  }
}

TEST(ParseDescribeExportInfo, PeerStringsArePrintableAndBounded) {
  json body = SuccessJson();
  body["FileName"] = "a\u0001b\nc";
  body["ExportStatus"] = std::string(5000, 's');
  ExportInfo info = ExpectInfo(Response(200, body.dump()));
  EXPECT_EQ(info.file_name,
            "a\xEF\xBF\xBD"
            "b\xEF\xBF\xBD"
            "c");
  EXPECT_EQ(info.export_status, std::string(1024, 's'));
}

TEST(ParseDescribeExportInfo, NumbersAsStringsAndIntegralFloatsAreRead) {
  json body = SuccessJson();
  body["Progress"] = "16";
  body["CurrentCount"] = " 20 ";
  body["TotalCount"] = 100.0;
  body["Id"] = "131231";
  ExportInfo info = ExpectInfo(Response(200, body.dump()));
  EXPECT_EQ(info.progress, 16);
  EXPECT_EQ(info.current_count, 20);
  EXPECT_EQ(info.total_count, 100);
  EXPECT_EQ(info.id, 131231);
}

TEST(ParseDescribeExportInfo, ProgressAbove100IsKeptAsItCame) {
  json body = SuccessJson();
  body["Progress"] = 250;
  EXPECT_EQ(ExpectInfo(Response(200, body.dump())).progress, 250);
  body["Id"] = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(ExpectInfo(Response(200, body.dump())).id,
            std::numeric_limits<int64_t>::max());
}

TEST(ParseDescribeExportInfo, UnreadableValuesAreAbsentNotFatal) {
  const std::pair<const char*, json> cases[] = {
      {"Progress", "sixteen"},
      {"Progress", 16.5},
      {"Progress", true},
      {"Id", json::array({1})},
      {"CurrentCount", json::object()},
      {"TotalCount", "1e3"},
      {"FileName", 7},
      {"Message", false},
      {"ExportStatus", json::array()},
  };
  for (const auto& [field, value] : cases) {
    json body = SuccessJson();
    body[field] = value;
    ExportInfo info = ExpectInfo(Response(200, body.dump()));
    std::string f = field;
    EXPECT_EQ(info.progress.has_value(), f != "Progress") << f << value;
    EXPECT_EQ(info.id.has_value(), f != "Id") << f;
    EXPECT_EQ(info.current_count.has_value(), f != "CurrentCount") << f;
    EXPECT_EQ(info.total_count.has_value(), f != "TotalCount") << f;
    EXPECT_EQ(info.file_name.has_value(), f != "FileName") << f;
    EXPECT_EQ(info.message.has_value(), f != "Message") << f;
    EXPECT_EQ(info.export_status.has_value(), f != "ExportStatus") << f;
  }
  // Beyond int64: absent.
  std::string text = R"({"ExportStatus": "init", "Id": 9223372036854775808})";
  EXPECT_FALSE(ExpectInfo(Response(200, text)).id);
}

TEST(ParseExportAnswer, VulAndWarningShareTheExportInfoShape) {
  for (ExportAction action : {ExportAction::kDescribeVulExportInfo,
                              ExportAction::kDescribeWarningExportInfo}) {
    ExportInfo info = ExpectInfo(Response(200, SuccessJson().dump()), action);
    EXPECT_EQ(info.progress, 16);
    EXPECT_EQ(info.current_count, 20);
    EXPECT_EQ(info.export_status, "success");
    EXPECT_EQ(info.message, "success");
  }
}

TEST(ParseExportAnswer, HcReadsResultStatusAndHasNoMessage) {
  json body = {{"RequestId", "R-hc"},
               {"Id", 77},
               {"ResultStatus", "exporting"},
               {"Progress", 40},
               {"CurrentCount", 4},
               {"TotalCount", 10},
               {"FileName", "hc"},
               {"GmtCreate", 1671607025000},
               {"Message", "ignored"},
               {"ExportStatus", "ignored"}};
  ExportInfo info = ExpectInfo(Response(200, body.dump()),
                               ExportAction::kDescribeHcExportInfo);
  EXPECT_EQ(info.export_status, "exporting");
  EXPECT_EQ(info.progress, 40);
  EXPECT_EQ(info.current_count, 4);
  EXPECT_FALSE(info.message);
  // Only GmtCreate: still a recognisable answer.
  info = ExpectInfo(Response(200, R"({"GmtCreate": 0})"),
                    ExportAction::kDescribeHcExportInfo);
  EXPECT_FALSE(info.export_status);
  EXPECT_EQ(ExpectError(Response(200, R"({"ExportStatus": "success"})"),
                        ExportAction::kDescribeHcExportInfo)
                .code,
            "bad_response");
}

TEST(ParseExportAnswer, SuspEventHasNoCurrentCount) {
  json body = {{"RequestId", "R-s"},       {"Id", 2147483647},
               {"ExportStatus", "failed"}, {"Progress", 30},
               {"CurrentCount", 3},        {"TotalCount", 10},
               {"Type", "suspiciousEvent"}};
  ExportInfo info = ExpectInfo(Response(200, body.dump()),
                               ExportAction::kDescribeSuspEventExportInfo);
  EXPECT_EQ(info.export_status, "failed");
  EXPECT_EQ(info.id, 2147483647);
  EXPECT_EQ(info.progress, 30);
  EXPECT_FALSE(info.current_count);
  EXPECT_EQ(info.total_count, 10);
}

TEST(ParseExportAnswer, ReportExportStatusIsACodeAsNumberOrString) {
  json body = {{"RequestId", "R-r"},   {"ExportId", 9},
               {"ExportStatus", 2},    {"DownloadUrl", "https://SECRETLINK"},
               {"ReportId", 3},        {"Progress", 50},
               {"FileName", "ignored"}};
  ExportInfo info = ExpectInfo(Response(200, body.dump()),
                               ExportAction::kDescribeReportExport);
  EXPECT_EQ(info.export_status, "2");
  EXPECT_EQ(info.id, 9);
  EXPECT_FALSE(info.progress);
  EXPECT_FALSE(info.current_count);
  EXPECT_FALSE(info.total_count);
  EXPECT_FALSE(info.file_name);
  body["ExportStatus"] = "-1";
  EXPECT_EQ(ExpectInfo(Response(200, body.dump()),
                       ExportAction::kDescribeReportExport)
                .export_status,
            "-1");
  body["ExportStatus"] = -1;
  EXPECT_EQ(ExpectInfo(Response(200, body.dump()),
                       ExportAction::kDescribeReportExport)
                .export_status,
            "-1");
}

TEST(ParseExportAnswer, LowerCaseCodeInSuccessfulStatusIsAnError) {
  ApiError error = ExpectError(Response(
      200,
      R"({"code": "Throttling", "message": "slow down", "requestId": "r"})"));
  EXPECT_EQ(error.code, "Throttling");
  EXPECT_EQ(error.message, "slow down");
  EXPECT_EQ(error.request_id, "r");
}

TEST(ParseDescribeExportInfo, UnparsableBodiesAreBadResponse) {
  const std::string bodies[] = {
      "",
      "   \n",
      "<html><body>502 Bad Gateway</body></html>",
      "not json",
      "{\"RequestId\": \"x\",",
      "[]",
      "[1,2,3]",
      "\"a string\"",
      "42",
      "null",
      "{} trailing",
      std::string("{\"RequestId\": \"\xff\xfe\"}"),
      std::string("\0{}", 3),
  };
  for (const std::string& body : bodies) {
    ApiError error = ExpectError(Response(200, body));
    EXPECT_EQ(error.code, "bad_response") << body;
    EXPECT_FALSE(error.message.empty());
  }
  EXPECT_NE(ExpectError(Response(200, "[]")).message.find("array"),
            std::string::npos);
  EXPECT_NE(ExpectError(Response(200, "")).message.find("empty"),
            std::string::npos);
}

TEST(ParseDescribeExportInfo, BodyOverOneMebibyteIsBadResponse) {
  std::string body = SuccessJson().dump();
  body.append(kMaxResponseBytes + 1 - body.size(), ' ');
  ASSERT_EQ(body.size(), kMaxResponseBytes + 1);
  ApiError error = ExpectError(Response(200, body));
  EXPECT_EQ(error.code, "bad_response");
  EXPECT_NE(error.message.find("exceeds"), std::string::npos);

  body.pop_back();
  EXPECT_EQ(ExpectInfo(Response(200, body)).id, 131231);
}

TEST(ParseDescribeExportInfo, DeeplyNestedJsonDoesNotCrash) {
  const size_t depth = 200000;
  std::string arrays = std::string(depth, '[') + std::string(depth, ']');
  EXPECT_EQ(ExpectError(Response(200, arrays)).code, "bad_response");
  std::string unterminated(depth, '[');
  EXPECT_EQ(ExpectError(Response(200, unterminated)).code, "bad_response");
  std::string objects;
  for (size_t i = 0; i < 100000; ++i) objects += "{\"a\":";
  objects += "1" + std::string(100000, '}');
  EXPECT_EQ(ExpectError(Response(200, objects)).code, "bad_response");
  json body = SuccessJson();
  std::string text = body.dump();
  text.insert(
      1, "\"Deep\":" + std::string(1000, '[') + std::string(1000, ']') + ",");
  EXPECT_EQ(ExpectError(Response(200, text)).code, "bad_response");
  EXPECT_EQ(ExpectError(Response(500, arrays)).code, "http_500");
}

TEST(ParseDescribeExportInfo, BracketsInsideStringsDoNotCountAsNesting) {
  json body = SuccessJson();
  body["FileName"] = std::string(1000, '[') + "\\\"{";
  EXPECT_EQ(ExpectInfo(Response(200, body.dump())).file_name,
            std::string(1000, '[') + "\\\"{");
}

TEST(ParseDescribeExportInfo, CodeInSuccessfulStatusIsAnError) {
  json body = {{"RequestId", "R-1"},
               {"Code", "Throttling.User"},
               {"Message", "Request was denied due to user flow control."}};
  ApiError error = ExpectError(Response(200, body.dump()));
  EXPECT_EQ(error.code, "Throttling.User");
  EXPECT_EQ(error.request_id, "R-1");
  EXPECT_EQ(error.http_status, 200);
  EXPECT_TRUE(IsRetryable(error));
}

TEST(ParseDescribeExportInfo, NonSuccessStatusesGoThroughErrorParsing) {
  ApiError error =
      ExpectError(Response(403, ReadTestdata("error_no_permission.json")));
  EXPECT_EQ(error.code, "NoPermission");
  EXPECT_EQ(error.http_status, 403);
  // Even a body that looks like a success is an error with a 4xx/5xx status.
  error = ExpectError(
      Response(500, ReadTestdata("describe_export_info_success.json")));
  EXPECT_EQ(error.code, "http_500");
  EXPECT_TRUE(IsRetryable(error));
}

TEST(ParseErrorResponse, RdCheckNoPermission400) {
  ApiError error = ParseErrorResponse(
      Response(400, ReadTestdata("error_rd_check_no_permission.json")));
  EXPECT_EQ(error.code, "RdCheckNoPermission");
  EXPECT_EQ(error.message,
            "Resource directory account verification has no permission.");
  EXPECT_EQ(error.request_id, "0C9A2F3E-5B3B-4E2D-9A51-2B6D7E1F0A11");
  EXPECT_EQ(error.http_status, 400);
  EXPECT_EQ(error.retry_after, std::chrono::milliseconds(0));
  EXPECT_FALSE(IsRetryable(error));
  EXPECT_TRUE(IsPermanentAuthError(error.code));
}

TEST(ParseErrorResponse, NoPermission403) {
  ApiError error = ParseErrorResponse(
      Response(403, ReadTestdata("error_no_permission.json")));
  EXPECT_EQ(error.code, "NoPermission");
  EXPECT_EQ(error.message, "caller has no permission");
  EXPECT_EQ(error.http_status, 403);
  EXPECT_FALSE(IsRetryable(error));
  EXPECT_TRUE(IsPermanentAuthError(error.code));
}

TEST(ParseErrorResponse, ServerError500) {
  ApiError error = ParseErrorResponse(
      Response(500, ReadTestdata("error_server_error.json")));
  EXPECT_EQ(error.code, "ServerError");
  EXPECT_EQ(error.request_id, "A3E4F5B6-1C2D-4E3F-8A9B-0C1D2E3F4A33");
  EXPECT_EQ(error.http_status, 500);
  EXPECT_TRUE(IsRetryable(error));
  EXPECT_FALSE(IsPermanentAuthError(error.code));
}

TEST(ParseErrorResponse, ThrottlingHonoursRetryAfter) {
  ApiError error = ParseErrorResponse(Response(
      400, ReadTestdata("error_throttling_user.json"),
      {{"content-type", "application/json"}, {"x-acs-retry-after", "1500"}}));
  EXPECT_EQ(error.code, "Throttling.User");
  EXPECT_EQ(error.http_status, 400);
  EXPECT_EQ(error.retry_after, std::chrono::milliseconds(1500));
  EXPECT_TRUE(IsRetryable(error));
  EXPECT_FALSE(IsPermanentAuthError(error.code));

  error = ParseErrorResponse(
      Response(400, ReadTestdata("error_throttling_user.json"),
               {{"x-acs-retry-after", " 250 "}}));
  EXPECT_EQ(error.retry_after, std::chrono::milliseconds(250));
}

TEST(ParseErrorResponse, GarbageRetryAfterIsIgnored) {
  for (const char* value : {"", "soon", "-5", "1.5", "10ms", "0x10",
                            "99999999999999999999999", "1 2"}) {
    ApiError error = ParseErrorResponse(
        Response(400, ReadTestdata("error_throttling_user.json"),
                 {{"x-acs-retry-after", value}}));
    EXPECT_EQ(error.retry_after, std::chrono::milliseconds(0)) << value;
    EXPECT_EQ(error.code, "Throttling.User");
  }
}

TEST(ParseErrorResponse, HugeRetryAfterIsHeldAtTheMaximum) {
  ApiError error = ParseErrorResponse(
      Response(400, ReadTestdata("error_throttling_user.json"),
               {{"x-acs-retry-after", "9223372036854775807"}}));
  EXPECT_EQ(error.retry_after, kMaxRetryAfter);
  EXPECT_EQ(error.retry_after, std::chrono::seconds(120));
}

TEST(ParseErrorResponse, ReadsLowerCaseKeysAsDarabonbaDoes) {
  ApiError error = ParseErrorResponse(Response(
      400,
      R"({"code": "InvalidParameter", "message": "bad id", "requestId": "R-lc"})"));
  EXPECT_EQ(error.code, "InvalidParameter");
  EXPECT_EQ(error.message, "bad id");
  EXPECT_EQ(error.request_id, "R-lc");
  // Upper case wins when both are there.
  error = ParseErrorResponse(Response(
      400, R"({"Code": "A", "code": "b", "Message": "M", "message": "m"})"));
  EXPECT_EQ(error.code, "A");
  EXPECT_EQ(error.message, "M");
}

TEST(IsThrottling, AnyErrorStatusWithPositiveRetryAfterIsThrottling) {
  // The official client's rule: x-acs-retry-after decides, whatever the code.
  for (int status : {400, 403, 429, 500, 503, 599}) {
    for (const char* body :
         {R"({"Code": "NoPermission"})", R"({"Code": "SomethingNew"})", ""}) {
      ApiError error = ParseErrorResponse(
          Response(status, body, {{"x-acs-retry-after", "80"}}));
      EXPECT_TRUE(IsThrottling(error)) << status << body;
      EXPECT_TRUE(IsRetryable(error)) << status << body;
      EXPECT_EQ(error.retry_after, std::chrono::milliseconds(80));
    }
  }
  // Zero, negative or garbage: not throttling by the header.
  for (const char* value : {"0", "-1", "abc", ""}) {
    ApiError error = ParseErrorResponse(Response(
        403, R"({"Code": "NoPermission"})", {{"x-acs-retry-after", value}}));
    EXPECT_FALSE(IsThrottling(error)) << value;
    EXPECT_FALSE(IsRetryable(error)) << value;
  }
  // A Throttling code without the header is still throttling.
  ApiError coded{"Throttling.Api", "", "", 400, {}};
  EXPECT_TRUE(IsThrottling(coded));
  // A 2xx answer never is, header or not.
  ApiError ok_status{"bad_response", "", "", 200, std::chrono::milliseconds(5)};
  EXPECT_FALSE(IsThrottling(ok_status));
}

TEST(ParseErrorResponse, WithoutCodeGivesHttpStatus) {
  ApiError error = ParseErrorResponse(
      Response(502, "<html><body><h1>502 Bad Gateway</h1></body></html>"));
  EXPECT_EQ(error.code, "http_502");
  EXPECT_EQ(error.http_status, 502);
  EXPECT_EQ(error.message.find("<html>"), std::string::npos);
  EXPECT_TRUE(IsRetryable(error));

  error = ParseErrorResponse(Response(503, ""));
  EXPECT_EQ(error.code, "http_503");
  EXPECT_TRUE(IsRetryable(error));

  error = ParseErrorResponse(
      Response(404, R"({"RequestId": "R-404", "Message": "not here"})"));
  EXPECT_EQ(error.code, "http_404");
  EXPECT_EQ(error.request_id, "R-404");
  EXPECT_NE(error.message.find("not here"), std::string::npos);
  EXPECT_FALSE(IsRetryable(error));

  for (const char* body :
       {R"({"Code": ""})", R"({"Code": 42})", R"({"Code": null})", "[]"}) {
    EXPECT_EQ(ParseErrorResponse(Response(429, body)).code, "http_429") << body;
  }
  std::string huge(kMaxResponseBytes + 10, ' ');
  EXPECT_EQ(ParseErrorResponse(Response(400, huge)).code, "http_400");
}

TEST(ParseErrorResponse, SignatureMismatchMessageIsCutBeforeStringToSign) {
  ApiError error = ParseErrorResponse(
      Response(400, ReadTestdata("error_signature_does_not_match.json")));
  EXPECT_EQ(error.code, "SignatureDoesNotMatch");
  EXPECT_EQ(error.message,
            "Specified signature is not matched with our calculation. server");
  EXPECT_EQ(error.message.find("LTAI5tExampleKeyId"), std::string::npos);
  EXPECT_FALSE(IsRetryable(error));
  EXPECT_TRUE(IsPermanentAuthError(error.code));
}

TEST(ParseErrorResponse, MessageIsSanitised) {
  json body = {{"Code", "InvalidParameter"},
               {"Message", "bad\nvalue\x01 " + std::string(1000, 'x')},
               {"RequestId", "R"}};
  ApiError error = ParseErrorResponse(Response(400, body.dump()));
  EXPECT_EQ(error.code, "InvalidParameter");
  EXPECT_LE(error.message.size(), 256u);
  EXPECT_EQ(error.message.substr(0, 10), "bad value ");
  EXPECT_EQ(error.message.find('\x01'), std::string::npos);
}

TEST(ParseErrorResponse, CodeIsAPrintableBoundedLabelValue) {
  // The code becomes the `code` label: a peer cannot make it huge or put
  // control characters (a newline would split the exposition line) in it.
  json body = {
      {"Code", " Bad\nCode" + std::string(1, '\0') + std::string(10'000, 'x')},
      {"Message", "m"}};
  ApiError error = ParseErrorResponse(Response(400, body.dump()));
  EXPECT_EQ(error.code.substr(0, 14),
            "Bad\xEF\xBF\xBD"
            "Code\xEF\xBF\xBD"
            "x");
  EXPECT_LE(error.code.size(), kMaxErrorCodeBytes);
  EXPECT_GT(error.code.size(), kMaxErrorCodeBytes - 3);
  // The same bound in a 2xx answer that carries a Code.
  std::string long_code = "E\u00e9" + std::string(500, 'y');
  ApiError in_2xx =
      ExpectError(Response(200, json{{"Code", long_code}}.dump()));
  EXPECT_EQ(in_2xx.code.substr(0, 3), "E\xC3\xA9");
  EXPECT_LE(in_2xx.code.size(), kMaxErrorCodeBytes);
}

TEST(ApiErrorMessages, NeverContainTheDownloadLink) {
  const std::string link =
      "https://sas-export.oss-cn-shanghai.aliyuncs.com/export.xlsx?"
      "Expires=1700000000&OSSAccessKeyId=LTAI5tOssKey&Signature=SecretSig%3D";
  std::vector<std::pair<std::string, json>> mutations = {
      {"Progress", "16"}, {"Progress", 1000},        {"Id", nullptr},
      {"FileName", 12},   {"ExportStatus", false},   {"TotalCount", -1},
      {"RequestId", 1.5}, {"Message", json::array()}};
  auto contains_link = [](const std::optional<std::string>& text) {
    return text && (text->find("SecretSig") != std::string::npos ||
                    text->find("oss-cn-shanghai") != std::string::npos);
  };
  for (const auto& [field, value] : mutations) {
    json body = SuccessJson();
    body["Link"] = link;
    body[field] = value;
    ExportInfo info = ExpectInfo(Response(200, body.dump()));
    EXPECT_FALSE(contains_link(info.export_status) ||
                 contains_link(info.file_name) || contains_link(info.message) ||
                 contains_link(info.request_id))
        << field;
  }
  // Only the link and nothing else usable: the error does not quote it.
  json body = {{"RequestId", "R"}, {"DownloadLink", link}};
  ApiError error = ExpectError(Response(200, body.dump()));
  EXPECT_EQ(error.message.find("SecretSig"), std::string::npos);

  body = SuccessJson();
  body["Link"] = link;
  std::string truncated = body.dump();
  truncated.resize(truncated.size() - 1);
  error = ExpectError(Response(200, truncated));
  EXPECT_EQ(error.message.find("SecretSig"), std::string::npos);
  error = ExpectError(Response(500, body.dump()));
  EXPECT_EQ(error.message.find("SecretSig"), std::string::npos);
}

TEST(SanitizeErrorMessage, CutsStringToSignCaseInsensitively) {
  EXPECT_EQ(SanitizeErrorMessage("SignatureDoesNotMatch",
                                 "Mismatch. Server String To Sign is: GET&%2F&"
                                 "AccessKeyId%3DLTAIsecret"),
            "Mismatch. Server");
  EXPECT_EQ(SanitizeErrorMessage("IncompleteSignature",
                                 "The request signature does not conform to "
                                 "Aliyun standards. server string to sign "
                                 "is:ACS3-HMAC-SHA256\nabc"),
            "The request signature does not conform to Aliyun standards. "
            "server");
  EXPECT_EQ(SanitizeErrorMessage("Other", "string to sign: everything"), "");
}

TEST(SanitizeErrorMessage, StripsControlCharacters) {
  EXPECT_EQ(SanitizeErrorMessage("X", "a\tb\r\nc\x01\x1b[31md\x7f"),
            "a b  c[31md");
  EXPECT_EQ(SanitizeErrorMessage("X",
                                 "a\xc2\x85"
                                 "b"),
            "ab");
  EXPECT_EQ(SanitizeErrorMessage("X", "  padded  "), "padded");
  EXPECT_EQ(SanitizeErrorMessage("X", "中文 ok"), "中文 ok");
}

TEST(SanitizeErrorMessage, LimitsLengthOnUtf8Boundary) {
  std::string exact(256, 'a');
  EXPECT_EQ(SanitizeErrorMessage("X", exact), exact);
  std::string long_ascii(300, 'a');
  EXPECT_EQ(SanitizeErrorMessage("X", long_ascii), std::string(256, 'a'));
  // 255 bytes then a 3-byte character straddling the limit.
  std::string straddling = std::string(255, 'a') + "中中";
  EXPECT_EQ(SanitizeErrorMessage("X", straddling), std::string(255, 'a'));
  std::string multibyte;
  for (int i = 0; i < 100; ++i) multibyte += "中";
  std::string cut = SanitizeErrorMessage("X", multibyte);
  EXPECT_EQ(cut.size(), 255u);
  EXPECT_EQ(cut.substr(0, 3), "中");
}

TEST(ApiErrorKind, SaysWhatFailedWithoutReadingTheCode) {
  using enum ApiErrorKind;
  EXPECT_EQ(TransportFailure(TransportError::kTimeout, "").kind, kTimeout);
  EXPECT_EQ(TransportFailure(TransportError::kConnection, "").kind,
            kConnection);
  EXPECT_EQ(TransportFailure(TransportError::kTls, "").kind, kTls);
  EXPECT_EQ(TransportFailure(TransportError::kCancelled, "").kind, kCancelled);
  EXPECT_EQ(TransportFailure(TransportError::kBodyTooLarge, "").kind,
            kBadResponse);
  EXPECT_EQ(ParseErrorResponse(Response(503, "")).kind, kHttp);
  EXPECT_EQ(
      ParseErrorResponse(Response(400, R"({"Code": "Throttling.User"})")).kind,
      kApi);
  EXPECT_EQ(ExpectError(Response(200, "not json")).kind, kBadResponse);
}

TEST(TransportFailure, MapsEachErrorToItsCode) {
  const std::pair<TransportError, const char*> cases[] = {
      {TransportError::kTimeout, "timeout"},
      {TransportError::kConnection, "connection"},
      {TransportError::kTls, "tls"},
      {TransportError::kBodyTooLarge, "bad_response"},
      {TransportError::kCancelled, "cancelled"},
  };
  for (const auto& [transport, code] : cases) {
    ApiError error = TransportFailure(transport, "detail\nhere");
    EXPECT_EQ(error.code, code);
    EXPECT_EQ(error.http_status, 0);
    EXPECT_NE(error.message.find("detail here"), std::string::npos)
        << error.message;
  }
  EXPECT_TRUE(IsRetryable(TransportFailure(TransportError::kTimeout, "")));
  EXPECT_TRUE(IsRetryable(TransportFailure(TransportError::kConnection, "")));
  EXPECT_FALSE(IsRetryable(TransportFailure(TransportError::kTls, "")));
  EXPECT_FALSE(
      IsRetryable(TransportFailure(TransportError::kBodyTooLarge, "")));
  EXPECT_FALSE(IsRetryable(TransportFailure(TransportError::kCancelled, "")));
}

struct RetryCase {
  const char* code;
  int http_status;
  bool retryable;
};

TEST(IsRetryable, Table) {
  const RetryCase cases[] = {
      {"Throttling", 400, true},
      {"Throttling.User", 400, true},
      {"Throttling.Api", 400, true},
      {"Throttling.Concurrency", 400, true},
      {"InternalError", 500, true},
      {"ServerError", 500, true},
      {"ServiceUnavailable", 503, true},
      {"RdCheckInnerError", 500, true},
      {"timeout", 0, true},
      {"connection", 0, true},
      {"http_500", 500, true},
      {"http_502", 502, true},
      {"http_503", 503, true},
      {"SomethingNew", 504, true},
      {"ServerError", 0, true},
      {"SignatureDoesNotMatch", 400, false},
      {"IncompleteSignature", 400, false},
      {"InvalidSignatureMethod", 400, false},
      {"InvalidAccessKeyId.NotFound", 404, false},
      {"InvalidAccessKeyId.Inactive", 400, false},
      {"Forbidden.RAM", 403, false},
      {"Forbidden.AccessKeyDisabled", 403, false},
      {"NoPermission", 403, false},
      {"RdCheckNoPermission", 400, false},
      {"InvalidSecurityToken.Expired", 400, false},
      {"MissingSecurityToken", 400, false},
      {"MissingParameter", 400, false},
      {"InvalidParameter", 400, false},
      {"InvalidTimeStamp.Expired", 400, false},
      {"SignatureNonceUsed", 400, false},
      {"tls", 0, false},
      {"bad_response", 200, false},
      {"cancelled", 0, false},
      {"credentials", 0, false},
      {"http_404", 404, false},
      {"http_429", 429, false},
      // A permanent auth code stays permanent whatever the status.
      {"SignatureDoesNotMatch", 500, false},
  };
  // The kind each non-API code comes with, as the client makes them.
  const std::map<std::string, ApiErrorKind> kinds = {
      {"timeout", ApiErrorKind::kTimeout},
      {"connection", ApiErrorKind::kConnection},
      {"tls", ApiErrorKind::kTls},
      {"bad_response", ApiErrorKind::kBadResponse},
      {"cancelled", ApiErrorKind::kCancelled},
      {"credentials", ApiErrorKind::kCredentials},
      {"http_404", ApiErrorKind::kHttp},
      {"http_429", ApiErrorKind::kHttp}};
  for (const RetryCase& c : cases) {
    ApiError error;
    error.code = c.code;
    error.http_status = c.http_status;
    if (auto kind = kinds.find(c.code); kind != kinds.end()) {
      error.kind = kind->second;
    }
    EXPECT_EQ(IsRetryable(error), c.retryable)
        << c.code << " " << c.http_status;
  }
}

TEST(IsPermanentAuthError, Table) {
  for (const char* code :
       {"SignatureDoesNotMatch", "IncompleteSignature",
        "InvalidSignatureMethod", "InvalidAccessKeyId",
        "InvalidAccessKeyId.NotFound", "InvalidAccessKeyId.Inactive",
        "Forbidden", "Forbidden.RAM", "Forbidden.AccessKeyDisabled",
        "NoPermission", "RdCheckNoPermission", "InvalidSecurityToken.Expired",
        "InvalidSecurityToken.Malformed",
        "InvalidSecurityToken.MismatchWithAccessKey", "MissingSecurityToken"}) {
    EXPECT_TRUE(IsPermanentAuthError(code)) << code;
  }
  for (const char* code :
       {"Throttling.User", "ServerError", "InternalError", "MissingParameter",
        "InvalidTimeStamp.Expired", "SignatureNonceUsed", "timeout",
        "bad_response", "http_403", "ForbiddenX", "InvalidAccessKeyIdX",
        "NoPermissionX", "", "credentials"}) {
    EXPECT_FALSE(IsPermanentAuthError(code)) << code;
  }
}

}  // namespace
}  // namespace sas::aliyun

namespace sas::aliyun {
namespace {

BackUpExportPage ExpectPage(const HttpResponse& response) {
  auto result = ParseBackUpExportPage(response);
  if (auto* error = std::get_if<ApiError>(&result)) {
    ADD_FAILURE() << error->code << ": " << error->message;
    return {};
  }
  return std::get<BackUpExportPage>(result);
}

ApiError ExpectPageError(const HttpResponse& response) {
  auto result = ParseBackUpExportPage(response);
  EXPECT_TRUE(std::holds_alternative<ApiError>(result));
  if (auto* error = std::get_if<ApiError>(&result)) return *error;
  return {};
}

TEST(ParseBackUpExportPage, ReadsTheSdkShapeLeniently) {
  // Field names of the official Go SDK's
  // describe_back_up_export_info_response_body_model.go.
  BackUpExportPage page = ExpectPage(Response(200, R"({
    "RequestId": "F7CEE5E8",
    "Data": [
      {"Id": 322, "Status": "success", "Progress": 100, "CurrentCount": 10,
       "TotalCount": 10, "FileName": "suspicious_2026", "Message": "successful",
       "GmtCreate": 1671607025000,
       "Link": "https://sas-export.oss.example/x?Signature=secret"},
      {"Id": "323", "Status": "exporting", "Progress": "16"},
      {"Id": 324, "Status": null, "Progress": null},
      {"Status": "init"},
      {"Id": -1},
      "not an object"
    ],
    "PageInfo": {"Count": 6, "CurrentPage": 1, "PageSize": 20,
                 "TotalCount": "26"}})"));
  EXPECT_EQ(page.request_id, "F7CEE5E8");
  EXPECT_EQ(page.total_count, 26);
  EXPECT_EQ(page.skipped, 3);
  ASSERT_EQ(page.exports.size(), 3u);
  const ExportInfo& first = page.exports[0].info;
  EXPECT_EQ(first.id, 322);
  EXPECT_EQ(first.export_status, "success");
  EXPECT_EQ(first.progress, 100);
  EXPECT_EQ(first.current_count, 10);
  EXPECT_EQ(first.total_count, 10);
  EXPECT_EQ(first.file_name, "suspicious_2026");
  EXPECT_EQ(first.message, "successful");
  EXPECT_EQ(page.exports[0].created_ms, 1671607025000);
  EXPECT_EQ(page.exports[1].info.id, 323);
  EXPECT_EQ(page.exports[1].info.progress, 16);
  EXPECT_FALSE(page.exports[1].info.current_count.has_value());
  EXPECT_FALSE(page.exports[2].info.export_status.has_value());
  EXPECT_FALSE(page.exports[2].info.progress.has_value());
}

TEST(ParseBackUpExportPage, AnEmptyOrPageInfoOnlyAnswerIsAnEmptyPage) {
  EXPECT_TRUE(ExpectPage(Response(200, R"({"RequestId": "R", "Data": []})"))
                  .exports.empty());
  BackUpExportPage page = ExpectPage(
      Response(200, R"({"RequestId": "R", "PageInfo": {"TotalCount": 0}})"));
  EXPECT_TRUE(page.exports.empty());
  EXPECT_EQ(page.total_count, 0);
}

TEST(ParseBackUpExportPage, RefusesWhatIsNotAListing) {
  EXPECT_EQ(ExpectPageError(Response(200, R"({"RequestId": "R"})")).code,
            "bad_response");
  EXPECT_EQ(ExpectPageError(Response(200, R"({"Data": {"Id": 1}})")).code,
            "bad_response");
  EXPECT_EQ(ExpectPageError(Response(200, "<html>")).code, "bad_response");
  ApiError error = ExpectPageError(
      Response(200, R"({"code": "Throttling.User", "message": "slow down"})"));
  EXPECT_EQ(error.code, "Throttling.User");
  EXPECT_EQ(error.message, "slow down");
  error = ExpectPageError(
      Response(403, R"({"Code": "NoPermission", "Message": "denied"})"));
  EXPECT_EQ(error.code, "NoPermission");
  EXPECT_EQ(error.http_status, 403);
}

}  // namespace
}  // namespace sas::aliyun
