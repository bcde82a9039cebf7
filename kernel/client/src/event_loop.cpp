// The client's event thread.
#include "event_loop.hpp"

#include <exception>

#include "quorumlab/log.hpp"

namespace quorumlab::client::detail {

EventLoop::EventLoop(std::function<void()> after_batch)
    : after_batch_(std::move(after_batch)), thread_([this] { run(); }) {
  thread_id_ = thread_.get_id();
}

EventLoop::~EventLoop() {
  stop_and_join();
}

void EventLoop::post(TaskPtr task) {
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(task));
    wake = sleeping_;
  }
  if (wake) cv_.notify_one();
}

void EventLoop::post_all(std::vector<TaskPtr>& tasks) {
  if (tasks.empty()) return;
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& t : tasks)
      queue_.push_back(std::move(t));
    wake = sleeping_;
  }
  tasks.clear();
  if (wake) cv_.notify_one();  // only a sleeping thread needs the futex wake
}

void EventLoop::stop_and_join() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void EventLoop::run() {
  std::deque<TaskPtr> batch;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (queue_.empty() && !stop_) {
        sleeping_ = true;
        cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
        sleeping_ = false;
      }
      if (queue_.empty()) return;  // stopped and drained
      batch.swap(queue_);
    }
    for (auto& task : batch) {
      try {
        task->run();
      } catch (const std::exception& e) {
        log::get("client")->error("a client callback threw: {}", e.what());
      } catch (...) {
        log::get("client")->error("a client callback threw a non-standard exception");
      }
      task.reset();
    }
    batch.clear();
    if (after_batch_) after_batch_();
  }
}

}  // namespace quorumlab::client::detail
