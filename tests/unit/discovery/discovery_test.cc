#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "discovery/task_api.h"
#include "discovery/task_entry.h"
#include "discovery/task_file_watcher.h"
#include "discovery/task_registry.h"
#include "poll/poller.h"
#include "support/fake_clock.h"

namespace sas::discovery {
namespace {

using ::sas::testing::FakeClock;

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(ParseTaskFile, ReadsEveryField) {
  std::vector<TaskEntry> entries;
  std::string error;
  ASSERT_TRUE(ParseTaskFile(R"([
  {"account": "prod", "export_id": 131231, "rd_account_id": 16670360956,
   "name": "nightly", "created_at": "2026-11-27T10:00:00Z"},
  {"account": "prod", "export_id": 7, "created_at": 1700000000}
])",
                            "t.json", &entries, &error))
      << error;
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].rd_account_id, 16670360956);
  EXPECT_EQ(entries[0].name, "nightly");
  EXPECT_EQ(FormatIso8601(*entries[0].created_at), "2026-11-27T10:00:00Z");
  EXPECT_EQ(entries[1].Definition().name, "7");
  EXPECT_EQ(*entries[1].created_at, WallTime(std::chrono::seconds(1700000000)));
}

TEST(ParseTaskFile, ReportsFileLineAndColumn) {
  std::vector<TaskEntry> entries;
  std::string error;
  EXPECT_FALSE(
      ParseTaskFile("[\n  {\"account\": \"a\", \"export_id\": 1},\n"
                    "  {\"account\": \"a\", \"export_id\": \"2\"}\n]",
                    "t.json", &entries, &error));
  EXPECT_EQ(error,
            "t.json:3:3: task 2: \"export_id\" must be a positive integer (the "
            "id the export API returned)");
  EXPECT_FALSE(ParseTaskFile("[{\"account\": \"a\",\n \"export_id\": }]",
                             "t.json", &entries, &error));
  EXPECT_THAT(error, HasSubstr("t.json:2:"));
  EXPECT_THAT(error, HasSubstr("invalid JSON"));
  EXPECT_FALSE(ParseTaskFile("{}", "t.json", &entries, &error));
  EXPECT_EQ(
      error,
      "t.json:1:1: a task file must be a JSON array of tasks, got object");
  EXPECT_FALSE(
      ParseTaskFile("[{\"account\": \"a\", \"export_id\": 1, \"id\": 2}]",
                    "t.json", &entries, &error));
  EXPECT_THAT(error, HasSubstr("unknown field \"id\""));
  EXPECT_FALSE(ParseTaskFile(
      "[{\"account\": \"a\", \"export_id\": 1}, {\"account\": \"a\", "
      "\"export_id\": 1}]",
      "t.json", &entries, &error));
  EXPECT_THAT(error, HasSubstr("listed twice"));
  EXPECT_TRUE(entries.empty());
}

TEST(ParseTaskObject, RefusesCreatedAtOutsideTheAcceptedRange) {
  for (const char* created_at :
       {"1764643200000", "9.3e9", "1e300", "-5", "0",
        "\"1600-01-01T00:00:00Z\"", "\"2262-04-12T00:00:00Z\"",
        "\"9999-12-31T23:59:59Z\""}) {
    TaskEntry entry;
    std::string error;
    EXPECT_FALSE(ParseTaskObject(
        std::string(R"({"account": "prod", "export_id": 1, "created_at": )") +
            created_at + "}",
        &entry, &error))
        << created_at;
    EXPECT_EQ(error,
              "\"created_at\" must be \"yyyy-MM-ddTHH:mm:ssZ\" or Unix seconds "
              "(not milliseconds) within "
              "1970-01-01T00:00:00Z..2199-12-31T23:59:59Z (at most "
              "7258118399)")
        << created_at;
    EXPECT_EQ(entry.created_at, std::nullopt);
  }
  TaskEntry entry;
  std::string error;
  ASSERT_TRUE(ParseTaskObject(
      R"({"account": "prod", "export_id": 1, "created_at": 7258118399})",
      &entry, &error))
      << error;
  EXPECT_EQ(FormatIso8601(*entry.created_at), "2199-12-31T23:59:59Z");
  std::vector<TaskEntry> entries;
  EXPECT_FALSE(ParseTaskFile(
      R"([{"account": "prod", "export_id": 1, "created_at": 1764643200000}])",
      "t.json", &entries, &error));
  EXPECT_THAT(error, HasSubstr("t.json:1:2: task 1: \"created_at\" must be"));
}

