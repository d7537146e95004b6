#include "support/test_pki.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <stdexcept>
#include <vector>

#include "support/harness.h"

namespace sas::testing {
namespace {

void RunOpenSsl(std::vector<std::string> args) {
  args.insert(args.begin(), "/usr/bin/openssl");
  Process process(args);
  std::optional<int> status = process.Wait(Seconds(30));
  if (!status || *status != 0) {
    throw std::runtime_error("openssl " + args[1] +
                             " failed: " + process.output());
  }
}

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

std::string OpenSslError() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "connection closed";
  const char* reason = ERR_reason_error_string(code);
  return reason ? reason : "error " + std::to_string(code);
}

}  // namespace

TestCertificateAuthority::TestCertificateAuthority(std::string dir,
                                                   std::string name)
    : dir_(std::move(dir)), cert_(dir_ + "/ca.pem"), key_(dir_ + "/ca.key") {
  RunOpenSsl({"req", "-x509", "-newkey", "ec", "-pkeyopt",
              "ec_paramgen_curve:P-256", "-nodes", "-keyout", key_, "-out",
              cert_, "-days", "2", "-subj", "/CN=" + name});
}

IssuedCertificate TestCertificateAuthority::Issue(
    const std::string& file_stem, const std::string& common_name, long serial,
    bool server) const {
  return IssueWith(file_stem, common_name, serial,
                   server ? "subjectAltName=IP:127.0.0.1\n"
                            "extendedKeyUsage=serverAuth\n"
                          : "extendedKeyUsage=clientAuth\n");
}

IssuedCertificate TestCertificateAuthority::IssueServerAndClient(
    const std::string& file_stem, const std::string& common_name,
    long serial) const {
  return IssueWith(file_stem, common_name, serial,
                   "subjectAltName=IP:127.0.0.1\n"
                   "extendedKeyUsage=serverAuth,clientAuth\n");
}

IssuedCertificate TestCertificateAuthority::IssueWith(
    const std::string& file_stem, const std::string& common_name, long serial,
    const std::string& extensions) const {
  IssuedCertificate issued{dir_ + "/" + file_stem + ".pem",
                           dir_ + "/" + file_stem + ".key"};
  std::string csr = dir_ + "/" + file_stem + ".csr";
  std::string extensions_file = dir_ + "/" + file_stem + ".ext";
  WriteText(extensions_file, extensions);
  RunOpenSsl({"req", "-new", "-newkey", "ec", "-pkeyopt",
              "ec_paramgen_curve:P-256", "-nodes", "-keyout", issued.key,
              "-out", csr, "-subj", "/CN=" + common_name});
  RunOpenSsl({"x509", "-req", "-in", csr, "-CA", cert_, "-CAkey", key_,
              "-set_serial", std::to_string(serial), "-days", "2", "-extfile",
              extensions_file, "-out", issued.cert});
  return issued;
}

TlsAnswer TlsGet(int port, const TlsRequest& request) {
  TlsAnswer answer;
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(
      SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
  if (!request.ca_file.empty()) {
    SSL_CTX_load_verify_locations(ctx.get(), request.ca_file.c_str(), nullptr);
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  }
  if (!request.client_cert.empty() &&
      (SSL_CTX_use_certificate_chain_file(ctx.get(),
                                          request.client_cert.c_str()) != 1 ||
       SSL_CTX_use_PrivateKey_file(ctx.get(), request.client_key.c_str(),
                                   SSL_FILETYPE_PEM) != 1)) {
    answer.error = "cannot load the client certificate: " + OpenSslError();
    return answer;
  }
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval timeout{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) !=
      0) {
    close(fd);
    answer.error = "connect failed";
    return answer;
  }
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx.get()), SSL_free);
  SSL_set_fd(ssl.get(), fd);
  X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl.get()), "127.0.0.1");
  if (SSL_connect(ssl.get()) != 1) {
    answer.error = "handshake failed: " + OpenSslError();
    close(fd);
    return answer;
  }
  answer.handshake = true;
  if (X509* peer = SSL_get1_peer_certificate(ssl.get())) {
    char name[256];
    X509_NAME_oneline(X509_get_subject_name(peer), name, sizeof(name));
    answer.server_subject = name;
    BIGNUM* serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(peer), nullptr);
    char* hex = BN_bn2hex(serial);
    answer.server_serial = hex;
    OPENSSL_free(hex);
    BN_free(serial);
    X509_free(peer);
  }
  std::string text = "GET " + request.path +
                     " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  for (const auto& [name, value] : request.headers) {
    text += name + ": " + value + "\r\n";
  }
  text += "\r\n";
  if (SSL_write(ssl.get(), text.data(), static_cast<int>(text.size())) <= 0) {
    answer.error = "write failed: " + OpenSslError();
    close(fd);
    return answer;
  }
  std::string received;
  char buffer[16384];
  while (true) {
    int n = SSL_read(ssl.get(), buffer, sizeof(buffer));
    if (n <= 0) {
      if (SSL_get_error(ssl.get(), n) != SSL_ERROR_ZERO_RETURN &&
          received.empty()) {
        answer.error = "read failed: " + OpenSslError();
      }
      break;
    }
    received.append(buffer, static_cast<size_t>(n));
  }
  ERR_clear_error();
  close(fd);
  size_t end = received.find("\r\n\r\n");
  if (received.rfind("HTTP/1.1 ", 0) != 0 || end == std::string::npos) {
    if (answer.error.empty()) answer.error = "no HTTP answer";
    return answer;
  }
  answer.status = std::stoi(received.substr(9, 3));
  answer.head = received.substr(0, end);
  answer.body = received.substr(end + 4);
  return answer;
}

std::string BasicAuthorization(const std::string& user,
                               const std::string& password) {
  std::string plain = user + ":" + password;
  std::string encoded(4 * ((plain.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()),
                          reinterpret_cast<const unsigned char*>(plain.data()),
                          static_cast<int>(plain.size()));
  encoded.resize(static_cast<size_t>(n));
  return "Basic " + encoded;
}

}  // namespace sas::testing
