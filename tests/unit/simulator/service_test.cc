#include "simulator/service.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/fake_clock.h"
#include "test_requests.h"

namespace sas::simulator {
namespace {

using ::sas::testing::FakeClock;

using nlohmann::json;
using testing::DescribeExportInfo;
using ::testing::HasSubstr;
using testing::kKeyId;
using testing::kKeySecret;
using ::testing::MatchesRegex;

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { Reset({}); }

  void Reset(std::vector<ExportSpec> exports, uint64_t seed = 42) {
    Scenario scenario;
    scenario.exports = std::move(exports);
    service_ = std::make_unique<Service>(std::move(scenario),
                                         KeyPairs{{kKeyId, kKeySecret}}, clock_,
                                         std::make_unique<SeededRandom>(seed));
  }

  ApiResponse Call(
      const std::string& export_id,
      aliyun::SignatureVersion version = aliyun::SignatureVersion::kV3,
      const std::string& rd_account = "") {
    return service_->Handle(DescribeExportInfo(
        export_id, clock_.Now(), "nonce-" + std::to_string(++nonce_), version,
        rd_account));
  }

  static std::string Code(const ApiResponse& response) {
    return json::parse(response.body).value("Code", "");
  }

  json Stats() { return json::parse(service_->StatsJson()); }

  FakeClock clock_;
  int nonce_ = 0;
  std::unique_ptr<Service> service_;
};

ExportSpec Export(int64_t id) {
  ExportSpec spec;
  spec.id = id;
  spec.file_name = "asset_export_" + std::to_string(id);
  spec.total_count = 5000;
  spec.init_duration = std::chrono::seconds(5);
  spec.duration = std::chrono::seconds(60);
  return spec;
}

TEST_F(ServiceTest, SuccessBodyFollowsTheCurve) {
  Reset({Export(1001)});
  ApiResponse response = Call("1001");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.Header("content-type"), "application/json;charset=utf-8");
  json body = json::parse(response.body);
  EXPECT_EQ(response.Header("x-acs-request-id"), body["RequestId"]);
  EXPECT_THAT(body["RequestId"].get<std::string>(),
              MatchesRegex("[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-"
                           "[0-9A-F]{12}"));
  EXPECT_EQ(body["Id"], 1001);
  EXPECT_EQ(body["ExportStatus"], "init");
  EXPECT_EQ(body["Progress"], 0);
  EXPECT_EQ(body["CurrentCount"], 0);
  EXPECT_EQ(body["TotalCount"], 5000);
  EXPECT_EQ(body["FileName"], "asset_export_1001");
  EXPECT_EQ(body["Message"], "success");
  EXPECT_EQ(body["Link"], "");

  clock_.Advance(std::chrono::seconds(35));
  body = json::parse(Call("1001", aliyun::SignatureVersion::kV1).body);
  EXPECT_EQ(body["ExportStatus"], "exporting");
  EXPECT_EQ(body["Progress"], 50);
  EXPECT_EQ(body["CurrentCount"], 2500);

  clock_.Advance(std::chrono::seconds(30));
  body = json::parse(Call("1001").body);
  EXPECT_EQ(body["ExportStatus"], "success");
  EXPECT_EQ(body["Progress"], 100);
  EXPECT_THAT(body["Link"].get<std::string>(),
              MatchesRegex("https://sas-export\\.oss-cn-shanghai\\.aliyuncs\\."
                           "com/asset_export_1001\\.zip\\?Expires=[0-9]+&"
                           "OSSAccessKeyId=STS\\.sim&Signature=[A-Za-z0-9%]+"));
}

// Found by the simulator_request fuzz target: the gateway's HostId echoes
// the Host header, whose bytes need not be UTF-8.
TEST_F(ServiceTest, ErrorAnswerToAHostThatIsNotUtf8IsStillJson) {
  ApiRequest request = DescribeExportInfo("999", clock_.Now(), "nonce-host");
  for (auto& [name, value] : request.headers) {
    if (name == "host") value = std::string("\xff\xfe") + value;
  }
  ApiResponse response = service_->Handle(request);
  EXPECT_EQ(response.status, 400);
  json body = json::parse(response.body);
  const std::string replacement = "\xEF\xBF\xBD";  // U+FFFD
  EXPECT_EQ(body["HostId"], replacement + replacement + "127.0.0.1:8080");
}