TEST(ParseTaskFile, ANumberBeyondADoubleIsAnErrorNotACrash) {
  std::vector<TaskEntry> entries;
  std::string error;
  EXPECT_FALSE(ParseTaskFile(
      "[\n  {\"account\": \"prod\", \"export_id\": 1,\n   \"created_at\": "
      "1e400}\n]",
      "t.json", &entries, &error));
  EXPECT_EQ(error,
            "t.json:3:18: invalid JSON: a number is too large (beyond "
            "+-1.8e308)");
  EXPECT_FALSE(ParseTaskFile(
      "[{\"account\": \"a\", \"export_id\": " + std::string(400, '9') + "}]",
      "t.json", &entries, &error));
  EXPECT_EQ(error,
            "t.json:1:32: invalid JSON: a number is too large (beyond "
            "+-1.8e308)");
  TaskEntry entry;
  EXPECT_FALSE(ParseTaskObject(R"({"account": "a", "export_id": 1e400})",
                               &entry, &error));
  EXPECT_EQ(error, "the body is not valid JSON");
}

TEST(ParseTaskObject, RefusesControlCharactersInNameAndAccount) {
  TaskEntry entry;
  std::string error;
  EXPECT_FALSE(ParseTaskObject(
      R"({"account": "prod", "export_id": 1, "name": "a\u0000b"})", &entry,
      &error));
  EXPECT_EQ(error,
            "\"name\" contains control character U+0000 at byte 1; it must "
            "be UTF-8 text without control characters");
  for (const char* name : {R"("a\nb")", R"("\u001f")", R"("x\u007f")"}) {
    EXPECT_FALSE(ParseTaskObject(
        std::string(R"({"account": "prod", "export_id": 1, "name": )") + name +
            "}",
        &entry, &error))
        << name;
    EXPECT_THAT(error, HasSubstr("\"name\" contains control character"));
  }
  EXPECT_FALSE(ParseTaskObject(R"({"account": "pr\tod", "export_id": 1})",
                               &entry, &error));
  EXPECT_EQ(error,
            "\"account\" contains control character U+0009 at byte 2; it "
            "must name a configured account");
  std::vector<TaskEntry> entries;
  EXPECT_FALSE(
      ParseTaskFile(R"([{"account": "prod", "export_id": 1, "name": "\r"}])",
                    "t.json", &entries, &error));
  EXPECT_THAT(error, HasSubstr("t.json:1:2: task 1: \"name\" contains"));
  ASSERT_TRUE(ParseTaskObject(
      R"({"account": "prod", "export_id": 1, "name": "caf\u00e9 \"x\""})",
      &entry, &error))
      << error;
  EXPECT_EQ(entry.name, "caf\xc3\xa9 \"x\"");
}

class RegistryTest : public ::testing::Test {
 protected:
  FakeClock clock_;
  poll::TaskStore store_{std::chrono::hours(1)};
  poll::Poller poller_{poll::PollerOptions{}, store_, {}, clock_};
  TaskRegistry registry_{store_, poller_, clock_, {"prod", "staging"}, 3};

  TaskEntry Entry(int64_t id, std::string account = "prod") {
    return TaskEntry{std::move(account), id, std::nullopt, "", std::nullopt};
  }
};

TEST_F(RegistryTest, SameTaskFromTwoSourcesIsTrackedOnce) {
  EXPECT_EQ(registry_.Add("config", Entry(1)),
            TaskRegistry::AddResult::kCreated);
  EXPECT_EQ(registry_.Add("api", Entry(1)), TaskRegistry::AddResult::kExists);
  EXPECT_EQ(store_.size(), 1u);
  EXPECT_THAT(registry_.SourcesOf(Entry(1).Key()),
              ElementsAre("api", "config"));
  std::vector<std::string> others;
  EXPECT_EQ(registry_.Remove("api", Entry(1).Key(), &others),
            TaskRegistry::RemoveResult::kHeldElsewhere);
  EXPECT_THAT(others, ElementsAre("config"));
  EXPECT_EQ(store_.size(), 1u);
}

TEST_F(RegistryTest, RefusesUnknownAccountsAndTooManyTasks) {
  EXPECT_EQ(registry_.Add("api", Entry(1, "nope")),
            TaskRegistry::AddResult::kUnknownAccount);
  registry_.Add("api", Entry(1));
  registry_.Add("api", Entry(2));
  registry_.Add("api", Entry(3));
  EXPECT_EQ(registry_.Add("api", Entry(4)), TaskRegistry::AddResult::kTooMany);
  EXPECT_EQ(registry_.size(), 3u);
}

