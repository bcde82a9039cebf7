// Trace events: part of every plugin's contract. They feed metrics, checkers and lab diagrams.
// Emitting is cheap when tracing is off: callers test `enabled()` first (see QL_TRACE).
#pragma once

#include <cstdint>
#include <string>

#include <boost/config.hpp>

#include "quorumlab/types.hpp"

namespace quorumlab {

enum class TraceKind : std::uint8_t {
  became_leader,
  became_follower,
  became_candidate,
  became_learner,
  election_started,
  vote_sent,
  proposal,     ///< leader proposed zxid
  ack,          ///< follower acked zxid / leader counted an ack
  commit,       ///< zxid committed
  apply,        ///< zxid applied to the tree
  persisted,    ///< storage made the log durable up to an index
  read_served,  ///< a read was answered at zxid
  barrier,      ///< a sync_op / read-index barrier resolved at zxid
  catch_up,     ///< a leader brings a replica up to date; the detail names how, in the
                ///< plugin's words (ZAB DIFF/TRUNC/SNAP, Raft InstallSnapshot)
  message_sent,
  message_received,
  custom,
};

const char* to_string(TraceKind k);

/// One event. The fields are neutral; what is specific to a protocol goes in `detail`.
struct TraceEvent {
  TraceKind kind = TraceKind::custom;
  NodeId node = 0;
  NodeId peer = 0;          ///< other party, 0 if none
  std::uint64_t epoch = 0;  ///< epoch or term
  Zxid zxid = 0;
  std::string detail;
};

/// Receiver of trace events. Implementations decide where events go (file, memory, metrics).
class BOOST_SYMBOL_VISIBLE Tracer {
 public:
  virtual ~Tracer() = default;
  /// True when events are recorded. Callers skip building events when false.
  virtual bool enabled() const = 0;
  virtual void record(const TraceEvent& event) = 0;
};

/// A tracer that records nothing.
class NullTracer final : public Tracer {
 public:
  bool enabled() const override { return false; }
  void record(const TraceEvent&) override {}
};

/// Writes every event as one JSON line ({"t_us":..,"kind":..,"node":..,...}) to a file.
/// `t_us` is microseconds of a monotonic clock, supplied by the caller's runtime.
class FileTracer final : public Tracer {
 public:
  /// Opens (truncates) `path`; throws std::runtime_error naming it on failure.
  explicit FileTracer(const std::string& path);
  ~FileTracer() override;
  bool enabled() const override { return true; }
  void record(const TraceEvent& event) override;

 private:
  struct Impl;
  Impl* impl_;
};

}  // namespace quorumlab

/// Emits a trace event only when the tracer is enabled; the event is not built otherwise.
#define QL_TRACE(tracer, ...)                             \
  do {                                                    \
    if ((tracer).enabled()) (tracer).record(__VA_ARGS__); \
  } while (0)
