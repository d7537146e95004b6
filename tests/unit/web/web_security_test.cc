// --web.config.file on the real epoll server over loopback: TLS with a CA
// made here by the openssl tool, client certificates, basic auth on every
// path, and rotation of certificates and users through the watcher.

#include "web/web_security.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include "support/harness.h"
#include "support/raw_http_client.h"
#include "support/test_pki.h"
#include "web/server.h"

namespace sas::web {
namespace {

using testing::BasicAuthorization;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::TlsAnswer;
using testing::TlsGet;
using testing::TlsRequest;

class WebSecurityTest : public ::testing::Test {
 protected:
  WebSecurityTest()
      : ca_(dir_.path(), "Test CA"),
        server_cert_(ca_.Issue("server", "exporter-one", 1001, true)) {
    std::string rogue_dir = dir_.path() + "/rogue";
    std::filesystem::create_directory(rogue_dir);
    rogue_ca_ = std::make_unique<testing::TestCertificateAuthority>(rogue_dir,
                                                                    "Rogue CA");
  }

  void TearDown() override {
    if (server_) server_->Stop();
  }

  std::string Tls(const std::string& extra = "") const {
    return "tls_server_config:\n  cert_file: server.pem\n  key_file: "
           "server.key\n" +
           extra;
  }

  void WriteConfig(const std::string& yaml) {
    config_path_ = dir_.Write("web.yml", yaml);
  }

  // Starts a WebServer on the web config written last.
  void Start() {
    std::string error;
    watcher_ =
        WebConfigWatcher::Create(LocalFileSystem(), config_path_, &error);
    ASSERT_TRUE(watcher_) << error;
    WebOptions options;
    options.listen_addresses = {"127.0.0.1:0"};
    options.security = [this] { return watcher_->Current(); };
    WebHandlers handlers;
    handlers.metrics = [](bool) { return TextPage("up 1\n"); };
    handlers.ready = [] { return true; };
    handlers.task_api = [](const ApiCall&) { return ApiReply{200, "[]"}; };
    server_ = std::make_unique<WebServer>(options, handlers);
    ASSERT_TRUE(server_->Start(&error)) << error;
    const std::string& address = server_->bound_addresses().at(0);
    port_ = std::stoi(address.substr(address.rfind(':') + 1));
  }

  TlsAnswer Get(const std::string& path,
                const std::map<std::string, std::string>& headers = {},
                const testing::IssuedCertificate* client = nullptr) const {
    TlsRequest request;
    request.path = path;
    request.ca_file = ca_.cert();
    request.headers = headers;
    if (client != nullptr) {
      request.client_cert = client->cert;
      request.client_key = client->key;
    }
    return TlsGet(port_, request);
  }

