#include "simulator/server.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "support/wait.h"
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

size_t ContentLength(const std::string& bytes) {
  size_t at = bytes.find("Content-Length: ");
  return at == std::string::npos ? 0 : std::stoul(bytes.substr(at + 16));
}

size_t BodySize(const std::string& bytes) {
  size_t at = bytes.find("\r\n\r\n");
  return at == std::string::npos ? 0 : bytes.size() - at - 4;
}

// The bytes a signed DescribeExportInfo for `export_id` gets on a fresh
// connection, read until a whole answer is in or the server closes (end =
// 0) or resets it (end =
// ECONNRESET); end = ETIMEDOUT when nothing ends it within `within`.
struct RawExchange {
  std::string bytes;
  int end = 0;
};
RawExchange RawCall(int port, int64_t export_id,
                    std::chrono::milliseconds within) {
  aliyun::HttpRequest request = aliyun::BuildSignedRequest(
      {"DescribeExportInfo",
       "2018-12-03",
       {{"ExportId", std::to_string(export_id)}}},
      {"http", "127.0.0.1", port}, {kKeyId, kKeySecret, "", std::nullopt},
      aliyun::SignatureVersion::kV3, RealClock().Now(),
      "raw-" +
          std::to_string(RealClock().SteadyNow().time_since_epoch().count()),
      "simulator-test");
  std::string wire = "POST " + request.target + " HTTP/1.1\r\n";
  for (const auto& [name, value] : request.headers) {
    wire += name + ": " + value + "\r\n";
  }
  wire += "Content-Length: 0\r\n\r\n";
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  RawExchange exchange;
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) !=
          0 ||
      send(fd, wire.data(), wire.size(), MSG_NOSIGNAL) !=
          static_cast<ssize_t>(wire.size())) {
    exchange.end = errno;
    close(fd);
    return exchange;
  }
  auto deadline = std::chrono::steady_clock::now() + within;
  exchange.end = ETIMEDOUT;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd ready{fd, POLLIN, 0};
    if (poll(&ready, 1, 10) <= 0) continue;
    char buffer[4096];
    ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    if (n > 0) {
      exchange.bytes.append(buffer, static_cast<size_t>(n));
      if (ContentLength(exchange.bytes) > 0 &&
          BodySize(exchange.bytes) == ContentLength(exchange.bytes)) {
        exchange.end = 0;  // a whole answer; the connection stays open
        break;
      }
      continue;
    }
    exchange.end = n == 0 ? 0 : errno;
    break;
  }
  close(fd);
  return exchange;
}

TEST(Server, FaultsBreakAnswersOnTheWire) {
  std::unique_ptr<Service> service = MakeService();
  Server server(*service, {});
  std::string error;
  ASSERT_TRUE(server.Start(&error)) << error;
  auto add = [&](std::vector<std::pair<std::string, std::string>> fields) {
    FaultError refusal;
    std::optional<FaultSpec> fault = ParseFault(fields, &refusal);
    ASSERT_TRUE(fault) << refusal.message;
    ASSERT_TRUE(service->faults().Add(*fault, RealClock().SteadyNow(), &error));
  };

  // Truncated: the whole body's Content-Length, half of it, then FIN.
  add({{"kind", "truncate"}, {"export_id", "1001"}, {"count", "1"}});
  RawExchange truncated = RawCall(server.port(), 1001, std::chrono::seconds(5));
  EXPECT_EQ(truncated.end, 0) << truncated.bytes;
  EXPECT_THAT(truncated.bytes, ::testing::StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_GT(ContentLength(truncated.bytes), 0u);
  EXPECT_EQ(BodySize(truncated.bytes), ContentLength(truncated.bytes) / 2);

  // Reset: the same, then RST.
  add({{"kind", "reset"}, {"export_id", "1001"}, {"count", "1"}});
  RawExchange reset = RawCall(server.port(), 1001, std::chrono::seconds(5));
  EXPECT_EQ(reset.end, ECONNRESET) << reset.bytes;
  EXPECT_LT(BodySize(reset.bytes), ContentLength(reset.bytes));

  // Spent: whole answers again.
  RawExchange whole = RawCall(server.port(), 1001, std::chrono::seconds(5));
  EXPECT_EQ(BodySize(whole.bytes), ContentLength(whole.bytes));
  EXPECT_GT(ContentLength(whole.bytes), 0u);

  // Stalled: connected, never answered, until the stall ends.
  add({{"kind", "stall"}, {"duration", "600ms"}});
  RawExchange stalled =
      RawCall(server.port(), 1001, std::chrono::milliseconds(300));
  EXPECT_EQ(stalled.end, ETIMEDOUT);
  EXPECT_EQ(stalled.bytes, "");
  RawExchange later = RawCall(server.port(), 1001, std::chrono::seconds(5));
  EXPECT_THAT(later.bytes, ::testing::StartsWith("HTTP/1.1 200 OK\r\n"));

  // The stalled call is answered (to nobody) once the stall ends, by its
  // own thread, which may count it after `later` was answered.
  EXPECT_TRUE(sas::testing::WaitUntil([&] {
    return json::parse(service->StatsJson())["by_export"]["1001"] == 5;
  })) << service->StatsJson();
  json stats = json::parse(service->StatsJson());
  EXPECT_EQ(stats["by_code"]["Truncated"], 1);
  EXPECT_EQ(stats["by_code"]["Reset"], 1);
}

TEST(Server, FaultControlEndpoint) {
  std::unique_ptr<Service> service = MakeService();
  Server server(*service, {});
  std::string error;
  ASSERT_TRUE(server.Start(&error)) << error;
  httplib::Client client("127.0.0.1", server.port());
  httplib::Result added = client.Post(
      "/_simulator/faults?kind=error&export_id=1001&count=2&status=500", "",
      "text/plain");
  ASSERT_TRUE(added);
  EXPECT_EQ(added->status, 200) << added->body;
  EXPECT_EQ(json::parse(added->body)["faults"][0]["count_left"], 2);
  httplib::Result bad =
      client.Post("/_simulator/faults?kind=error&count=many", "", "text/plain");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_THAT(bad->body, ::testing::HasSubstr("\"count\" must be"));
  httplib::Result listed = client.Get("/_simulator/faults");
  ASSERT_TRUE(listed);
  EXPECT_EQ(json::parse(listed->body)["faults"].size(), 1u);
  EXPECT_EQ(json::parse(listed->body)["faults"][0]["kind"], "error");
  httplib::Result cleared = client.Delete("/_simulator/faults");
  ASSERT_TRUE(cleared);
  EXPECT_EQ(cleared->body, "{\"faults\":[]}");
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
