#include "simulator/service.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <limits>
#include <nlohmann/json.hpp>

#include "aliyun/request.h"
#include "util/strings.h"

namespace sas::simulator {
namespace {

// PageSize above this is refused: our choice; the real limit is not
// documented.
constexpr int64_t kMaxPageSize = 100;
constexpr std::string_view kJsonContentType = "application/json;charset=utf-8";
constexpr std::string_view kBrokenProxyPage =
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>"
    "\r\n</body>\r\n</html>\r\n";

// An API answer with a JSON body, as the service sends it. Text taken from
// the request (the Host header in HostId, say) may be any bytes: those that
// are not UTF-8 become U+FFFD rather than an exception.
ApiResponse JsonAnswer(int status, const nlohmann::ordered_json& body,
                       const std::string& request_id, std::string code) {
  ApiResponse response;
  response.status = status;
  response.headers = {{"content-type", std::string(kJsonContentType)},
                      {"x-acs-request-id", request_id}};
  response.body = body.dump(-1, ' ', false,
                            nlohmann::ordered_json::error_handler_t::replace);
  response.code = std::move(code);
  return response;
}

// Id, Progress, [CurrentCount], TotalCount and FileName, in the order the
// official SDK's response models declare them.
void AddProgressFields(const ExportSpec& spec, const ExportState& state,
                       bool with_current_count, nlohmann::ordered_json& body) {
  body["Id"] = spec.id;
  body["Progress"] = state.progress;
  if (with_current_count) body["CurrentCount"] = state.current_count;
  body["TotalCount"] = spec.total_count;
  body["FileName"] = spec.file_name;
}

// A positive decimal int64 without sign, spaces or leading '+'.
std::optional<int64_t> ParsePositive(std::string_view text) {
  int64_t value = 0;
  auto [end, ec] =
      std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() ||
      value <= 0 || text[0] == '-') {
    return std::nullopt;
  }
  return value;
}

ApiError InvalidParameter(std::string_view name) {
  return {
      400, "InvalidParameter",
      "The specified parameter \"" + std::string(name) + "\" is not valid."};
}

// The action a request asks for, before authentication: x-acs-action, else
// Action from the query or form body; "" if none.
std::string PeekAction(const ApiRequest& request) {
  if (const std::string* action = request.Header("x-acs-action")) {
    return std::string(Trim(*action));
  }
  size_t question = request.target.find('?');
  aliyun::Params params;
  if (question != std::string::npos &&
      aliyun::ParseQueryString(
          std::string_view(request.target).substr(question + 1), &params)) {
    if (const std::string* action = aliyun::FindParam(params, "Action")) {
      return *action;
    }
  }
  if (IsFormEncoded(request) &&
      aliyun::ParseQueryString(request.body, &params)) {
    if (const std::string* action = aliyun::FindParam(params, "Action")) {
      return *action;
    }
  }
  return "";
}

ApiError UnknownApi() {
  return {404, "InvalidApi.NotFound",
          "Specified api is not found, please check your url and method."};
}

}  // namespace

Service::Service(Scenario scenario, KeyPairs keys, const Clock& clock,
                 std::unique_ptr<RandomSource> random)
    : scenario_(std::move(scenario)),
      clock_(clock),
      start_(clock.SteadyNow()),
      start_wall_(clock.Now()),
      random_(std::move(random)),
      faults_(clock),
      gateway_clock_(clock, faults_),
      issued_(clock, *random_),
      authenticator_(std::move(keys), gateway_clock_, &issued_),
      sts_(scenario_, issued_, *random_),
      metadata_(scenario_.metadata, issued_, clock, *random_) {
  for (const FaultSpec& fault : scenario_.faults) {
    std::string ignored;  // the scenario parser keeps them below kMaxFaults
    faults_.Add(fault, start_, &ignored);
  }
}

