// Ring and BufRing; see ring.hpp.
#include "uring/ring.hpp"

#include <sys/mman.h>

#include <cerrno>
#include <string>

#include "core/net.hpp"
#include "uring/uapi.hpp"

namespace ringbench {

Ring::Ring(unsigned entries, io_uring_params params) {
  if (const int rc = io_uring_queue_init_params(entries, &ring_, &params); rc < 0) {
    throw_errno("io_uring_queue_init_params", -rc);
  }
}

Ring::~Ring() { io_uring_queue_exit(&ring_); }

BufRing::BufRing(io_uring* ring, uint16_t group, uint32_t count, uint32_t size, bool incremental)
    : ring_(ring), count_(count), size_(size), group_(group), incremental_(incremental), pos_(count), offset_(count) {
  spanned_.reserve(count);
  ring_bytes_ = std::size_t{count} * sizeof(io_uring_buf);
  data_bytes_ = std::size_t{count} * size;
  // MAP_NORESERVE: buffers cost resident memory only once the kernel has written into them.
  void* r = ::mmap(nullptr, ring_bytes_, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  if (r == MAP_FAILED) throw_errno("mmap(buffer ring)");
  br_ = static_cast<io_uring_buf_ring*>(r);
  void* d = ::mmap(nullptr, data_bytes_, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE | MAP_NORESERVE, -1, 0);
  if (d == MAP_FAILED) {
    const int err = errno;
    ::munmap(br_, ring_bytes_);
    throw_errno("mmap(buffers)", err);
  }
  data_ = static_cast<char*>(d);
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<uint64_t>(br_);
  reg.ring_entries = count;
  reg.bgid = group;
  reg.pad = incremental ? uapi::kPbufRingInc : 0;  // `flags` in Linux 6.12's uapi; liburing 2.3 calls it pad
  if (const int rc = io_uring_register_buf_ring(ring_, &reg, 0); rc < 0) {
    ::munmap(data_, data_bytes_);
    ::munmap(br_, ring_bytes_);
    throw_errno("io_uring_register_buf_ring", -rc);
  }
  io_uring_buf_ring_init(br_);
  const int mask = io_uring_buf_ring_mask(count);
  for (uint32_t i = 0; i < count; ++i) {
    io_uring_buf_ring_add(br_, buffer(static_cast<uint16_t>(i)), size, static_cast<unsigned short>(i), mask,
                          static_cast<int>(i));
    pos_[i] = static_cast<uint16_t>(i);  // the ring's tail starts at 0
  }
  io_uring_buf_ring_advance(br_, static_cast<int>(count));
}

BufRing::~BufRing() {
  io_uring_unregister_buf_ring(ring_, group_);
  ::munmap(data_, data_bytes_);
  ::munmap(br_, ring_bytes_);
}

void BufRing::recycle(uint16_t bid) {
  pos_[bid] = br_->tail;  // the entry io_uring_buf_ring_add writes (offset 0 from the tail)
  io_uring_buf_ring_add(br_, buffer(bid), size_, bid, io_uring_buf_ring_mask(count_), 0);
  io_uring_buf_ring_advance(br_, 1);
}

}  // namespace ringbench
