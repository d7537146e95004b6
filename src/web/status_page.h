#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "poll/shard.h"
#include "poll/task.h"
#include "util/clock.h"

namespace sas::web {

// The status page served at /: one self-contained HTML document (inline CSS,
// no scripts, no external assets) that reloads itself every 10 seconds.
//
// It lists every task of `tasks`, in the given order, in <table id="tasks">.
// Each task is one <tr> in its <tbody> with `data-account`, `data-export-id`
// and `data-state` (init, exporting, success, unknown, "not-polled" before
// the first poll, "no-data" when every poll so far failed); a row whose
// latest poll failed also has class "failing". Cells, by class:
//   name            task name, then the export file name when known
//   account         configured account
//   member          rd_account_id, or "—"
//   export-id       the export id
//   status          ExportStatus as the API said it; "not polled yet" before
//                   the first poll, "no data yet" while every poll failed
//   progress        a <progress> bar and the percentage as text ("42%");
//                   "—" without data
//   entries         "1,234 / 5,000" (current / total); "—" without data
//   since-progress  time since Progress or CurrentCount last moved
//                   ("3m 20s"); "—" once the task completed
//   last-poll       "12s ago", or "never"
//   error           the latest poll's error code, or "—" (never the message)
// A summary (id="summary") counts tasks by data-state, each count in a
// <span data-count="STATE">, and those failing in <span data-count="failing">.
// It links to the telemetry path, -/healthy and -/ready by relative URLs so
// the page works behind a path-prefixing proxy. When `sharding` is enabled
// (--total-shards above 1), a line (id="shard") names this instance's shard,
// in <span data-shard> and <span data-total-shards>, since the page then
// lists only that shard's tasks.
//
// Every string from the API or the configuration is HTML-escaped. `now` is
// the moment ages are measured from. Pure function; thread-safe.
std::string RenderStatusPage(const std::vector<poll::TaskSnapshot>& tasks,
                             WallTime now, const std::string& telemetry_path,
                             poll::Sharding sharding = {});

// A non-negative age for people, two units at most: "0s", "45s", "3m 20s",
// "2h 5m", "3d 4h". Negative ages (clock steps) read "0s".
std::string FormatAge(std::chrono::seconds age);

}  // namespace sas::web
