// --web.config.file on the real exporter process: TLS and basic auth from
// the start, rotation of the certificate and of a user while it serves, a
// broken file at run time, and a bad file at start.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/harness.h"
#include "support/test_pki.h"

namespace sas::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// No task: these tests are about the listener, not the polls.
constexpr const char* kExporterConfig =
    "[[account]]\nname = \"a\"\nendpoint = \"http://127.0.0.1:9\"\n"
    "[account.credentials]\naccess_key_id = \"AKID\"\n"
    "access_key_secret = \"SECRET\"\n";

// A bcrypt hash made by htpasswd -B, as an operator makes one.
std::string Htpasswd(const std::string& password) {
  Process htpasswd({"/usr/bin/htpasswd", "-nbBC", "5", "prometheus", password});
  EXPECT_EQ(htpasswd.Wait(), 0) << htpasswd.output();
  std::string line = htpasswd.stdout_text();
  std::string hash = line.substr(line.find(':') + 1);
  hash.erase(hash.find_last_not_of("\r\n") + 1);
  return hash;
}

class WebConfigProcess : public ::testing::Test {
 protected:
  WebConfigProcess() : ca_(dir_.path(), "Exporter CA") {
    ca_.Issue("server", "exporter-a", 501, true);
    client_ = ca_.Issue("client", "prometheus", 601, false);
  }

  std::string WriteConfig(const std::string& password) {
    return dir_.Write(
        "web.yml",
        "tls_server_config:\n"
        "  cert_file: server.pem\n"
        "  key_file: server.key\n"
        "  client_auth_type: RequireAndVerifyClientCert\n"
        "  client_ca_file: ca.pem\n"
        "http_server_config:\n  headers:\n    X-Content-Type-Options: "
        "nosniff\n"
        "basic_auth_users:\n  prometheus: " +
            Htpasswd(password) + "\n");
  }

  TlsAnswer Get(const std::string& path, const std::string& password,
                bool with_client_cert = true) const {
    TlsRequest request;
    request.path = path;
    request.ca_file = ca_.cert();
    if (with_client_cert) {
      request.client_cert = client_.cert;
      request.client_key = client_.key;
    }
    if (!password.empty()) {
      request.headers["Authorization"] =
          BasicAuthorization("prometheus", password);
    }
    return TlsGet(exporter_->port(), request);
  }

  void StartExporter(const std::string& web_config) {
    exporter_ = std::make_unique<Exporter>(
        kExporterConfig, std::vector<std::string>{},
        std::vector<std::string>{"--web.config.file", web_config,
                                 "--storage.path", dir_.path() + "/data"});
  }

  TempDir dir_;
  TestCertificateAuthority ca_;
  IssuedCertificate client_;
  std::unique_ptr<Exporter> exporter_;
};

TEST_F(WebConfigProcess, MutualTlsAndBasicAuthGuardEverything) {
  StartExporter(WriteConfig("first-pass"));
  TlsAnswer metrics = Get("/metrics", "first-pass");
  ASSERT_EQ(metrics.status, 200) << metrics.error;
  EXPECT_THAT(metrics.body, HasSubstr("aliyun_sas_exporter_build_info"));
  EXPECT_THAT(metrics.head, HasSubstr("X-Content-Type-Options: nosniff"));
  EXPECT_EQ(metrics.server_serial, "01F5");  // 501

  for (const char* path : {"/metrics", "/", "/-/healthy", "/-/ready"}) {
    SCOPED_TRACE(path);
    EXPECT_EQ(Get(path, "").status, 401);
    EXPECT_EQ(Get(path, "wrong").status, 401);
    EXPECT_EQ(Get(path, "first-pass", false).status, 0)
        << "no client certificate, no answer";
  }
  // Plain HTTP gets nothing from a TLS listener.
  EXPECT_EQ(exporter_->Get("/-/healthy").first, 0);
  EXPECT_THAT(exporter_->process().output(), Not(HasSubstr("first-pass")));
}

