#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace sas::testing {

// A blocking IPv4 loopback client that speaks just enough HTTP/1.1 to check
// a server byte for byte, and to misbehave on purpose (slow, huge, broken
// requests). Not thread-safe, except that one thread may Send while another
// Reads.
class RawHttpClient {
 public:
  explicit RawHttpClient(int port);
  ~RawHttpClient();
  RawHttpClient(const RawHttpClient&) = delete;
  RawHttpClient& operator=(const RawHttpClient&) = delete;

  bool connected() const { return connected_; }
  // "100 Continue" answers seen (and skipped) by Read.
  int interim_answers() const { return interim_answers_; }

  // False once the server has closed or reset the connection.
  bool Send(std::string_view bytes);

  struct Answer {
    int status = 0;    // 0: the connection ended or the deadline passed
    std::string head;  // status line and fields, up to the empty line
    std::string body;  // Content-Length bytes
  };
  // Reads one answer. `head_only`: the answer to HEAD, whose Content-Length
  // comes without a body.
  Answer Read(std::chrono::milliseconds within = std::chrono::seconds(5),
              bool head_only = false);

  // True when the server closes the connection before the deadline.
  bool ClosedWithin(std::chrono::milliseconds within);

 private:
  bool Fill(std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  bool connected_ = false;
  bool closed_ = false;
  int interim_answers_ = 0;
  std::string buffer_;
};

// "GET <path> HTTP/1.1" with a Host field and nothing else.
std::string GetRequest(const std::string& path);

}  // namespace sas::testing
