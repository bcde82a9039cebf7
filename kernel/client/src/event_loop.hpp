// The client's event thread: runs user callbacks one at a time, in posting order.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace quorumlab::client::detail {

/// One piece of work for the event thread (a completed request, a watch event, ...). Tasks are
/// objects rather than closures so a completed request is posted without another allocation.
class Task {
 public:
  virtual ~Task() = default;
  virtual void run() = 0;
};

/// A closure as a Task (watch and session events).
class FunctionTask final : public Task {
 public:
  explicit FunctionTask(std::function<void()> fn) : fn_(std::move(fn)) {}
  void run() override { fn_(); }

 private:
  std::function<void()> fn_;
};

class EventLoop {
 public:
  using TaskPtr = std::unique_ptr<Task>;

  /// `after_batch` runs on the event thread after each batch of tasks (used to flush work the
  /// tasks queued for the I/O thread with a single wakeup).
  explicit EventLoop(std::function<void()> after_batch = {});
  /// Runs what is still queued, then joins the thread.
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  void post(TaskPtr task);
  /// Appends every task of `tasks` (in order) under one lock and clears it.
  void post_all(std::vector<TaskPtr>& tasks);
  /// Lets the thread finish once the queue is empty and joins it. Tasks posted by running tasks
  /// still run. Must not be called on the loop's own thread.
  void stop_and_join();
  bool on_loop_thread() const { return std::this_thread::get_id() == thread_id_; }

 private:
  void run();

  std::function<void()> after_batch_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<TaskPtr> queue_;
  bool stop_ = false;
  bool sleeping_ = false;
  std::thread thread_;
  std::thread::id thread_id_;
};

}  // namespace quorumlab::client::detail