TEST_F(RegistryTest, ReplaceAddsAndDropsAndRemoveForgets) {
  registry_.Replace("file:a", {Entry(1), Entry(2)});
  EXPECT_EQ(store_.size(), 2u);
  auto problems = registry_.Replace("file:a", {Entry(2), Entry(5, "nope")});
  EXPECT_THAT(problems, ElementsAre(HasSubstr("no account named \"nope\"")));
  EXPECT_EQ(store_.size(), 1u);
  EXPECT_EQ(store_.Snapshot()[0].definition.key.export_id, 2);
  EXPECT_EQ(registry_.Remove("file:a", Entry(2).Key()),
            TaskRegistry::RemoveResult::kRemoved);
  EXPECT_EQ(store_.size(), 0u);
  EXPECT_EQ(registry_.Remove("file:a", Entry(2).Key()),
            TaskRegistry::RemoveResult::kNotFound);
}

TEST_F(RegistryTest, ReconfigureDropsTasksOfRemovedAccountsFromEverySource) {
  registry_.Add("config", Entry(1));
  registry_.Add("api", Entry(1, "staging"));
  registry_.Add("file:a", Entry(2, "staging"));
  std::vector<poll::TaskKey> dropped = registry_.Reconfigure({"prod"}, 1);
  ASSERT_EQ(dropped.size(), 2u);
  EXPECT_EQ(dropped[0].account, "staging");
  EXPECT_EQ(store_.size(), 1u);
  EXPECT_THAT(registry_.SourcesOf(Entry(1, "staging").Key()),
              ::testing::IsEmpty());
  EXPECT_EQ(registry_.Add("api", Entry(3, "staging")),
            TaskRegistry::AddResult::kUnknownAccount);
  // max_tasks lowered to the tracked count: nothing more fits.
  EXPECT_EQ(registry_.Add("api", Entry(3)), TaskRegistry::AddResult::kTooMany);
  registry_.Reconfigure({"prod", "staging"}, 3);
  EXPECT_EQ(registry_.Add("api", Entry(3, "staging")),
            TaskRegistry::AddResult::kCreated);
}

TEST_F(RegistryTest, CreatedAtIsTheFirstSeenTime) {
  TaskEntry entry = Entry(1);
  entry.created_at = WallTime(std::chrono::seconds(1600000000));
  registry_.Add("api", entry);
  EXPECT_EQ(store_.Snapshot()[0].first_seen, *entry.created_at);
}

class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "sas-disc-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~ScratchDir() { std::filesystem::remove_all(path_); }
  std::string Write(const std::string& name, const std::string& content) {
    std::string path = path_ + "/" + name;
    std::ofstream(path, std::ios::trunc) << content;
    // A new modification time even within the same second.
    struct timespec times[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
    utimensat(AT_FDCWD, path.c_str(), times, 0);
    return path;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST_F(RegistryTest, TaskFilesAreWatched) {
  ScratchDir dir;
  std::vector<std::string> errors;
  TaskFileWatcher watcher(
      LocalFileSystem(), {dir.path() + "/*.json"}, registry_,
      [&](const std::string& file) { errors.push_back(file); });
  std::string file =
      dir.Write("a.json", R"([{"account": "prod", "export_id": 1}])");
  watcher.Scan();
  EXPECT_EQ(store_.size(), 1u);

  dir.Write("a.json", R"([{"account": "prod", "export_id": 1},
                          {"account": "prod", "export_id": 2}])");
  watcher.Scan();
  EXPECT_EQ(store_.size(), 2u);

  // Broken: the last good content stays, the error is reported.
  dir.Write("a.json", R"([{"account": "prod", "export_id": )");
  watcher.Scan();
  EXPECT_EQ(store_.size(), 2u);
  EXPECT_THAT(errors, ElementsAre(file));

  std::filesystem::remove(file);
  watcher.Scan();
  EXPECT_EQ(store_.size(), 0u);
}

TEST_F(RegistryTest, NewTaskFilePatternsApplyAtOnce) {
  ScratchDir dir;
  TaskFileWatcher watcher(LocalFileSystem(), {dir.path() + "/a*.json"},
                          registry_, nullptr);
  dir.Write("a.json", R"([{"account": "prod", "export_id": 1},
                          {"account": "gone", "export_id": 9}])");
  dir.Write("b.json", R"([{"account": "prod", "export_id": 2}])");
  watcher.Scan();
  EXPECT_EQ(store_.size(), 1u);
  // b.json comes in, a.json goes out with its task.
  watcher.SetPatterns({dir.path() + "/b*.json"});
  ASSERT_EQ(store_.size(), 1u);
  EXPECT_EQ(store_.Snapshot()[0].definition.key.export_id, 2);
  // Re-read although unchanged: an entry skipped before (its account was
  // unknown) is tried again.
  registry_.Reconfigure({"prod", "gone"}, 3);
  watcher.SetPatterns({dir.path() + "/*.json"});
  EXPECT_EQ(store_.size(), 3u);
}

