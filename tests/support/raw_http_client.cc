#include "support/raw_http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace sas::testing {

using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

RawHttpClient::RawHttpClient(int port) {
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  connected_ =
      connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
}

RawHttpClient::~RawHttpClient() { close(fd_); }

bool RawHttpClient::Send(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

RawHttpClient::Answer RawHttpClient::Read(milliseconds within, bool head_only) {
  Answer answer;
  auto deadline = SteadyClock::now() + within;
  size_t head_end = std::string::npos;
  size_t length = 0;
  while (true) {
    if (head_end == std::string::npos) {
      head_end = buffer_.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        answer.head = buffer_.substr(0, head_end + 2);
        answer.status = std::stoi(answer.head.substr(9, 3));
        auto at = answer.head.find("Content-Length: ");
        length = at == std::string::npos || head_only
                     ? 0
                     : std::stoul(answer.head.substr(at + 16));
        if (answer.status == 100) {
          ++interim_answers_;
          buffer_.erase(0, head_end + 4);
          head_end = std::string::npos;
          answer = Answer();
          continue;
        }
      }
    }
    if (head_end != std::string::npos &&
        buffer_.size() >= head_end + 4 + length) {
      answer.body = buffer_.substr(head_end + 4, length);
      buffer_.erase(0, head_end + 4 + length);
      return answer;
    }
    if (!Fill(deadline)) return Answer();
  }
}

bool RawHttpClient::ClosedWithin(milliseconds within) {
  auto deadline = SteadyClock::now() + within;
  while (Fill(deadline)) {
  }
  return closed_;
}

bool RawHttpClient::Fill(SteadyClock::time_point deadline) {
  auto left =
      std::chrono::duration_cast<milliseconds>(deadline - SteadyClock::now());
  if (left.count() <= 0) return false;
  pollfd waiter{fd_, POLLIN, 0};
  if (poll(&waiter, 1, static_cast<int>(left.count())) <= 0) return false;
  char chunk[65536];
  ssize_t n = recv(fd_, chunk, sizeof(chunk), 0);
  if (n <= 0) {
    closed_ = true;
    return false;
  }
  buffer_.append(chunk, static_cast<size_t>(n));
  return true;
}

std::string GetRequest(const std::string& path) {
  return "GET " + path + " HTTP/1.1\r\nHost: t\r\n\r\n";
}

}  // namespace sas::testing
