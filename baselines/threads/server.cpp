// `ringbench serve threads`: the gunicorn gthread analogue. Every connection is served by
// serve_blocking_connection (baselines/common/blocking_connection.hpp), exactly as in the blocking server; only
// the concurrency differs: one thread per accepted connection with a small --stack-kb stack, or with
// --pool N a fixed pool of N threads fed from a queue; --workers M preforks M such processes.
// Run: build/ringbench serve threads --port 0 --stack-kb 64     (or --pool 4 --workers 2)
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>

#include "common/blocking_connection.hpp"
#include "common/prefork.hpp"
#include "core/handler.hpp"
#include "core/net.hpp"
#include "core/stop_signal.hpp"
#include "threads/refuser.hpp"
#include "threads/server.hpp"

namespace ringbench {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kDrainKickInterval = std::chrono::milliseconds(20);
constexpr auto kAfterShutdownGrace = std::chrono::milliseconds(1000);
// Interrupts a connection thread's poll/nanosleep/recv (EINTR) so it re-reads the stop flag during a
// drain. Its handler does nothing; SIGTERM itself stays blocked in every thread but the acceptor's wait.
constexpr int kKickSignal = SIGUSR1;

void on_kick(int) {}

// The threads serving connections, so a drain can interrupt them and, at its deadline, cut their sockets.
// Every field is guarded by mu_.
class ThreadsServer {
 public:
  ThreadsServer(const ServerConfig& cfg, const Handler& handler) : cfg_(cfg), handler_(handler), refuser_(cfg.linger_ms) {
    pthread_attr_init(&attr_);
    const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    const std::size_t stack = (std::size_t{cfg.stack_kb} * 1024 + page - 1) / page * page;
    if (const int rc = pthread_attr_setstacksize(&attr_, stack); rc != 0) {
      pthread_attr_destroy(&attr_);
      throw_errno("pthread_attr_setstacksize " + std::to_string(cfg.stack_kb) + " KiB", rc);
    }
    pthread_attr_setdetachstate(&attr_, PTHREAD_CREATE_DETACHED);
  }
  ~ThreadsServer() { pthread_attr_destroy(&attr_); }
  ThreadsServer(const ThreadsServer&) = delete;
  ThreadsServer& operator=(const ThreadsServer&) = delete;

  // --pool N: starts the workers; throws if one cannot be created.
  void start_pool() {
    for (uint32_t i = 0; i < cfg_.pool; ++i) {
      const int rc = spawn(&ThreadsServer::worker_main, this);
      if (rc != 0) throw_errno("pthread_create (pool worker " + std::to_string(i) + ")", rc);
    }
  }

  // A new connection: its own thread, a place in the pool's queue, or a 503 when neither is possible.
  void dispatch(int fd) {
    std::unique_lock<std::mutex> lk(mu_);
    const std::size_t load = cfg_.pool > 0 ? queue_.size() + busy_ : live_;
    if (load >= cfg_.max_connections) {
      lk.unlock();
      ++refused_;
      refuser_.refuse(fd);
      return;
    }
    if (cfg_.pool > 0) {
      queue_.push_back(fd);
      lk.unlock();
      work_ready_.notify_one();
      return;
    }
    lk.unlock();
    auto job = std::make_unique<Job>(Job{this, fd});
    const int rc = spawn(&ThreadsServer::connection_main, job.get());
    if (rc != 0) {
      // EAGAIN/ENOMEM: thread or memory limits. The client is told, the server goes on.
      ++refused_;
      refuser_.refuse(fd);
      return;
    }
    job.release();  // the thread owns it now
  }

  // SIGTERM: interrupt every connection thread until all are done or --drain-ms passes; then cut the
  // sockets still open and give their threads a moment to leave. True when every thread finished.
  bool drain(Clock::time_point deadline) {
    std::unique_lock<std::mutex> lk(mu_);
    stopping_ = true;
    work_ready_.notify_all();
    while (live_ > 0 && Clock::now() < deadline) {
      kick_all();
      all_done_.wait_for(lk, kDrainKickInterval);
    }
    if (live_ == 0) return true;
    for (Entry* e = head_; e != nullptr; e = e->next) {
      if (e->fd >= 0) ::shutdown(e->fd, SHUT_RDWR);
    }
    const Clock::time_point grace = Clock::now() + kAfterShutdownGrace;
    while (live_ > 0 && Clock::now() < grace) {
      kick_all();
      all_done_.wait_for(lk, kDrainKickInterval);
    }
    if (live_ > 0) std::fprintf(stderr, "ringbench serve threads: %zu threads still busy after the drain\n", live_);
    return live_ == 0;
  }

  uint64_t refused() const { return refused_; }

 private:
  struct Job {
    ThreadsServer* server;
    int fd;
  };
  // A live thread, on its own stack, linked into the registry while it runs.
  struct Entry {
    pthread_t thread;
    int fd = -1;  // the connection it serves, -1 when none
    Entry* prev = nullptr;
    Entry* next = nullptr;
  };

  int spawn(void* (*fn)(void*), void* arg) {
    {
      std::lock_guard<std::mutex> lk(mu_);
      ++live_;
    }
    pthread_t t;
    const int rc = pthread_create(&t, &attr_, fn, arg);
    if (rc != 0) leave(nullptr);
    return rc;
  }

  static void* connection_main(void* arg) {
    const std::unique_ptr<Job> job(static_cast<Job*>(arg));
    ThreadsServer& s = *job->server;
    Entry e{pthread_self(), job->fd};
    s.enter(e);
    serve_blocking_connection(job->fd, s.cfg_, s.handler_);
    s.leave(&e);  // before close: a drain may shut down only descriptors that are still ours
    ::close(job->fd);
    return nullptr;  // `s` may be gone once leave() ran; nothing here touches it
  }

