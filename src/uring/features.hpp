// What the running kernel's io_uring offers, found by trying it (setup flags, buffer rings, multishot
// accept/recv on real sockets), and how a requested UringConfig maps onto it. Shared by `serve uring`
// (start-up: fall back with one line per unsupported switch) and `ringbench probe` (report everything).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/config.hpp"

namespace ringbench {

struct SetupFlagProbe {
  std::string name;    // "SQPOLL", "SINGLE_ISSUER|DEFER_TASKRUN", ...
  unsigned flags = 0;  // IORING_SETUP_* tried together
  bool works = false;
  std::string error;   // strerror of the failed io_uring_setup, empty when it works
};

struct UringProbe {
  std::string kernel_release;
  std::string liburing_version;  // the liburing the binary was built against
  bool available = false;
  std::string unavailable_reason;  // one line naming the cause when !available
  int io_uring_disabled = -1;      // /proc/sys/kernel/io_uring_disabled; -1 when the sysctl is absent
  uint64_t memlock_soft = 0;       // RLIMIT_MEMLOCK in bytes (RLIM_INFINITY as UINT64_MAX)
  uint64_t memlock_hard = 0;
  unsigned ring_features = 0;      // IORING_FEAT_* reported by a plain ring
  std::vector<unsigned> opcodes;   // IORING_OP_* the kernel supports
  std::vector<SetupFlagProbe> setup_flags;
  // What the server's switches need, each tried for real.
  bool sqpoll = false;
  bool single_issuer = false;
  bool defer_taskrun = false;
  bool coop_taskrun = false;
  bool submit_all = false;
  bool buf_ring = false;
  bool multishot_accept = false;
  bool multishot_recv = false;
  bool fixed_files = false;   // sparse registered file table + direct accept
  bool send_zc = false;       // IORING_OP_SENDMSG_ZC
  bool min_timeout = false;   // IORING_FEAT_MIN_TIMEOUT: io_uring_enter takes a minimum wait (--min-wait-us)
  bool recv_bundle = false;      // IORING_RECVSEND_BUNDLE on multishot recv (Linux 6.10)
  bool buf_ring_inc = false;     // IOU_PBUF_RING_INC: incremental buffer consumption (Linux 6.12)
  bool no_iowait = false;        // IORING_ENTER_NO_IOWAIT (Linux 6.15)
  bool zc_report_usage = false;  // IORING_SEND_ZC_REPORT_USAGE (Linux 6.2)
  std::string buf_ring_error, multishot_accept_error, multishot_recv_error, fixed_files_error;
  std::string recv_bundle_error, buf_ring_inc_error, no_iowait_error, zc_report_usage_error;
};

// Runs every probe; never throws. Takes a few milliseconds (it creates a handful of small rings).
UringProbe probe_uring();

// Name of an IORING_OP_* value ("RECV", "SEND_ZC", ...); "OP_<n>" for ops newer than this table.
std::string opcode_name(unsigned op);
// IORING_FEAT_* bits by name.
std::vector<std::string> feature_names(unsigned features);

struct UringPlan {
  UringConfig use;                     // the request with unsupported switches turned off
  std::vector<std::string> fallbacks;  // one line per requested switch that is not used, with the reason
  unsigned setup_flags = 0;            // IORING_SETUP_* for each loop's ring
  unsigned cq_entries = 0;             // IORING_SETUP_CQSIZE
  bool submit_all = false;
  std::string summary() const;         // one line: what the server runs with
  std::vector<std::string> features() const;  // the switches in use, by name (for the stats line)
};

UringPlan plan_uring(const UringConfig& want, const UringProbe& probe);

}  // namespace ringbench
