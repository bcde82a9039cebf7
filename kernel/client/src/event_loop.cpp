// The client's event thread.
#include "event_loop.hpp"

#include <exception>

#include "quorumlab/log.hpp"

namespace quorumlab::client::detail {

EventLoop::EventLoop() : thread_([this] { run(); }) {
  thread_id_ = thread_.get_id();
}

EventLoop::~EventLoop() {
  stop_and_join();
}

void EventLoop::post(Task task) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(task));
  }
  cv_.notify_one();
}

void EventLoop::post_all(std::vector<Task>& tasks) {
  if (tasks.empty()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& t : tasks)
      queue_.push_back(std::move(t));
  }
  tasks.clear();
  cv_.notify_one();
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
  std::deque<Task> batch;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopped and drained
      batch.swap(queue_);
    }
    for (auto& task : batch) {
      try {
        task();
      } catch (const std::exception& e) {
        log::get("client")->error("a client callback threw: {}", e.what());
      } catch (...) {
        log::get("client")->error("a client callback threw a non-standard exception");
      }
    }
    batch.clear();
  }
}

}  // namespace quorumlab::client::detail
