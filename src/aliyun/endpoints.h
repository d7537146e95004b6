#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sas::aliyun {

// The Security Center (Sas 2018-12-03) public host of every region in the
// official SDK's endpoint map (alibabacloud-go/sas-20181203 v9.2.0,
// client/client.go, EndpointMap): 39 regions on two hosts,
// tds.cn-shanghai.aliyuncs.com and tds.ap-southeast-1.aliyuncs.com.
struct SasRegionHost {
  std::string_view region;
  std::string_view host;
};
const std::vector<SasRegionHost>& SasEndpointMap();

// The host of Security Center for a region.
//
// Public (vpc false), as the official SDK resolves it: the endpoint map's
// host for a listed region, else the SDK's regional rule
// (alibabacloud-go/darabonba-openapi, utils/client.go, GetEndpointRules):
// "sas.<region>.aliyuncs.com".
//
// VPC (vpc true). The SDK ignores its network setting for listed regions,
// so this follows the published endpoint list ("Security Center:
// Endpoints", api-sas-2018-12-03-endpoint) instead: ap-southeast-2 ->
// tds-vpc.ap-southeast-2.aliyuncs.com; other regions mapped to
// tds.cn-shanghai -> tds.vpc-proxy.aliyuncs.com; other regions mapped to
// tds.ap-southeast-1 -> tds-intl.vpc-proxy.aliyuncs.com; cn-nanjing and
// cn-fuzhou, which the list gives no VPC endpoint -> "" (no VPC host);
// unlisted regions -> the SDK's rule "sas-vpc.<region>.aliyuncs.com".
std::string SasHostForRegion(std::string_view region, bool vpc = false);

// The STS (2015-04-01) host for AssumeRole and AssumeRoleWithOIDC, as the
// official credentials libraries build it (aliyun/credentials-go,
// credentials/providers/ram_role_arn.go and oidc.go): with a region
// "sts.<region>.aliyuncs.com", or with vpc "sts-vpc.<region>.aliyuncs.com";
// an empty region gives the central "sts.aliyuncs.com", with or without
// vpc.
std::string StsHostForRegion(std::string_view region, bool vpc);

// True for a syntactically valid region id ("cn-hangzhou", "ap-southeast-1").
bool IsValidRegionId(std::string_view region);

}  // namespace sas::aliyun
