#pragma once

#include <string>
#include <string_view>

namespace sas::aliyun {

// The Security Center (Sas 2018-12-03) host for a region, from the official
// SDK endpoint map: mainland China regions (cn-*, including cn-hongkong and
// the finance/gov regions) -> tds.cn-shanghai.aliyuncs.com; international
// regions (ap-*, eu-*, us-*, me-*) -> tds.ap-southeast-1.aliyuncs.com;
// anything else -> sas.<region>.aliyuncs.com. With vpc, the VPC hosts
// tds.vpc-proxy.aliyuncs.com / tds-intl.vpc-proxy.aliyuncs.com; a region
// outside both groups has no known VPC host and gets sas.<region>.aliyuncs.com.
std::string SasHostForRegion(std::string_view region, bool vpc = false);

// The STS (2015-04-01) host for AssumeRole and AssumeRoleWithOIDC:
// "sts.<region>.aliyuncs.com", or with vpc "sts-vpc.<region>.aliyuncs.com".
// An empty region gives the central "sts.aliyuncs.com", with or without vpc:
// STS has no VPC host without a region.
std::string StsHostForRegion(std::string_view region, bool vpc);

// True for a syntactically valid region id ("cn-hangzhou", "ap-southeast-1").
bool IsValidRegionId(std::string_view region);

}  // namespace sas::aliyun
