#include "web/basic_auth.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>

#include "support/harness.h"
#include "support/test_pki.h"

namespace sas::web {
namespace {

using testing::BasicAuthorization;

HttpRequest WithAuthorization(const std::string& value) {
  HttpRequest request;
  request.method = "GET";
  request.path = "/metrics";
  request.headers.emplace_back("authorization", value);
  return request;
}

// A hash made by htpasswd -B (apache2-utils), the tool README recommends.
std::string HtpasswdHash(const std::string& password, int cost) {
  testing::Process htpasswd(
      {"/usr/bin/htpasswd", "-nbBC", std::to_string(cost), "u", password});
  EXPECT_EQ(htpasswd.Wait(), 0) << htpasswd.output();
  std::string line = htpasswd.stdout_text();
  std::string hash = line.substr(line.find(':') + 1);
  hash.erase(hash.find_last_not_of("\r\n") + 1);
  return hash;
}

TEST(Bcrypt, ChecksHtpasswdHashesAndItsOwn) {
  std::string from_htpasswd = HtpasswdHash("s3cret pass", 5);
  ASSERT_EQ(from_htpasswd.substr(0, 7), "$2y$05$");
  EXPECT_TRUE(BcryptMatches("s3cret pass", from_htpasswd));
  EXPECT_FALSE(BcryptMatches("s3cret pas", from_htpasswd));
  EXPECT_FALSE(BcryptMatches("", from_htpasswd));

  std::string own = BcryptHash("hunter2", 4);
  ASSERT_EQ(own.substr(0, 7), "$2b$04$");
  EXPECT_EQ(own.size(), 60u);
  EXPECT_TRUE(BcryptMatches("hunter2", own));
  // $2a$ is the same algorithm for ASCII passwords.
  EXPECT_TRUE(BcryptMatches("hunter2", std::string(own).replace(0, 4, "$2a$")));
  EXPECT_FALSE(BcryptMatches("hunter3", own));
  EXPECT_FALSE(BcryptMatches(std::string("hunter2\0x", 9), own));
  EXPECT_FALSE(BcryptMatches("hunter2", "not a hash"));
  EXPECT_EQ(BcryptCost(own), 4);
}

TEST(BasicAuthorizationField, ParsesAsGoDoes) {
  auto parsed = ParseBasicAuthorization(BasicAuthorization("al:ice", "p:w"));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->user, "al");  // the user ends at the first ':'
  EXPECT_EQ(parsed->password, "ice:p:w");
  auto lower = ParseBasicAuthorization("basic YWxpY2U6cHc=");  // alice:pw
  ASSERT_TRUE(lower);
  EXPECT_EQ(lower->user, "alice");
  EXPECT_EQ(lower->password, "pw");
  EXPECT_FALSE(ParseBasicAuthorization("Bearer YWxpY2U6cHc="));
  EXPECT_FALSE(ParseBasicAuthorization("Basic YWxpY2U"));   // bad length
  EXPECT_FALSE(ParseBasicAuthorization("Basic !!!!"));      // not base64
  EXPECT_FALSE(ParseBasicAuthorization("Basic YWxpY2U="));  // no ':'
  EXPECT_FALSE(ParseBasicAuthorization("Basic"));
}

TEST(BasicAuthenticator, RightWrongAndUnknown) {
  BasicAuthenticator auth({{"alice", BcryptHash("right", 4)}});
  EXPECT_TRUE(auth.required());
  EXPECT_TRUE(
      auth.Allowed(WithAuthorization(BasicAuthorization("alice", "right"))));
  EXPECT_FALSE(
      auth.Allowed(WithAuthorization(BasicAuthorization("alice", "wrong"))));
  EXPECT_FALSE(
      auth.Allowed(WithAuthorization(BasicAuthorization("mallory", "right"))));
  EXPECT_FALSE(auth.Allowed(WithAuthorization("Bearer token")));
  HttpRequest anonymous;
  EXPECT_FALSE(auth.Allowed(anonymous));

  BasicAuthenticator nobody({});
  EXPECT_FALSE(nobody.required());
  EXPECT_TRUE(nobody.Allowed(anonymous));
  EXPECT_TRUE(nobody.IsCheap(anonymous));
}

TEST(BasicAuthenticator, OnlySuccessesAreCachedAndARotatedHashMisses) {
  const HttpRequest right =
      WithAuthorization(BasicAuthorization("alice", "right"));
  const HttpRequest wrong =
      WithAuthorization(BasicAuthorization("alice", "wrong"));
  const std::string hash = BcryptHash("right", 4);
  BasicAuthenticator auth({{"alice", hash}});
  EXPECT_FALSE(auth.IsCheap(right));
  EXPECT_TRUE(auth.Allowed(right));
  EXPECT_TRUE(auth.IsCheap(right));  // cached: no bcrypt next time
  EXPECT_FALSE(auth.Allowed(wrong));
  EXPECT_FALSE(auth.IsCheap(wrong));  // a failure always costs bcrypt
  // Requests without usable credentials are refused without bcrypt.
  EXPECT_TRUE(auth.IsCheap(HttpRequest()));
  EXPECT_TRUE(auth.IsCheap(WithAuthorization("Basic !!!!")));
  // The same password against a new hash is checked again.
  BasicAuthenticator rotated({{"alice", BcryptHash("other", 4)}});
  EXPECT_FALSE(rotated.IsCheap(right));
  EXPECT_FALSE(rotated.Allowed(right));
}

// The median time of five checks, in microseconds.
double MedianMicros(const BasicAuthenticator& auth,
                    const HttpRequest& request) {
  std::vector<double> times;
  for (int i = 0; i < 5; ++i) {
    auto start = std::chrono::steady_clock::now();
    EXPECT_FALSE(auth.Allowed(request));
    times.push_back(std::chrono::duration<double, std::micro>(
                        std::chrono::steady_clock::now() - start)
                        .count());
  }
  std::sort(times.begin(), times.end());
  return times[2];
}

TEST(BasicAuthenticator, AnUnknownUserCostsAsMuchAsAWrongPassword) {
  // Cost 9: a few milliseconds a check, far above the noise, and well
  // above a lookup that would skip bcrypt (microseconds).
  BasicAuthenticator auth(
      {{"alice", BcryptHash("right", 9)}, {"bob", BcryptHash("other", 4)}});
  double wrong = MedianMicros(
      auth, WithAuthorization(BasicAuthorization("alice", "wrong")));
  double unknown = MedianMicros(
      auth, WithAuthorization(BasicAuthorization("mallory", "wrong")));
  EXPECT_GT(unknown, wrong / 3)
      << "unknown " << unknown << " us, wrong " << wrong << " us";
  EXPECT_GT(unknown, 1000.0);
}

}  // namespace
}  // namespace sas::web