TEST_F(ServiceTest, ErrorShape) {
  ApiResponse response = Call("999");
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(response.Header("content-type"), "application/json;charset=utf-8");
  json body = json::parse(response.body);
  EXPECT_EQ(body["Code"], "InvalidExportId.NotFound");
  EXPECT_EQ(body["Message"], "The specified export task does not exist.");
  EXPECT_EQ(body["HostId"], "127.0.0.1:8080");
  EXPECT_EQ(response.Header("x-acs-request-id"), body["RequestId"]);
  EXPECT_THAT(body["Recommend"].get<std::string>(),
              HasSubstr("InvalidExportId.NotFound"));
  EXPECT_EQ(response.code, "InvalidExportId.NotFound");
}

TEST_F(ServiceTest, OfficialV3ExampleIsAnUnknownApi) {
  WallTime at;
  ASSERT_TRUE(ParseIso8601("2023-10-26T10:22:32Z", &at));
  FakeClock clock(at);
  Service service({}, {{"YourAccessKeyId", "YourAccessKeySecret"}}, clock,
                  std::make_unique<SeededRandom>(1));
  ApiRequest request;
  request.target =
      "/?ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&"
      "RegionId=cn-shanghai";
  request.headers = {
      {"host", "ecs.cn-shanghai.aliyuncs.com"},
      {"x-acs-action", "RunInstances"},
      {"x-acs-version", "2014-05-26"},
      {"x-acs-date", "2023-10-26T10:22:32Z"},
      {"x-acs-signature-nonce", "3156853299f313e23d1673dc12e1703d"},
      {"x-acs-content-sha256", std::string(aliyun::kEmptyBodySha256)},
      {"authorization",
       "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=host;"
       "x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;"
       "x-acs-version,Signature="
       "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"}};
  ApiResponse response = service.Handle(request);
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(Code(response), "InvalidApi.NotFound");
}

TEST_F(ServiceTest, WrongVersionIsAnUnknownApi) {
  aliyun::RpcCall call{"DescribeExportInfo", "2017-01-01", {{"ExportId", "1"}}};
  ApiRequest request = testing::ToApiRequest(aliyun::BuildSignedRequest(
      call, {"http", "127.0.0.1", 80}, {kKeyId, kKeySecret, "", std::nullopt},
      aliyun::SignatureVersion::kV3, clock_.Now(), "n", "t"));
  EXPECT_EQ(Code(service_->Handle(request)), "InvalidApi.NotFound");
}

TEST_F(ServiceTest, ExportIdChecks) {
  aliyun::RpcCall call{"DescribeExportInfo", "2018-12-03", {}};
  ApiRequest request = testing::ToApiRequest(aliyun::BuildSignedRequest(
      call, {"http", "127.0.0.1", 80}, {kKeyId, kKeySecret, "", std::nullopt},
      aliyun::SignatureVersion::kV3, clock_.Now(), "n", "t"));
  ApiResponse missing = service_->Handle(request);
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(json::parse(missing.body)["Message"],
            "The input parameter \"ExportId\" that is mandatory for "
            "processing this request is not supplied.");
  EXPECT_EQ(Code(missing), "MissingParameter");
  for (std::string bad :
       {"0", "-1", "abc", "1.5", "", " 1", "99999999999999999999"}) {
    EXPECT_EQ(Code(Call(bad)), "InvalidParameter") << bad;
  }
  EXPECT_EQ(Code(Call("1", aliyun::SignatureVersion::kV3, "x")),
            "InvalidParameter");
}

TEST_F(ServiceTest, ResourceDirectoryAccountIsChecked) {
  ExportSpec spec = Export(5);
  spec.rd_account_id = 1234567;
  Reset({spec, Export(6)});
  ApiResponse without = Call("5");
  EXPECT_EQ(without.status, 400);
  EXPECT_EQ(Code(without), "RdCheckNoPermission");
  EXPECT_EQ(json::parse(without.body)["Message"],
            "Resource directory account verification has no permission.");
  EXPECT_EQ(Code(Call("5", aliyun::SignatureVersion::kV3, "7654321")),
            "RdCheckNoPermission");
  EXPECT_EQ(Call("5", aliyun::SignatureVersion::kV3, "1234567").status, 200);
  EXPECT_EQ(Call("5", aliyun::SignatureVersion::kV1, "1234567").status, 200);
  // An export without rd_account_id accepts any account.
  EXPECT_EQ(Call("6", aliyun::SignatureVersion::kV3, "1").status, 200);
}