ApiResponse Service::Handle(const ApiRequest& request) {
  SasCall call;
  std::string access_key_id;
  ApiResponse response = Answer(request, &call, &access_key_id);
  response.export_id = call.export_id;
  response.access_key_id = access_key_id;
  std::lock_guard<std::mutex> lock(mutex_);
  ++requests_;
  ++by_code_[response.code];
  if (call.export_id > 0) {
    ++by_export_[call.export_id];
    if (call_log_.size() == kMaxLoggedCalls) {
      call_log_.pop_front();
      ++dropped_calls_;
    }
    call_log_.push_back({std::move(call), access_key_id, response.code});
  }
  if (!access_key_id.empty()) ++by_access_key_[access_key_id];
  return response;
}

ApiResponse Service::Answer(const ApiRequest& request, SasCall* call,
                            std::string* access_key_id) {
  if (StartsWith(request.Path(), "/latest/")) return AnswerMetadata(request);
  std::string action = PeekAction(request);
  if (action == kAssumeRole || action == kAssumeRoleWithOidc) {
    return AnswerSts(request, action, access_key_id);
  }
  return AnswerSas(request, call, access_key_id);
}

ApiResponse Service::AnswerMetadata(const ApiRequest& request) {
  MetadataRoute route = RouteOf(request.Path());
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (route == MetadataRoute::kToken) ++metadata_token_;
    if (route == MetadataRoute::kCredentials) ++metadata_credentials_;
  }
  if (metadata_.enabled() && route == MetadataRoute::kCredentials &&
      request.method == "GET" && TakeFailure(Failing::kMetadata)) {
    return MetadataService::Text(503, "ServiceUnavailable",
                                 "Service Unavailable");
  }
  return metadata_.Handle(request);
}

ApiResponse Service::AnswerSts(const ApiRequest& request,
                               std::string_view action,
                               std::string* access_key_id) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++(action == kAssumeRole ? sts_assume_role_ : sts_assume_role_with_oidc_);
  }
  if (TakeFailure(Failing::kSts)) {
    return Error(request,
                 {503, "ServiceUnavailable",
                  "The request has failed due to a temporary failure of the "
                  "server."},
                 "Sts");
  }
  StsOutcome outcome;
  if (action == kAssumeRole) {
    AuthResult auth = authenticator_.Verify(request);
    *access_key_id = auth.access_key_id;
    if (!auth.ok) return Error(request, auth.error, "Sts");
    if (auth.version != kStsVersion) return Error(request, UnknownApi(), "Sts");
    outcome = sts_.AssumeRole(auth.params, auth.principal);
  } else {
    aliyun::Params params;
    if (!RequestParams(request, &params)) {
      return Error(
          request,
          {400, "InvalidParameter", "Specified query string is malformed."},
          "Sts");
    }
    const std::string* version = aliyun::FindParam(params, "Version");
    if (version == nullptr) {
      return Error(request,
                   {400, "MissingParameter",
                    "The input parameter \"Version\" that is mandatory for "
                    "processing this request is not supplied."},
                   "Sts");
    }
    if (*version != kStsVersion) return Error(request, UnknownApi(), "Sts");
    outcome = sts_.AssumeRoleWithOidc(params);
  }
  if (!outcome.ok) return Error(request, outcome.error, "Sts");
  return StsSuccess(outcome);
}

