#include "web/tls_context.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <memory>
#include <vector>

namespace sas::web {
namespace {

// Refuses encrypted keys instead of prompting on a terminal.
int NoPassword(char*, int, int, void*) { return -1; }

// Accepts whatever certificate the client sends: the "Request" and
// "RequireAny" policies ask for one without checking it, as Go does.
int AcceptAnyCertificate(int, X509_STORE_CTX*) { return 1; }

// OpenSSL's reason for the last failure, without the error queue's file
// names; "unknown" when it gave none.
std::string LastOpenSslError() {
  unsigned long code = ERR_peek_last_error();
  ERR_clear_error();
  if (code == 0) return "unknown error";
  const char* reason = ERR_reason_error_string(code);
  return reason ? reason : "error " + std::to_string(code);
}

struct BioDeleter {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;
struct X509Deleter {
  void operator()(X509* cert) const { X509_free(cert); }
};
using X509Ptr = std::unique_ptr<X509, X509Deleter>;

BioPtr MemoryBio(const std::string& text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

// Every PEM certificate in `text`, in order.
std::vector<X509Ptr> ReadCertificates(const std::string& text) {
  std::vector<X509Ptr> certs;
  BioPtr bio = MemoryBio(text);
  while (X509* cert =
             PEM_read_bio_X509(bio.get(), nullptr, NoPassword, nullptr)) {
    certs.emplace_back(cert);
  }
  ERR_clear_error();  // the end of the text reads as an error
  return certs;
}

std::string Describe(X509* cert) {
  std::string out = "subject=";
  BioPtr bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert), 0,
                     XN_FLAG_RFC2253);
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  out.append(data, static_cast<size_t>(size));
  if (BIGNUM* serial =
          ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr)) {
    if (char* hex = BN_bn2hex(serial)) {
      out += std::string(" serial=") + hex;
      OPENSSL_free(hex);
    }
    BN_free(serial);
  }
  std::tm expiry{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &expiry) == 1) {
    char text[32];
    std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &expiry);
    out += std::string(" expires=") + text;
  }
  return out;
}

int OpenSslVersion(TlsVersion version) {
  switch (version) {
    case TlsVersion::kTls10:
      return TLS1_VERSION;
    case TlsVersion::kTls11:
      return TLS1_1_VERSION;
    case TlsVersion::kTls12:
      return TLS1_2_VERSION;
    case TlsVersion::kTls13:
      return TLS1_3_VERSION;
  }
  return TLS1_2_VERSION;
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& name : names) {
    if (!out.empty()) out += ':';
    out += name;
  }
  return out;
}

// Sets everything but the certificate and key; "" or the problem.
std::string Configure(SSL_CTX* ctx, const TlsServerConfig& config,
                      const TlsFiles& files) {
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET |
                               SSL_OP_IGNORE_UNEXPECTED_EOF);
  // Every connection starts afresh: a resumed session would skip the
  // client-certificate check against a rotated client_ca_file.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  if (config.prefer_server_cipher_suites) {
    SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
  }
  SSL_CTX_set_mode(
      ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  TlsVersion min = config.min_version;
  if (config.tls12_disabled && min < TlsVersion::kTls13) {
    min = TlsVersion::kTls13;
  }
  if (min < TlsVersion::kTls12) {
    // OpenSSL 3 refuses TLS 1.0 and 1.1 above security level 0; the file
    // asks for them explicitly.
    SSL_CTX_set_security_level(ctx, 0);
  }
  SSL_CTX_set_min_proto_version(ctx, OpenSslVersion(min));
  SSL_CTX_set_max_proto_version(ctx, OpenSslVersion(config.max_version));
  if (!config.tls12_ciphers.empty() &&
      SSL_CTX_set_cipher_list(ctx, JoinNames(config.tls12_ciphers).c_str()) !=
          1) {
    return "tls_server_config.cipher_suites: this OpenSSL offers none of "
           "the TLS 1.2 suites listed (" +
           LastOpenSslError() + ")";
  }
  if (!config.tls13_ciphers.empty() &&
      SSL_CTX_set_ciphersuites(ctx, JoinNames(config.tls13_ciphers).c_str()) !=
          1) {
    return "tls_server_config.cipher_suites: " + LastOpenSslError();
  }
  if (!config.curves.empty() &&
      SSL_CTX_set1_groups_list(ctx, JoinNames(config.curves).c_str()) != 1) {
    return "tls_server_config.curve_preferences: " + LastOpenSslError();
  }

  const bool verify =
      config.client_auth == ClientAuth::kVerifyClientCertIfGiven ||
      config.client_auth == ClientAuth::kRequireAndVerifyClientCert;
  if (!config.client_ca_file.empty()) {
    std::vector<X509Ptr> cas = ReadCertificates(files.client_ca);
    if (cas.empty()) {
      return "client_ca_file " + config.client_ca_file +
             ": no PEM certificate in it";
    }
    X509_STORE* store = SSL_CTX_get_cert_store(ctx);
    for (const X509Ptr& ca : cas) {
      X509_STORE_add_cert(store, ca.get());
      // The names sent in the certificate request, as Go sends ClientCAs.
      SSL_CTX_add_client_CA(ctx, ca.get());
    }
    ERR_clear_error();  // a repeated CA is reported, and harmless
  } else if (verify) {
    // Go verifies against the system's roots when no CA is given.
    SSL_CTX_set_default_verify_paths(ctx);
  }
  switch (config.client_auth) {
    case ClientAuth::kNoClientCert:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
      break;
    case ClientAuth::kRequestClientCert:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, AcceptAnyCertificate);
      break;
    case ClientAuth::kRequireAnyClientCert:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                         AcceptAnyCertificate);
      break;
    case ClientAuth::kVerifyClientCertIfGiven:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
      break;
    case ClientAuth::kRequireAndVerifyClientCert:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                         nullptr);
      break;
  }
  return "";
}

}  // namespace

