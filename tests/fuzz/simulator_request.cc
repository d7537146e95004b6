// The simulator's handling of one request (simulator::Service: routing,
// signature checks, parameters, STS, the metadata service, the control
// endpoints), as its server passes requests on. Input: one byte choosing
// the mode, then
//  - raw (even byte): the method, the target, then "name:value" header
//    lines up to an empty line, each on its own line; the rest is the body.
//    Targets under /_simulator/fail and /_simulator/faults go to the
//    control endpoints as the server routes them.
//  - signed (odd byte): the action, then the query string of its
//    parameters; the request is signed with the scenario's key (V3, or V1
//    when bit 1 is set), so the checks behind the signature are reached.
// Every answer must be well formed, and an export's 2xx answer must read
// as one in the exporter (aliyun::ParseExportAnswer).

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <variant>

#include "aliyun/request.h"
#include "aliyun/response.h"
#include "fuzz_support.h"
#include "simulator/random.h"
#include "simulator/scenario.h"
#include "simulator/service.h"
#include "support/fake_clock.h"
#include "util/strings.h"

namespace {

using sas::simulator::ApiRequest;
using sas::simulator::ApiResponse;

constexpr char kScenario[] = R"(
[simulator]
seed = 7

[[export]]
id = 1001
total_count = 5000
duration = "10s"

[[export]]
id = 1002
action = "DescribeVulExportInfo"
rd_account_id = 16670360956
error_rate = 0.5
error_code = "ServerError"
error_status = 503

[[export]]
id = 1003
action = "DescribeReportExport"
throttle_rate = 0.5
retry_after = "100ms"
non_json_rate = 0.2

[[export]]
id = 1004
action = "DescribeSuspEventExportInfo"
latency = "200ms"
stuck_at = 40

[[export]]
id = 1005
action = "DescribeHcExportInfo"
final_status = "failed"

[[export]]
id = 7
action = "DescribeBackUpExportInfo"
created_ago = "48h"

[sts]
credential_lifetime = "15m"

[[role]]
arn = "acs:ram::1234567890123456:role/sas-reader"
max_duration = "1h"
trusted_principals = ["AKID", "acs:ram::1234567890123456:role/admin"]
external_id = "abc"
oidc_provider_arn = "acs:ram::1234567890123456:oidc-provider/ack-rrsa"
oidc_tokens = ["oidc-token"]

[[role]]
arn = "acs:ram::1234567890123456:role/admin"
trusted_principals = ["AKID"]

[metadata]
role_name = "EcsSasReader"
role_arn = "acs:ram::1234567890123456:role/sas-reader"
credential_lifetime = "6h"
require_token = false

[[access]]
principal = "acs:ram::1234567890123456:role/sas-reader"
rd_account_ids = [16670360956]
)";

const sas::simulator::Scenario& TheScenario() {
  static const sas::simulator::Scenario* scenario = [] {
    std::string error;
    auto parsed = sas::simulator::ParseScenario(kScenario, "fuzz.toml", &error);
    if (!parsed) sas::fuzz::CheckFailed(error.c_str(), __FILE__, __LINE__);
    return new sas::simulator::Scenario(std::move(*parsed));
  }();
  return *scenario;
}

ApiRequest RawRequest(sas::fuzz::InputReader& input) {
  ApiRequest request;
  request.method = std::string(input.Until('\n'));
  request.target = std::string(input.Until('\n'));
  while (!input.empty()) {
    std::string_view line = input.Until('\n');
    if (line.empty()) break;
    size_t colon = line.find(':');
    request.headers.emplace_back(std::string(line.substr(0, colon)),
                                 colon == std::string_view::npos
                                     ? ""
                                     : std::string(line.substr(colon + 1)));
  }
  request.body = std::string(input.Rest());
  return request;
}

ApiRequest Signed(const sas::aliyun::RpcCall& call, bool v1,
                  sas::WallTime now) {
  sas::aliyun::HttpRequest signed_request = sas::aliyun::BuildSignedRequest(
      call, {"http", "127.0.0.1", 8080}, {"AKID", "SECRET", "", std::nullopt},
      v1 ? sas::aliyun::SignatureVersion::kV1
         : sas::aliyun::SignatureVersion::kV3,
      now, "fuzz-nonce", "fuzz");
  return {signed_request.method, signed_request.target, signed_request.headers,
          signed_request.body};
}

