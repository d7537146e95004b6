#include "aliyun/endpoints.h"

#include <gtest/gtest.h>

#include <string>

namespace sas::aliyun {
namespace {

TEST(SasHostForRegion, MainlandChinaUsesShanghai) {
  for (const char* region :
       {"cn-hangzhou", "cn-shanghai", "cn-beijing", "cn-shenzhen",
        "cn-hongkong", "cn-shanghai-finance-1", "cn-shenzhen-finance-1",
        "cn-north-2-gov-1", "cn-wulanchabu"}) {
    EXPECT_EQ(SasHostForRegion(region), "tds.cn-shanghai.aliyuncs.com")
        << region;
    EXPECT_EQ(SasHostForRegion(region, /*vpc=*/true),
              "tds.vpc-proxy.aliyuncs.com")
        << region;
  }
}

TEST(SasHostForRegion, InternationalUsesSingapore) {
  for (const char* region :
       {"ap-southeast-1", "ap-northeast-1", "ap-south-1", "eu-central-1",
        "eu-west-1", "us-west-1", "us-east-1", "me-east-1", "me-central-1"}) {
    EXPECT_EQ(SasHostForRegion(region), "tds.ap-southeast-1.aliyuncs.com")
        << region;
    EXPECT_EQ(SasHostForRegion(region, /*vpc=*/true),
              "tds-intl.vpc-proxy.aliyuncs.com")
        << region;
  }
}

TEST(SasHostForRegion, UnknownRegionFallsBackToRegionalHost) {
  EXPECT_EQ(SasHostForRegion("na-south-1"), "sas.na-south-1.aliyuncs.com");
  EXPECT_EQ(SasHostForRegion("xx-test-1"), "sas.xx-test-1.aliyuncs.com");
  EXPECT_EQ(SasHostForRegion("xx-test-1", /*vpc=*/true),
            "sas.xx-test-1.aliyuncs.com");
  // A prefix must be followed by '-': "cnx" is not a China region.
  EXPECT_EQ(SasHostForRegion("cnx-1"), "sas.cnx-1.aliyuncs.com");
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
