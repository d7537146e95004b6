#include "simulator/server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "test_requests.h"

namespace sas::simulator {
namespace {

using nlohmann::json;
using testing::kKeyId;
using testing::kKeySecret;

std::unique_ptr<Service> MakeService() {
  Scenario scenario;
  ExportSpec spec;
  spec.id = 1001;
  scenario.exports.push_back(spec);
  return std::make_unique<Service>(std::move(scenario),
                                   KeyPairs{{kKeyId, kKeySecret}}, RealClock(),
                                   std::make_unique<SeededRandom>(1));
}

httplib::Headers ToHttplib(const aliyun::Headers& headers) {
  httplib::Headers out;
  for (const auto& [name, value] : headers) out.emplace(name, value);
  return out;
}

TEST(Server, AnswersSignedRequestAndStats) {
  std::unique_ptr<Service> service = MakeService();
  Server server(*service, {});
  std::string error;
  ASSERT_TRUE(server.Start(&error)) << error;
  ASSERT_GT(server.port(), 0);
  EXPECT_EQ(server.Url(), "http://127.0.0.1:" + std::to_string(server.port()));

  aliyun::RpcCall call{
      "DescribeExportInfo", "2018-12-03", {{"ExportId", "1001"}}};
  aliyun::HttpRequest request = aliyun::BuildSignedRequest(
      call, {"http", "127.0.0.1", server.port()},
      {kKeyId, kKeySecret, "", std::nullopt}, aliyun::SignatureVersion::kV3,
      RealClock().Now(), "server-test-nonce", "simulator-test");

  httplib::Client client("127.0.0.1", server.port());
  client.set_keep_alive(true);
  httplib::Result result =
      client.Post(request.target.c_str(), ToHttplib(request.headers), "", "");
  ASSERT_TRUE(result) << httplib::to_string(result.error());
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(result->get_header_value("Content-Type"),
            "application/json;charset=utf-8");
  EXPECT_FALSE(result->get_header_value("x-acs-request-id").empty());
  json body = json::parse(result->body);
  EXPECT_EQ(body["Id"], 1001);
  EXPECT_EQ(body["Message"], "success");

  // The same nonce again, on the same keep-alive connection.
  result =
      client.Post(request.target.c_str(), ToHttplib(request.headers), "", "");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 400);
  EXPECT_EQ(json::parse(result->body)["Code"], "SignatureNonceUsed");

  result = client.Get("/_simulator/stats");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(json::parse(result->body),
            json::parse(R"({"requests": 2, "by_export": {"1001": 1},
                "by_code": {"Success": 1, "SignatureNonceUsed": 1},
                "by_access_key": {"LTAIsimulatortest": 2},
                "sts": {"AssumeRole": 0, "AssumeRoleWithOIDC": 0},
                "metadata": {"token": 0, "credentials": 0},
                "max_in_flight": 1, "in_flight": 0})"));

  // Any other path is an API call, and needs a signature.
  result = client.Get("/anything?ExportId=1001");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 400);
  EXPECT_EQ(json::parse(result->body)["Code"], "IncompleteSignature");

  // The keep-alive connection is still open: stopping must not wait for it
  // to time out (30 s).
  auto before = std::chrono::steady_clock::now();
  server.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::seconds(5));
}

TEST(Server, CountsConcurrentCallsAndAppliesLatency) {
  Scenario scenario;
  ExportSpec spec;
  spec.id = 7;
  spec.latency = std::chrono::milliseconds(300);
  scenario.exports.push_back(spec);
  Service service(std::move(scenario), KeyPairs{{kKeyId, kKeySecret}},
                  RealClock(), std::make_unique<SeededRandom>(1));
  Server server(service, {});
  std::string error;
  ASSERT_TRUE(server.Start(&error)) << error;

  constexpr int kClients = 4;
  std::vector<std::thread> clients;
  std::vector<int> statuses(kClients);
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] {
      aliyun::HttpRequest request = aliyun::BuildSignedRequest(
          {"DescribeExportInfo", "2018-12-03", {{"ExportId", "7"}}},
          {"http", "127.0.0.1", server.port()},
          {kKeyId, kKeySecret, "", std::nullopt}, aliyun::SignatureVersion::kV3,
          RealClock().Now(), "concurrent-" + std::to_string(i),
          "simulator-test");
      httplib::Client client("127.0.0.1", server.port());
      httplib::Result result = client.Post(request.target.c_str(),
                                           ToHttplib(request.headers), "", "");
      statuses[i] = result ? result->status : -1;
    });
  }
  for (std::thread& client : clients) client.join();
  EXPECT_GE(std::chrono::steady_clock::now() - start,
            std::chrono::milliseconds(300));
  EXPECT_THAT(statuses, ::testing::Each(200));
  json stats = json::parse(service.StatsJson());
  EXPECT_EQ(stats["requests"], kClients);
  EXPECT_GE(stats["max_in_flight"], 2);  // 4 calls of 300 ms overlap
  EXPECT_LE(stats["max_in_flight"], kClients);
  EXPECT_EQ(stats["in_flight"], 0);
}