  static void* worker_main(void* arg) {
    ThreadsServer& s = *static_cast<ThreadsServer*>(arg);
    Entry e{pthread_self(), -1};
    s.enter(e);
    for (;;) {
      int fd;
      {
        std::unique_lock<std::mutex> lk(s.mu_);
        s.work_ready_.wait(lk, [&] { return !s.queue_.empty() || s.stopping_; });
        if (s.queue_.empty()) break;  // stopping and nothing queued
        fd = s.queue_.front();
        s.queue_.pop_front();
        ++s.busy_;
        e.fd = fd;
      }
      serve_blocking_connection(fd, s.cfg_, s.handler_);
      {
        std::lock_guard<std::mutex> lk(s.mu_);
        e.fd = -1;
        --s.busy_;
      }
      ::close(fd);
    }
    s.leave(&e);
    return nullptr;
  }

  void enter(Entry& e) {
    std::lock_guard<std::mutex> lk(mu_);
    e.next = head_;
    if (head_ != nullptr) head_->prev = &e;
    head_ = &e;
    if (stopping_) ::pthread_kill(e.thread, kKickSignal);
  }

  // Unlinks `e` (null: a thread that was never created) and counts the thread out.
  void leave(Entry* e) {
    std::lock_guard<std::mutex> lk(mu_);
    if (e != nullptr) {
      if (e->prev != nullptr) e->prev->next = e->next; else head_ = e->next;
      if (e->next != nullptr) e->next->prev = e->prev;
    }
    --live_;
    if (live_ == 0) all_done_.notify_all();
  }

  // Caller holds mu_. A registered thread has not left yet, so its pthread_t is valid.
  void kick_all() {
    for (Entry* e = head_; e != nullptr; e = e->next) ::pthread_kill(e->thread, kKickSignal);
  }

  const ServerConfig& cfg_;
  const Handler& handler_;
  Refuser refuser_;
  pthread_attr_t attr_;
  std::mutex mu_;
  std::condition_variable work_ready_;  // pool: a queued connection, or stopping
  std::condition_variable all_done_;    // live_ reached 0
  Entry* head_ = nullptr;
  std::size_t live_ = 0;  // threads created (or being created) and not yet gone
  std::deque<int> queue_;  // pool: accepted connections waiting for a worker
  std::size_t busy_ = 0;   // pool: workers serving a connection
  bool stopping_ = false;
  uint64_t refused_ = 0;  // only the acceptor thread touches it
};

// Waits for the listener to become readable with SIGTERM/SIGINT unblocked only inside ppoll, so a stop
// cannot slip in between checking the flag and blocking. Returns 1 when readable, 0 once a stop was
// requested, -errno if ppoll failed.
int wait_for_connection(int listen_fd, const sigset_t& wait_mask) {
  for (;;) {
    if (stop_requested()) return 0;
    pollfd p{listen_fd, POLLIN, 0};
    const int rc = ::ppoll(&p, 1, nullptr, &wait_mask);
    if (rc > 0) return 1;
    if (rc < 0 && errno != EINTR) return -errno;
  }
}

int serve_process(int listen_fd, const ServerConfig& cfg) {
  // Connection threads inherit this mask: SIGTERM/SIGINT reach only the acceptor's ppoll.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  sigset_t wait_mask;
  if (const int rc = ::pthread_sigmask(SIG_BLOCK, &stop_signals, &wait_mask); rc != 0) throw_errno("pthread_sigmask", rc);
  sigdelset(&wait_mask, SIGTERM);
  sigdelset(&wait_mask, SIGINT);
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_kick;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: the interrupted call returns EINTR
  if (::sigaction(kKickSignal, &sa, nullptr) != 0) throw_errno("sigaction (kick signal)");

  const Handler handler(cfg);
  ThreadsServer server(cfg, handler);
  if (cfg.pool > 0) server.start_pool();

  int status = 0;
  for (;;) {
    const int ready = wait_for_connection(listen_fd, wait_mask);
    if (ready < 0) {
      std::fprintf(stderr, "ringbench serve threads: ppoll on the listener: %s\n", std::strerror(-ready));
      status = 1;
    }
    if (ready <= 0) break;
    const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);  // blocking socket for the thread
    if (fd < 0) {
      const int err = errno;
      if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR || err == ECONNABORTED) continue;
      if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
        const timespec backoff{0, long{kAcceptBackoffMs} * 1'000'000};
        ::nanosleep(&backoff, nullptr);
        continue;
      }
      std::fprintf(stderr, "ringbench serve threads: accept: %s\n", std::strerror(err));
      status = 1;
      break;
    }
    tune_accepted(fd);
    server.dispatch(fd);
  }
  // Like the blocking server: connections the kernel already queued are still served during the drain.
  const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(cfg.drain_ms);
  for (;;) {
    const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      break;  // EAGAIN: the queue is empty
    }
    tune_accepted(fd);
    server.dispatch(fd);
  }
  const bool finished = server.drain(deadline);
  if (server.refused() > 0) {
    std::fprintf(stderr, "ringbench serve threads: %llu connections refused with 503\n",
                 static_cast<unsigned long long>(server.refused()));
  }
  if (!finished) {
    // Threads still hold references to the server, the handler and the config: do not unwind under them.
    std::fflush(nullptr);
    ::_exit(1);
  }
  return status;
}

}  // namespace

int run_threads_server(const ServerConfig& cfg) {
  Fd listener = listen_tcp({cfg.host, cfg.port, static_cast<int>(cfg.backlog), false, true});
  announce_listening(cfg.host, local_port(listener.get()));
  return run_preforked(cfg.workers, [&] { return serve_process(listener.get(), cfg); });
}

}  // namespace ringbench