class TaskApiTest : public RegistryTest {
 protected:
  ApiResponse Post(const std::string& body) {
    return api_->Handle({"POST", "/api/v1/tasks", {}, body});
  }
  ScratchDir dir_;
  std::unique_ptr<TaskApi> api_ = std::make_unique<TaskApi>(
      LocalFileSystem(), registry_, store_, dir_.path());
};

TEST_F(TaskApiTest, StoredTasksOfAnAccountAddedAgainComeBack) {
  ASSERT_EQ(Post(R"({"account": "staging", "export_id": 4})").status, 201);
  registry_.Reconfigure({"prod"}, 3);
  EXPECT_EQ(store_.size(), 0u);
  api_->RegisterStored();  // still unknown: stays stored, not tracked
  EXPECT_EQ(store_.size(), 0u);
  registry_.Reconfigure({"prod", "staging"}, 3);
  api_->RegisterStored();
  EXPECT_THAT(registry_.SourcesOf(Entry(4, "staging").Key()),
              ElementsAre("api"));
}

TEST_F(TaskApiTest, CreatesListsAndDeletes) {
  ApiResponse created =
      Post(R"({"account": "prod", "export_id": 9, "name": "n"})");
  EXPECT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(Post(R"({"account": "prod", "export_id": 9})").status, 200);
  ApiResponse list = api_->Handle({"GET", "/api/v1/tasks", {}, ""});
  EXPECT_EQ(list.status, 200);
  EXPECT_THAT(list.body, HasSubstr("\"export_id\":9"));
  EXPECT_THAT(list.body, HasSubstr("\"sources\":[\"api\"]"));
  // Journaled before the answer.
  std::ifstream stored(api_->journal().path());
  std::string content((std::istreambuf_iterator<char>(stored)), {});
  EXPECT_THAT(content, HasSubstr("\"export_id\":9"));

  EXPECT_EQ(api_->Handle({"DELETE", "/api/v1/tasks/prod/9", {}, ""}).status,
            204);
  EXPECT_EQ(store_.size(), 0u);
  EXPECT_EQ(api_->Handle({"DELETE", "/api/v1/tasks/prod/9", {}, ""}).status,
            404);
}

TEST_F(TaskApiTest, BadInputGetsSpecificErrors) {
  EXPECT_EQ(Post("{not json").status, 400);
  ApiResponse wrong_type = Post(R"({"account": "prod", "export_id": "9"})");
  EXPECT_EQ(wrong_type.status, 400);
  EXPECT_THAT(wrong_type.body, HasSubstr("export_id"));
  ApiResponse unknown = Post(R"({"account": "nope", "export_id": 9})");
  EXPECT_EQ(unknown.status, 422);
  EXPECT_THAT(unknown.body, HasSubstr("no account named \\\"nope\\\""));
  Post(R"({"account": "prod", "export_id": 1})");
  Post(R"({"account": "prod", "export_id": 2})");
  Post(R"({"account": "prod", "export_id": 3})");
  EXPECT_EQ(Post(R"({"account": "prod", "export_id": 4})").status, 429);
  EXPECT_EQ(api_->Handle({"DELETE", "/api/v1/tasks/prod/x", {}, ""}).status,
            400);
  EXPECT_EQ(api_->Handle({"PUT", "/api/v1/tasks", {}, ""}).status, 405);
}