TEST_F(WebConfigProcess, CertificateAndUserRotateWhileServing) {
  std::string web_config = WriteConfig("first-pass");
  StartExporter(web_config);
  ASSERT_EQ(Get("/-/healthy", "first-pass").status, 200);

  ca_.Issue("server", "exporter-b", 502, true);
  EXPECT_TRUE(WaitUntil(
      [&] { return Get("/-/healthy", "first-pass").server_serial == "01F6"; }));
  EXPECT_EQ(Get("/-/healthy", "first-pass").server_subject, "/CN=exporter-b");

  WriteConfig("second-pass");
  EXPECT_TRUE(WaitUntil(
      [&] { return Get("/-/healthy", "second-pass").status == 200; }));
  EXPECT_EQ(Get("/-/healthy", "first-pass").status, 401);

  // A broken file keeps the last good one, and says so in the log.
  dir_.Write("web.yml", "tls_server_config:\n  cert_file: [\n");
  ASSERT_TRUE(exporter_->process().WaitForOutput(
      "Web config not reloaded; the previous one stays in force"));
  EXPECT_EQ(Get("/-/healthy", "second-pass").status, 200);
  std::string log = exporter_->process().output();
  EXPECT_THAT(log, HasSubstr(web_config));
  EXPECT_THAT(log, Not(HasSubstr("second-pass")));
  EXPECT_THAT(log, Not(HasSubstr("$2y$")));
  EXPECT_THAT(log, Not(HasSubstr("PRIVATE KEY")));
}

// `--healthcheck --web.config.file` against the mutual-TLS, basic-auth
// listener: over https, presenting the listener's own certificate, and a
// 401 is an answer, so healthy.
TEST_F(WebConfigProcess, HealthcheckSpeaksTheWebConfigsTlsAndAcceptsA401) {
  std::string web_config = WriteConfig("first-pass");
  auto healthcheck = [&](std::vector<std::string> extra) {
    std::vector<std::string> argv = {
        ExporterBinary(), "--healthcheck", "--web.listen-address",
        "127.0.0.1:" + std::to_string(exporter_->port())};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return std::make_unique<Process>(argv);
  };
  // The server certificate may authenticate a client too: accepted.
  ca_.IssueServerAndClient("server", "exporter-a", 503);
  StartExporter(web_config);
  auto healthy = healthcheck({"--web.config.file", web_config});
  EXPECT_EQ(healthy->Wait(), 0) << healthy->output();
  EXPECT_THAT(healthy->output(), HasSubstr("GET https://127.0.0.1:" +
                                           std::to_string(exporter_->port()) +
                                           "/-/healthy: 401 (up; basic auth"));

  // Plain HTTP against the TLS listener: no answer.
  auto plain = healthcheck({});
  EXPECT_EQ(plain->Wait(), 1);
  EXPECT_THAT(plain->output(), HasSubstr("GET http://127.0.0.1:"));

  // A server-only certificate cannot be a client certificate: the message
  // says why the probe failed.
  ca_.Issue("server", "exporter-b", 504, true);
  ASSERT_TRUE(WaitUntil(
      [&] { return Get("/-/healthy", "first-pass").server_serial == "01F8"; }));
  auto refused = healthcheck({"--web.config.file", web_config});
  EXPECT_EQ(refused->Wait(), 1);
  EXPECT_THAT(refused->output(),
              HasSubstr("the listener requires a client certificate"));
  EXPECT_THAT(refused->output(), Not(HasSubstr("PRIVATE KEY")));

  // A broken web config: exit 1, naming the file.
  std::string broken = dir_.Write("broken.yml", "basic_auth_users: [\n");
  auto bad = healthcheck({"--web.config.file", broken});
  EXPECT_EQ(bad->Wait(), 1);
  EXPECT_THAT(bad->output(),
              HasSubstr("aliyun_sas_exporter: --web.config.file: " + broken));
}

TEST_F(WebConfigProcess, ABadFileAtStartExitsOneNamingFileAndProblem) {
  std::string web_config =
      dir_.Write("web.yml",
                 "tls_server_config:\n  cert_file: server.pem\n"
                 "  key_file: server.key\n  min_version: TLS111\n");
  Process exporter({ExporterBinary(), "--config.file",
                    dir_.Write("exporter.toml", kExporterConfig),
                    "--web.listen-address", "127.0.0.1:0", "--web.config.file",
                    web_config});
  EXPECT_EQ(exporter.Wait(), 1);
  EXPECT_THAT(
      exporter.output(),
      HasSubstr("aliyun_sas_exporter: --web.config.file: " + web_config +
                ":4:16: tls_server_config.min_version: unknown value "
                "\"TLS111\""));
  EXPECT_THAT(exporter.output(), Not(HasSubstr("Listening")));

  Process missing({ExporterBinary(), "--config.file",
                   dir_.Write("exporter.toml", kExporterConfig),
                   "--web.listen-address", "127.0.0.1:0", "--web.config.file",
                   dir_.path() + "/absent.yml"});
  EXPECT_EQ(missing.Wait(), 1);
  EXPECT_THAT(missing.output(), HasSubstr("absent.yml: cannot read the web "
                                          "config: No such file or directory"));
}

}  // namespace
}  // namespace sas::testing
