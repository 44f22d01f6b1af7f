// RAII owners of the io_uring kernel resources the server uses: the ring itself and a provided-buffer
// ring (liburing 2.3 has no io_uring_setup_buf_ring, so the ring memory is mmap'd here and registered
// with io_uring_register_buf_ring). Both throw std::system_error on set-up failure.
#pragma once
#include <liburing.h>

#include <cstddef>
#include <cstdint>

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
class BufRing {
 public:
  BufRing(io_uring* ring, uint16_t group, uint32_t count, uint32_t size);
  ~BufRing();
  BufRing(const BufRing&) = delete;
  BufRing& operator=(const BufRing&) = delete;

  char* buffer(uint16_t bid) const { return data_ + std::size_t{bid} * size_; }
  uint32_t size() const { return size_; }
  // Gives buffer `bid` back to the kernel at once. Caller must no longer read its bytes.
  void recycle(uint16_t bid);

 private:
  io_uring* ring_;
  io_uring_buf_ring* br_ = nullptr;
  char* data_ = nullptr;
  std::size_t ring_bytes_ = 0;
  std::size_t data_bytes_ = 0;
  uint32_t count_;
  uint32_t size_;
  uint16_t group_;
};

}  // namespace ringbench