TEST_F(TaskApiTest, DeleteOfATaskAlsoInAFileIsAConflict) {
  registry_.Add("file:/etc/t.json", Entry(5));
  Post(R"({"account": "prod", "export_id": 5})");
  ApiResponse conflict =
      api_->Handle({"DELETE", "/api/v1/tasks/prod/5", {}, ""});
  EXPECT_EQ(conflict.status, 409);
  EXPECT_THAT(conflict.body, HasSubstr("file:/etc/t.json"));
  ApiResponse member = api_->Handle(
      {"DELETE", "/api/v1/tasks/prod/5", {{"rd_account_id", "77"}}, ""});
  EXPECT_EQ(member.status, 404);
}

TEST_F(TaskApiTest, RegisteredTasksSurviveARestart) {
  Post(R"({"account": "prod", "export_id": 11, "rd_account_id": 22})");
  poll::TaskStore store(std::chrono::hours(1));
  poll::Poller poller(poll::PollerOptions{}, store, {}, clock_);
  TaskRegistry registry(store, poller, clock_, {"prod"}, 10);
  TaskApi restarted(LocalFileSystem(), registry, store, dir_.path());
  std::string error;
  ASSERT_TRUE(restarted.Load(&error)) << error;
  ASSERT_EQ(store.size(), 1u);
  EXPECT_EQ(store.Snapshot()[0].definition.key.rd_account_id, 22);
}

TEST_F(TaskApiTest, AStoreWithAHugeNumberIsSetAsideNotACrash) {
  dir_.Write("tasks.json", "[{\"account\": \"prod\", \"export_id\": 1e400}]");
  std::string error;
  EXPECT_FALSE(api_->Load(&error));
  EXPECT_THAT(error, HasSubstr("tasks.json:1:35: invalid JSON: a number is "
                               "too large"));
  EXPECT_THAT(error, HasSubstr("set aside as"));
  EXPECT_EQ(store_.size(), 0u);
}

TEST_F(TaskApiTest, ACorruptStoreIsSetAsideNotLost) {
  dir_.Write("tasks.json", "[{\"account\": ");
  std::string error;
  EXPECT_FALSE(api_->Load(&error));
  EXPECT_THAT(error, HasSubstr("tasks.json:"));
  EXPECT_THAT(error, HasSubstr("set aside as"));
  bool found = false;
  for (const auto& file : std::filesystem::directory_iterator(dir_.path())) {
    if (file.path().filename().string().rfind("tasks.json.broken-", 0) == 0) {
      found = true;
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(TaskApiTest, PathSegmentsAreSplitBeforeTheyAreDecoded) {
  Post(R"({"account": "prod", "export_id": 9})");
  // demo%2F7031 is one segment, not demo/7031.
  ApiResponse encoded_slash =
      api_->Handle({"DELETE", "/api/v1/tasks/prod%2F9", {}, ""});
  EXPECT_EQ(encoded_slash.status, 404);
  EXPECT_THAT(encoded_slash.body,
              HasSubstr("expected /api/v1/tasks/{account}/{export_id}"));
  EXPECT_EQ(api_->Handle({"DELETE", "/api/v1/tasks/prod%2F9/9", {}, ""}).status,
            404);
  EXPECT_EQ(store_.size(), 1u);
  ApiResponse malformed =
      api_->Handle({"DELETE", "/api/v1/tasks/pr%G0d/9", {}, ""});
  EXPECT_EQ(malformed.status, 400);
  EXPECT_THAT(malformed.body, HasSubstr("%-escape"));
  // Escaped ordinary characters are the characters themselves.
  EXPECT_EQ(api_->Handle({"DELETE", "/api/v1/tasks/pr%6Fd/%39", {}, ""}).status,
            204);
  EXPECT_EQ(store_.size(), 0u);
  EXPECT_EQ(api_->Handle({"GET", "/api/v1/%74asks", {}, ""}).status, 200);
}

TEST_F(TaskApiTest, AnswersAreJsonEvenForInvalidUtf8) {
  auto parses = [](const ApiResponse& response) {
    return nlohmann::json::accept(response.body);
  };
  ApiResponse invalid =
      api_->Handle({"DELETE", "/api/v1/tasks/%FF%FE/9", {}, ""});
  EXPECT_EQ(invalid.status, 400);
  EXPECT_THAT(invalid.body, HasSubstr("path segment is not valid UTF-8"));
  EXPECT_TRUE(parses(invalid));
  // Raw bytes, as a server that passes the path undecoded may deliver them.
  ApiResponse raw =
      api_->Handle({"DELETE", "/api/v1/tasks/\xff\xfe/9", {}, ""});
  EXPECT_EQ(raw.status, 400);
  EXPECT_TRUE(parses(raw));
  ApiResponse elsewhere = api_->Handle({"GET", "/nope/\xff", {}, ""});
  EXPECT_EQ(elsewhere.status, 400);
  EXPECT_TRUE(parses(elsewhere)) << elsewhere.body;
  ApiResponse method = api_->Handle({"P\xffT", "/api/v1/tasks", {}, ""});
  EXPECT_EQ(method.status, 405);
  EXPECT_TRUE(parses(method)) << method.body;
  ApiResponse control =
      api_->Handle({"DELETE", "/api/v1/tasks/pr%0Aod/9", {}, ""});
  EXPECT_EQ(control.status, 400);
  EXPECT_THAT(control.body, HasSubstr("control characters"));
  EXPECT_NO_THROW(ErrorJson("\xff\xfe"));
  EXPECT_EQ(ErrorJson("a\xff"), "{\"error\":\"a\xef\xbf\xbd\"}\n");
}

}  // namespace
}  // namespace sas::discovery

namespace sas::discovery {
namespace {

using aliyun::ExportAction;

TEST(ParseTaskFile, ReadsTheActionDefaultingToDescribeExportInfo) {
  std::vector<TaskEntry> entries;
  std::string error;
  ASSERT_TRUE(ParseTaskFile(
      R"([{"account": "a", "export_id": 1},
          {"account": "a", "export_id": 1, "action": "DescribeVulExportInfo",
           "rd_account_id": 5},
          {"account": "a", "export_id": 2147483647,
           "action": "DescribeSuspEventExportInfo"}])",
      "t.json", &entries, &error))
      << error;
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].action, ExportAction::kDescribeExportInfo);
  EXPECT_EQ(entries[1].action, ExportAction::kDescribeVulExportInfo);
  // The same id under two actions is two tasks.
  EXPECT_NE(entries[0].Key(), entries[1].Key());
  // Written back: the default action is left out, the others are named.
  std::string json = TaskEntriesToJson(entries);
  EXPECT_THAT(json, HasSubstr("\"action\": \"DescribeVulExportInfo\""));
  EXPECT_EQ(json.find("DescribeExportInfo"), std::string::npos);
}

