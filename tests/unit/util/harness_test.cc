// The test harness itself: a sanitizer report in a child's output fails the
// running test (what `make test-asan` and `make test-tsan` rely on for the
// programs the integration tests start).

#include "support/harness.h"

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

namespace sas::testing {
namespace {

TEST(SanitizerReport, FindsEachSanitizersReportFromItsLine) {
  EXPECT_EQ(SanitizerReport("level=info msg=Listening\n"), "");
  for (const char* report :
       {"==12==ERROR: AddressSanitizer: heap-use-after-free on address",
        "==12==ERROR: LeakSanitizer: detected memory leaks",
        "src/a.cc:3:5: runtime error: signed integer overflow",
        "WARNING: ThreadSanitizer: data race (pid=12)"}) {
    EXPECT_EQ(SanitizerReport(std::string("msg=one\nmsg=two\n") + report +
                              "\n  #0 0x1 in f\n"),
              std::string(report) + "\n  #0 0x1 in f\n");
  }
}

TEST(SanitizerReport, InAChildsOutputFailsTheTest) {
  EXPECT_NONFATAL_FAILURE(
      {
        Process child({"/bin/sh", "-c",
                       "echo '==7==ERROR: LeakSanitizer: detected memory "
                       "leaks' >&2"});
        child.Wait();
      },
      "sanitizer report from /bin/sh");
}

TEST(SanitizerReport, AChildStillRunningIsAskedToStopWithSigterm) {
  // The child reports a fake sanitizer finding only when SIGTERM reaches it:
  // the failure proves the harness sent SIGTERM (and read what followed).
  EXPECT_NONFATAL_FAILURE(
      {
        Process child({"/bin/sh", "-c",
                       "trap 'echo \"runtime error: on SIGTERM\" >&2; exit 0' "
                       "TERM; echo ready; while :; do sleep 0.05; done"});
        ASSERT_TRUE(child.WaitForOutput("ready"));
      },
      "runtime error: on SIGTERM");
}

}  // namespace
}  // namespace sas::testing
