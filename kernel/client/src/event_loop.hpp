// The client's event thread: runs user callbacks one at a time, in posting order.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace quorumlab::client::detail {

class EventLoop {
 public:
  using Task = std::function<void()>;

  EventLoop();
  /// Runs what is still queued, then joins the thread.
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  void post(Task task);
  /// Appends every task of `tasks` (in order) under one lock and clears it.
  void post_all(std::vector<Task>& tasks);
  /// Lets the thread finish once the queue is empty and joins it. Tasks posted by running tasks
  /// still run. Must not be called on the loop's own thread.
  void stop_and_join();
  bool on_loop_thread() const { return std::this_thread::get_id() == thread_id_; }

 private:
  void run();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Task> queue_;
  bool stop_ = false;
  std::thread thread_;
  std::thread::id thread_id_;
};

}  // namespace quorumlab::client::detail