TEST(ParseTaskFile, RefusesRdAccountIdWhereTheActionHasNoMemberParameter) {
  std::vector<TaskEntry> entries;
  std::string error;
  EXPECT_FALSE(ParseTaskFile(
      "[\n  {\"account\": \"a\", \"export_id\": 1},\n"
      "  {\"account\": \"a\", \"export_id\": 2, \"rd_account_id\": 5,\n"
      "   \"action\": \"DescribeWarningExportInfo\"}\n]",
      "t.json", &entries, &error));
  EXPECT_THAT(error, HasSubstr("t.json:3:3: task 2: DescribeWarningExportInfo "
                               "has no member-account parameter"));
  EXPECT_THAT(error, HasSubstr("remove rd_account_id"));
}

TEST(ParseTaskFile, RefusesUnknownActionsAndOversizedSuspEventIds) {
  std::vector<TaskEntry> entries;
  std::string error;
  EXPECT_FALSE(ParseTaskFile(
      R"([{"account": "a", "export_id": 1, "action": "DescribeVulExport"}])",
      "t.json", &entries, &error));
  EXPECT_THAT(error, HasSubstr("t.json:1:2: task 1: \"action\" must be one of "
                               "DescribeExportInfo, DescribeVulExportInfo"));
  EXPECT_FALSE(ParseTaskFile(
      R"([{"account": "a", "export_id": 2147483648,
           "action": "DescribeSuspEventExportInfo"}])",
      "t.json", &entries, &error));
  EXPECT_THAT(error, HasSubstr("at most 2147483647"));
}

