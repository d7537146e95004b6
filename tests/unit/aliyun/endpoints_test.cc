#include "aliyun/endpoints.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace sas::aliyun {
namespace {

// The whole map of alibabacloud-go/sas-20181203 v9.2.0 (client/client.go,
// EndpointMap), written out again so that a change to it shows here.
TEST(SasEndpointMap, IsTheOfficialSdksMap) {
  const std::map<std::string, std::string> expected = {
      {"cn-qingdao", "tds.cn-shanghai.aliyuncs.com"},
      {"cn-beijing", "tds.cn-shanghai.aliyuncs.com"},
      {"cn-zhangjiakou", "tds.cn-shanghai.aliyuncs.com"},
      {"cn-huhehaote", "tds.cn-shanghai.aliyuncs.com"},
      {"cn-wulanchabu", "tds.cn-shanghai.aliyuncs.com"},
      {"cn-hangzhou", "tds.cn-shanghai.aliyuncs.com"},
      {"cn-shanghai", "tds.cn-shanghai.aliyuncs.com"},
      {"cn-nanjing", "tds.cn-shanghai.aliyuncs.com"},
      {"cn-fuzhou", "tds.cn-shanghai.aliyuncs.com"},
      {"cn-shenzhen", "tds.cn-shanghai.aliyuncs.com"},
      {"cn-heyuan", "tds.cn-shanghai.aliyuncs.com"},
      {"cn-guangzhou", "tds.cn-shanghai.aliyuncs.com"},
      {"cn-chengdu", "tds.cn-shanghai.aliyuncs.com"},
      {"cn-hongkong", "tds.cn-shanghai.aliyuncs.com"},
      {"cn-beijing-finance-1", "tds.cn-shanghai.aliyuncs.com"},
      {"cn-hangzhou-finance", "tds.cn-shanghai.aliyuncs.com"},
      {"cn-shanghai-finance-1", "tds.cn-shanghai.aliyuncs.com"},
      {"cn-shenzhen-finance-1", "tds.cn-shanghai.aliyuncs.com"},
      {"cn-heyuan-acdr-1", "tds.cn-shanghai.aliyuncs.com"},
      {"cn-north-2-gov-1", "tds.cn-shanghai.aliyuncs.com"},
      {"cn-qingdao-acdr-ut-1", "tds.cn-shanghai.aliyuncs.com"},
      {"cn-shanghai-mybk", "tds.cn-shanghai.aliyuncs.com"},
      {"cn-wuhan-lr", "tds.cn-shanghai.aliyuncs.com"},
      {"cn-zhengzhou-jva", "tds.cn-shanghai.aliyuncs.com"},
      {"ap-southeast-2", "tds.ap-southeast-1.aliyuncs.com"},
      {"ap-southeast-6", "tds.ap-southeast-1.aliyuncs.com"},
      {"ap-northeast-2", "tds.ap-southeast-1.aliyuncs.com"},
      {"ap-southeast-3", "tds.ap-southeast-1.aliyuncs.com"},
      {"ap-northeast-1", "tds.ap-southeast-1.aliyuncs.com"},
      {"ap-southeast-7", "tds.ap-southeast-1.aliyuncs.com"},
      {"ap-southeast-1", "tds.ap-southeast-1.aliyuncs.com"},
      {"ap-southeast-5", "tds.ap-southeast-1.aliyuncs.com"},
      {"eu-central-1", "tds.ap-southeast-1.aliyuncs.com"},
      {"us-east-1", "tds.ap-southeast-1.aliyuncs.com"},
      {"us-west-1", "tds.ap-southeast-1.aliyuncs.com"},
      {"eu-west-1", "tds.ap-southeast-1.aliyuncs.com"},
      {"me-east-1", "tds.ap-southeast-1.aliyuncs.com"},
      {"me-central-1", "tds.ap-southeast-1.aliyuncs.com"},
      {"ap-south-1", "tds.ap-southeast-1.aliyuncs.com"},
  };
  ASSERT_EQ(expected.size(), 39u);
  std::map<std::string, std::string> actual;
  for (const SasRegionHost& entry : SasEndpointMap()) {
    EXPECT_TRUE(actual.emplace(entry.region, entry.host).second)
        << "listed twice: " << entry.region;
  }
  EXPECT_EQ(actual, expected);
  for (const auto& [region, host] : expected) {
    EXPECT_EQ(SasHostForRegion(region), host) << region;
    EXPECT_TRUE(IsValidRegionId(region)) << region;
  }
}

TEST(SasHostForRegion, VpcHostOfEveryListedRegion) {
  for (const SasRegionHost& entry : SasEndpointMap()) {
    std::string region(entry.region);
    std::string expected;
    if (region == "ap-southeast-2") {
      expected = "tds-vpc.ap-southeast-2.aliyuncs.com";
    } else if (region == "cn-nanjing" || region == "cn-fuzhou") {
      expected = "";  // the endpoint list gives them none
    } else if (entry.host == "tds.cn-shanghai.aliyuncs.com") {
      expected = "tds.vpc-proxy.aliyuncs.com";
    } else {
      expected = "tds-intl.vpc-proxy.aliyuncs.com";
    }
    EXPECT_EQ(SasHostForRegion(region, /*vpc=*/true), expected) << region;
  }
  EXPECT_EQ(SasHostForRegion("cn-hangzhou", true),
            "tds.vpc-proxy.aliyuncs.com");
  EXPECT_EQ(SasHostForRegion("eu-central-1", true),
            "tds-intl.vpc-proxy.aliyuncs.com");
}

TEST(SasHostForRegion, UnlistedRegionFollowsTheSdksRegionalRule) {
  EXPECT_EQ(SasHostForRegion("na-south-1"), "sas.na-south-1.aliyuncs.com");
  EXPECT_EQ(SasHostForRegion("xx-test-1"), "sas.xx-test-1.aliyuncs.com");
  EXPECT_EQ(SasHostForRegion("xx-test-1", /*vpc=*/true),
            "sas-vpc.xx-test-1.aliyuncs.com");
  // Only listed regions map to tds: an unlisted cn- region does not.
  EXPECT_EQ(SasHostForRegion("cn-wuhan"), "sas.cn-wuhan.aliyuncs.com");
  EXPECT_EQ(SasHostForRegion("cn-wuhan", true),
            "sas-vpc.cn-wuhan.aliyuncs.com");
  EXPECT_EQ(SasHostForRegion("ap-southeast-9"),
            "sas.ap-southeast-9.aliyuncs.com");
}

TEST(StsHostForRegion, RegionalAndVpcHosts) {
  EXPECT_EQ(StsHostForRegion("cn-hangzhou", /*vpc=*/false),
            "sts.cn-hangzhou.aliyuncs.com");
  EXPECT_EQ(StsHostForRegion("ap-southeast-1", /*vpc=*/false),
            "sts.ap-southeast-1.aliyuncs.com");
  EXPECT_EQ(StsHostForRegion("cn-hangzhou", /*vpc=*/true),
            "sts-vpc.cn-hangzhou.aliyuncs.com");
  EXPECT_EQ(StsHostForRegion("eu-central-1", /*vpc=*/true),
            "sts-vpc.eu-central-1.aliyuncs.com");
}

TEST(StsHostForRegion, NoRegionUsesCentralHostEvenInVpc) {
  EXPECT_EQ(StsHostForRegion("", /*vpc=*/false), "sts.aliyuncs.com");
  EXPECT_EQ(StsHostForRegion("", /*vpc=*/true), "sts.aliyuncs.com");
}

TEST(IsValidRegionId, AcceptsRealRegionIds) {
  for (const char* region :
       {"cn-hangzhou", "ap-southeast-1", "cn-shanghai-finance-1", "eu", "a1"}) {
    EXPECT_TRUE(IsValidRegionId(region)) << region;
  }
  EXPECT_TRUE(IsValidRegionId(std::string(64, 'a')));
}

TEST(IsValidRegionId, RejectsMalformedIds) {
  for (const char* region :
       {"", "c", "CN-hangzhou", "cn_hangzhou", "1cn", "-cn", "cn hangzhou",
        "cn.hangzhou", "cn-hangzhou/", "cn-杭州"}) {
    EXPECT_FALSE(IsValidRegionId(region)) << region;
  }
  EXPECT_FALSE(IsValidRegionId(std::string(65, 'a')));
}

}  // namespace
}  // namespace sas::aliyun
