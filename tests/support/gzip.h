#pragma once

#include <string>

namespace sas::testing {

// data compressed as one gzip member at the best compression, the way a
// client (or an attacker making a small bomb) would send it.
std::string Gzip(const std::string& data);

}  // namespace sas::testing
