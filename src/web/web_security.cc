#include "web/web_security.h"

#include <openssl/evp.h>

#include "util/log.h"

namespace sas::web {
namespace {

// Web configs, certificates and keys are small; a larger file is a mistake.
constexpr size_t kMaxFileBytes = 1 << 20;

// SHA-256 over the files' names and contents, in order.
class Fingerprint {
 public:
  Fingerprint() : ctx_(EVP_MD_CTX_new()) {
    EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr);
  }
  ~Fingerprint() { EVP_MD_CTX_free(ctx_); }
  void Add(const std::string& name, const FileReadResult& read) {
    Update(name);
    Update(read.ok ? "ok" : "unreadable: " + read.error);
    Update(read.content);
  }
  std::string Finish() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    EVP_DigestFinal_ex(ctx_, digest, &size);
    return std::string(reinterpret_cast<char*>(digest), size);
  }

 private:
  void Update(const std::string& text) {
    uint64_t size = text.size();
    EVP_DigestUpdate(ctx_, &size, sizeof(size));
    EVP_DigestUpdate(ctx_, text.data(), text.size());
  }
  EVP_MD_CTX* ctx_;
};

// Reads one file, adding it to the load's list and digest.
FileReadResult ReadTracked(const FileSystem& files, const std::string& path,
                           WebSecurityLoad* load, Fingerprint* digest) {
  FileReadResult read = files.ReadFile(path, kMaxFileBytes);
  load->files.push_back(path);
  digest->Add(path, read);
  return read;
}

std::string FingerprintOf(const FileSystem& files,
                          const std::vector<std::string>& paths) {
  Fingerprint digest;
  for (const std::string& path : paths) {
    digest.Add(path, files.ReadFile(path, kMaxFileBytes));
  }
  return digest.Finish();
}

}  // namespace

WebSecurityLoad LoadWebSecurity(const FileSystem& files,
                                const std::string& path) {
  WebSecurityLoad load;
  Fingerprint digest;
  auto fail = [&](std::string error) {
    load.error = std::move(error);
    load.fingerprint = digest.Finish();
    return std::move(load);
  };
  FileReadResult text = ReadTracked(files, path, &load, &digest);
  if (!text.ok)
    return fail(path + ": cannot read the web config: " + text.error);
  auto security = std::make_shared<WebSecurity>();
  std::string error;
  if (!ParseWebConfig(text.content, path, &security->config, &error)) {
    return fail(error);
  }
  const TlsServerConfig& tls = security->config.tls;
  if (security->config.tls_enabled) {
    TlsFiles pem;
    struct Named {
      const char* field;
      const std::string& file;
      std::string* content;
    };
    for (const Named& named :
         {Named{"cert_file", tls.cert_file, &pem.cert},
          Named{"key_file", tls.key_file, &pem.key},
          Named{"client_ca_file", tls.client_ca_file, &pem.client_ca}}) {
      if (named.file.empty()) continue;
      FileReadResult read = ReadTracked(files, named.file, &load, &digest);
      if (!read.ok) {
        return fail(path + ": " + named.field + " " + named.file +
                    ": cannot read: " + read.error);
      }
      *named.content = std::move(read.content);
    }
    security->tls = TlsContext::Create(tls, pem, &error);
    if (!security->tls) return fail(path + ": " + error);
  }
  security->auth = std::make_unique<BasicAuthenticator>(security->config.users);
  load.security = std::move(security);
  load.fingerprint = digest.Finish();
  return load;
}

std::unique_ptr<WebConfigWatcher> WebConfigWatcher::Create(
    const FileSystem& files, const std::string& path, std::string* error) {
  WebSecurityLoad load = LoadWebSecurity(files, path);
  if (!load.security) {
    *error = load.error;
    return nullptr;
  }
  return std::unique_ptr<WebConfigWatcher>(
      new WebConfigWatcher(files, path, std::move(load)));
}

WebConfigWatcher::WebConfigWatcher(const FileSystem& files, std::string path,
                                   WebSecurityLoad first)
    : files_(files),
      path_(std::move(path)),
      current_(std::move(first.security)),
      watched_(std::move(first.files)),
      fingerprint_(std::move(first.fingerprint)) {}

WebConfigWatcher::~WebConfigWatcher() { Stop(); }

std::shared_ptr<const WebSecurity> WebConfigWatcher::Current() const {
  std::lock_guard lock(mutex_);
  return current_;
}

bool WebConfigWatcher::CheckOnce() {
  if (FingerprintOf(files_, watched_) == fingerprint_) return false;
  WebSecurityLoad load = LoadWebSecurity(files_, path_);
  watched_ = std::move(load.files);
  fingerprint_ = std::move(load.fingerprint);
  const bool tls_before = Current()->config.tls_enabled;
  if (load.security && load.security->config.tls_enabled != tls_before) {
    load.error = path_ + ": " +
                 (tls_before ? "turning TLS off" : "turning TLS on") +
                 " needs a restart";
    load.security = nullptr;
  }
  if (!load.security) {
    log::Error("Web config not reloaded; the previous one stays in force",
               {{"file", path_}, {"err", load.error}});
    return false;
  }
  std::shared_ptr<const WebSecurity> loaded = load.security;
  {
    std::lock_guard lock(mutex_);
    current_ = std::move(load.security);
  }
  log::Info("Web config reloaded",
            {{"file", path_},
             {"tls", loaded->tls ? loaded->tls->description() : "off"},
             {"users", std::to_string(loaded->config.users.size())}});
  return true;
}

void WebConfigWatcher::Start(Millis period) {
  worker_ = std::make_unique<PeriodicWorker>(period, [this] { CheckOnce(); });
}

void WebConfigWatcher::Stop() { worker_.reset(); }

}  // namespace sas::web
