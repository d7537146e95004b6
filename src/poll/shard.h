#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "poll/task.h"

namespace sas::poll {

// The bytes a task's identity hashes over, fixed forever so that every
// version of the exporter puts a task on the same shard:
//   account 0x00 rd_account_id 0x00 action 0x00 export_id
// where rd_account_id and export_id are decimal ASCII without sign or
// leading zeros (rd_account_id empty when unset) and action is the API's
// name ("DescribeExportInfo").
std::string CanonicalTaskIdentity(const TaskKey& key);

// FNV-1a, 64 bits (offset basis 14695981039346656037, prime
// 1099511628211): a documented, platform-independent hash (Fowler, Noll,
// Vo: "The FNV Non-Cryptographic Hash Algorithm", draft-eastlake-fnv).
uint64_t Fnv1a64(std::string_view bytes);

// Fnv1a64(CanonicalTaskIdentity(key)).
uint64_t TaskIdentityHash(const TaskKey& key);

// One replica's share of the tasks, as kube-state-metrics' --shard and
// --total-shards split objects: a task belongs to shard
// TaskIdentityHash(key) % total. The default (0 of 1) owns every task.
// Immutable; thread-safe.
struct Sharding {
  int shard = 0;
  int total = 1;

  // The shard that owns `key`, in [0, total).
  int OwnerOf(const TaskKey& key) const;
  bool Owns(const TaskKey& key) const { return OwnerOf(key) == shard; }
  bool enabled() const { return total > 1; }
};

// "" when 0 <= shard < total and total >= 1; otherwise what is wrong, for
// the flags' error message.
std::string ShardingProblem(int shard, int total);

}  // namespace sas::poll