std::shared_ptr<const TlsContext> TlsContext::Create(
    const TlsServerConfig& config, const TlsFiles& files, std::string* error) {
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) {
    *error = "cannot create a TLS context: " + LastOpenSslError();
    return nullptr;
  }
  std::shared_ptr<TlsContext> context(new TlsContext(ctx));
  if (std::string problem = Configure(ctx, config, files); !problem.empty()) {
    *error = problem;
    return nullptr;
  }
  std::vector<X509Ptr> chain = ReadCertificates(files.cert);
  if (chain.empty()) {
    *error = "cert_file " + config.cert_file + ": no PEM certificate in it";
    return nullptr;
  }
  if (SSL_CTX_use_certificate(ctx, chain.front().get()) != 1) {
    *error = "cert_file " + config.cert_file + ": " + LastOpenSslError();
    return nullptr;
  }
  for (size_t i = 1; i < chain.size(); ++i) {
    // add0 takes ownership on success.
    if (SSL_CTX_add0_chain_cert(ctx, chain[i].get()) == 1) {
      static_cast<void>(chain[i].release());
    }
  }
  BioPtr key_bio = MemoryBio(files.key);
  EVP_PKEY* key =
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, NoPassword, nullptr);
  if (key == nullptr) {
    ERR_clear_error();
    *error = "key_file " + config.key_file +
             ": no unencrypted PEM private key in it";
    return nullptr;
  }
  const bool key_ok = SSL_CTX_use_PrivateKey(ctx, key) == 1 &&
                      SSL_CTX_check_private_key(ctx) == 1;
  EVP_PKEY_free(key);
  if (!key_ok) {
    *error = "key_file " + config.key_file +
             " is not the private key of the certificate in cert_file " +
             config.cert_file + " (" + LastOpenSslError() + ")";
    return nullptr;
  }
  context->description_ = Describe(chain.front().get());
  return context;
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

TlsSession::TlsSession(std::shared_ptr<const TlsContext> context, int fd)
    : context_(std::move(context)), ssl_(SSL_new(context_->native())) {
  if (ssl_ != nullptr) SSL_set_fd(ssl_, fd);
}

TlsSession::~TlsSession() { SSL_free(ssl_); }

TlsStatus TlsSession::Status(int result) {
  const int saved_errno = errno;
  switch (SSL_get_error(ssl_, result)) {
    case SSL_ERROR_WANT_READ:
      return TlsStatus::kWantRead;
    case SSL_ERROR_WANT_WRITE:
      return TlsStatus::kWantWrite;
    case SSL_ERROR_ZERO_RETURN:
      return TlsStatus::kClosed;
    case SSL_ERROR_SYSCALL:
      if (ERR_peek_error() == 0) {
        if (saved_errno == 0) return TlsStatus::kClosed;
        error_ = std::strerror(saved_errno);
        return TlsStatus::kError;
      }
      [[fallthrough]];
    default:
      error_ = LastOpenSslError();
      return TlsStatus::kError;
  }
}

TlsStatus TlsSession::Handshake() {
  if (ssl_ == nullptr) {
    error_ = "cannot create a TLS session";
    return TlsStatus::kError;
  }
  ERR_clear_error();
  errno = 0;
  int result = SSL_accept(ssl_);
  return result == 1 ? TlsStatus::kDone : Status(result);
}

TlsStatus TlsSession::Read(char* buffer, size_t size, size_t* n) {
  ERR_clear_error();
  errno = 0;
  int result = SSL_read_ex(ssl_, buffer, size, n);
  return result == 1 ? TlsStatus::kDone : Status(result);
}

TlsStatus TlsSession::Write(const char* data, size_t size, size_t* n) {
  ERR_clear_error();
  errno = 0;
  int result = SSL_write_ex(ssl_, data, size, n);
  return result == 1 ? TlsStatus::kDone : Status(result);
}

void TlsSession::Shutdown() {
  if (ssl_ != nullptr && SSL_is_init_finished(ssl_)) {
    ERR_clear_error();
    SSL_shutdown(ssl_);
    ERR_clear_error();
  }
}

}  // namespace sas::web
