#include "web/status_page.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "web/server.h"

extern char** environ;

namespace sas::web {
namespace {

using std::chrono::seconds;
using ::testing::HasSubstr;
using ::testing::Not;

const WallTime kNow = WallTime(seconds(1700000000));

poll::TaskSnapshot Exporting(std::string account, int64_t export_id,
                             std::string name) {
  poll::TaskSnapshot task;
  task.definition.key.account = std::move(account);
  task.definition.key.export_id = export_id;
  task.definition.name = std::move(name);
  task.polled = true;
  task.up = true;
  task.has_data = true;
  task.progress = 42;
  task.current_count = 4200;
  task.total_count = 10000;
  task.state = poll::ExportState::kExporting;
  task.status = "exporting";
  task.file_name = "vul_export.zip";
  task.first_seen = kNow - seconds(3600);
  task.last_progress = kNow - seconds(200);
  task.last_poll = kNow - seconds(12);
  task.last_success = task.last_poll;
  return task;
}

poll::TaskSnapshot NotPolled(std::string account, int64_t export_id) {
  poll::TaskSnapshot task;
  task.definition.key.account = std::move(account);
  task.definition.key.export_id = export_id;
  task.definition.name = std::to_string(export_id);
  task.first_seen = kNow - seconds(5);
  task.last_progress = task.first_seen;
  return task;
}

// The row of export_id, from its <tr to its </tr>; "" when absent.
std::string Row(const std::string& page, int64_t export_id) {
  auto start =
      page.find("data-export-id=\"" + std::to_string(export_id) + "\"");
  if (start == std::string::npos) return "";
  start = page.rfind("<tr", start);
  auto end = page.find("</tr>", start);
  return page.substr(start, end - start);
}

// The inner HTML of the row's cell whose class list starts with css_class.
std::string Cell(const std::string& page, int64_t export_id,
                 const std::string& css_class) {
  std::string row = Row(page, export_id);
  for (const std::string& open :
       {"<td class=\"" + css_class + "\">", "<td class=\"" + css_class + " "}) {
    auto start = row.find(open);
    if (start == std::string::npos) continue;
    start = row.find('>', start) + 1;
    return row.substr(start, row.find("</td>", start) - start);
  }
  return "<no cell " + css_class + ">";
}

size_t Count(const std::string& text, const std::string& needle) {
  size_t count = 0;
  for (auto pos = text.find(needle); pos != std::string::npos;
       pos = text.find(needle, pos + 1)) {
    ++count;
  }
  return count;
}

TEST(StatusPage, ListsEveryTaskAsARow) {
  auto member = Exporting("prod", 131231, "vulnerabilities");
  member.definition.key.rd_account_id = 16670360956;
  std::vector<poll::TaskSnapshot> tasks = {
      member, Exporting("staging", 7, "baseline"), NotPolled("prod", 99)};
  std::string page = RenderStatusPage(tasks, kNow, "/metrics");

  EXPECT_THAT(page, HasSubstr("<!DOCTYPE html>"));
  EXPECT_THAT(page, HasSubstr("<meta http-equiv=\"refresh\" content=\"10\">"));
  EXPECT_THAT(page, HasSubstr("<table id=\"tasks\">"));
  EXPECT_EQ(Count(page, "<tr data-account="), 3u);
  EXPECT_THAT(
      Row(page, 131231),
      HasSubstr("data-account=\"prod\" data-action=\"DescribeExportInfo\" "
                "data-export-id=\"131231\" "
                "data-state=\"exporting\""));
  EXPECT_EQ(Cell(page, 131231, "name"),
            "vulnerabilities<div class=\"file\">vul_export.zip</div>");
  EXPECT_EQ(Cell(page, 131231, "account"), "prod");
  EXPECT_EQ(Cell(page, 131231, "member"), "16670360956");
  EXPECT_EQ(Cell(page, 7, "member"), "\u2014");
  EXPECT_EQ(Cell(page, 7, "export-id"), "7");
  EXPECT_EQ(Cell(page, 7, "status"), "exporting");
  EXPECT_EQ(Cell(page, 7, "progress"),
            "<progress max=\"100\" value=\"42\">42%</progress>"
            "<span class=\"percent\">42%</span>");
  EXPECT_EQ(Cell(page, 7, "entries"), "4,200 / 10,000");
  EXPECT_EQ(Cell(page, 7, "since-progress"), "3m 20s");
  EXPECT_EQ(Cell(page, 7, "last-poll"), "12s ago");
  EXPECT_EQ(Cell(page, 7, "error"), "\u2014");
  // Rows keep the snapshot's order.
  EXPECT_LT(page.find("data-export-id=\"131231\""),
            page.find("data-export-id=\"7\""));
}

TEST(StatusPage, NamesItsShardOnlyWhenSharded) {
  std::string sharded =
      RenderStatusPage({}, kNow, "/metrics", poll::Sharding{2, 3});
  EXPECT_THAT(sharded, HasSubstr("<p id=\"shard\">Shard <span data-shard>2"
                                 "</span> of <span data-total-shards>3"
                                 "</span>"));
  EXPECT_THAT(RenderStatusPage({}, kNow, "/metrics"),
              Not(HasSubstr("id=\"shard\"")));
  EXPECT_THAT(RenderStatusPage({}, kNow, "/metrics", poll::Sharding{0, 1}),
              Not(HasSubstr("id=\"shard\"")));
}

TEST(StatusPage, LinksMetricsHealthAndReadinessRelatively) {
  std::string page = RenderStatusPage({}, kNow, "/custom-metrics");
  EXPECT_THAT(page, HasSubstr("href=\"custom-metrics\""));
  EXPECT_THAT(page, HasSubstr("href=\"-/healthy\""));
  EXPECT_THAT(page, HasSubstr("href=\"-/ready\""));
  EXPECT_THAT(page, HasSubstr("No tasks."));
  EXPECT_EQ(Count(page, "<tr data-account="), 0u);
}

TEST(StatusPage, EscapesEveryStringFromTheApiAndConfig) {
  auto task = Exporting("a\"b&c", 5, "<script>alert('x')</script> & \"q\"");
  task.status = "<b>odd</b>";
  task.state = poll::ExportState::kUnknown;
  task.file_name = "<f>&.zip";
  task.up = false;
  task.last_error_code = "Bad<Code>&\"";
  task.last_error_message = "a very long message that must not be shown";
  std::string page = RenderStatusPage({task}, kNow, "/m\"x");

  EXPECT_THAT(page, Not(HasSubstr("<script")));
  EXPECT_THAT(page, Not(HasSubstr("<b>")));
  EXPECT_THAT(page, Not(HasSubstr("<f>")));
  EXPECT_THAT(page, Not(HasSubstr("must not be shown")));
  EXPECT_THAT(page, HasSubstr("data-account=\"a&quot;b&amp;c\""));
  EXPECT_THAT(page, HasSubstr("href=\"m&quot;x\""));
  EXPECT_EQ(Cell(page, 5, "name"),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; "
            "&quot;q&quot;<div class=\"file\">&lt;f&gt;&amp;.zip</div>");
  EXPECT_EQ(Cell(page, 5, "account"), "a&quot;b&amp;c");
  EXPECT_EQ(Cell(page, 5, "status"), "&lt;b&gt;odd&lt;/b&gt;");
  EXPECT_EQ(Cell(page, 5, "error"), "Bad&lt;Code&gt;&amp;&quot;");
  EXPECT_THAT(Row(page, 5), HasSubstr("class=\"failing\""));
}

TEST(StatusPage, TasksNotPolledYet) {
  std::string page = RenderStatusPage({NotPolled("prod", 99)}, kNow, "/m");
  EXPECT_THAT(Row(page, 99), HasSubstr("data-state=\"not-polled\""));
  EXPECT_THAT(Row(page, 99), Not(HasSubstr("failing")));
  EXPECT_EQ(Cell(page, 99, "status"), "not polled yet");
  EXPECT_EQ(Cell(page, 99, "progress"), "\u2014");
  EXPECT_EQ(Cell(page, 99, "entries"), "\u2014");
  EXPECT_EQ(Cell(page, 99, "since-progress"), "5s");
  EXPECT_EQ(Cell(page, 99, "last-poll"), "never");
  EXPECT_EQ(Cell(page, 99, "error"), "\u2014");
}

TEST(StatusPage, TasksWhosePollsAllFailed) {
  auto task = NotPolled("prod", 3);
  task.polled = true;
  task.last_poll = kNow - seconds(90);
  task.last_error_code = "Forbidden.RAM";
  std::string page = RenderStatusPage({task}, kNow, "/m");
  EXPECT_THAT(Row(page, 3), HasSubstr("data-state=\"no-data\""));
  EXPECT_THAT(Row(page, 3), HasSubstr("class=\"failing\""));
  EXPECT_EQ(Cell(page, 3, "status"), "no data yet");
  EXPECT_EQ(Cell(page, 3, "last-poll"), "1m 30s ago");
  EXPECT_EQ(Cell(page, 3, "error"), "Forbidden.RAM");
}

TEST(StatusPage, CompletedTasksShowNoStall) {
  auto task = Exporting("prod", 1, "done");
  task.state = poll::ExportState::kSuccess;
  task.status = "success";
  task.progress = 100;
  task.current_count = task.total_count = 1234567;
  task.completed_at = kNow - seconds(7200);
  std::string page = RenderStatusPage({task}, kNow, "/m");
  EXPECT_EQ(Cell(page, 1, "since-progress"), "\u2014");
  EXPECT_EQ(Cell(page, 1, "entries"), "1,234,567 / 1,234,567");
  EXPECT_THAT(Cell(page, 1, "progress"), HasSubstr("value=\"100\""));
}

// An answer without progress or counts shows dashes, not zeros; a failed
// export is marked failed with the status as the API said it; a task's
// action is in its row.
TEST(StatusPage, AbsentFieldsAreDashesAndFailedIsMarked) {
  auto report = Exporting("prod", 7, "report");
  report.definition.key.action = aliyun::ExportAction::kDescribeReportExport;
  report.progress.reset();
  report.current_count.reset();
  report.total_count.reset();
  report.file_name.reset();
  report.state = poll::ExportState::kFailed;
  report.status = "-1";
  report.completed_at = kNow - seconds(60);
  auto susp = Exporting("prod", 8, "events");
  susp.definition.key.action =
      aliyun::ExportAction::kDescribeSuspEventExportInfo;
  susp.current_count.reset();
  susp.state = poll::ExportState::kPending;
  susp.status = "pending";
  std::string page = RenderStatusPage({report, susp}, kNow, "/m");
  EXPECT_THAT(Row(page, 7), HasSubstr("data-state=\"failed\""));
  EXPECT_THAT(Row(page, 7), HasSubstr("data-action=\"DescribeReportExport\""));
  EXPECT_EQ(Cell(page, 7, "status"), "-1");
  EXPECT_EQ(Cell(page, 7, "progress"), "\u2014");
  EXPECT_EQ(Cell(page, 7, "entries"), "\u2014");
  EXPECT_EQ(Cell(page, 8, "entries"), "\u2014 / 10,000");
  EXPECT_EQ(Cell(page, 8, "action"), "DescribeSuspEventExportInfo");
  EXPECT_THAT(page, HasSubstr("<span data-count=\"failed\">1</span>"));
  EXPECT_THAT(page, HasSubstr("<span data-count=\"pending\">1</span>"));
}

TEST(StatusPage, SummaryCountsTasksByStateAndFailing) {
  auto failing = Exporting("prod", 2, "b");
  failing.up = false;
  failing.last_error_code = "Throttling";
  auto init = Exporting("prod", 3, "c");
  init.state = poll::ExportState::kInit;
  init.status = "init";
  auto done = Exporting("prod", 4, "d");
  done.state = poll::ExportState::kSuccess;
  std::string page = RenderStatusPage(
      {Exporting("prod", 1, "a"), failing, init, done, NotPolled("prod", 5)},
      kNow, "/m");
  EXPECT_THAT(page, HasSubstr("<span data-count=\"total\">5</span> tasks"));
  EXPECT_THAT(page, HasSubstr("<span data-count=\"exporting\">2</span>"));
  EXPECT_THAT(page, HasSubstr("<span data-count=\"init\">1</span>"));
  EXPECT_THAT(page, HasSubstr("<span data-count=\"success\">1</span>"));
  EXPECT_THAT(page, HasSubstr("<span data-count=\"unknown\">0</span>"));
  EXPECT_THAT(page, HasSubstr("<span data-count=\"not-polled\">1</span>"));
  EXPECT_THAT(page, HasSubstr("data-count=\"failing\">1</span> failing"));
}

TEST(FormatAge, TwoUnitsAtMost) {
  EXPECT_EQ(FormatAge(seconds(0)), "0s");
  EXPECT_EQ(FormatAge(seconds(-30)), "0s");
  EXPECT_EQ(FormatAge(seconds(45)), "45s");
  EXPECT_EQ(FormatAge(seconds(60)), "1m 0s");
  EXPECT_EQ(FormatAge(seconds(200)), "3m 20s");
  EXPECT_EQ(FormatAge(seconds(3599)), "59m 59s");
  EXPECT_EQ(FormatAge(seconds(3600 * 2 + 5 * 60 + 59)), "2h 5m");
  EXPECT_EQ(FormatAge(seconds(86400 * 3 + 3600 * 4 + 1)), "3d 4h");
}

TEST(StatusPage, ServedAtTheRootWhenGiven) {
  WebServer server({{"127.0.0.1:0"}, "/metrics"},
                   {[](bool) { return TextPage(""); }, [] { return true; },
                    [] { return std::string("<p>status</p>"); }});
  std::string error;
  ASSERT_TRUE(server.Start(&error)) << error;
  const std::string& address = server.bound_addresses()[0];
  httplib::Client client("127.0.0.1",
                         std::stoi(address.substr(address.rfind(':') + 1)));
  auto res = client.Get("/");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "<p>status</p>");
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(res->get_header_value("Cache-Control"), "no-store");
}

// --- A real browser -------------------------------------------------------

constexpr const char* kChromium = "/usr/bin/chromium";

struct BrowserRun {
  bool finished = false;  // exited before the deadline
  int exit_status = -1;
  std::string stdout_text;
  std::string stderr_text;
};

// Runs Chromium headless on `args` in its own process group, collecting its
// stdout until it exits or the deadline passes (then the group is killed).
BrowserRun RunChromium(const std::vector<std::string>& args,
                       std::chrono::seconds timeout) {
  BrowserRun run;
  auto dir_template =
      (std::filesystem::temp_directory_path() / "status_page_test.XXXXXX")
          .string();
  if (mkdtemp(dir_template.data()) == nullptr) return run;
  const std::filesystem::path dir = dir_template;
  const std::string stderr_path = (dir / "stderr.txt").string();

  std::vector<std::string> argv_strings = {
      kChromium,
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--user-data-dir=" + (dir / "profile").string()};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& arg : argv_strings) argv.push_back(arg.data());
  argv.push_back(nullptr);

  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return run;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null",
                                   O_RDONLY, 0);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  pid_t pid = -1;
  int spawned =
      posix_spawn(&pid, kChromium, &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  close(out[1]);
  if (spawned != 0) {
    close(out[0]);
    run.stderr_text = "posix_spawn failed: " + std::to_string(spawned);
    return run;
  }

  // Wait on the pipe and on the browser's exit (a pidfd) together. Once it
  // has exited, whatever it wrote is in the pipe: drain that and stop, even if
  // a helper process still holds the pipe open.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  // glibc 2.36's <sys/pidfd.h> lacks extern "C": call the kernel directly.
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  bool exited = false;
  bool eof = false;
  int status = 0;
  while (pidfd >= 0 && !(eof && exited)) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd fds[2] = {{eof ? -1 : out[0], POLLIN, 0},
                     {exited ? -1 : pidfd, POLLIN, 0}};
    int ready = ::poll(fds, 2, exited ? 0 : static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) {
      if (exited) break;  // drained
      continue;
    }
    if (fds[0].revents != 0) {
      char buffer[65536];
      ssize_t n = read(out[0], buffer, sizeof buffer);
      if (n > 0) run.stdout_text.append(buffer, n);
      if (n <= 0) eof = true;
    }
    if (fds[1].revents != 0) exited = waitpid(pid, &status, 0) == pid;
  }
  close(out[0]);
  // Helpers left behind, or the browser itself at the deadline.
  kill(-pid, SIGKILL);
  run.finished = exited;
  if (!exited) waitpid(pid, &status, 0);
  if (pidfd >= 0) close(pidfd);
  run.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream err(stderr_path);
  std::stringstream err_text;
  err_text << err.rdbuf();
  run.stderr_text = err_text.str();
  if (run.stderr_text.size() > 4000) {  // the end says what went wrong
    run.stderr_text =
        "..." + run.stderr_text.substr(run.stderr_text.size() - 4000);
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  return run;
}

class StatusPageInBrowser : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(access(kChromium, X_OK), 0)
        << kChromium
        << " is missing: this test renders the status page in headless "
           "Chromium. Run scripts/install-deps as root to install it.";
    auto member = Exporting("prod", 131231, "<img src=x onerror=alert(1)>");
    member.definition.key.rd_account_id = 16670360956;
    auto done = Exporting("staging", 7, "baseline & co");
    done.state = poll::ExportState::kSuccess;
    done.status = "success";
    done.progress = 100;
    done.current_count = done.total_count = 2500;
    done.completed_at = kNow - seconds(60);
    tasks_ = {member, done, NotPolled("prod", 99)};
    server_ = std::make_unique<WebServer>(
        WebOptions{{"127.0.0.1:0"}, "/metrics"},
        WebHandlers{
            [](bool) { return TextPage(""); }, [] { return true; },
            [this] { return RenderStatusPage(tasks_, kNow, "/metrics"); }});
    std::string error;
    ASSERT_TRUE(server_->Start(&error)) << error;
    url_ = "http://" + server_->bound_addresses()[0] + "/";
  }

