#include "util/process.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace sas {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> Split(std::string_view line) {
  std::vector<std::string> words;
  std::string error;
  EXPECT_TRUE(SplitCommandLine(line, &words, &error)) << line << ": " << error;
  return words;
}

std::string SplitError(std::string_view line) {
  std::vector<std::string> words;
  std::string error;
  EXPECT_FALSE(SplitCommandLine(line, &words, &error)) << line;
  return error;
}

TEST(SplitCommandLine, SplitsAsAPosixShellWithoutExpansions) {
  EXPECT_THAT(Split("  a  b\tc "), ElementsAre("a", "b", "c"));
  EXPECT_THAT(Split("cmd 'x y' \"p q\" r\\ s"),
              ElementsAre("cmd", "x y", "p q", "r s"));
  EXPECT_THAT(Split(R"(a "q\"uote\\ \$HOME \n" 'it''s')"),
              ElementsAre("a", R"(q"uote\ $HOME \n)", "its"));
  // Backslash-newline joins lines, as credentials-go's splitProcessCommand.
  EXPECT_THAT(Split("cmd \\\n  --flag"), ElementsAre("cmd", "--flag"));
  EXPECT_THAT(Split("a''b \"\""), ElementsAre("ab", ""));
  // No shell: operators are literal words.
  EXPECT_THAT(Split("a | b; $(c)"), ElementsAre("a", "|", "b;", "$(c)"));
}

TEST(SplitCommandLine, RefusesUnterminatedQuotesAndEmptyCommands) {
  EXPECT_EQ(SplitError("a 'b"), "unterminated ' quote");
  EXPECT_EQ(SplitError("a \"b"), "unterminated \" quote");
  EXPECT_EQ(SplitError("  \n"), "the command is empty");
}

class SystemProcessRunnerTest : public ::testing::Test {
 protected:
  ProcessResult Sh(const std::string& script, Millis timeout = Millis(10'000),
                   size_t max_output = 1 << 20) {
    return runner_->Run({"/bin/sh", "-c", script}, timeout, max_output);
  }
  std::unique_ptr<ProcessRunner> runner_ = MakeSystemProcessRunner();
};

TEST_F(SystemProcessRunnerTest, CapturesStdoutStderrAndTheExitStatus) {
  ProcessResult result = Sh("echo out; echo err >&2; exit 7");
  EXPECT_EQ(result.end, ProcessResult::End::kExited);
  EXPECT_EQ(result.exit_code, 7);
  EXPECT_EQ(result.stdout_text, "out\n");
  EXPECT_EQ(result.stderr_text, "err\n");
}

TEST_F(SystemProcessRunnerTest, StdinIsEmpty) {
  ProcessResult result = Sh("cat; echo done");
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.stdout_text, "done\n");
}

TEST_F(SystemProcessRunnerTest, LooksUpThePathAndReportsWhatCannotStart) {
  ProcessResult result = runner_->Run({"true"}, Millis(10'000), 1024);
  EXPECT_EQ(result.end, ProcessResult::End::kExited);
  EXPECT_EQ(result.exit_code, 0);
  result = runner_->Run({"/nonexistent/program"}, Millis(10'000), 1024);
  EXPECT_EQ(result.end, ProcessResult::End::kNotStarted);
  EXPECT_THAT(result.error, HasSubstr("No such file"));
}

TEST_F(SystemProcessRunnerTest, KillsTheGroupAtTheTimeout) {
  auto start = std::chrono::steady_clock::now();
  // The background sleep holds stdout open: the whole group must die.
  ProcessResult result = Sh("sleep 30 & sleep 30", Millis(300));
  EXPECT_EQ(result.end, ProcessResult::End::kTimedOut);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST_F(SystemProcessRunnerTest, KillsAProcessThatWritesTooMuch) {
  ProcessResult result = Sh("yes", Millis(10'000), 1000);
  EXPECT_EQ(result.end, ProcessResult::End::kTooMuch);
  EXPECT_EQ(result.stdout_text.size(), 1000u);
}

TEST_F(SystemProcessRunnerTest, CancelAllEndsARunAndLaterRuns) {
  std::thread canceller([this] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    runner_->CancelAll();
  });
  auto start = std::chrono::steady_clock::now();
  ProcessResult result = Sh("sleep 30", Millis(60'000));
  canceller.join();
  EXPECT_EQ(result.end, ProcessResult::End::kCancelled);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_EQ(Sh("true").end, ProcessResult::End::kCancelled);
}

}  // namespace
}  // namespace sas
