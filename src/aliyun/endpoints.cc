#include "aliyun/endpoints.h"

#include "util/strings.h"

namespace sas::aliyun {
namespace {

constexpr std::string_view kChinaHost = "tds.cn-shanghai.aliyuncs.com";
constexpr std::string_view kInternationalHost =
    "tds.ap-southeast-1.aliyuncs.com";
constexpr std::string_view kChinaVpcHost = "tds.vpc-proxy.aliyuncs.com";
constexpr std::string_view kInternationalVpcHost =
    "tds-intl.vpc-proxy.aliyuncs.com";

// Regions of the map whose own VPC host, or lack of one, the endpoint list
// states.
constexpr SasRegionHost kVpcExceptions[] = {
    {"ap-southeast-2", "tds-vpc.ap-southeast-2.aliyuncs.com"},
    {"cn-nanjing", ""},
    {"cn-fuzhou", ""},
};

}  // namespace

const std::vector<SasRegionHost>& SasEndpointMap() {
  static const std::vector<SasRegionHost> map = {
      {"cn-qingdao", kChinaHost},
      {"cn-beijing", kChinaHost},
      {"cn-zhangjiakou", kChinaHost},
      {"cn-huhehaote", kChinaHost},
      {"cn-wulanchabu", kChinaHost},
      {"cn-hangzhou", kChinaHost},
      {"cn-shanghai", kChinaHost},
      {"cn-nanjing", kChinaHost},
      {"cn-fuzhou", kChinaHost},
      {"cn-shenzhen", kChinaHost},
      {"cn-heyuan", kChinaHost},
      {"cn-guangzhou", kChinaHost},
      {"cn-chengdu", kChinaHost},
      {"cn-hongkong", kChinaHost},
      {"cn-beijing-finance-1", kChinaHost},
      {"cn-hangzhou-finance", kChinaHost},
      {"cn-shanghai-finance-1", kChinaHost},
      {"cn-shenzhen-finance-1", kChinaHost},
      {"cn-heyuan-acdr-1", kChinaHost},
      {"cn-north-2-gov-1", kChinaHost},
      {"cn-qingdao-acdr-ut-1", kChinaHost},
      {"cn-shanghai-mybk", kChinaHost},
      {"cn-wuhan-lr", kChinaHost},
      {"cn-zhengzhou-jva", kChinaHost},
      {"ap-southeast-2", kInternationalHost},
      {"ap-southeast-6", kInternationalHost},
      {"ap-northeast-2", kInternationalHost},
      {"ap-southeast-3", kInternationalHost},
      {"ap-northeast-1", kInternationalHost},
      {"ap-southeast-7", kInternationalHost},
      {"ap-southeast-1", kInternationalHost},
      {"ap-southeast-5", kInternationalHost},
      {"eu-central-1", kInternationalHost},
      {"us-east-1", kInternationalHost},
      {"us-west-1", kInternationalHost},
      {"eu-west-1", kInternationalHost},
      {"me-east-1", kInternationalHost},
      {"me-central-1", kInternationalHost},
      {"ap-south-1", kInternationalHost},
  };
  return map;
}

std::string SasHostForRegion(std::string_view region, bool vpc) {
  const SasRegionHost* listed = nullptr;
  for (const SasRegionHost& entry : SasEndpointMap()) {
    if (entry.region == region) listed = &entry;
  }
  if (listed == nullptr) {
    return (vpc ? "sas-vpc." : "sas.") + std::string(region) + ".aliyuncs.com";
  }
  if (!vpc) return std::string(listed->host);
  for (const SasRegionHost& exception : kVpcExceptions) {
    if (exception.region == region) return std::string(exception.host);
  }
  return std::string(listed->host == kChinaHost ? kChinaVpcHost
                                                : kInternationalVpcHost);
}

std::string StsHostForRegion(std::string_view region, bool vpc) {
  if (region.empty()) return "sts.aliyuncs.com";
  return (vpc ? "sts-vpc." : "sts.") + std::string(region) + ".aliyuncs.com";
}

bool IsValidRegionId(std::string_view region) {
  if (region.size() < 2 || region.size() > 64) return false;
  if (region[0] < 'a' || region[0] > 'z') return false;
  for (char c : region) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace sas::aliyun
