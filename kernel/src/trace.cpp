#include "quorumlab/trace.hpp"

#include <chrono>
#include <cstdio>
#include <stdexcept>

namespace quorumlab {

const char* to_string(TraceKind k) {
  switch (k) {
    case TraceKind::became_leader:
      return "became_leader";
    case TraceKind::became_follower:
      return "became_follower";
    case TraceKind::became_candidate:
      return "became_candidate";
    case TraceKind::became_learner:
      return "became_learner";
    case TraceKind::election_started:
      return "election_started";
    case TraceKind::vote_sent:
      return "vote_sent";
    case TraceKind::proposal:
      return "proposal";
    case TraceKind::ack:
      return "ack";
    case TraceKind::commit:
      return "commit";
    case TraceKind::apply:
      return "apply";
    case TraceKind::persisted:
      return "persisted";
    case TraceKind::read_served:
      return "read_served";
    case TraceKind::barrier:
      return "barrier";
    case TraceKind::catch_up:
      return "catch_up";
    case TraceKind::message_sent:
      return "message_sent";
    case TraceKind::message_received:
      return "message_received";
    case TraceKind::custom:
      return "custom";
  }
  return "?";
}

struct FileTracer::Impl {
  std::FILE* file = nullptr;
};

FileTracer::FileTracer(const std::string& path) : impl_(new Impl) {
  impl_->file = std::fopen(path.c_str(), "w");
  if (!impl_->file) {
    delete impl_;
    throw std::runtime_error("cannot open trace file '" + path + "'");
  }
}

FileTracer::~FileTracer() {
  std::fclose(impl_->file);
  delete impl_;
}

void FileTracer::record(const TraceEvent& e) {
  using namespace std::chrono;
  auto t = duration_cast<microseconds>(steady_clock::now().time_since_epoch()).count();
  std::string detail;
  for (char c : e.detail) {  // JSON string escaping of the few characters that need it
    if (c == '"' || c == '\\') detail += '\\';
    if (static_cast<unsigned char>(c) < 0x20) continue;
    detail += c;
  }
  std::fprintf(impl_->file,
               "{\"t_us\":%lld,\"kind\":\"%s\",\"node\":%u,\"peer\":%u,\"epoch\":%llu,"
               "\"zxid\":\"0x%llx\",\"detail\":\"%s\"}\n",
               static_cast<long long>(t), to_string(e.kind), e.node, e.peer,
               static_cast<unsigned long long>(e.epoch), static_cast<unsigned long long>(e.zxid),
               detail.c_str());
}

}  // namespace quorumlab