  std::vector<poll::TaskSnapshot> tasks_;
  std::unique_ptr<WebServer> server_;
  std::string url_;
};

TEST_F(StatusPageInBrowser, RendersRowsAndKeepsHostileNamesAsText) {
  // Normally about 2 s. A script dialog (say, alert() from markup that was
  // not escaped) blocks --dump-dom, and then the deadline is what fails.
  BrowserRun run = RunChromium({"--dump-dom", url_}, seconds(60));
  ASSERT_TRUE(run.finished)
      << "Chromium did not finish within 60 s; a script dialog opened by "
         "unescaped markup would do that\n"
      << run.stderr_text;
  ASSERT_EQ(run.exit_status, 0) << run.stderr_text;
  const std::string& dom = run.stdout_text;
  ASSERT_THAT(dom, HasSubstr("<table id=\"tasks\">")) << run.stderr_text;

  EXPECT_EQ(Count(dom, "<tr data-account="), 3u) << dom;
  // The hostile name is text: the parser made no <img> (nor anything else).
  EXPECT_THAT(dom, Not(HasSubstr("<img")));
  EXPECT_THAT(Cell(dom, 131231, "name"),
              HasSubstr("&lt;img src=x onerror=alert(1)&gt;"));
  EXPECT_THAT(Cell(dom, 7, "name"), HasSubstr("baseline &amp; co"));
  EXPECT_EQ(Cell(dom, 131231, "member"), "16670360956");
  EXPECT_EQ(Cell(dom, 131231, "progress"),
            "<progress max=\"100\" value=\"42\">42%</progress>"
            "<span class=\"percent\">42%</span>");
  EXPECT_EQ(Cell(dom, 131231, "entries"), "4,200 / 10,000");
  EXPECT_EQ(Cell(dom, 7, "status"), "success");
  EXPECT_THAT(Cell(dom, 7, "progress"), HasSubstr(">100%</span>"));
  EXPECT_EQ(Cell(dom, 99, "status"), "not polled yet");
  EXPECT_THAT(dom, HasSubstr("<span data-count=\"total\">3</span>"));
}

}  // namespace
}  // namespace sas::web