ApiRequest SignedRequest(sas::fuzz::InputReader& input, bool v1,
                         sas::WallTime now) {
  sas::aliyun::RpcCall call;
  call.action = std::string(input.Until('\n'));
  call.version =
      call.action.starts_with("AssumeRole") ? "2015-04-01" : "2018-12-03";
  sas::aliyun::Params params;
  if (sas::aliyun::ParseQueryString(input.Rest(), &params)) {
    call.params = std::move(params);
  }
  return Signed(call, v1, now);
}

// True when the request itself carries `text` (then an answer may echo it).
bool Carries(const ApiRequest& request, std::string_view text) {
  if (request.target.find(text) != std::string::npos ||
      request.body.find(text) != std::string::npos) {
    return true;
  }
  for (const auto& [name, value] : request.headers) {
    if (name.find(text) != std::string::npos ||
        value.find(text) != std::string::npos) {
      return true;
    }
  }
  return false;
}

void CheckAnswer(const ApiRequest& request, const ApiResponse& response) {
  SAS_FUZZ_CHECK(response.status >= 100 && response.status <= 599,
                 "an answer with an impossible status");
  std::optional<std::string> type = response.Header("content-type");
  SAS_FUZZ_CHECK(type.has_value(), "an answer without a content-type");
  if (type->starts_with("application/json")) {
    nlohmann::json body = nlohmann::json::parse(response.body, nullptr,
                                                /*allow_exceptions=*/false);
    SAS_FUZZ_CHECK(!body.is_discarded(),
                   "a JSON answer whose body is not JSON");
  }
  SAS_FUZZ_CHECK(Carries(request, "SECRET") ||
                     response.body.find("SECRET") == std::string::npos,
                 "an answer quotes the AccessKeySecret");
  const std::string* header_action = request.Header("x-acs-action");
  std::string action = header_action != nullptr ? *header_action : "";
  sas::aliyun::Params params;
  std::string_view target = request.target;
  if (action.empty() && target.find('?') != std::string_view::npos &&
      sas::aliyun::ParseQueryString(target.substr(target.find('?') + 1),
                                    &params)) {
    if (const std::string* v1_action =
            sas::aliyun::FindParam(params, "Action")) {
      action = *v1_action;
    }
  }
  auto export_action = sas::aliyun::ParseExportAction(action);
  if (response.status == 200 && export_action &&
      !sas::aliyun::IsDiscoveredAction(*export_action) &&
      response.code == "Success") {
    sas::aliyun::HttpResponse http{response.status, response.headers,
                                   response.body};
    auto parsed = sas::aliyun::ParseExportAnswer(*export_action, http);
    SAS_FUZZ_CHECK(std::holds_alternative<sas::aliyun::ExportInfo>(parsed),
                   "the exporter cannot read the simulator's answer");
  }
}

}  // namespace

SAS_FUZZ_TARGET(simulator_request) {
  static sas::testing::FakeClock* clock = new sas::testing::FakeClock();
  sas::fuzz::InputReader input(data, size);
  uint8_t mode = input.Byte();
  sas::simulator::Service service(
      TheScenario(), {{"AKID", "SECRET"}}, *clock,
      std::make_unique<sas::simulator::SeededRandom>(mode));
  ApiRequest request = (mode & 1) ? SignedRequest(input, mode & 2, clock->Now())
                                  : RawRequest(input);
  std::string_view path = request.Path();
  ApiResponse response;
  if (path == "/_simulator/fail") {
    response = service.HandleFailSwitch(request);
  } else if (path == "/_simulator/faults") {
    response = service.HandleFaults(request);
    // A fault added applies to the next call of its export.
    ApiRequest next =
        Signed({"DescribeExportInfo", "2018-12-03", {{"ExportId", "1001"}}},
               /*v1=*/false, clock->Now());
    CheckAnswer(next, service.Handle(next));
  } else {
    response = service.Handle(request);
  }
  CheckAnswer(request, response);
  SAS_FUZZ_CHECK(
      !service.StatsJson().empty() && !service.RequestLogJson().empty(),
      "no statistics");
}