TEST_F(TaskApiTest, ActionIsPartOfTheTaskAndOfDelete) {
  EXPECT_EQ(Post(R"({"account": "prod", "export_id": 9})").status, 201);
  EXPECT_EQ(Post(R"({"account": "prod", "export_id": 9,
                     "action": "DescribeHcExportInfo"})")
                .status,
            201);
  ApiResponse list = api_->Handle({"GET", "/api/v1/tasks", {}, ""});
  EXPECT_THAT(list.body, HasSubstr("\"action\":\"DescribeHcExportInfo\""));
  EXPECT_THAT(list.body, HasSubstr("\"action\":\"DescribeExportInfo\""));
  EXPECT_EQ(api_->Handle({"DELETE",
                          "/api/v1/tasks/prod/9",
                          {{"action", "DescribeNothing"}},
                          ""})
                .status,
            400);
  EXPECT_EQ(api_->Handle({"DELETE",
                          "/api/v1/tasks/prod/9",
                          {{"action", "DescribeHcExportInfo"}},
                          ""})
                .status,
            204);
  ASSERT_EQ(store_.size(), 1u);
  EXPECT_EQ(store_.Snapshot()[0].definition.key.action,
            ExportAction::kDescribeExportInfo);
  // Without ?action=: DescribeExportInfo.
  EXPECT_EQ(api_->Handle({"DELETE", "/api/v1/tasks/prod/9", {}, ""}).status,
            204);
  EXPECT_EQ(store_.size(), 0u);
}

TEST_F(TaskApiTest, RdAccountIdOnAnActionWithoutItIsUnprocessable) {
  ApiResponse refused = Post(R"({"account": "prod", "export_id": 3,
      "rd_account_id": 5, "action": "DescribeReportExport"})");
  EXPECT_EQ(refused.status, 422);
  EXPECT_THAT(refused.body, HasSubstr("DescribeReportExport has no "
                                      "member-account parameter"));
  EXPECT_EQ(store_.size(), 0u);
  EXPECT_EQ(Post(R"({"account": "prod", "export_id": 3,
      "rd_account_id": 5, "action": "DescribeVulExportInfo"})")
                .status,
            201);
}

TEST_F(TaskApiTest, StorageWrittenByThePreviousVersionLoadsUnchanged) {
  // tasks.json and tasks.journal as the version before actions wrote them.
  std::filesystem::create_directories(dir_.path());
  std::ofstream(dir_.path() + "/tasks.json") << R"([
  {"account": "prod", "export_id": 11, "rd_account_id": 22, "name": "n"},
  {"account": "prod", "export_id": 12}
])";
  std::ofstream(dir_.path() + "/tasks.journal")
      << R"({"op":"add","task":{"account":"prod","export_id":13}})"
      << "\n"
      << R"({"op":"remove","task":{"account":"prod","export_id":12}})"
      << "\n";
  poll::TaskStore store(std::chrono::hours(1));
  poll::Poller poller(poll::PollerOptions{}, store, {}, clock_);
  TaskRegistry registry(store, poller, clock_, {"prod"}, 10);
  TaskApi restarted(LocalFileSystem(), registry, store, dir_.path());
  std::string error;
  ASSERT_TRUE(restarted.Load(&error)) << error;
  std::vector<poll::TaskSnapshot> tasks = store.Snapshot();
  ASSERT_EQ(tasks.size(), 2u);
  for (const poll::TaskSnapshot& task : tasks) {
    EXPECT_EQ(task.definition.key.action, ExportAction::kDescribeExportInfo);
  }
  EXPECT_EQ(tasks[0].definition.key.export_id, 11);
  EXPECT_EQ(tasks[0].definition.key.rd_account_id, 22);
  EXPECT_EQ(tasks[0].definition.name, "n");
  EXPECT_EQ(tasks[1].definition.key.export_id, 13);
}

// Three replicas of one registry, each with its shard, over the same tasks.
class ShardedTest : public ::testing::Test {
 protected:
  static constexpr int kShards = 3;
  struct Replica {
    Replica(int shard, const FakeClock& clock)
        : poller(poll::PollerOptions{}, store, {}, clock),
          registry(store, poller, clock, {"prod"}, 100,
                   poll::Sharding{shard, kShards}) {}
    poll::TaskStore store{std::chrono::hours(1)};
    poll::Poller poller;
    TaskRegistry registry;
  };
  FakeClock clock_;
  std::vector<std::unique_ptr<Replica>> replicas_;

  void SetUp() override {
    for (int shard = 0; shard < kShards; ++shard) {
      replicas_.push_back(std::make_unique<Replica>(shard, clock_));
    }
  }
  static TaskEntry Entry(int64_t id) {
    return TaskEntry{"prod", id, std::nullopt, "", std::nullopt};
  }
  static int Owner(int64_t id) {
    return poll::Sharding{0, kShards}.OwnerOf(Entry(id).Key());
  }
};

