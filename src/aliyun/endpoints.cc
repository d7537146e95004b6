#include "aliyun/endpoints.h"

#include "util/strings.h"

namespace sas::aliyun {
namespace {

bool IsChinaRegion(std::string_view region) {
  return StartsWith(region, "cn-");
}

bool IsInternationalRegion(std::string_view region) {
  return StartsWith(region, "ap-") || StartsWith(region, "eu-") ||
         StartsWith(region, "us-") || StartsWith(region, "me-");
}

}  // namespace

std::string SasHostForRegion(std::string_view region, bool vpc) {
  if (IsChinaRegion(region)) {
    return vpc ? "tds.vpc-proxy.aliyuncs.com" : "tds.cn-shanghai.aliyuncs.com";
  }
  if (IsInternationalRegion(region)) {
    return vpc ? "tds-intl.vpc-proxy.aliyuncs.com"
               : "tds.ap-southeast-1.aliyuncs.com";
  }
  return "sas." + std::string(region) + ".aliyuncs.com";
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
