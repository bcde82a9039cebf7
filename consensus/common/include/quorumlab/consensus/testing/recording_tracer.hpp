// A tracer that keeps every event in memory, for tests and lab diagrams.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "quorumlab/trace.hpp"

namespace quorumlab::consensus::testing {

class RecordingTracer final : public Tracer {
 public:
  bool enabled() const override { return enabled_; }
  void record(const TraceEvent& event) override { events_.push_back(event); }

  void set_enabled(bool on) { enabled_ = on; }
  const std::vector<TraceEvent>& events() const { return events_; }
  void clear() { events_.clear(); }

  /// Events of one kind, optionally only those whose detail contains `detail_substring`.
  std::vector<TraceEvent> of(TraceKind kind, const std::string& detail_substring = {}) const {
    std::vector<TraceEvent> out;
    for (const auto& e : events_) {
      if (e.kind != kind) continue;
      if (!detail_substring.empty() && e.detail.find(detail_substring) == std::string::npos)
        continue;
      out.push_back(e);
    }
    return out;
  }
  std::size_t count(TraceKind kind, const std::string& detail_substring = {}) const {
    return of(kind, detail_substring).size();
  }

 private:
  bool enabled_ = true;
  std::vector<TraceEvent> events_;
};

}  // namespace quorumlab::consensus::testing
