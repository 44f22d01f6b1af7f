// io_uring feature probing; see features.hpp. Each probe is a real attempt on a small ring, since
// neither the opcode list nor the kernel version says whether e.g. multishot recv works.
#include "uring/features.hpp"

#include <liburing.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <fstream>
#include <optional>

#include <fmt/format.h>

#include "core/net.hpp"
#include "uring/ring.hpp"
#include "uring/uapi.hpp"
#include "uring/wait.hpp"

#ifndef RINGBENCH_LIBURING_VERSION
#define RINGBENCH_LIBURING_VERSION "unknown"
#endif

namespace ringbench {
namespace {

constexpr unsigned kProbeEntries = 8;
constexpr int kProbeWaitMs = 1000;  // a supported probe completes at once; this only bounds a broken one
constexpr uint16_t kProbeBufGroup = 1;
constexpr uint32_t kProbeBufCount = 8;
constexpr uint32_t kProbeBufSize = 64;
constexpr unsigned kCqPerSq = 8;          // CQ entries per SQ entry: multishot posts many CQEs per SQE
constexpr unsigned kMaxCqEntries = 65536;

std::string errno_text(int err) { return std::strerror(err); }

// Creates a small ring with `flags`; 0 or -errno.
int try_setup(unsigned flags, std::optional<Ring>& out) {
  io_uring_params p{};
  p.flags = flags;
  p.sq_thread_idle = 10;
  try {
    out.emplace(kProbeEntries, p);
    return 0;
  } catch (const std::system_error& e) {
    return -e.code().value();
  }
}

struct ProbeCqe {
  int32_t res;
  uint32_t flags;
};

// Waits for one completion (bounded) and copies it out.
std::optional<ProbeCqe> wait_one(io_uring* ring) {
  __kernel_timespec ts{0, kProbeWaitMs * 1'000'000LL};
  io_uring_cqe* cqe = nullptr;
  if (io_uring_submit(ring) < 0) return std::nullopt;
  if (io_uring_wait_cqe_timeout(ring, &cqe, &ts) != 0 || cqe == nullptr) return std::nullopt;
  const ProbeCqe copy{cqe->res, cqe->flags};
  io_uring_cqe_seen(ring, cqe);
  return copy;
}

std::string cqe_error(const std::optional<ProbeCqe>& c, const char* what) {
  if (!c) return fmt::format("{}: no completion", what);
  if (c->res < 0) return fmt::format("{}: {}", what, errno_text(-c->res));
  return fmt::format("{}: completed without IORING_CQE_F_MORE", what);
}

// Multishot accept (5.19): a listening socket with one queued connection must yield a CQE with F_MORE.
void probe_multishot_accept(UringProbe& p) {
  std::optional<Ring> ring;
  if (const int rc = try_setup(0, ring); rc < 0) {
    p.multishot_accept_error = errno_text(-rc);
    return;
  }
  try {
    Fd listener = listen_tcp({"127.0.0.1", 0, 8, false, false});
    Fd client(connect_tcp("127.0.0.1", local_port(listener.get())));
    if (!client) {
      p.multishot_accept_error = "loopback connect failed";
      return;
    }
    io_uring_sqe* sqe = io_uring_get_sqe(ring->get());
    io_uring_prep_multishot_accept(sqe, listener.get(), nullptr, nullptr, SOCK_CLOEXEC);
    const std::optional<ProbeCqe> c = wait_one(ring->get());
    if (c && c->res >= 0) ::close(c->res);
    p.multishot_accept = c && c->res >= 0 && (c->flags & IORING_CQE_F_MORE);
    if (!p.multishot_accept) p.multishot_accept_error = cqe_error(c, "multishot accept");
  } catch (const std::system_error& e) {
    p.multishot_accept_error = e.what();
  }
}

// Buffer ring (5.19) and multishot recv (6.0): one byte through a socketpair must arrive in a provided
// buffer with F_MORE set.
void probe_recv(UringProbe& p) {
  std::optional<Ring> ring;
  if (const int rc = try_setup(0, ring); rc < 0) {
    p.buf_ring_error = p.multishot_recv_error = errno_text(-rc);
    return;
  }
  std::optional<BufRing> bufs;
  try {
    bufs.emplace(ring->get(), kProbeBufGroup, kProbeBufCount, kProbeBufSize);
    p.buf_ring = true;
  } catch (const std::system_error& e) {
    p.buf_ring_error = e.what();
    p.multishot_recv_error = "needs a buffer ring";
    return;
  }
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    p.multishot_recv_error = fmt::format("socketpair: {}", errno_text(errno));
    return;
  }
  Fd a(sv[0]), b(sv[1]);
  io_uring_sqe* sqe = io_uring_get_sqe(ring->get());
  io_uring_prep_recv_multishot(sqe, a.get(), nullptr, 0, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = kProbeBufGroup;
  if (::write(b.get(), "x", 1) != 1) {
    p.multishot_recv_error = fmt::format("write: {}", errno_text(errno));
    return;
  }
  const std::optional<ProbeCqe> c = wait_one(ring->get());
  p.multishot_recv = c && c->res == 1 && (c->flags & IORING_CQE_F_MORE) && (c->flags & IORING_CQE_F_BUFFER);
  if (!p.multishot_recv) p.multishot_recv_error = cqe_error(c, "multishot recv");
}

// Registered files with kernel-allocated slots (5.19), which direct accept needs.
void probe_fixed_files(UringProbe& p) {
  std::optional<Ring> ring;
  if (const int rc = try_setup(0, ring); rc < 0) {
    p.fixed_files_error = errno_text(-rc);
    return;
  }
  if (const int rc = io_uring_register_files_sparse(ring->get(), kProbeEntries); rc < 0) {
    p.fixed_files_error = fmt::format("io_uring_register_files_sparse: {}", errno_text(-rc));
    return;
  }
  p.fixed_files = true;
}

// A multishot recv of `bytes` bytes sent through a socketpair, on a buffer ring of 64-byte buffers;
// empty when the completion is as `check` expects, else why not.
template <typename Check>
std::string try_recv(bool bundle, bool incremental, std::size_t bytes, Check&& check) {
  std::optional<Ring> ring;
  if (const int rc = try_setup(0, ring); rc < 0) return errno_text(-rc);
  std::optional<BufRing> bufs;
  try {
    bufs.emplace(ring->get(), kProbeBufGroup, kProbeBufCount, kProbeBufSize, incremental);
  } catch (const std::system_error& e) {
    return e.what();
  }
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return fmt::format("socketpair: {}", errno_text(errno));
  Fd a(sv[0]), b(sv[1]);
  const std::string payload(bytes, 'x');
  if (::write(b.get(), payload.data(), payload.size()) != static_cast<ssize_t>(payload.size())) {
    return fmt::format("write: {}", errno_text(errno));
  }
  io_uring_sqe* sqe = io_uring_get_sqe(ring->get());
  io_uring_prep_recv_multishot(sqe, a.get(), nullptr, 0, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = kProbeBufGroup;
  if (bundle) sqe->ioprio |= uapi::kRecvSendBundle;
  const std::optional<ProbeCqe> c = wait_one(ring->get());
  if (!c) return "no completion";
  if (c->res < 0) return errno_text(-c->res);
  if (!(c->flags & IORING_CQE_F_BUFFER)) return "completion without a provided buffer";
  return check(*c);
}

// Receive bundles (6.10): 100 bytes into 64-byte buffers must arrive in one completion (two buffers).
// Incremental consumption (6.12): one byte must leave its buffer with the kernel (IORING_CQE_F_BUF_MORE).
void probe_recv_extensions(UringProbe& p) {
  if (!p.multishot_recv) {
    p.recv_bundle_error = p.buf_ring_inc_error = "needs multishot recv";
    return;
  }
  if (!(p.ring_features & uapi::kFeatRecvSendBundle)) {
    p.recv_bundle_error = "IORING_FEAT_RECVSEND_BUNDLE not reported (Linux 6.10)";
  } else {
    p.recv_bundle_error = try_recv(true, false, kProbeBufSize + 36, [](const ProbeCqe& c) {
      return c.res == static_cast<int32_t>(kProbeBufSize + 36) ? std::string()
                                                               : fmt::format("bundle received {} bytes, not {}", c.res, kProbeBufSize + 36);
    });
    p.recv_bundle = p.recv_bundle_error.empty();
  }
  p.buf_ring_inc_error = try_recv(false, true, 1, [](const ProbeCqe& c) {
    return (c.flags & uapi::kCqeFBufMore) ? std::string() : std::string("completion without IORING_CQE_F_BUF_MORE");
  });
  p.buf_ring_inc = p.buf_ring_inc_error.empty();
}

// IORING_ENTER_NO_IOWAIT (6.15): an older kernel refuses the unknown enter flag with EINVAL.
void probe_no_iowait(UringProbe& p) {
  if (!(p.ring_features & uapi::kFeatNoIowait)) {
    p.no_iowait_error = "IORING_FEAT_NO_IOWAIT not reported (Linux 6.15)";
    return;
  }
  std::optional<Ring> ring;
  if (const int rc = try_setup(0, ring); rc < 0) {
    p.no_iowait_error = errno_text(-rc);
    return;
  }
  const long rc = ::syscall(__NR_io_uring_enter, ring->get()->ring_fd, 0, 0,
                            IORING_ENTER_GETEVENTS | uapi::kEnterNoIowait, nullptr, 0);
  p.no_iowait = rc >= 0;
  if (!p.no_iowait) p.no_iowait_error = fmt::format("io_uring_enter: {}", errno_text(errno));
}

// IORING_SEND_ZC_REPORT_USAGE (6.2): a zero-copy send over loopback TCP whose notification says whether
// the kernel copied (on loopback it always does).
void probe_zc_report_usage(UringProbe& p) {
  if (!p.send_zc) {
    p.zc_report_usage_error = "needs SEND_ZC";
    return;
  }
  std::optional<Ring> ring;
  if (const int rc = try_setup(0, ring); rc < 0) {
    p.zc_report_usage_error = errno_text(-rc);
    return;
  }
  try {
    Fd listener = listen_tcp({"127.0.0.1", 0, 8, false, false});
    Fd client(connect_tcp("127.0.0.1", local_port(listener.get())));
    Fd server(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!client || !server) {
      p.zc_report_usage_error = "loopback connect failed";
      return;
    }
    static const char byte = 'x';
    io_uring_sqe* sqe = io_uring_get_sqe(ring->get());
    io_uring_prep_send_zc(sqe, client.get(), &byte, 1, MSG_NOSIGNAL, uapi::kSendZcReportUsage);
    const std::optional<ProbeCqe> sent = wait_one(ring->get());
    if (!sent || sent->res != 1) {
      p.zc_report_usage_error = sent && sent->res < 0 ? errno_text(-sent->res) : "send_zc: no completion";
      return;
    }
    const std::optional<ProbeCqe> notif = wait_one(ring->get());
    p.zc_report_usage = notif && (notif->flags & IORING_CQE_F_NOTIF);
    if (!p.zc_report_usage) p.zc_report_usage_error = "send_zc: no notification";
  } catch (const std::system_error& e) {
    p.zc_report_usage_error = e.what();
  }
}

int read_io_uring_disabled() {
  std::ifstream f("/proc/sys/kernel/io_uring_disabled");
  int v = -1;
  if (!(f >> v)) return -1;
  return v;
}

std::string unavailable_reason(int err, const UringProbe& p) {
  const std::string base = fmt::format("io_uring_setup: {}", errno_text(err));
  if (err == ENOSYS) return base + " (kernel built without io_uring)";
  if (err == EPERM) {
    if (p.io_uring_disabled == 2) return base + " (disabled by sysctl kernel.io_uring_disabled=2)";
    if (p.io_uring_disabled == 1) {
      return base + " (kernel.io_uring_disabled=1 allows only the kernel.io_uring_group)";
    }
    return base + " (blocked by seccomp or a container policy)";
  }
  if (err == ENOMEM) {
    return base + fmt::format(" (RLIMIT_MEMLOCK is {} KiB: raise it with ulimit -l)", p.memlock_soft / 1024);
  }
  return base;
}

constexpr std::array<const char*, 63> kOpNames = {
    "NOP", "READV", "WRITEV", "FSYNC", "READ_FIXED", "WRITE_FIXED", "POLL_ADD", "POLL_REMOVE",
    "SYNC_FILE_RANGE", "SENDMSG", "RECVMSG", "TIMEOUT", "TIMEOUT_REMOVE", "ACCEPT", "ASYNC_CANCEL",
    "LINK_TIMEOUT", "CONNECT", "FALLOCATE", "OPENAT", "CLOSE", "FILES_UPDATE", "STATX", "READ", "WRITE",
    "FADVISE", "MADVISE", "SEND", "RECV", "OPENAT2", "EPOLL_CTL", "SPLICE", "PROVIDE_BUFFERS",
    "REMOVE_BUFFERS", "TEE", "SHUTDOWN", "RENAMEAT", "UNLINKAT", "MKDIRAT", "SYMLINKAT", "LINKAT",
    "MSG_RING", "FSETXATTR", "SETXATTR", "FGETXATTR", "GETXATTR", "SOCKET", "URING_CMD", "SEND_ZC",
    "SENDMSG_ZC", "READ_MULTISHOT", "WAITID", "FUTEX_WAIT", "FUTEX_WAKE", "FUTEX_WAITV",
    "FIXED_FD_INSTALL", "FTRUNCATE", "BIND", "LISTEN", "RECV_ZC", "EPOLL_WAIT", "READV_FIXED", "WRITEV_FIXED",
    "PIPE"};

}  // namespace

std::string opcode_name(unsigned op) {
  if (op < kOpNames.size()) return kOpNames[op];
  return fmt::format("OP_{}", op);
}

std::vector<std::string> feature_names(unsigned features) {
  static constexpr std::array<const char*, 18> names = {
      "SINGLE_MMAP", "NODROP", "SUBMIT_STABLE", "RW_CUR_POS", "CUR_PERSONALITY", "FAST_POLL",
      "POLL_32BITS", "SQPOLL_NONFIXED", "EXT_ARG", "NATIVE_WORKERS", "RSRC_TAGS", "CQE_SKIP",
      "LINKED_FILE", "REG_REG_RING", "RECVSEND_BUNDLE", "MIN_TIMEOUT", "RW_ATTR", "NO_IOWAIT"};
  std::vector<std::string> out;
  for (unsigned bit = 0; bit < 32; ++bit) {
    if (!(features & (1u << bit))) continue;
    out.push_back(bit < names.size() ? std::string(names[bit]) : fmt::format("FEAT_BIT_{}", bit));
  }
  return out;
}

UringProbe probe_uring() {
  UringProbe p;
  utsname u{};
  p.kernel_release = ::uname(&u) == 0 ? u.release : "unknown";
  p.liburing_version = RINGBENCH_LIBURING_VERSION;
  p.io_uring_disabled = read_io_uring_disabled();
  rlimit rl{};
  if (::getrlimit(RLIMIT_MEMLOCK, &rl) == 0) {
    p.memlock_soft = rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : rl.rlim_cur;
    p.memlock_hard = rl.rlim_max == RLIM_INFINITY ? UINT64_MAX : rl.rlim_max;
  }

  std::optional<Ring> plain;
  if (const int rc = try_setup(0, plain); rc < 0) {
    p.unavailable_reason = unavailable_reason(-rc, p);
    return p;
  }
  p.available = true;
  p.ring_features = plain->features();
  p.min_timeout = (p.ring_features & uapi::kFeatMinTimeout) != 0;
  if (io_uring_probe* op = io_uring_get_probe_ring(plain->get())) {
    for (unsigned i = 0; i <= op->last_op && i < op->ops_len; ++i) {
      if (io_uring_opcode_supported(op, static_cast<int>(i))) p.opcodes.push_back(i);
    }
    io_uring_free_probe(op);
  }
  p.send_zc = std::find(p.opcodes.begin(), p.opcodes.end(), unsigned{IORING_OP_SENDMSG_ZC}) != p.opcodes.end();

  const std::array<std::pair<const char*, unsigned>, 6> flag_sets = {{
      {"SQPOLL", IORING_SETUP_SQPOLL},
      {"SINGLE_ISSUER", IORING_SETUP_SINGLE_ISSUER},
      {"SINGLE_ISSUER|DEFER_TASKRUN", IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN},
      {"COOP_TASKRUN|TASKRUN_FLAG", IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG},
      {"SUBMIT_ALL", IORING_SETUP_SUBMIT_ALL},
      {"CQSIZE", IORING_SETUP_CQSIZE},
  }};
  for (const auto& [name, flags] : flag_sets) {
    std::optional<Ring> r;
    io_uring_params params{};
    params.flags = flags;
    params.sq_thread_idle = 10;
    params.cq_entries = kProbeEntries * 2;
    int rc = 0;
    try {
      r.emplace(kProbeEntries, params);
    } catch (const std::system_error& e) {
      rc = -e.code().value();
    }
    p.setup_flags.push_back({name, flags, rc == 0, rc == 0 ? "" : errno_text(-rc)});
  }
  auto works = [&](const char* name) {
    for (const SetupFlagProbe& f : p.setup_flags) {
      if (f.name == name) return f.works;
    }
    return false;
  };
  p.sqpoll = works("SQPOLL");
  p.single_issuer = works("SINGLE_ISSUER");
  p.defer_taskrun = works("SINGLE_ISSUER|DEFER_TASKRUN");
  p.coop_taskrun = works("COOP_TASKRUN|TASKRUN_FLAG");
  p.submit_all = works("SUBMIT_ALL");

  probe_multishot_accept(p);
  probe_recv(p);
  probe_fixed_files(p);
  probe_recv_extensions(p);
  probe_no_iowait(p);
  probe_zc_report_usage(p);
  return p;
}

UringPlan plan_uring(const UringConfig& want, const UringProbe& probe) {
  UringPlan plan;
  plan.use = want;
  UringConfig& u = plan.use;
  auto drop = [&](bool& flag, const std::string& line) {
    if (!flag) return;
    flag = false;
    plan.fallbacks.push_back(line);
  };
  if (!probe.sqpoll) drop(u.sqpoll, "--sqpoll: IORING_SETUP_SQPOLL not available; not used");
  if (u.sqpoll) drop(u.defer_taskrun, "DEFER_TASKRUN does not combine with --sqpoll; not used");
  if (u.coop_taskrun) drop(u.defer_taskrun, "--coop-taskrun replaces DEFER_TASKRUN");
  if (!probe.defer_taskrun) drop(u.defer_taskrun, "DEFER_TASKRUN not available on this kernel; not used");
  if (!probe.coop_taskrun) drop(u.coop_taskrun, "--coop-taskrun: COOP_TASKRUN not available; not used");
  if (!probe.buf_ring) drop(u.buf_ring, fmt::format("buffer ring not available ({}); not used", probe.buf_ring_error));
  if (!u.buf_ring) drop(u.multishot_recv, "multishot recv needs the buffer ring; using single-shot recv");
  if (!probe.multishot_recv) {
    drop(u.multishot_recv, fmt::format("multishot recv not available ({}); using single-shot recv", probe.multishot_recv_error));
  }
  // Only multishot recv consumes provided buffers; single-shot recv reads into per-connection buffers.
  if (!u.multishot_recv) u.buf_ring = false;
  if (!probe.multishot_accept) {
    drop(u.multishot_accept, fmt::format("multishot accept not available ({}); using one accept per connection", probe.multishot_accept_error));
  }
  if (!probe.fixed_files) {
    drop(u.fixed_files, fmt::format("--fixed-files: registered files not available ({}); not used", probe.fixed_files_error));
  }
  if (!probe.send_zc) drop(u.send_zc, "--send-zc: IORING_OP_SENDMSG_ZC not available; not used");
  if (!u.multishot_recv) drop(u.recv_bundle, "--recv-bundle needs multishot recv; not used");
  if (!probe.recv_bundle) {
    drop(u.recv_bundle, fmt::format("--recv-bundle: IORING_RECVSEND_BUNDLE not available ({}); not used", probe.recv_bundle_error));
  }
  if (!u.multishot_recv) drop(u.buf_ring_inc, "--buf-ring-inc needs multishot recv; not used");
  if (!probe.buf_ring_inc) {
    drop(u.buf_ring_inc, fmt::format("--buf-ring-inc: IOU_PBUF_RING_INC not available ({}); not used", probe.buf_ring_inc_error));
  }
  if (u.sqpoll) drop(u.no_iowait, "--no-iowait does not combine with --sqpoll; not used");
  if (!probe.no_iowait) {
    drop(u.no_iowait, fmt::format("--no-iowait: IORING_ENTER_NO_IOWAIT not available ({}); not used", probe.no_iowait_error));
  }
  // Usage reports only mean something on zero-copy sends; without --send-zc the default is quietly off.
  if (!u.send_zc) u.zc_report_usage = false;
  if (!probe.zc_report_usage) {
    drop(u.zc_report_usage, fmt::format("SEND_ZC usage reports not available ({}); copied sends not counted", probe.zc_report_usage_error));
  }
  if (u.min_wait_us > 0 && (u.sqpoll || !probe.min_timeout)) {
    plan.fallbacks.push_back(u.sqpoll ? "--min-wait-us does not combine with --sqpoll; not used"
                                      : "--min-wait-us: IORING_FEAT_MIN_TIMEOUT (Linux 6.12) not available; not used");
    u.min_wait_us = 0;
  }

  if (u.sqpoll) plan.setup_flags |= IORING_SETUP_SQPOLL;
  if (u.defer_taskrun) plan.setup_flags |= IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
  if (u.coop_taskrun) plan.setup_flags |= IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
  plan.submit_all = probe.submit_all;
  if (plan.submit_all) plan.setup_flags |= IORING_SETUP_SUBMIT_ALL;
  plan.setup_flags |= IORING_SETUP_CQSIZE;
  plan.cq_entries = std::min(u.ring_entries * kCqPerSq, kMaxCqEntries);
  return plan;
}

std::string UringPlan::summary() const {
  const UringConfig& u = use;
  std::string s = fmt::format("io_uring: SQ {} / CQ {} entries", u.ring_entries, cq_entries);
  if (u.sqpoll) s += fmt::format(", SQPOLL (idle {} ms)", u.sqpoll_idle_ms);
  if (u.defer_taskrun) s += ", SINGLE_ISSUER|DEFER_TASKRUN";
  if (u.coop_taskrun) s += ", COOP_TASKRUN";
  s += u.multishot_accept ? ", multishot accept" : ", single-shot accept";
  if (u.multishot_recv) {
    s += fmt::format(", multishot recv with buffer ring {} x {} B", u.buf_count, u.buf_size);
  } else {
    s += fmt::format(", single-shot recv into {} B per-connection buffers", u.buf_size);
  }
  if (u.recv_bundle) s += ", receive bundles";
  if (u.buf_ring_inc) s += ", incremental buffer consumption";
  if (u.fixed_files) s += ", fixed files";
  s += u.send_zc ? ", SENDMSG_ZC for large bodies" : ", copying send";
  if (u.zc_report_usage) s += " (copies counted)";
  if (u.no_iowait) s += ", NO_IOWAIT waits";
  s += u.timer == TimerKind::wheel ? ", timer wheel" : ", one IORING_OP_TIMEOUT per request";
  if (u.min_wait_us > 0) s += fmt::format(", waits of at least {} µs or {} completions", u.min_wait_us, u.min_wait_batch);
  return s;
}

std::vector<std::string> UringPlan::features() const {
  const UringConfig& u = use;
  std::vector<std::string> out;
  const std::pair<bool, const char*> named[] = {
      {u.sqpoll, "sqpoll"},
      {u.defer_taskrun, "defer_taskrun"},
      {u.coop_taskrun, "coop_taskrun"},
      {submit_all, "submit_all"},
      {u.multishot_accept, "multishot_accept"},
      {u.multishot_recv, "multishot_recv"},
      {u.buf_ring, "buf_ring"},
      {u.recv_bundle, "recv_bundle"},
      {u.buf_ring_inc, "buf_ring_inc"},
      {u.fixed_files, "fixed_files"},
      {u.send_zc, "send_zc"},
      {u.zc_report_usage, "zc_report_usage"},
      {u.no_iowait, "no_iowait"},
      {u.min_wait_us > 0, "min_wait"},
      {u.timer == TimerKind::ring, "timer_ring"},
  };
  for (const auto& [on, name] : named) {
    if (on) out.emplace_back(name);
  }
  return out;
}

}  // namespace ringbench