TEST_F(ShardedTest, EveryTaskOfEverySourceIsTrackedByExactlyItsOwner) {
  std::vector<TaskEntry> file;
  for (int64_t id = 101; id <= 130; ++id) file.push_back(Entry(id));
  for (auto& replica : replicas_) {
    for (int64_t id = 1; id <= 30; ++id) {
      auto result = replica->registry.Add("config", Entry(id));
      EXPECT_EQ(result, Owner(id) == replica->registry.sharding().shard
                            ? TaskRegistry::AddResult::kCreated
                            : TaskRegistry::AddResult::kOtherShard);
    }
    // Another shard's task in a shared file is no problem to report.
    EXPECT_THAT(replica->registry.Replace("file:t.json", file),
                ::testing::IsEmpty());
  }
  std::map<int64_t, int> trackers;
  for (auto& replica : replicas_) {
    for (const poll::TaskSnapshot& task : replica->store.Snapshot()) {
      int64_t id = task.definition.key.export_id;
      ++trackers[id];
      EXPECT_EQ(Owner(id), replica->registry.sharding().shard) << id;
    }
    EXPECT_GT(replica->store.size(), 0u);
  }
  EXPECT_EQ(trackers.size(), 60u);
  for (const auto& [id, count] : trackers) EXPECT_EQ(count, 1) << id;
}

TEST_F(ShardedTest, TaskApiSendsAnotherShardsTaskToItsOwner) {
  ScratchDir dir;
  Replica& zero = *replicas_[0];
  TaskApi api(LocalFileSystem(), zero.registry, zero.store, dir.path());
  std::string error;
  ASSERT_TRUE(api.Load(&error)) << error;
  int64_t foreign = 1;
  while (Owner(foreign) == 0) ++foreign;
  int64_t own = 1;
  while (Owner(own) != 0) ++own;

  ApiResponse refused = api.Handle(
      {"POST",
       "/api/v1/tasks",
       {},
       R"({"account": "prod", "export_id": )" + std::to_string(foreign) + "}"});
  EXPECT_EQ(refused.status, 421);
  auto body = nlohmann::json::parse(refused.body);
  EXPECT_EQ(body["shard"], Owner(foreign));
  EXPECT_THAT(body["error"].get<std::string>(),
              HasSubstr("belongs to shard " + std::to_string(Owner(foreign)) +
                        " of 3"));
  EXPECT_EQ(zero.store.size(), 0u);
  EXPECT_EQ(api.journal().bytes(), 0u);
  std::string path = "/api/v1/tasks/prod/" + std::to_string(foreign);
  EXPECT_EQ(api.Handle({"DELETE", path, {}, ""}).status, 421);

  EXPECT_EQ(api.Handle({"POST",
                        "/api/v1/tasks",
                        {},
                        R"({"account": "prod", "export_id": )" +
                            std::to_string(own) + "}"})
                .status,
            201);
  auto listed =
      nlohmann::json::parse(api.Handle({"GET", "/api/v1/tasks", {}, ""}).body);
  EXPECT_EQ(listed["shard"], 0);
  EXPECT_EQ(listed["total_shards"], 3);
  ASSERT_EQ(listed["tasks"].size(), 1u);
  EXPECT_EQ(listed["tasks"][0]["export_id"], own);
}

TEST_F(ShardedTest, StoredTaskOfAnotherShardIsKeptUnpolledAndCanBeDeleted) {
  ScratchDir dir;
  int64_t foreign = 1;
  while (Owner(foreign) == 0) ++foreign;
  // Written while the exporter ran unsharded.
  dir.Write("tasks.json", R"([{"account": "prod", "export_id": )" +
                              std::to_string(foreign) + "}]");
  Replica& zero = *replicas_[0];
  TaskApi api(LocalFileSystem(), zero.registry, zero.store, dir.path());
  std::string error;
  ASSERT_TRUE(api.Load(&error)) << error;
  EXPECT_EQ(zero.store.size(), 0u);
  std::string path = "/api/v1/tasks/prod/" + std::to_string(foreign);
  EXPECT_EQ(api.Handle({"DELETE", path, {}, ""}).status, 204);
  EXPECT_EQ(api.Handle({"DELETE", path, {}, ""}).status, 421);
  ASSERT_TRUE(api.CompactOnce(&error)) << error;
  std::ifstream stored(api.storage_file());
  std::string content((std::istreambuf_iterator<char>(stored)), {});
  EXPECT_EQ(content.find(std::to_string(foreign)), std::string::npos)
      << content;
}

}  // namespace
}  // namespace sas::discovery