ApiResponse Service::AnswerSas(const ApiRequest& request, SasCall* call,
                               std::string* access_key_id) {
  AuthResult auth = authenticator_.Verify(request);
  *access_key_id = auth.access_key_id;
  if (!auth.ok) return Error(request, auth.error);
  std::optional<aliyun::ExportAction> action =
      aliyun::ParseExportAction(auth.action);
  if (!action || auth.version != aliyun::kSasApiVersion) {
    return Error(request, UnknownApi());
  }
  const AccessSpec* access = scenario_.FindAccess(auth.principal);
  if (access != nullptr && !access->allow_sas) {
    return Error(request,
                 {403, "NoPermission",
                  "You are not authorized to do this action. You should be "
                  "authorized by RAM."});
  }
  if (*action == aliyun::ExportAction::kDescribeBackUpExportInfo) {
    ApiResponse response = ListBackUpExports(request, auth.params);
    ApplyAnswerFault(request, 0, &response);
    return response;
  }
  const std::string* id_text = aliyun::FindParam(auth.params, "ExportId");
  if (id_text == nullptr) {
    return Error(request,
                 {400, "MissingParameter",
                  "The input parameter \"ExportId\" that is mandatory for "
                  "processing this request is not supplied."});
  }
  std::optional<int64_t> id = ParsePositive(*id_text);
  if (!id || *id > aliyun::MaxExportId(*action)) {
    return Error(request, InvalidParameter("ExportId"));
  }
  std::optional<int64_t> rd_account;
  if (const std::string* rd_text =
          aliyun::FindParam(auth.params, "ResourceDirectoryAccountId")) {
    rd_account = ParsePositive(*rd_text);
    if (!rd_account) {
      return Error(request, InvalidParameter("ResourceDirectoryAccountId"));
    }
  }
  *call = {std::string(aliyun::ExportActionName(*action)), *id, rd_account};
  const ApiError kRdNoPermission = {
      400, "RdCheckNoPermission",
      "Resource directory account verification has no permission."};
  if (access != nullptr && access->rd_account_ids && rd_account &&
      std::find(access->rd_account_ids->begin(), access->rd_account_ids->end(),
                *rd_account) == access->rd_account_ids->end()) {
    return Error(request, kRdNoPermission);
  }
  const ExportSpec* spec = scenario_.Find(*id, *action);
  if (spec == nullptr) {
    ApiResponse response =
        Error(request, {400, "InvalidExportId.NotFound",
                        "The specified export task does not exist."});
    ApplyAnswerFault(request, *id, &response);
    return response;
  }

  ApiResponse response;
  if (Chance(spec->non_json_rate)) {
    response.headers = {{"content-type", "text/html"}};
    response.body = kBrokenProxyPage;
    response.code = "NonJson";
  } else if (Chance(spec->throttle_rate)) {
    response = Error(request, {spec->throttle_status, spec->throttle_code,
                               "Request was denied due to user flow control."});
    response.headers.emplace_back("x-acs-retry-after",
                                  std::to_string(spec->retry_after.count()));
  } else if (spec->rd_account_id && rd_account != spec->rd_account_id) {
    response = Error(request, kRdNoPermission);
  } else if (!spec->error_code.empty() && Chance(spec->error_rate)) {
    response = Error(
        request, {spec->error_status, spec->error_code, spec->error_message});
  } else {
    response = Success(*spec);
  }
  response.delay = spec->latency;
  ApplyAnswerFault(request, *id, &response);
  return response;
}

void Service::ApplyAnswerFault(const ApiRequest& request, int64_t export_id,
                               ApiResponse* response) {
  std::optional<FaultSpec> fault = faults_.TakeAnswerFault(export_id);
  if (!fault) return;
  switch (fault->kind) {
    case FaultKind::kLatency:
      response->delay += fault->latency;
      break;
    case FaultKind::kReset:
      response->breakage = Breakage::kReset;
      response->code = "Reset";
      break;
    case FaultKind::kTruncate:
      response->breakage = Breakage::kTruncate;
      response->code = "Truncated";
      break;
    case FaultKind::kError:
      *response = Error(request, {fault->status, fault->code,
                                  "The request has failed due to a temporary "
                                  "failure of the server."});
      break;
    case FaultKind::kThrottle:
      *response = Error(request, {fault->status, fault->code,
                                  "Request was denied due to user flow "
                                  "control."});
      response->headers.emplace_back(
          "x-acs-retry-after", std::to_string(fault->retry_after.count()));
      break;
    default:
      break;
  }
}

ApiResponse Service::Error(const ApiRequest& request, const ApiError& error,
                           std::string_view product) {
  std::string request_id = NewRequestId();
  const std::string* host = request.Header("host");
  nlohmann::ordered_json body = {
      {"RequestId", request_id},
      {"HostId", host != nullptr ? *host : "tds.cn-shanghai.aliyuncs.com"},
      {"Code", error.code},
      {"Message", error.message},
      {"Recommend", "https://api.aliyun.com/troubleshoot?q=" + error.code +
                        "&product=" + std::string(product) +
                        "&requestId=" + request_id}};
  return JsonAnswer(error.http_status, body, request_id, error.code);
}

