// stats_line; see stats.hpp.
#include "uring_server/stats.hpp"

#include <nlohmann/json.hpp>

namespace ringbench {
namespace {

// Every counter by name, in one place: the per-loop objects and the totals use the same list. `K` is
// LoopCounters or const LoopCounters; `f(name, value&)`.
template <typename K, typename F>
void each_counter(K& k, F&& f) {
  f("enters", k.enters);
  f("no_iowait_enters", k.no_iowait_enters);
  f("cqes", k.cqes);
  f("cq_overflow_turns", k.cq_overflow_turns);
  f("cq_dropped", k.cq_dropped);
  f("recv_multi_buffer", k.recv_multi_buffer);
  f("recv_buffers", k.recv_buffers);
  f("recv_buf_kept", k.recv_buf_kept);
  f("zc_sends", k.zc_sends);
  f("zc_copied", k.zc_copied);
  f("accepted", k.accepted);
  f("refused_503", k.refused_503);
  f("accept_out_of_fds", k.accept_out_of_fds);
  f("accept_errors", k.accept_errors);
  f("recv_enobufs", k.recv_enobufs);
  f("recv_errors", k.recv_errors);
  f("send_errors", k.send_errors);
  f("header_timeouts", k.header_timeouts);
  f("send_timeouts", k.send_timeouts);
  f("recv_paused", k.recv_paused);
  f("close_errors", k.close_errors);
  f("accept_table_full", k.accept_table_full);
}

nlohmann::json counters_json(const LoopCounters& k) {
  nlohmann::json j = nlohmann::json::object();
  each_counter(k, [&](const char* name, const uint64_t& v) { j[name] = v; });
  // The ring is never resized: its size is fixed at start-up (--ring-entries).
  j["ring_resizes"] = 0;
  j["cqes_per_enter"] = k.enters == 0 ? 0.0 : static_cast<double>(k.cqes) / static_cast<double>(k.enters);
  return j;
}

}  // namespace

std::string stats_line(const UringPlan& plan, const std::vector<LoopCounters>& loops) {
  LoopCounters total;
  nlohmann::json per_loop = nlohmann::json::array();
  for (const LoopCounters& k : loops) {
    per_loop.push_back(counters_json(k));
    // Sums field by field through the same list the JSON names come from.
    std::vector<uint64_t> values;
    each_counter(k, [&](const char*, const uint64_t& v) { values.push_back(v); });
    std::size_t i = 0;
    each_counter(total, [&](const char*, uint64_t& v) { v += values[i++]; });
  }
  nlohmann::json j;
  j["backend"] = "uring";
  j["plan"] = {{"summary", plan.summary()}, {"features", plan.features()}, {"fallbacks", plan.fallbacks}};
  j["loops"] = loops.size();
  j["total"] = counters_json(total);
  j["per_loop"] = per_loop;
  return kStatsPrefix + j.dump();
}

}  // namespace ringbench
