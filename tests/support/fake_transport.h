#pragma once

#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "aliyun/http.h"

namespace sas::testing {

// An HttpTransport that records every request and answers from a script (in
// order) or, when the script is empty, from a handler. Thread-safe.
class FakeTransport : public aliyun::HttpTransport {
 public:
  using Handler =
      std::function<aliyun::TransportResult(const aliyun::HttpRequest&)>;

  void Push(aliyun::TransportResult result) {
    std::lock_guard lock(mutex_);
    script_.push_back(std::move(result));
  }
  void PushResponse(int status, std::string body,
                    aliyun::Headers headers = {}) {
    aliyun::TransportResult result;
    result.response.status = status;
    result.response.body = std::move(body);
    result.response.headers = std::move(headers);
    Push(std::move(result));
  }
  void PushError(aliyun::TransportError error) {
    aliyun::TransportResult result;
    result.error = error;
    result.detail = "injected";
    Push(std::move(result));
  }
  void SetHandler(Handler handler) {
    std::lock_guard lock(mutex_);
    handler_ = std::move(handler);
  }

  aliyun::TransportResult Send(const aliyun::HttpRequest& request) override {
    std::unique_lock lock(mutex_);
    requests_.push_back(request);
    if (cancelled_) {
      return {aliyun::TransportError::kCancelled, "cancelled", {}};
    }
    if (!script_.empty()) {
      aliyun::TransportResult result = std::move(script_.front());
      script_.pop_front();
      return result;
    }
    if (handler_) {
      Handler handler = handler_;
      lock.unlock();
      return handler(request);
    }
    return {aliyun::TransportError::kConnection, "no scripted answer", {}};
  }
  void CancelAll() override {
    std::lock_guard lock(mutex_);
    cancelled_ = true;
  }

  std::vector<aliyun::HttpRequest> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  mutable std::mutex mutex_;
  std::deque<aliyun::TransportResult> script_;
  Handler handler_;
  std::vector<aliyun::HttpRequest> requests_;
  bool cancelled_ = false;
};

// A DescribeExportInfo success body.
inline std::string ExportInfoBody(
    long id, int progress, int current, int total, const std::string& status,
    const std::string& file_name = "export.xlsx") {
  return "{\"RequestId\":\"REQ-" + std::to_string(id) +
         "\",\"Id\":" + std::to_string(id) +
         ",\"Progress\":" + std::to_string(progress) +
         ",\"CurrentCount\":" + std::to_string(current) +
         ",\"TotalCount\":" + std::to_string(total) + ",\"ExportStatus\":\"" +
         status + "\",\"FileName\":\"" + file_name +
         "\",\"Message\":\"success\",\"Link\":\"https://oss.example/"
         "f.zip?Signature=SECRETLINK\"}";
}

inline std::string ErrorBody(const std::string& code,
                             const std::string& message) {
  return "{\"RequestId\":\"ERR-REQ\",\"HostId\":\"tds.aliyuncs.com\",\"Code\":"
         "\"" +
         code + "\",\"Message\":\"" + message + "\",\"Recommend\":\"\"}";
}

}  // namespace sas::testing
