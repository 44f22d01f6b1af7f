// io_uring constants newer than the uapi header Debian's liburing 2.3 ships (and the 6.1 one in
// /usr/include/linux). Each is named once, here, with its uapi name and the kernel that added it; the
// values are those of the kernel's include/uapi/linux/io_uring.h (as copied into liburing's
// src/include/liburing/io_uring.h). A kernel without the feature refuses it (EINVAL) or ignores the bit,
// which is why every switch built on these is also tried for real by probe_uring().
#pragma once
#include <cstdint>

namespace ringbench::uapi {

// sqe->ioprio flags of send/recv.
inline constexpr uint16_t kSendZcReportUsage = 1u << 3;  // IORING_SEND_ZC_REPORT_USAGE, Linux 6.2
inline constexpr uint16_t kRecvSendBundle = 1u << 4;     // IORING_RECVSEND_BUNDLE, Linux 6.10

// cqe->res of a SEND_ZC notification with kSendZcReportUsage: the kernel copied (some of) the data.
inline constexpr uint32_t kNotifUsageZcCopied = 1u << 31;  // IORING_NOTIF_USAGE_ZC_COPIED, Linux 6.2

// cqe->flags: the buffer named in this completion stays with the kernel for more data.
inline constexpr uint32_t kCqeFBufMore = 1u << 4;  // IORING_CQE_F_BUF_MORE, Linux 6.12

// io_uring_enter flags.
inline constexpr unsigned kEnterNoIowait = 1u << 7;  // IORING_ENTER_NO_IOWAIT, Linux 6.15

// IORING_FEAT_* bits of io_uring_params.features.
inline constexpr unsigned kFeatMinTimeout = 1u << 15;      // IORING_FEAT_MIN_TIMEOUT, Linux 6.12
inline constexpr unsigned kFeatRecvSendBundle = 1u << 14;  // IORING_FEAT_RECVSEND_BUNDLE, Linux 6.10
inline constexpr unsigned kFeatNoIowait = 1u << 17;        // IORING_FEAT_NO_IOWAIT, Linux 6.15

// io_uring_buf_reg.flags of IORING_REGISTER_PBUF_RING.
inline constexpr uint16_t kPbufRingInc = 2;  // IOU_PBUF_RING_INC, Linux 6.12

}  // namespace ringbench::uapi
