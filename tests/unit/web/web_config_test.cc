#include "web/web_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/harness.h"
#include "support/test_pki.h"
#include "web/web_security.h"

namespace sas::web {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;

// A well-formed bcrypt hash (cost 4) of "secret".
constexpr const char* kHash =
    "$2y$04$ZSCCzrq461/52Hvnv29ZWuxGm.p9nXqpqWBGIir5PFkPL2T1H9Qsa";

std::string ParseError(const std::string& yaml) {
  WebConfig config;
  std::string error;
  EXPECT_FALSE(ParseWebConfig(yaml, "/etc/web.yml", &config, &error)) << yaml;
  return error;
}

WebConfig Parse(const std::string& yaml) {
  WebConfig config;
  std::string error;
  EXPECT_TRUE(ParseWebConfig(yaml, "/etc/web.yml", &config, &error)) << error;
  return config;
}

TEST(WebConfig, EmptyFileMeansPlainHttpWithoutUsers) {
  for (const char* text : {"", "# nothing\n", "tls_server_config: {}\n",
                           "tls_server_config:\n  min_version: TLS13\n"}) {
    WebConfig config = Parse(text);
    EXPECT_FALSE(config.tls_enabled) << text;
    EXPECT_TRUE(config.users.empty());
    EXPECT_TRUE(config.headers.empty());
  }
}

TEST(WebConfig, ReadsEveryToolkitField) {
  WebConfig config = Parse(std::string(R"(
tls_server_config:
  cert_file: server.crt
  key_file: /abs/server.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: ca/clients.pem
  min_version: TLS13
  max_version: TLS13
  cipher_suites:
    - TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
    - TLS_AES_256_GCM_SHA384
    - TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
  prefer_server_cipher_suites: false
  curve_preferences: [X25519, CurveP256]
http_server_config:
  http2: false
  headers:
    X-Frame-Options: deny
    Strict-Transport-Security: max-age=31536000
basic_auth_users:
  alice: )") + kHash + "\n");
  EXPECT_TRUE(config.tls_enabled);
  const TlsServerConfig& tls = config.tls;
  EXPECT_EQ(tls.cert_file, "/etc/server.crt");  // relative to the file
  EXPECT_EQ(tls.key_file, "/abs/server.key");
  EXPECT_EQ(tls.client_ca_file, "/etc/ca/clients.pem");
  EXPECT_EQ(tls.client_auth, ClientAuth::kRequireAndVerifyClientCert);
  EXPECT_EQ(tls.min_version, TlsVersion::kTls13);
  EXPECT_THAT(tls.tls12_ciphers, ElementsAre("ECDHE-RSA-AES128-GCM-SHA256",
                                             "ECDHE-ECDSA-CHACHA20-POLY1305"));
  EXPECT_THAT(tls.tls13_ciphers, ElementsAre("TLS_AES_256_GCM_SHA384"));
  EXPECT_FALSE(tls.tls12_disabled);
  EXPECT_FALSE(tls.prefer_server_cipher_suites);
  EXPECT_THAT(tls.curves, ElementsAre("X25519", "P-256"));
  EXPECT_THAT(config.headers, ElementsAre(Pair("X-Frame-Options", "deny"),
                                          Pair("Strict-Transport-Security",
                                               "max-age=31536000")));
  EXPECT_THAT(config.users, ElementsAre(Pair("alice", kHash)));
}

TEST(WebConfig, OnlyTls13SuitesLeaveNoTls12Suite) {
  WebConfig config = Parse(
      "tls_server_config:\n  cert_file: a\n  key_file: b\n  cipher_suites: "
      "[TLS_AES_128_GCM_SHA256]\n");
  EXPECT_TRUE(config.tls.tls12_disabled);
}

TEST(WebConfig, ErrorsNameFileLineColumnAndTheFix) {
  EXPECT_EQ(ParseError("tls_server_config:\n  cert_filse: a\n"),
            "/etc/web.yml:2:3: tls_server_config: unknown field "
            "\"cert_filse\" (did you mean \"cert_file\"?); known fields: "
            "cert_file, key_file, client_auth_type, client_ca_file, "
            "cipher_suites, curve_preferences, min_version, max_version, "
            "prefer_server_cipher_suites");
  EXPECT_THAT(ParseError("tls_server_config:\n  cert_file: a\n  cert_file: "
                         "b\n  key_file: c\n"),
              HasSubstr("/etc/web.yml:3:3: tls_server_config: field "
                        "\"cert_file\" is given twice"));
  EXPECT_THAT(ParseError("tls_server_config:\n  cert_file: a\n  key_file: b\n"
                         "  min_version: TLS111\n"),
              HasSubstr("/etc/web.yml:4:16: tls_server_config.min_version: "
                        "unknown value \"TLS111\"; one of TLS10, TLS11, "
                        "TLS12, TLS13"));
  EXPECT_THAT(ParseError("a: [\n"), HasSubstr("invalid YAML"));
  EXPECT_THAT(ParseError("just text\n"),
              HasSubstr("/etc/web.yml:1:1: the web config must be a mapping"));
  EXPECT_THAT(ParseError("basic_auth_users: []\n"),
              HasSubstr("basic_auth_users must be a mapping"));
}

TEST(WebConfig, TlsNeedsCertificateKeyAndAPolicyForClientCas) {
  EXPECT_THAT(ParseError("tls_server_config:\n  key_file: k\n"),
              HasSubstr("missing cert_file"));
  EXPECT_THAT(ParseError("tls_server_config:\n  cert_file: c\n"),
              HasSubstr("missing key_file"));
  EXPECT_THAT(ParseError("tls_server_config:\n  client_auth_type: "
                         "NoClientCert\n"),
              HasSubstr("missing cert_file"));
  EXPECT_THAT(ParseError("tls_server_config:\n  cert_file: c\n  key_file: k\n"
                         "  client_ca_file: ca\n"),
              HasSubstr("client_ca_file is set without a client_auth_type"));
  EXPECT_THAT(
      ParseError("tls_server_config:\n  cert_file: c\n  key_file: k\n"
                 "  client_auth_type: requireandverifyclientcert\n"),
      HasSubstr("unknown value \"requireandverifyclientcert\"; one of "
                "NoClientCert, RequestClientCert, RequireAnyClientCert"));
  EXPECT_THAT(ParseError("tls_server_config:\n  cert_file: c\n  key_file: k\n"
                         "  min_version: TLS13\n  max_version: TLS12\n"),
              HasSubstr("min_version TLS13 is above max_version TLS12"));
  // The toolkit's older name for RequireAnyClientCert.
  EXPECT_EQ(Parse("tls_server_config:\n  cert_file: c\n  key_file: k\n"
                  "  client_auth_type: RequireClientCert\n")
                .tls.client_auth,
            ClientAuth::kRequireAnyClientCert);
}

TEST(WebConfig, CipherSuitesAndCurvesUseGoNames) {
  EXPECT_THAT(
      ParseError("tls_server_config:\n  cert_file: c\n  key_file: k\n"
                 "  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA265]\n"),
      HasSubstr("unknown cipher suite "
                "\"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA265\" (did you mean "
                "\"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\"?)"));
  // Go's insecure suites are not in tls.CipherSuites(): the toolkit
  // refuses them too.
  EXPECT_THAT(ParseError("tls_server_config:\n  cert_file: c\n  key_file: k\n"
                         "  cipher_suites: [TLS_RSA_WITH_RC4_128_SHA]\n"),
              HasSubstr("unknown cipher suite"));
  EXPECT_THAT(ParseError("tls_server_config:\n  cert_file: c\n  key_file: k\n"
                         "  curve_preferences: [CurveP257]\n"),
              HasSubstr("curve_preferences: unknown value \"CurveP257\""));
}

TEST(WebConfig, OnlyTheToolkitsHeadersWithTheirValues) {
  EXPECT_THAT(ParseError("http_server_config:\n  headers:\n    Content-Type: "
                         "text/html\n"),
              HasSubstr("the field \"Content-Type\" cannot be configured"));
  EXPECT_THAT(ParseError("http_server_config:\n  headers:\n    "
                         "x-frame-options: deny\n"),
              HasSubstr("cannot be configured"));  // case-sensitive
  EXPECT_THAT(ParseError("http_server_config:\n  headers:\n    "
                         "X-Frame-Options: DENY\n"),
              HasSubstr("X-Frame-Options: invalid value \"DENY\"; one of "
                        "deny, sameorigin"));
  EXPECT_THAT(ParseError("http_server_config:\n  headers:\n    "
                         "X-Content-Type-Options: sniff\n"),
              HasSubstr("one of nosniff"));
  EXPECT_THAT(ParseError("http_server_config:\n  http2: maybe\n"),
              HasSubstr("http_server_config.http2 must be true or false"));
}

TEST(WebConfig, UsersNeedBcryptHashesAndTheMessageNeverQuotesThem) {
  const std::string wrong_cost =
      std::string(kHash).replace(4, 2, "03");  // "$2y$03$..."
  const std::string md5 = "$1$abcdefgh$0123456789abcdefghijkl";
  const std::string too_long = std::string(kHash) + "XX";
  for (const std::string& hash :
       {wrong_cost, md5, too_long, std::string("plain-password")}) {
    std::string error =
        ParseError("basic_auth_users:\n  alice: " + hash + "\n");
    EXPECT_THAT(error, HasSubstr("/etc/web.yml:2:10: basic_auth_users: the "
                                 "password hash of user \"alice\""));
    EXPECT_THAT(error, Not(HasSubstr(hash)));
  }
  EXPECT_THAT(ParseError("basic_auth_users:\n  alice:\n"),
              HasSubstr("is not a bcrypt hash"));
  EXPECT_THAT(ParseError(std::string("basic_auth_users:\n  alice: ") + kHash +
                         "\n  alice: " + kHash + "\n"),
              HasSubstr("field \"alice\" is given twice"));
  EXPECT_THAT(
      ParseError(std::string("basic_auth_users:\n  \"a:b\": ") + kHash + "\n"),
      HasSubstr("contains ':'"));
  for (const char* prefix : {"$2a$", "$2b$", "$2y$"}) {
    std::string hash = std::string(kHash).replace(0, 4, prefix);
    EXPECT_EQ(Parse("basic_auth_users:\n  bob: " + hash + "\n").users["bob"],
              hash);
  }
}

// The promtool of Debian's prometheus package and our loader, on the same
// files: each case says what both must answer.
enum class Verdict {
  kBothAccept,
  kBothReject,
  // promtool accepts a file the exporter could never serve as meant (a
  // hash no bcrypt check can match, a CA file without a certificate,
  // versions that exclude each other); we refuse it at start.
  kOnlyPromtoolAccepts,
};

struct AgreementCase {
  const char* name;
  std::string yaml;
  Verdict verdict;
};

class PromtoolAgreement : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::TestCertificateAuthority ca(dir_.path(), "Agreement CA");
    testing::IssuedCertificate server = ca.Issue("server", "x", 7, true);
    dir_.Write("not-a-cert.pem", "hello\n");
    hash_ = std::string(kHash);
  }
  testing::TempDir dir_;
  std::string hash_;
};

