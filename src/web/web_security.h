#pragma once

// --web.config.file at run time: the file and the certificate, key and CA
// files it names, loaded into one immutable snapshot, and a watcher that
// swaps in a new snapshot when any of them changes.

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "util/duration.h"
#include "util/file_system.h"
#include "util/periodic_worker.h"
#include "web/basic_auth.h"
#include "web/tls_context.h"
#include "web/web_config.h"

namespace sas::web {

// Everything a web config sets, checked and ready to serve with.
// Immutable, so thread-safe.
struct WebSecurity {
  WebConfig config;
  std::shared_ptr<const TlsContext> tls;  // null when !config.tls_enabled
  std::unique_ptr<BasicAuthenticator> auth;
};

struct WebSecurityLoad {
  std::shared_ptr<const WebSecurity> security;  // null when it failed
  std::string error;  // "web.yml:3:5: ...", "web.yml: cert_file ...: ..."
  // The files read (the web config first) and a digest of what they held:
  // a change to any of them is a change to the configuration.
  std::vector<std::string> files;
  std::string fingerprint;
};

// Reads and checks the web config at `path` and every file it names.
WebSecurityLoad LoadWebSecurity(const FileSystem& files,
                                const std::string& path);

// Keeps the web config current: every `period` it reads the files again
// and, when their content changed, loads them; a good new configuration
// replaces the old one for new connections and requests, a bad one is
// logged (once per distinct content) and the last good one stays in
// force. Switching TLS on or off needs a restart, as with the toolkit.
// Thread-safe.
class WebConfigWatcher {
 public:
  // Loads `path` once; nullptr with *error when it is bad.
  static std::unique_ptr<WebConfigWatcher> Create(const FileSystem& files,
                                                  const std::string& path,
                                                  std::string* error);
  ~WebConfigWatcher();

  std::shared_ptr<const WebSecurity> Current() const;
  // One check, as the watcher thread makes it; true when a new
  // configuration took effect.
  bool CheckOnce();
  // Checks every `period` on a thread of its own until Stop().
  void Start(Millis period);
  void Stop();

 private:
  WebConfigWatcher(const FileSystem& files, std::string path,
                   WebSecurityLoad first);

  const FileSystem& files_;
  const std::string path_;
  mutable std::mutex mutex_;
  // Guarded by mutex_.
  std::shared_ptr<const WebSecurity> current_;
  // Used by CheckOnce only (one caller at a time: the worker or a test).
  std::vector<std::string> watched_;
  std::string fingerprint_;
  std::unique_ptr<PeriodicWorker> worker_;
};

}  // namespace sas::web