  testing::TempDir dir_;
  testing::TestCertificateAuthority ca_;
  std::unique_ptr<testing::TestCertificateAuthority> rogue_ca_;
  testing::IssuedCertificate server_cert_;
  std::string config_path_;
  std::unique_ptr<WebConfigWatcher> watcher_;
  std::unique_ptr<WebServer> server_;
  int port_ = 0;
};

TEST_F(WebSecurityTest, ServesTlsWithTheConfiguredCertificate) {
  WriteConfig(Tls());
  Start();
  TlsAnswer answer = Get("/metrics");
  ASSERT_EQ(answer.status, 200) << answer.error;
  EXPECT_EQ(answer.body, "up 1\n");
  EXPECT_EQ(answer.server_subject, "/CN=exporter-one");
  EXPECT_EQ(answer.server_serial, "03E9");  // 1001
  // Plain HTTP on the TLS port gets no HTTP answer.
  testing::RawHttpClient plain(port_);
  ASSERT_TRUE(plain.Send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(plain.Read(std::chrono::milliseconds(3'000)).status, 0);
  EXPECT_GE(server_->Stats().tls_handshake_errors, 1u);
}

TEST_F(WebSecurityTest, RequireAndVerifyClientCertAdmitsOnlyTheCasClients) {
  WriteConfig(
      Tls("  client_auth_type: RequireAndVerifyClientCert\n"
          "  client_ca_file: ca.pem\n"));
  Start();
  testing::IssuedCertificate client =
      ca_.Issue("client", "prometheus", 2001, false);
  testing::IssuedCertificate stranger =
      rogue_ca_->Issue("stranger", "prometheus", 2002, false);
  TlsAnswer without = Get("/metrics");
  EXPECT_EQ(without.status, 0);
  EXPECT_THAT(without.error, Not(::testing::IsEmpty()));
  EXPECT_EQ(Get("/metrics", {}, &stranger).status, 0);
  TlsAnswer with = Get("/metrics", {}, &client);
  EXPECT_EQ(with.status, 200) << with.error;
}

TEST_F(WebSecurityTest, ClientAuthTypesFollowGo) {
  testing::IssuedCertificate client =
      ca_.Issue("client", "prometheus", 2001, false);
  testing::IssuedCertificate stranger =
      rogue_ca_->Issue("stranger", "prometheus", 2002, false);
  struct Case {
    const char* type;
    bool without_ok, stranger_ok, client_ok;
  };
  for (const Case& c : {Case{"RequestClientCert", true, true, true},
                        Case{"RequireAnyClientCert", false, true, true},
                        Case{"VerifyClientCertIfGiven", true, false, true}}) {
    SCOPED_TRACE(c.type);
    WriteConfig(Tls("  client_auth_type: " + std::string(c.type) +
                    "\n  client_ca_file: ca.pem\n"));
    Start();
    EXPECT_EQ(Get("/-/healthy").status == 200, c.without_ok);
    EXPECT_EQ(Get("/-/healthy", {}, &stranger).status == 200, c.stranger_ok);
    EXPECT_EQ(Get("/-/healthy", {}, &client).status == 200, c.client_ok);
    server_->Stop();
  }
}

TEST_F(WebSecurityTest, EveryPathNeedsAUserAndGetsTheHeaders) {
  const std::string hash = BcryptHash("right", 4);
  WriteConfig(Tls() +
              "http_server_config:\n  headers:\n"
              "    X-Frame-Options: deny\n"
              "    Strict-Transport-Security: max-age=600\n"
              "basic_auth_users:\n  alice: " +
              hash + "\n");
  Start();
  const std::map<std::string, std::string> right = {
      {"Authorization", BasicAuthorization("alice", "right")}};
  for (const char* path : {"/metrics", "/", "/-/healthy", "/-/ready",
                           "/api/v1/tasks", "/no/such/page"}) {
    SCOPED_TRACE(path);
    for (const auto& headers : std::vector<std::map<std::string, std::string>>{
             {},
             {{"Authorization", BasicAuthorization("alice", "wrong")}},
             {{"Authorization", BasicAuthorization("mallory", "right")}},
             {{"Authorization", "Bearer right"}}}) {
      TlsAnswer refused = Get(path, headers);
      EXPECT_EQ(refused.status, 401) << refused.error;
      EXPECT_THAT(refused.head, HasSubstr("\r\nWWW-Authenticate: Basic\r\n"));
      EXPECT_THAT(refused.head, HasSubstr("\r\nX-Frame-Options: deny\r\n"));
      EXPECT_THAT(refused.body, Not(HasSubstr("up 1")));
    }
    TlsAnswer allowed = Get(path, right);
    EXPECT_NE(allowed.status, 401);
    EXPECT_NE(allowed.status, 0) << allowed.error;
    EXPECT_THAT(allowed.head,
                HasSubstr("\r\nStrict-Transport-Security: max-age=600\r\n"));
  }
  EXPECT_EQ(Get("/metrics", right).body, "up 1\n");
}

TEST_F(WebSecurityTest, BcryptRunsOffTheEventLoop) {
  // Cost 11: a wrong password takes a few hundred milliseconds.
  WriteConfig(Tls() + "basic_auth_users:\n  alice: " + BcryptHash("right", 4) +
              "\n  slow: " + BcryptHash("slow", 11) + "\n");
  Start();
  const std::map<std::string, std::string> right = {
      {"Authorization", BasicAuthorization("alice", "right")}};
  ASSERT_EQ(Get("/-/healthy", right).status, 200);  // now cached
  std::atomic<bool> slow_done{false};
  std::thread slow([&] {
    EXPECT_EQ(Get("/-/healthy",
                  {{"Authorization", BasicAuthorization("slow", "wrong")}})
                  .status,
              401);
    slow_done = true;
  });
  // While bcrypt runs for the slow user, health checks keep being
  // answered at once.
  int answered_meanwhile = 0;
  while (!slow_done && answered_meanwhile < 3) {
    TlsAnswer answer = Get("/-/healthy", right);
    EXPECT_EQ(answer.status, 200);
    if (!slow_done) ++answered_meanwhile;
  }
  slow.join();
  EXPECT_GE(answered_meanwhile, 1);
}

TEST_F(WebSecurityTest, CertificatesAndUsersRotateWithoutARestart) {
  WriteConfig(Tls() + "basic_auth_users:\n  alice: " + BcryptHash("old", 4) +
              "\n");
  Start();
  auto as = [](const std::string& password) {
    return std::map<std::string, std::string>{
        {"Authorization", BasicAuthorization("alice", password)}};
  };
  ASSERT_EQ(Get("/metrics", as("old")).server_serial, "03E9");
  EXPECT_FALSE(watcher_->CheckOnce());  // nothing changed

  ca_.Issue("server", "exporter-two", 1002, true);  // same files, new content
  EXPECT_TRUE(watcher_->CheckOnce());
  TlsAnswer renewed = Get("/metrics", as("old"));
  EXPECT_EQ(renewed.status, 200) << renewed.error;
  EXPECT_EQ(renewed.server_serial, "03EA");
  EXPECT_EQ(renewed.server_subject, "/CN=exporter-two");

  WriteConfig(Tls() + "basic_auth_users:\n  alice: " + BcryptHash("new", 4) +
              "\n");
  EXPECT_TRUE(watcher_->CheckOnce());
  EXPECT_EQ(Get("/metrics", as("new")).status, 200);
  EXPECT_EQ(Get("/metrics", as("old")).status, 401);

  // A broken file keeps the last good configuration in force.
  WriteConfig(Tls() + "basic_auth_users:\n  alice: [\n");
  EXPECT_FALSE(watcher_->CheckOnce());
  EXPECT_EQ(Get("/metrics", as("new")).status, 200);
  // So does a broken certificate, and turning TLS off.
  WriteConfig(Tls() + "basic_auth_users:\n  alice: " + BcryptHash("new", 4) +
              "\n");
  dir_.Write("server.key", "not a key\n");
  EXPECT_FALSE(watcher_->CheckOnce());
  WriteConfig("basic_auth_users: {}\n");
  EXPECT_FALSE(watcher_->CheckOnce());
  TlsAnswer kept = Get("/metrics", as("new"));
  EXPECT_EQ(kept.status, 200) << kept.error;
  EXPECT_EQ(kept.server_serial, "03EA");
}

TEST_F(WebSecurityTest, AStartWithABadFileNamesTheFileAndTheProblem) {
  WriteConfig(Tls());
  dir_.Write("server.key", "-----BEGIN PRIVATE KEY-----\nAAAA\n");
  std::string error;
  EXPECT_FALSE(
      WebConfigWatcher::Create(LocalFileSystem(), config_path_, &error));
  EXPECT_EQ(error, config_path_ + ": key_file " + dir_.path() +
                       "/server.key: no unencrypted PEM private key in it");

  ca_.Issue("other", "x", 5, true);
  WriteConfig(
      "tls_server_config:\n  cert_file: server.pem\n  key_file: "
      "other.key\n");
  EXPECT_FALSE(
      WebConfigWatcher::Create(LocalFileSystem(), config_path_, &error));
  EXPECT_THAT(error, HasSubstr("is not the private key of the certificate in "
                               "cert_file " +
                               dir_.path() + "/server.pem"));

  EXPECT_FALSE(WebConfigWatcher::Create(LocalFileSystem(),
                                        dir_.path() + "/absent.yml", &error));
  EXPECT_EQ(error, dir_.path() +
                       "/absent.yml: cannot read the web config: No such "
                       "file or directory");
}

}  // namespace
}  // namespace sas::web
