#include "support/fixture.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace sas::testing {

std::string ReadFixture(const std::string& path) {
  std::ifstream in(std::string(SAS_TESTDATA_DIR) + "/" + path,
                   std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  EXPECT_FALSE(buffer.str().empty()) << path;
  return buffer.str();
}

}  // namespace sas::testing