TEST_F(ServiceTest, ConfiguredErrorAndLatency) {
  ExportSpec spec = Export(7);
  spec.error_code = "ServerError";
  spec.error_status = 500;
  spec.error_message = "The request processing has failed.";
  spec.latency = std::chrono::milliseconds(200);
  Reset({spec});
  ApiResponse response = Call("7");
  EXPECT_EQ(response.status, 500);
  EXPECT_EQ(Code(response), "ServerError");
  EXPECT_EQ(json::parse(response.body)["Message"],
            "The request processing has failed.");
  EXPECT_EQ(response.delay, std::chrono::milliseconds(200));
  // Latency applies only once the export is known.
  EXPECT_EQ(Call("8").delay, std::chrono::milliseconds(0));
}

TEST_F(ServiceTest, ThrottlingCarriesRetryAfter) {
  ExportSpec spec = Export(9);
  spec.throttle_rate = 1.0;
  spec.retry_after = std::chrono::milliseconds(100);
  Reset({spec});
  ApiResponse response = Call("9");
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(Code(response), "Throttling.User");
  EXPECT_EQ(json::parse(response.body)["Message"],
            "Request was denied due to user flow control.");
  EXPECT_EQ(response.Header("x-acs-retry-after"), "100");
}

TEST_F(ServiceTest, NonJsonAnswer) {
  ExportSpec spec = Export(10);
  spec.non_json_rate = 1.0;
  Reset({spec});
  ApiResponse response = Call("10");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.Header("content-type"), "text/html");
  EXPECT_THAT(response.body, HasSubstr("<html>"));
  EXPECT_FALSE(json::accept(response.body));
  EXPECT_EQ(response.code, "NonJson");
}

int CountCode(Service& service, FakeClock& clock, int calls,
              const std::string& code) {
  int count = 0;
  for (int i = 0; i < calls; ++i) {
    ApiResponse response = service.Handle(
        DescribeExportInfo("11", clock.Now(), "rate-" + std::to_string(i)));
    if (response.code == code) ++count;
  }
  return count;
}

TEST_F(ServiceTest, RatesAreSeededFractions) {
  ExportSpec spec = Export(11);
  spec.throttle_rate = 0.5;
  spec.error_code = "ServerError";
  spec.error_rate = 0.2;
  std::vector<int> throttled, errors;
  for (int run = 0; run < 2; ++run) {
    Reset({spec}, 42);
    throttled.push_back(CountCode(*service_, clock_, 1000, "Throttling.User"));
    json stats = Stats();
    errors.push_back(stats["by_code"].value("ServerError", 0));
  }
  EXPECT_EQ(throttled[0], throttled[1]);  // same seed, same answers
  EXPECT_EQ(errors[0], errors[1]);
  EXPECT_NEAR(throttled[0], 500, 60);
  // 20% of the 50% not throttled.
  EXPECT_NEAR(errors[0], 100, 35);
}

TEST_F(ServiceTest, StatsCountRequestsByExportCodeAndKey) {
  Reset({Export(1001)});
  EXPECT_EQ(Stats(), json::parse(R"({"requests": 0, "by_export": {},
      "by_code": {}, "by_access_key": {},
      "sts": {"AssumeRole": 0, "AssumeRoleWithOIDC": 0},
      "metadata": {"token": 0, "credentials": 0},
      "max_in_flight": 0, "in_flight": 0})"));
  Call("1001");
  Call("1001", aliyun::SignatureVersion::kV1);
  Call("999");
  ApiRequest bad = DescribeExportInfo("1001", clock_.Now(), "x",
                                      aliyun::SignatureVersion::kV3, "", kKeyId,
                                      "wrong-secret");
  service_->Handle(bad);
  service_->Handle(DescribeExportInfo("1001", clock_.Now(), "y",
                                      aliyun::SignatureVersion::kV3, "",
                                      "UnknownKey", "s"));
  service_->CallStarted();
  service_->CallStarted();
  service_->CallFinished();
  EXPECT_EQ(Stats(), json::parse(R"({"requests": 5,
      "by_export": {"1001": 2, "999": 1},
      "by_code": {"Success": 2, "InvalidExportId.NotFound": 1,
                  "SignatureDoesNotMatch": 1,
                  "InvalidAccessKeyId.NotFound": 1},
      "by_access_key": {"LTAIsimulatortest": 4},
      "sts": {"AssumeRole": 0, "AssumeRoleWithOIDC": 0},
      "metadata": {"token": 0, "credentials": 0},
      "max_in_flight": 2, "in_flight": 1})"));
}

