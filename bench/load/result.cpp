// LoadResult's JSON form (what --json writes and the scenario runner reads) and its error total.
#include "load/engine.hpp"

namespace ringbench::load {

uint64_t LoadResult::total_errors() const {
  uint64_t n = 0;
  for (const auto& [cls, count] : errors) n += count;
  return n;
}

nlohmann::json TimeDistribution::to_json() const {
  return {{"count", count}, {"fastest", fastest_s}, {"slowest", slowest_s}, {"average", average_s},
          {"percentiles", percentiles_s}};
}

nlohmann::json LoadResult::to_json() const {
  nlohmann::json status = nlohmann::json::object();
  for (const auto& [code, count] : status_counts) status[std::to_string(code)] = count;
  nlohmann::json hist = nlohmann::json::array();
  for (const auto& [upper, count] : histogram) hist.push_back({upper, count});
  nlohmann::json j = {
      {"mode", mode},
      {"completed", completed},
      {"ok", ok},
      {"sent", sent},
      {"status_counts", status},
      {"errors", errors},
      {"total_errors", total_errors()},
      {"elapsed_s", elapsed_s},
      {"requests_per_s", requests_per_s},
      {"send_rate_per_s", send_rate_per_s},
      {"latency_s", {{"fastest", fastest_s}, {"slowest", slowest_s}, {"average", average_s},
                     {"percentiles", percentiles_s}}},
      {"histogram", hist},
      {"histogram_note", "[highest latency in the bucket (s), count]; buckets are 1/128 of a power of two wide"},
      {"connections_used", connections_used},
      {"connects", connects},
      {"threads", threads},
      {"thread_cpu_util", thread_cpu_util},
      {"client_bound", client_bound},
      {"stopped_by", stopped_by},
      {"warnings", warnings},
  };
  j["completions_per_ms"] = completions_per_ms.to_json();
  if (client_lag) j["client_lag_s"] = client_lag->to_json();
  if (arrival_latency) j["arrival_latency_s"] = arrival_latency->to_json();
  return j;
}

}  // namespace ringbench::load
