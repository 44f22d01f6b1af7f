// RAII owners of the io_uring kernel resources the server uses: the ring itself and a provided-buffer
// ring (liburing 2.3 has no io_uring_setup_buf_ring, so the ring memory is mmap'd here and registered
// with io_uring_register_buf_ring). Both throw std::system_error on set-up failure.
#pragma once
#include <liburing.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace ringbench {

class Ring {
 public:
  // `params.flags` says which IORING_SETUP_* flags to use; throws naming the failed call.
  Ring(unsigned entries, io_uring_params params);
  ~Ring();
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;

  io_uring* get() { return &ring_; }
  unsigned features() const { return ring_.features; }

 private:
  io_uring ring_{};
};

// `count` buffers of `size` bytes in buffer group `group`, all handed to the kernel at construction.
// `incremental` registers the ring with IOU_PBUF_RING_INC (Linux 6.12): the kernel then fills a buffer a
// piece at a time, each completion starting where the last one ended, and keeps it until it is full.
class BufRing {
 public:
  BufRing(io_uring* ring, uint16_t group, uint32_t count, uint32_t size, bool incremental = false);
  ~BufRing();
  BufRing(const BufRing&) = delete;
  BufRing& operator=(const BufRing&) = delete;

  char* buffer(uint16_t bid) const { return data_ + std::size_t{bid} * size_; }
  uint32_t size() const { return size_; }
  // Gives buffer `bid` back to the kernel at once. Caller must no longer read its bytes.
  void recycle(uint16_t bid);

  // Hands the `bytes` of one completion that named buffer `bid` to `deliver(const char*, size_t)` in
  // order, then gives back every buffer the kernel is done with. A bundle (IORING_RECVSEND_BUNDLE) fills
  // the buffers of consecutive ring entries from `bid`'s; an incremental ring starts at the buffer's
  // current offset and keeps a buffer the kernel has not filled. Returns how many buffers it spanned.
  template <typename Deliver>
  uint32_t consume(uint16_t bid, std::size_t bytes, bool bundle, Deliver&& deliver);

 private:
  io_uring* ring_;
  io_uring_buf_ring* br_ = nullptr;
  char* data_ = nullptr;
  std::size_t ring_bytes_ = 0;
  std::size_t data_bytes_ = 0;
  uint32_t count_;
  uint32_t size_;
  uint16_t group_;
  bool incremental_;
  std::vector<uint16_t> pos_;     // ring entry (tail value) each buffer was last handed over at
  std::vector<uint32_t> offset_;  // incremental ring: bytes of each buffer already filled
  struct Span {
    uint16_t bid;
    uint32_t bytes;
  };
  std::vector<Span> spanned_;     // consume()'s scratch: the buffers of one completion
};

template <typename Deliver>
uint32_t BufRing::consume(uint16_t bid, std::size_t bytes, bool bundle, Deliver&& deliver) {
  // Every buffer is read before any is given back: a recycle rewrites ring entries.
  spanned_.clear();
  const uint16_t mask = static_cast<uint16_t>(count_ - 1);
  const uint16_t first = pos_[bid];
  std::size_t left = bytes;
  for (uint32_t i = 0; i < count_; ++i) {
    const uint16_t b = i == 0 ? bid : br_->bufs[static_cast<uint16_t>(first + i) & mask].bid;
    const uint32_t off = incremental_ ? offset_[b] : 0;
    const auto take = static_cast<uint32_t>(std::min<std::size_t>(size_ - off, left));
    deliver(static_cast<const char*>(buffer(b) + off), std::size_t{take});
    left -= take;
    spanned_.push_back({b, take});
    if (!bundle || left == 0) break;
  }
  for (const auto& [b, take] : spanned_) {
    // An incremental ring's buffer stays with the kernel while it has room (IORING_CQE_F_BUF_MORE).
    if (incremental_ && (offset_[b] += take) < size_) continue;
    if (incremental_) offset_[b] = 0;
    recycle(b);
  }
  return static_cast<uint32_t>(spanned_.size());
}

}  // namespace ringbench