TEST_F(ServiceTest, RequestLogListsEachAuthenticatedCallWithItsIdentity) {
  Reset({Export(1001)});
  EXPECT_EQ(json::parse(service_->RequestLogJson()),
            json::parse(R"({"calls": [], "dropped": 0})"));
  Call("1001");
  Call("999", aliyun::SignatureVersion::kV3, "77");
  service_->Handle(DescribeExportInfo("1001", clock_.Now(), "x",
                                      aliyun::SignatureVersion::kV3, "", kKeyId,
                                      "wrong-secret"));
  EXPECT_EQ(json::parse(service_->RequestLogJson()), json::parse(R"({"calls": [
      {"action": "DescribeExportInfo", "export_id": 1001,
       "rd_account_id": null, "access_key_id": "LTAIsimulatortest",
       "code": "Success"},
      {"action": "DescribeExportInfo", "export_id": 999,
       "rd_account_id": 77, "access_key_id": "LTAIsimulatortest",
       "code": "InvalidExportId.NotFound"}],
    "dropped": 0})"));
}

TEST_F(ServiceTest, SignatureMismatchEchoesStringToSign) {
  ApiResponse response = service_->Handle(
      DescribeExportInfo("1", clock_.Now(), "n", aliyun::SignatureVersion::kV3,
                         "", kKeyId, "wrong"));
  EXPECT_EQ(response.status, 400);
  EXPECT_THAT(json::parse(response.body)["Message"].get<std::string>(),
              HasSubstr("server string to sign is:ACS3-HMAC-SHA256\n"));
}

}  // namespace
}  // namespace sas::simulator

