#include "aliyun/http.h"

#include <gtest/gtest.h>

#include <string>

namespace sas::aliyun {
namespace {

Endpoint MustParse(std::string_view url) {
  std::string error;
  std::optional<Endpoint> endpoint = ParseEndpoint(url, &error);
  EXPECT_TRUE(endpoint.has_value()) << url << ": " << error;
  return endpoint.value_or(Endpoint{});
}

std::string ParseError(std::string_view url) {
  std::string error;
  std::optional<Endpoint> endpoint = ParseEndpoint(url, &error);
  EXPECT_FALSE(endpoint.has_value()) << url;
  EXPECT_FALSE(error.empty()) << url;
  return error;
}

TEST(ParseEndpoint, DefaultsPortBySchemeAndBareHostIsHttps) {
  EXPECT_EQ(MustParse("https://tds.cn-shanghai.aliyuncs.com"),
            (Endpoint{"https", "tds.cn-shanghai.aliyuncs.com", 443}));
  EXPECT_EQ(MustParse("https://tds.cn-shanghai.aliyuncs.com/"),
            (Endpoint{"https", "tds.cn-shanghai.aliyuncs.com", 443}));
  EXPECT_EQ(MustParse("http://127.0.0.1"), (Endpoint{"http", "127.0.0.1", 80}));
  EXPECT_EQ(MustParse("tds.aliyuncs.com"),
            (Endpoint{"https", "tds.aliyuncs.com", 443}));
  EXPECT_EQ(MustParse("HTTPS://TDS.Aliyuncs.com"),
            (Endpoint{"https", "tds.aliyuncs.com", 443}));
}

TEST(ParseEndpoint, ExplicitPorts) {
  EXPECT_EQ(MustParse("http://127.0.0.1:8080/"),
            (Endpoint{"http", "127.0.0.1", 8080}));
  EXPECT_EQ(MustParse("https://localhost:1"),
            (Endpoint{"https", "localhost", 1}));
  EXPECT_EQ(MustParse("localhost:65535"),
            (Endpoint{"https", "localhost", 65535}));
  EXPECT_EQ(MustParse("https://host:443"), (Endpoint{"https", "host", 443}));
}

TEST(ParseEndpoint, Ipv6InBrackets) {
  EXPECT_EQ(MustParse("http://[::1]:8080"), (Endpoint{"http", "::1", 8080}));
  EXPECT_EQ(MustParse("https://[2001:db8::1]"),
            (Endpoint{"https", "2001:db8::1", 443}));
  ParseError("http://::1:8080");
  ParseError("http://[::1");
  ParseError("http://[]:80");
  ParseError("http://[::1]x");
  ParseError("http://[zz::1]");
}

TEST(ParseEndpoint, RejectsPathsQueriesFragmentsAndUserinfo) {
  EXPECT_NE(ParseError("https://host/path").find("path"), std::string::npos);
  EXPECT_NE(ParseError("https://host//").find("path"), std::string::npos);
  EXPECT_NE(ParseError("https://host/?a=1").find("query"), std::string::npos);
  EXPECT_NE(ParseError("https://host?a=1").find("query"), std::string::npos);
  EXPECT_NE(ParseError("https://host#frag").find("fragment"),
            std::string::npos);
  std::string error = ParseError("https://user:hunter2@host");
  EXPECT_NE(error.find("credentials"), std::string::npos);
  EXPECT_EQ(error.find("hunter2"), std::string::npos);
}

TEST(ParseEndpoint, RejectsBadPortsHostsAndSchemes) {
  EXPECT_NE(ParseError("https://host:0").find("out of range"),
            std::string::npos);
  EXPECT_NE(ParseError("https://host:65536").find("out of range"),
            std::string::npos);
  EXPECT_NE(
      ParseError("https://host:99999999999999999999").find("out of range"),
      std::string::npos);
  EXPECT_NE(ParseError("https://host:").find("port"), std::string::npos);
  EXPECT_NE(ParseError("https://host:http").find("not a number"),
            std::string::npos);
  ParseError("https://host:-1");
  ParseError("https://host:+80");
  ParseError("https://host:80:81");
  EXPECT_NE(ParseError("https://").find("host is empty"), std::string::npos);
  EXPECT_NE(ParseError("https://:443").find("host is empty"),
            std::string::npos);
  EXPECT_NE(ParseError("").find("empty"), std::string::npos);
  EXPECT_NE(ParseError("ftp://host").find("scheme"), std::string::npos);
  ParseError("://host");
  ParseError("https://ho st");
  ParseError(" https://host");
  ParseError("https://host\n");
  ParseError("https://h\xc3\xa9st");
}

TEST(Endpoint, HostHeaderAndUrlShowOnlyNonDefaultPorts) {
  Endpoint https{"https", "tds.cn-shanghai.aliyuncs.com", 443};
  EXPECT_EQ(https.HostHeader(), "tds.cn-shanghai.aliyuncs.com");
  EXPECT_EQ(https.Url(), "https://tds.cn-shanghai.aliyuncs.com");
  Endpoint http{"http", "127.0.0.1", 8080};
  EXPECT_EQ(http.HostHeader(), "127.0.0.1:8080");
  EXPECT_EQ(http.Url(), "http://127.0.0.1:8080");
  EXPECT_EQ((Endpoint{"http", "h", 80}).Url(), "http://h");
  EXPECT_EQ((Endpoint{"http", "h", 443}).Url(), "http://h:443");
  EXPECT_EQ((Endpoint{"https", "h", 80}).HostHeader(), "h:80");
  EXPECT_EQ((Endpoint{"http", "::1", 8080}).HostHeader(), "[::1]:8080");
  EXPECT_EQ((Endpoint{"https", "::1", 443}).Url(), "https://[::1]");
}

TEST(Endpoint, UrlRoundTripsThroughParseEndpoint) {
  for (const Endpoint& endpoint :
       {Endpoint{"https", "tds.aliyuncs.com", 443},
        Endpoint{"http", "127.0.0.1", 18080}, Endpoint{"http", "::1", 80}}) {
    EXPECT_EQ(MustParse(endpoint.Url()), endpoint) << endpoint.Url();
  }
}

TEST(HttpResponse, HeaderFindsFirstByLowercaseName) {
  HttpResponse response;
  response.headers = {{"content-type", "application/json"},
                      {"x-acs-retry-after", "100"},
                      {"x-acs-retry-after", "200"}};
  EXPECT_EQ(response.Header("x-acs-retry-after"), "100");
  EXPECT_EQ(response.Header("content-type"), "application/json");
  EXPECT_EQ(response.Header("missing"), std::nullopt);
}

}  // namespace
}  // namespace sas::aliyun