TEST(Server, CredentialServicesShareThePort) {
  std::string error;
  std::optional<Scenario> scenario = ParseScenario(R"(
[[role]]
arn = "acs:ram::1234567890123456:role/sas-reader"
trusted_principals = ["LTAIsimulatortest"]
oidc_provider_arn = "acs:ram::1234567890123456:oidc-provider/ack-rrsa"
oidc_tokens = ["eyJ.oidc.token"]

[metadata]
role_name = "EcsSasReader"
role_arn = "acs:ram::1234567890123456:role/sas-reader"
require_token = true

[[export]]
id = 1001
)",
                                                   "server.toml", &error);
  ASSERT_TRUE(scenario.has_value()) << error;
  Service service(std::move(*scenario), KeyPairs{{kKeyId, kKeySecret}},
                  RealClock(), std::make_unique<SeededRandom>(1));
  Server server(service, {});
  ASSERT_TRUE(server.Start(&error)) << error;
  httplib::Client client("127.0.0.1", server.port());
  aliyun::Endpoint endpoint{"http", "127.0.0.1", server.port()};

  // AssumeRole, V1-signed, parameters in the query.
  aliyun::HttpRequest assume = aliyun::BuildSignedRequest(
      {"AssumeRole",
       "2015-04-01",
       {{"RoleArn", "acs:ram::1234567890123456:role/sas-reader"},
        {"RoleSessionName", "server-test"}}},
      endpoint, {kKeyId, kKeySecret, "", std::nullopt},
      aliyun::SignatureVersion::kV1, RealClock().Now(), "assume-1",
      "simulator-test");
  httplib::Result result =
      client.Post(assume.target.c_str(), ToHttplib(assume.headers), "", "");
  ASSERT_TRUE(result);
  ASSERT_EQ(result->status, 200) << result->body;
  json issued = json::parse(result->body)["Credentials"];

  // The issued credentials on DescribeExportInfo, V3 with
  // x-acs-security-token.
  aliyun::Credentials temporary{issued["AccessKeyId"],
                                issued["AccessKeySecret"],
                                issued["SecurityToken"], std::nullopt};
  aliyun::HttpRequest describe = aliyun::BuildSignedRequest(
      {"DescribeExportInfo", "2018-12-03", {{"ExportId", "1001"}}}, endpoint,
      temporary, aliyun::SignatureVersion::kV3, RealClock().Now(), "d-1",
      "simulator-test");
  result =
      client.Post(describe.target.c_str(), ToHttplib(describe.headers), "", "");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 200) << result->body;

  // AssumeRoleWithOIDC, unsigned, parameters in a form body.
  result = client.Post("/",
                       "Action=AssumeRoleWithOIDC&Version=2015-04-01&RoleArn="
                       "acs%3Aram%3A%3A1234567890123456%3Arole%2Fsas-reader&"
                       "OIDCProviderArn=acs%3Aram%3A%3A1234567890123456%3Aoidc-"
                       "provider%2Fack-rrsa&OIDCToken=eyJ.oidc.token&"
                       "RoleSessionName=oidc-session",
                       "application/x-www-form-urlencoded");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 200) << result->body;

  // The metadata service: IMDSv2 only.
  result = client.Get("/latest/meta-data/ram/security-credentials/");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 403);
  result = client.Put("/latest/api/token",
                      {{"X-aliyun-ecs-metadata-token-ttl-seconds", "21600"}},
                      "", "text/plain");
  ASSERT_TRUE(result);
  ASSERT_EQ(result->status, 200);
  std::string token = result->body;
  result = client.Get("/latest/meta-data/ram/security-credentials/",
                      {{"X-aliyun-ecs-metadata-token", token}});
  ASSERT_TRUE(result);
  EXPECT_EQ(result->body, "EcsSasReader");
  result = client.Get("/latest/meta-data/ram/security-credentials/EcsSasReader",
                      {{"X-aliyun-ecs-metadata-token", token}});
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(json::parse(result->body)["Code"], "Success");

  // The failure switch, itself not counted.
  result = client.Get("/_simulator/fail?service=sts&count=1");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(json::parse(result->body),
            json::parse(R"({"service": "sts", "count": 1})"));
  result = client.Get("/_simulator/fail?service=nope&count=1");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 400);
  assume = aliyun::BuildSignedRequest(
      {"AssumeRole",
       "2015-04-01",
       {{"RoleArn", "acs:ram::1234567890123456:role/sas-reader"},
        {"RoleSessionName", "server-test"}}},
      endpoint, {kKeyId, kKeySecret, "", std::nullopt},
      aliyun::SignatureVersion::kV1, RealClock().Now(), "assume-2",
      "simulator-test");
  result =
      client.Post(assume.target.c_str(), ToHttplib(assume.headers), "", "");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 503);
  EXPECT_EQ(json::parse(result->body)["Code"], "ServiceUnavailable");

  json stats = json::parse(service.StatsJson());
  EXPECT_EQ(stats["requests"], 8);
  EXPECT_EQ(stats["sts"], json::parse(R"({"AssumeRole": 2,
      "AssumeRoleWithOIDC": 1})"));
  EXPECT_EQ(stats["metadata"], json::parse(R"({"token": 1,
      "credentials": 3})"));
  EXPECT_EQ(stats["by_code"], json::parse(R"({"Success": 6, "Forbidden": 1,
      "ServiceUnavailable": 1})"));
}

TEST(Server, FailsOnBadTlsFiles) {
  std::unique_ptr<Service> service = MakeService();
  ServerOptions options;
  options.tls_cert_file = "/nonexistent/cert.pem";
  options.tls_key_file = "/nonexistent/key.pem";
  Server server(*service, options);
  std::string error;
  EXPECT_FALSE(server.Start(&error));
  EXPECT_THAT(error, ::testing::HasSubstr("/nonexistent/cert.pem"));
}

}  // namespace
}  // namespace sas::simulator