ApiResponse Service::StsSuccess(const StsOutcome& outcome) {
  std::string request_id = NewRequestId();
  const IssuedCredentials& issued = outcome.credentials;
  nlohmann::ordered_json body = {
      {"RequestId", request_id},
      {"AssumedRoleUser",
       {{"Arn", outcome.assumed_role_arn},
        {"AssumedRoleId", outcome.assumed_role_id}}},
      {"Credentials",
       {{"AccessKeyId", issued.access_key_id},
        {"AccessKeySecret", issued.access_key_secret},
        {"SecurityToken", issued.security_token},
        {"Expiration", FormatIso8601(issued.expiration)}}}};
  return JsonAnswer(200, body, request_id, "Success");
}

ApiResponse Service::HandleFailSwitch(const ApiRequest& request) {
  aliyun::Params params;
  if (!RequestParams(request, &params)) {
    return MetadataService::Text(400, "BadRequest", "malformed query string");
  }
  const std::string* service = aliyun::FindParam(params, "service");
  const std::string* count_text = aliyun::FindParam(params, "count");
  if (service == nullptr || (*service != "sts" && *service != "metadata")) {
    return MetadataService::Text(400, "BadRequest",
                                 "service must be \"sts\" or \"metadata\"");
  }
  int64_t count = -1;
  if (count_text != nullptr) {
    auto [end, ec] = std::from_chars(
        count_text->data(), count_text->data() + count_text->size(), count);
    if (ec != std::errc() || end != count_text->data() + count_text->size()) {
      count = -1;
    }
  }
  if (count < 0 || count > 1'000'000) {
    return MetadataService::Text(
        400, "BadRequest", "count must be a whole number from 0 to 1000000");
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    (*service == "sts" ? failing_sts_ : failing_metadata_) = count;
  }
  nlohmann::ordered_json body = {{"service", *service}, {"count", count}};
  ApiResponse response;
  response.headers = {{"content-type", "application/json"}};
  response.body = body.dump();
  response.code = "Success";
  return response;
}

ApiResponse Service::HandleFaults(const ApiRequest& request) {
  auto answer = [](int status, std::string body, std::string content_type) {
    ApiResponse response;
    response.status = status;
    response.headers = {{"content-type", std::move(content_type)}};
    response.body = std::move(body);
    response.code = status == 200 ? "Success" : "BadRequest";
    return response;
  };
  if (request.method == "DELETE") {
    faults_.Clear();
  } else if (request.method == "POST") {
    aliyun::Params params;
    size_t question = request.target.find('?');
    if (question != std::string::npos &&
        !aliyun::ParseQueryString(
            std::string_view(request.target).substr(question + 1), &params)) {
      return answer(400, "malformed query string\n", "text/plain");
    }
    FaultError error;
    std::optional<FaultSpec> fault = ParseFault(params, &error);
    std::string refusal;
    if (!fault) {
      return answer(400, error.message + "\n", "text/plain");
    }
    if (!faults_.Add(*fault, clock_.SteadyNow(), &refusal)) {
      return answer(400, refusal + "\n", "text/plain");
    }
  } else if (request.method != "GET") {
    return answer(405, "use GET, POST or DELETE\n", "text/plain");
  }
  return answer(200, faults_.Json(), "application/json");
}