namespace sas::simulator {
namespace {

class ActionServiceTest : public ServiceTest {
 protected:
  ApiResponse CallAction(std::string_view action, aliyun::Params params) {
    aliyun::RpcCall call{std::string(action), "2018-12-03", std::move(params)};
    return service_->Handle(testing::ToApiRequest(aliyun::BuildSignedRequest(
        call, {"http", "127.0.0.1", 80}, {kKeyId, kKeySecret, "", std::nullopt},
        aliyun::SignatureVersion::kV3, clock_.Now(),
        "n" + std::to_string(++nonce_), "t")));
  }
  json Poll(std::string_view action, int64_t id) {
    ApiResponse response =
        CallAction(action, {{"ExportId", std::to_string(id)}});
    EXPECT_EQ(response.status, 200) << response.body;
    return json::parse(response.body);
  }
  static ExportSpec Of(aliyun::ExportAction action, int64_t id) {
    ExportSpec spec = Export(id);
    spec.action = action;
    return spec;
  }
};

// Each action answers in the shape of the official Go SDK's
// client/<action>_response_body_model.go.
TEST_F(ActionServiceTest, EveryActionAnswersInItsOwnShape) {
  using aliyun::ExportAction;
  ExportSpec report = Of(ExportAction::kDescribeReportExport, 3);
  report.final_status = "failed";
  ExportSpec sparse = Of(ExportAction::kDescribeVulExportInfo, 4);
  sparse.sparse = true;
  Reset({Of(ExportAction::kDescribeHcExportInfo, 1),
         Of(ExportAction::kDescribeSuspEventExportInfo, 2), report, sparse});

  json hc = Poll("DescribeHcExportInfo", 1);
  EXPECT_EQ(hc["ResultStatus"], "exporting");  // no init for this action
  EXPECT_FALSE(hc.contains("ExportStatus"));
  EXPECT_FALSE(hc.contains("Message"));
  EXPECT_TRUE(hc.contains("GmtCreate"));
  EXPECT_TRUE(hc.contains("CurrentCount"));

  json susp = Poll("DescribeSuspEventExportInfo", 2);
  EXPECT_EQ(susp["ExportStatus"], "pending");
  EXPECT_FALSE(susp.contains("CurrentCount"));
  EXPECT_EQ(susp["Type"], "suspiciousEvent");

  json wrong =
      json::parse(CallAction("DescribeExportInfo", {{"ExportId", "2"}}).body);
  EXPECT_EQ(wrong["Code"], "InvalidExportId.NotFound");

  json report_body = Poll("DescribeReportExport", 3);
  EXPECT_EQ(report_body["ExportStatus"], 0);  // a number, as documented
  EXPECT_EQ(report_body["ExportId"], 3);
  EXPECT_FALSE(report_body.contains("Progress"));
  EXPECT_FALSE(report_body.contains("Link"));
  clock_.Advance(std::chrono::minutes(2));
  EXPECT_EQ(Poll("DescribeReportExport", 3)["ExportStatus"], -1);

  json sparse_body = Poll("DescribeVulExportInfo", 4);
  EXPECT_EQ(sparse_body.size(), 2u) << sparse_body;  // RequestId, ExportStatus
  EXPECT_EQ(sparse_body["ExportStatus"], "success");
}

TEST_F(ActionServiceTest, ThrottleStatusAndCodeAreTheScenarios) {
  ExportSpec spec = Export(1);
  spec.throttle_rate = 1;
  spec.throttle_status = 503;
  spec.throttle_code = "ServiceUnavailable";
  spec.retry_after = std::chrono::milliseconds(250);
  Reset({spec});
  ApiResponse response = Call("1");
  EXPECT_EQ(response.status, 503);
  EXPECT_EQ(Code(response), "ServiceUnavailable");
  EXPECT_EQ(response.Header("x-acs-retry-after"), "250");
}

TEST_F(ActionServiceTest, BackUpListingPagesNewestFirst) {
  using aliyun::ExportAction;
  std::vector<ExportSpec> specs;
  for (int64_t id = 1; id <= 5; ++id) {
    specs.push_back(Of(ExportAction::kDescribeBackUpExportInfo, id));
  }
  specs[0].created_ago = std::chrono::hours(48);
  specs.push_back(Export(6));  // another action: not listed
  Reset(specs);
  clock_.Advance(std::chrono::minutes(2));

  ApiResponse first =
      CallAction("DescribeBackUpExportInfo",
                 {{"ExportType", "suspiciousExport"}, {"PageSize", "2"}});
  ASSERT_EQ(first.status, 200) << first.body;
  json body = json::parse(first.body);
  ASSERT_EQ(body["Data"].size(), 2u);
  EXPECT_EQ(body["Data"][0]["Id"], 5);
  EXPECT_EQ(body["Data"][1]["Id"], 4);
  EXPECT_EQ(body["Data"][0]["Status"], "success");
  EXPECT_EQ(body["Data"][0]["Progress"], 100);
  EXPECT_TRUE(body["Data"][0].contains("Link"));
  EXPECT_EQ(body["PageInfo"]["Count"], 2);
  EXPECT_EQ(body["PageInfo"]["CurrentPage"], 1);
  EXPECT_EQ(body["PageInfo"]["TotalCount"], 5);

  body = json::parse(CallAction("DescribeBackUpExportInfo",
                                {{"CurrentPage", "3"},
                                 {"ExportType", "suspiciousExport"},
                                 {"PageSize", "2"}})
                         .body);
  ASSERT_EQ(body["Data"].size(), 1u);
  EXPECT_EQ(body["Data"][0]["Id"], 1);
  int64_t started_ms =
      static_cast<int64_t>(ToUnixSeconds(clock_.Now()) * 1000) - 120'000;
  EXPECT_EQ(body["Data"][0]["GmtCreate"], started_ms - 48 * 3600 * 1000);

  // Defaults: page 1 of 20.
  body = json::parse(CallAction("DescribeBackUpExportInfo",
                                {{"ExportType", "suspiciousExport"}})
                         .body);
  EXPECT_EQ(body["Data"].size(), 5u);
  EXPECT_EQ(body["PageInfo"]["PageSize"], 20);

  EXPECT_EQ(Code(CallAction("DescribeBackUpExportInfo", {})),
            "MissingParameter");
  EXPECT_EQ(Code(CallAction("DescribeBackUpExportInfo",
                            {{"ExportType", "vulExport"}})),
            "InvalidParameter");
  EXPECT_EQ(
      Code(CallAction("DescribeBackUpExportInfo",
                      {{"ExportType", "suspiciousExport"}, {"PageSize", "0"}})),
      "InvalidParameter");
  EXPECT_EQ(Code(CallAction(
                "DescribeBackUpExportInfo",
                {{"CurrentPage", "x"}, {"ExportType", "suspiciousExport"}})),
            "InvalidParameter");
}

}  // namespace
}  // namespace sas::simulator
