#pragma once

// Test certificates made with the real openssl command-line tool, and a
// blocking TLS client built on OpenSSL, for the web config tests: a CA,
// server and client certificates signed by it, and HTTPS requests that
// report what the server presented.

#include <map>
#include <string>

namespace sas::testing {

struct IssuedCertificate {
  std::string cert;  // PEM file path
  std::string key;   // PEM file path (unencrypted EC P-256 key)
};

// A certificate authority in `dir` (which must exist): ca.pem and ca.key
// with the subject "CN=<name>". Throws std::runtime_error when openssl
// fails.
class TestCertificateAuthority {
 public:
  TestCertificateAuthority(std::string dir, std::string name);
  const std::string& cert() const { return cert_; }
  // A certificate for `common_name` with `serial`, valid for
  // 127.0.0.1 (server) or for client authentication, written as
  // <file_stem>.pem and <file_stem>.key in the CA's directory.
  IssuedCertificate Issue(const std::string& file_stem,
                          const std::string& common_name, long serial,
                          bool server) const;
  // A server certificate for 127.0.0.1 that may also authenticate a client
  // (extendedKeyUsage serverAuth and clientAuth).
  IssuedCertificate IssueServerAndClient(const std::string& file_stem,
                                         const std::string& common_name,
                                         long serial) const;

 private:
  IssuedCertificate IssueWith(const std::string& file_stem,
                              const std::string& common_name, long serial,
                              const std::string& extensions) const;

  std::string dir_;
  std::string cert_;
  std::string key_;
};

struct TlsRequest {
  std::string path = "/";
  std::string ca_file;      // verify the server against it; empty: no check
  std::string client_cert;  // present a client certificate; empty: none
  std::string client_key;
  std::map<std::string, std::string> headers;
};

struct TlsAnswer {
  bool handshake = false;  // the client finished its side of the handshake
  int status = 0;          // 0: no answer (refused, reset, deadline)
  std::string head;        // status line and fields
  std::string body;
  std::string error;  // why there is no answer
  // What the server presented: "CN=..." and the serial in upper-case hex.
  std::string server_subject;
  std::string server_serial;
};

// One GET over TLS to 127.0.0.1:port ("Connection: close"), with a 5 s
// deadline on every step.
TlsAnswer TlsGet(int port, const TlsRequest& request);

// "Basic <base64(user:password)>".
std::string BasicAuthorization(const std::string& user,
                               const std::string& password);

}  // namespace sas::testing
