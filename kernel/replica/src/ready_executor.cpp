#include "quorumlab/replica/ready_executor.hpp"

#include <algorithm>

namespace quorumlab::replica {

ReadyExecutor::ReadyExecutor(Broadcast& plugin, Storage& storage, ReplicaHost& host)
    : plugin_(plugin), storage_(storage), host_(host) {}

void ReadyExecutor::reset(AppliedPosition applied, LogIndex storage_last_index) {
  applied_ = applied;
  storage_last_index_ = storage_last_index;
  waits_.clear();
  deferred_compactions_.clear();
}

bool ReadyExecutor::drain(std::size_t max_readies) {
  for (std::size_t i = 0; i < max_readies; ++i) {
    complete_persisted();
    if (!plugin_.has_ready()) return true;
    Ready ready = plugin_.ready();
    execute(ready);
  }
  complete_persisted();
  return !plugin_.has_ready();
}

void ReadyExecutor::execute(Ready& rd) {
  executing_ = true;
  bool wrote = false;
  // 1. Snapshot: the state machine first, then storage (which drops the whole log).
  if (rd.snapshot) {
    applied_ = {rd.snapshot->last_index, rd.snapshot->last_epoch, rd.snapshot->last_zxid};
    host_.restore_snapshot(*rd.snapshot);
    storage_.install_snapshot(*rd.snapshot);
    storage_last_index_ = rd.snapshot->last_index;
    wrote = true;
  }
  // 2-3. Log and hard state.
  if (rd.truncate_after) {
    storage_.truncate_after(*rd.truncate_after);
    storage_last_index_ = std::min(storage_last_index_, *rd.truncate_after);
    wrote = true;
  }
  if (!rd.entries.empty()) {
    storage_.append(rd.entries);
    storage_last_index_ = rd.entries.back().index;
    wrote = true;
  }
  if (rd.hard_state) {
    storage_.save_hard_state(*rd.hard_state);
    wrote = true;
  }
  // 4. Messages that depend on nothing durable.
  for (const auto& m : rd.messages)
    host_.send(m);
  // 5. The rest waits for this Ready's writes to be durable.
  if (wrote || !rd.messages_after_persist.empty()) {
    waits_.push_back({storage_.flush(), storage_last_index_, std::move(rd.messages_after_persist)});
  }
  // 6-7.
  for (const auto& c : rd.committed)
    apply(c);
  for (const auto& b : rd.barriers)
    host_.barrier_resolved(b);
  if (rd.status) host_.status_changed(*rd.status);
  executing_ = false;
  after_ready();
}

void ReadyExecutor::apply(const CommittedTxn& c) {
  if (c.index != applied_.index + 1) {
    host_.contract_violation("committed index " + std::to_string(c.index) +
                             " after applied index " + std::to_string(applied_.index) +
                             " (must be the next one)");
    return;
  }
  if (c.zxid <= applied_.zxid) {
    host_.contract_violation("committed zxid " + std::to_string(c.zxid) + " at index " +
                             std::to_string(c.index) + " does not increase over applied zxid " +
                             std::to_string(applied_.zxid));
    return;
  }
  applied_ = {c.index, c.epoch, c.zxid};
  host_.apply(c);
}

void ReadyExecutor::compact(Snapshot snapshot) {
  Snapshot meta{snapshot.last_index, snapshot.last_epoch, snapshot.last_zxid, {}};
  storage_.save_snapshot(std::move(snapshot));
  if (executing_) {
    deferred_compactions_.push_back(std::move(meta));
  } else {
    plugin_.compacted(meta);
  }
}

void ReadyExecutor::after_ready() {
  std::vector<Snapshot> compactions;
  compactions.swap(deferred_compactions_);
  for (const auto& meta : compactions)
    plugin_.compacted(meta);
}

void ReadyExecutor::complete_persisted() {
  if (executing_) return;
  const std::uint64_t durable = storage_.durable_ticket();
  while (!waits_.empty() && waits_.front().ticket <= durable) {
    PersistWait w = std::move(waits_.front());
    waits_.pop_front();
    for (const auto& m : w.messages)
      host_.send(m);
    plugin_.persisted(w.index);
  }
}

}  // namespace quorumlab::replica