bool Service::TakeFailure(Failing which) {
  if (faults_.TakeOutage(which == Failing::kSts
                             ? FaultKind::kStsUnavailable
                             : FaultKind::kMetadataUnavailable)) {
    return true;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  int64_t& pending = which == Failing::kSts ? failing_sts_ : failing_metadata_;
  if (pending <= 0) return false;
  --pending;
  return true;
}

std::string Service::DownloadLink(const ExportSpec& spec) {
  std::string signature_bytes;
  for (int i = 0; i < 3; ++i) {
    uint64_t word = random_->NextU64();
    signature_bytes.append(reinterpret_cast<const char*>(&word), sizeof(word));
  }
  signature_bytes.resize(20);
  int64_t expires = static_cast<int64_t>(ToUnixSeconds(clock_.Now())) + 3600;
  return "https://sas-export.oss-cn-shanghai.aliyuncs.com/" +
         aliyun::PercentEncode(spec.file_name) +
         ".zip?Expires=" + std::to_string(expires) +
         "&OSSAccessKeyId=STS.sim&Signature=" +
         aliyun::PercentEncode(Base64(signature_bytes));
}

int64_t Service::CreatedMillis(const ExportSpec& spec) const {
  return static_cast<int64_t>(ToUnixSeconds(start_wall_ - spec.created_ago) *
                              1000);
}

ApiResponse Service::ListBackUpExports(const ApiRequest& request,
                                       const aliyun::Params& params) {
  const std::string* type = aliyun::FindParam(params, "ExportType");
  if (type == nullptr) {
    return Error(request,
                 {400, "MissingParameter",
                  "The input parameter \"ExportType\" that is mandatory for "
                  "processing this request is not supplied."});
  }
  // suspiciousExport: the one value the official SDK documents.
  if (*type != "suspiciousExport") {
    return Error(request, InvalidParameter("ExportType"));
  }
  int64_t page = 1;
  int64_t page_size = 20;  // the documented default
  if (const std::string* text = aliyun::FindParam(params, "CurrentPage")) {
    std::optional<int64_t> value = ParsePositive(*text);
    if (!value || *value > std::numeric_limits<int32_t>::max()) {
      return Error(request, InvalidParameter("CurrentPage"));
    }
    page = *value;
  }
  if (const std::string* text = aliyun::FindParam(params, "PageSize")) {
    std::optional<int64_t> value = ParsePositive(*text);
    if (!value || *value > kMaxPageSize) {
      return Error(request, InvalidParameter("PageSize"));
    }
    page_size = *value;
  }
  std::vector<const ExportSpec*> listed;
  for (const ExportSpec& spec : scenario_.exports) {
    if (spec.action == aliyun::ExportAction::kDescribeBackUpExportInfo) {
      listed.push_back(&spec);
    }
  }
  // Newest first.
  std::sort(
      listed.begin(), listed.end(),
      [](const ExportSpec* a, const ExportSpec* b) { return a->id > b->id; });
  Millis elapsed =
      std::chrono::duration_cast<Millis>(clock_.SteadyNow() - start_);
  nlohmann::ordered_json data = nlohmann::ordered_json::array();
  int64_t first = (page - 1) * page_size;
  for (int64_t i = first;
       i < static_cast<int64_t>(listed.size()) && i < first + page_size; ++i) {
    const ExportSpec& spec = *listed[static_cast<size_t>(i)];
    ExportState state = StateAt(spec, elapsed);
    nlohmann::ordered_json item = {{"Id", spec.id}};
    item["Status"] = WireStatus(spec.action, state.status);
    if (!spec.sparse) {
      item["Progress"] = state.progress;
      item["CurrentCount"] = state.current_count;
      item["TotalCount"] = spec.total_count;
      item["FileName"] = spec.file_name;
      item["GmtCreate"] = CreatedMillis(spec);
      item["Message"] = "success";
      if (state.status == "success") item["Link"] = DownloadLink(spec);
    }
    data.push_back(std::move(item));
  }
  std::string request_id = NewRequestId();
  size_t count = data.size();
  nlohmann::ordered_json body = {{"RequestId", request_id},
                                 {"Data", std::move(data)},
                                 {"PageInfo",
                                  {{"Count", count},
                                   {"CurrentPage", page},
                                   {"PageSize", page_size},
                                   {"TotalCount", listed.size()}}}};
  return JsonAnswer(200, body, request_id, "Success");
}

ApiResponse Service::Success(const ExportSpec& spec) {
  ExportState state = StateAt(
      spec, std::chrono::duration_cast<Millis>(clock_.SteadyNow() - start_));
  std::string link;
  if (state.status == "success") link = DownloadLink(spec);
  std::string request_id = NewRequestId();
  using aliyun::ExportAction;
  std::string status = WireStatus(spec.action, state.status);
  nlohmann::ordered_json body = {{"RequestId", request_id}};
  // Each action's body as the official Go SDK alibabacloud-go/sas-20181203
  // declares it (client/<action>_response_body_model.go).
  switch (spec.action) {
    case ExportAction::kDescribeHcExportInfo:
      body["ResultStatus"] = status;
      if (spec.sparse) break;
      AddProgressFields(spec, state, /*with_current_count=*/true, body);
      body["GmtCreate"] = CreatedMillis(spec);
      body["Link"] = link;
      break;
    case ExportAction::kDescribeSuspEventExportInfo:
      body["ExportStatus"] = status;
      if (spec.sparse) break;
      AddProgressFields(spec, state, /*with_current_count=*/false, body);
      body["Type"] = "suspiciousEvent";
      body["Link"] = link;
      break;
    case ExportAction::kDescribeReportExport: {
      // A number, as the API reference's example shows it (the SDK types it
      // as a string; the exporter reads both).
      int64_t code = 0;
      auto [end, ec] =
          std::from_chars(status.data(), status.data() + status.size(), code);
      if (ec == std::errc() && end == status.data() + status.size()) {
        body["ExportStatus"] = code;
      } else {
        body["ExportStatus"] = status;
      }
      if (spec.sparse) break;
      body["ExportId"] = spec.id;
      body["ReportId"] = 1;
      body["DownloadUrl"] = link;
      body["UrlExpiredTime"] =
          static_cast<int64_t>(ToUnixSeconds(clock_.Now()) + 3600) * 1000;
      break;
    }
    default:
      body["ExportStatus"] = status;
      if (spec.sparse) break;
      AddProgressFields(spec, state, /*with_current_count=*/true, body);
      body["Message"] = "success";
      body["Link"] = link;
      break;
  }
  return JsonAnswer(200, body, request_id, "Success");
}

bool Service::Chance(double rate) {
  if (rate <= 0.0) return false;
  if (rate >= 1.0) return true;
  return random_->NextUnit() < rate;
}

std::string Service::NewRequestId() {
  uint64_t high = random_->NextU64();
  uint64_t low = random_->NextU64();
  char buffer[40];
  std::snprintf(buffer, sizeof(buffer), "%08X-%04X-%04X-%04X-%012llX",
                static_cast<unsigned>(high >> 32),
                static_cast<unsigned>((high >> 16) & 0xffff),
                static_cast<unsigned>(high & 0xffff),
                static_cast<unsigned>(low >> 48),
                static_cast<unsigned long long>(low & 0xffffffffffffULL));
  return buffer;
}

void Service::CallStarted() {
  std::lock_guard<std::mutex> lock(mutex_);
  ++in_flight_;
  max_in_flight_ = std::max(max_in_flight_, in_flight_);
}

void Service::CallFinished() {
  std::lock_guard<std::mutex> lock(mutex_);
  --in_flight_;
}

std::string Service::StatsJson() const {
  std::lock_guard<std::mutex> lock(mutex_);
  nlohmann::ordered_json by_export = nlohmann::ordered_json::object();
  for (const auto& [id, count] : by_export_) {
    by_export[std::to_string(id)] = count;
  }
  nlohmann::ordered_json stats = {
      {"requests", requests_},
      {"by_export", by_export},
      {"by_code", by_code_},
      {"by_access_key", by_access_key_},
      {"sts",
       {{"AssumeRole", sts_assume_role_},
        {"AssumeRoleWithOIDC", sts_assume_role_with_oidc_}}},
      {"metadata",
       {{"token", metadata_token_}, {"credentials", metadata_credentials_}}},
      {"max_in_flight", max_in_flight_},
      {"in_flight", in_flight_}};
  return stats.dump();
}

std::string Service::RequestLogJson() const {
  std::lock_guard<std::mutex> lock(mutex_);
  nlohmann::ordered_json calls = nlohmann::ordered_json::array();
  for (const LoggedCall& logged : call_log_) {
    const SasCall& call = logged.call;
    calls.push_back(
        {{"action", call.action},
         {"export_id", call.export_id},
         {"rd_account_id", call.rd_account_id
                               ? nlohmann::ordered_json(*call.rd_account_id)
                               : nlohmann::ordered_json(nullptr)},
         {"access_key_id", logged.access_key_id},
         {"code", logged.code}});
  }
  nlohmann::ordered_json log = {{"calls", calls}, {"dropped", dropped_calls_}};
  return log.dump();
}

}  // namespace sas::simulator
