#pragma once

#include <optional>
#include <string>

namespace sas::testing {

// data compressed as one gzip member at the best compression, the way a
// client (or an attacker making a small bomb) would send it.
std::string Gzip(const std::string& data);

// The text of `data` read by zlib's inflate as exactly one gzip member, as
// a client reads an answer with Content-Encoding: gzip; nullopt when it is
// not one complete, valid member (bad data, a wrong CRC-32 or size, bytes
// after the member).
std::optional<std::string> Gunzip(const std::string& data);

}  // namespace sas::testing
