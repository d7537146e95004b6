#include "poll/shard.h"

namespace sas::poll {

std::string CanonicalTaskIdentity(const TaskKey& key) {
  std::string bytes = key.account;
  bytes += '\0';
  if (key.rd_account_id) bytes += std::to_string(*key.rd_account_id);
  bytes += '\0';
  bytes += aliyun::ExportActionName(key.action);
  bytes += '\0';
  bytes += std::to_string(key.export_id);
  return bytes;
}

uint64_t Fnv1a64(std::string_view bytes) {
  uint64_t hash = 14695981039346656037ULL;
  for (char c : bytes) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;
  }
  return hash;
}

uint64_t TaskIdentityHash(const TaskKey& key) {
  return Fnv1a64(CanonicalTaskIdentity(key));
}

int Sharding::OwnerOf(const TaskKey& key) const {
  if (total <= 1) return 0;
  return static_cast<int>(TaskIdentityHash(key) % static_cast<uint64_t>(total));
}

std::string ShardingProblem(int shard, int total) {
  if (total < 1) {
    return "--total-shards must be at least 1, got " + std::to_string(total);
  }
  if (shard < 0 || shard >= total) {
    return "--shard must be between 0 and --total-shards - 1 (" +
           std::to_string(total - 1) + "), got " + std::to_string(shard);
  }
  return "";
}

}  // namespace sas::poll
