#pragma once

#include <string>

namespace sas::testing {

// The content of tests/testdata/<path> ("credentials/sts_ok.json"). A file
// that is missing or empty fails the current test and yields "".
std::string ReadFixture(const std::string& path);

}  // namespace sas::testing