TEST_F(PromtoolAgreement, SameVerdictAsPromtoolCheckWebConfig) {
  const std::string tls =
      "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n";
  const std::vector<AgreementCase> cases = {
      {"empty", "", Verdict::kBothAccept},
      {"tls", tls, Verdict::kBothAccept},
      {"users_only", "basic_auth_users:\n  alice: " + hash_ + "\n",
       Verdict::kBothAccept},
      {"everything",
       tls +
           "  client_auth_type: RequireAndVerifyClientCert\n"
           "  client_ca_file: ca.pem\n  min_version: TLS12\n"
           "  max_version: TLS13\n"
           "  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, "
           "TLS_AES_128_GCM_SHA256, TLS_RSA_WITH_AES_256_CBC_SHA]\n"
           "  prefer_server_cipher_suites: yes\n"
           "  curve_preferences: [CurveP256, CurveP384, CurveP521, "
           "X25519]\n"
           "http_server_config:\n  http2: false\n  headers:\n"
           "    X-Frame-Options: sameorigin\n"
           "    X-Content-Type-Options: nosniff\n"
           "    Content-Security-Policy: default-src 'self'\n"
           "    X-XSS-Protection: '1; mode=block'\n"
           "    Strict-Transport-Security: max-age=31536000\n"
           "basic_auth_users:\n  alice: " +
           hash_ + "\n  bob: " + std::string(hash_).replace(0, 4, "$2b$") +
           "\n",
       Verdict::kBothAccept},
      {"require_client_cert_legacy_name",
       tls + "  client_auth_type: RequireClientCert\n", Verdict::kBothAccept},
      {"verify_if_given_without_ca",
       tls + "  client_auth_type: VerifyClientCertIfGiven\n",
       Verdict::kBothAccept},
      {"only_a_version", "tls_server_config:\n  min_version: TLS13\n",
       Verdict::kBothAccept},
      {"unknown_top_level", "tls_config: {}\n", Verdict::kBothReject},
      {"unknown_tls_field", tls + "  cert_filse: x\n", Verdict::kBothReject},
      {"repeated_field", tls + "  cert_file: server.pem\n",
       Verdict::kBothReject},
      {"junk", "hWkNKCpJ\n", Verdict::kBothReject},
      {"users_list", "basic_auth_users: [alice]\n", Verdict::kBothReject},
      {"missing_cert", "tls_server_config:\n  key_file: server.key\n",
       Verdict::kBothReject},
      {"missing_key", "tls_server_config:\n  cert_file: server.pem\n",
       Verdict::kBothReject},
      {"cert_file_absent",
       "tls_server_config:\n  cert_file: nope.pem\n  key_file: server.key\n",
       Verdict::kBothReject},
      {"key_is_a_cert",
       "tls_server_config:\n  cert_file: server.pem\n  key_file: ca.pem\n",
       Verdict::kBothReject},
      {"key_of_another_cert",
       "tls_server_config:\n  cert_file: server.pem\n  key_file: ca.key\n",
       Verdict::kBothReject},
      {"ca_without_policy", tls + "  client_ca_file: ca.pem\n",
       Verdict::kBothReject},
      {"ca_file_absent",
       tls + "  client_auth_type: RequireAndVerifyClientCert\n"
             "  client_ca_file: nope.pem\n",
       Verdict::kBothReject},
      {"client_auth_lower_case",
       tls + "  client_auth_type: requireandverifyclientcert\n",
       Verdict::kBothReject},
      {"bad_version", tls + "  min_version: TLS111\n", Verdict::kBothReject},
      {"invented_cipher",
       tls + "  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA2048]\n",
       Verdict::kBothReject},
      {"insecure_cipher", tls + "  cipher_suites: [TLS_RSA_WITH_RC4_128_SHA]\n",
       Verdict::kBothReject},
      {"cipher_not_a_list", tls + "  cipher_suites: TLS_AES_128_GCM_SHA256\n",
       Verdict::kBothReject},
      {"invented_curve", tls + "  curve_preferences: [CurveP257]\n",
       Verdict::kBothReject},
      {"bool_not_bool", tls + "  prefer_server_cipher_suites: maybe\n",
       Verdict::kBothReject},
      {"header_not_allowed",
       "http_server_config:\n  headers:\n    Content-Type: text/html\n",
       Verdict::kBothReject},
      {"header_bad_value",
       "http_server_config:\n  headers:\n    X-Frame-Options: foo\n",
       Verdict::kBothReject},
      {"hash_too_short", "basic_auth_users:\n  alice: $2y$10$abc\n",
       Verdict::kBothReject},
      {"hash_cost_too_low",
       "basic_auth_users:\n  alice: " + std::string(hash_).replace(4, 2, "03") +
           "\n",
       Verdict::kBothReject},
      {"hash_empty", "basic_auth_users:\n  alice:\n", Verdict::kBothReject},
      {"hash_too_long", "basic_auth_users:\n  alice: " + hash_ + "XXXX\n",
       Verdict::kOnlyPromtoolAccepts},
      {"hash_2x",
       "basic_auth_users:\n  alice: " +
           std::string(hash_).replace(0, 4, "$2x$") + "\n",
       Verdict::kOnlyPromtoolAccepts},
      {"ca_file_without_certificate",
       tls + "  client_auth_type: RequireAndVerifyClientCert\n"
             "  client_ca_file: not-a-cert.pem\n",
       Verdict::kOnlyPromtoolAccepts},
      {"min_above_max", tls + "  min_version: TLS13\n  max_version: TLS12\n",
       Verdict::kOnlyPromtoolAccepts},
  };
  // promtool takes a moment to start: run them all at once.
  std::vector<std::unique_ptr<testing::Process>> promtools;
  std::vector<std::string> paths;
  for (const AgreementCase& c : cases) {
    paths.push_back(dir_.Write(std::string(c.name) + ".yml", c.yaml));
    promtools.push_back(
        std::make_unique<testing::Process>(std::vector<std::string>{
            "/usr/bin/promtool", "check", "web-config", paths.back()}));
  }
  for (size_t i = 0; i < cases.size(); ++i) {
    const AgreementCase& c = cases[i];
    SCOPED_TRACE(c.name);
    std::optional<int> status = promtools[i]->Wait(testing::Seconds(60));
    ASSERT_TRUE(status.has_value());
    const bool promtool_accepts = *status == 0;
    WebSecurityLoad load = LoadWebSecurity(LocalFileSystem(), paths[i]);
    const bool we_accept = load.security != nullptr;
    EXPECT_EQ(promtool_accepts, c.verdict != Verdict::kBothReject)
        << promtools[i]->output();
    EXPECT_EQ(we_accept, c.verdict == Verdict::kBothAccept) << load.error;
    if (!we_accept) {
      EXPECT_THAT(load.error, HasSubstr(paths[i]))
          << "the message names the file";
    }
  }
}

}  // namespace
}  // namespace sas::web
