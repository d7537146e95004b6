#include "config/secret_source.h"

#include <gtest/gtest.h>

#include "support/map_environment.h"
#include "support/memory_file_system.h"

namespace sas::config {
namespace {

using ::sas::testing::MapEnvironment;
using ::sas::testing::MemoryFileSystem;

class SecretSourceTest : public ::testing::Test {
 protected:
  SecretLookup Resolve(SecretOrigin origin, const std::string& reference) {
    return ResolveSecret(origin, reference, env_, files_);
  }

  MapEnvironment env_;
  MemoryFileSystem files_;
};

TEST_F(SecretSourceTest, LiteralIsTheValue) {
  SecretLookup lookup = Resolve(SecretOrigin::kLiteral, "abc");
  EXPECT_EQ(lookup.value, "abc");
  EXPECT_EQ(lookup.error, "");
}

TEST_F(SecretSourceTest, EmptyLiteralIsAnError) {
  SecretLookup lookup = Resolve(SecretOrigin::kLiteral, "");
  EXPECT_EQ(lookup.value, std::nullopt);
  EXPECT_EQ(lookup.error, "must not be empty");
}

TEST_F(SecretSourceTest, ReadsEnvironmentVariable) {
  env_.Set("SECRET", "from-env");
  EXPECT_EQ(Resolve(SecretOrigin::kEnvironment, "SECRET").value, "from-env");
}

TEST_F(SecretSourceTest, UnsetOrEmptyVariableIsAnError) {
  EXPECT_EQ(Resolve(SecretOrigin::kEnvironment, "SECRET").error,
            "environment variable SECRET is not set");
  env_.Set("SECRET", "");
  EXPECT_EQ(Resolve(SecretOrigin::kEnvironment, "SECRET").error,
            "environment variable SECRET is empty");
  EXPECT_EQ(Resolve(SecretOrigin::kEnvironment, "").error,
            "must name an environment variable, not \"\"");
}

TEST_F(SecretSourceTest, ReadsFileAndTrimsWhitespace) {
  files_.Add("/run/secret", "  from-file \n");
  EXPECT_EQ(Resolve(SecretOrigin::kFile, "/run/secret").value, "from-file");
}

TEST_F(SecretSourceTest, UnreadableOrEmptyFileIsAnError) {
  EXPECT_EQ(Resolve(SecretOrigin::kFile, "/run/missing").error,
            "cannot read \"/run/missing\": No such file or directory");
  files_.Add("/run/blank", " \n\t\n");
  EXPECT_EQ(Resolve(SecretOrigin::kFile, "/run/blank").error,
            "file \"/run/blank\" is empty");
  EXPECT_EQ(Resolve(SecretOrigin::kFile, "").error,
            "must name a file, not \"\"");
}

TEST_F(SecretSourceTest, RefusesHugeFile) {
  files_.Add("/run/huge", std::string((1 << 20) + 1, 'x'));
  EXPECT_EQ(Resolve(SecretOrigin::kFile, "/run/huge").error,
            "cannot read \"/run/huge\": larger than 1048576 bytes");
}

TEST_F(SecretSourceTest, ControlCharactersAreAnErrorWithoutTheValue) {
  files_.Add("/run/two-lines", "line-one\nline-two\n");
  env_.Set("TWO_LINES", "first\nsecond");
  SecretLookup file = Resolve(SecretOrigin::kFile, "/run/two-lines");
  SecretLookup variable = Resolve(SecretOrigin::kEnvironment, "TWO_LINES");
  SecretLookup literal = Resolve(SecretOrigin::kLiteral, "a\tb");
  EXPECT_EQ(file.error,
            "file \"/run/two-lines\" contains more than one line or a control "
            "character");
  EXPECT_EQ(variable.error,
            "environment variable TWO_LINES contains a line break or another "
            "control character");
  EXPECT_EQ(literal.error,
            "contains a line break or another control character");
  for (const SecretLookup* lookup : {&file, &variable, &literal}) {
    EXPECT_EQ(lookup->value, std::nullopt);
    EXPECT_EQ(lookup->error.find("line-one"), std::string::npos);
    EXPECT_EQ(lookup->error.find("first"), std::string::npos);
  }
}

}  // namespace
}  // namespace sas::config
