// Environment metadata for results.json: what the numbers were measured on and with.
#include <sys/utsname.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <string>

#include "run/runner.hpp"

#ifndef RINGBENCH_SOURCE_DIR
#define RINGBENCH_SOURCE_DIR "."
#endif
// Set by bench/CMakeLists.txt from pkg-config and the CMake configuration.
#ifndef RINGBENCH_LIBURING_VERSION
#define RINGBENCH_LIBURING_VERSION "unknown"
#endif
#ifndef RINGBENCH_BUILD_TYPE
#define RINGBENCH_BUILD_TYPE "unknown"
#endif

namespace ringbench::run {
namespace {

std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  for (std::string line; std::getline(f, line);) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  }
  return "unknown";
}

// Output of a command, first line only; empty when it fails.
std::string command_line_output(const std::string& cmd) {
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return {};
  std::array<char, 256> buf{};
  std::string out;
  if (std::fgets(buf.data(), static_cast<int>(buf.size()), p)) out = buf.data();
  const int status = ::pclose(p);
  if (status != 0) return {};
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

std::string compiler() {
#if defined(__clang__)
  return "clang++ " __clang_version__;
#elif defined(__GNUC__)
  return "g++ " __VERSION__;
#else
  return "unknown";
#endif
}

std::string sanitizers() {
  std::string out;
#if defined(__SANITIZE_ADDRESS__)
  out += "address,undefined";
#endif
#if defined(__SANITIZE_THREAD__)
  out += out.empty() ? "thread" : ",thread";
#endif
  return out.empty() ? "none" : out;
}

// mimalloc is linked into the binary that serves, not this library: look at what is mapped.
bool mimalloc_loaded() {
  std::ifstream f("/proc/self/maps");
  for (std::string line; std::getline(f, line);) {
    if (line.find("mimalloc") != std::string::npos) return true;
  }
  return false;
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

nlohmann::json environment_json(const std::string& command_line, const std::string& server_bin) {
  utsname u{};
  ::uname(&u);
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  const std::string git = "git -C '" RINGBENCH_SOURCE_DIR "' ";
  std::string revision = command_line_output(git + "rev-parse --short=12 HEAD 2>/dev/null");
  const bool dirty = !revision.empty() &&
                     !command_line_output(git + "status --porcelain --untracked-files=no 2>/dev/null").empty();
  if (revision.empty()) revision = "unknown";
  return {
      {"kernel", std::string(u.sysname) + " " + u.release},
      {"kernel_version", u.version},
      {"machine", u.machine},
      {"cpu_model", cpu_model()},
      {"cores", ::sysconf(_SC_NPROCESSORS_ONLN)},
      {"liburing_version", RINGBENCH_LIBURING_VERSION},
      {"compiler", compiler()},
      {"build_type", RINGBENCH_BUILD_TYPE},
      {"sanitizers", sanitizers()},
      {"mimalloc", mimalloc_loaded()},
      {"git_revision", revision},
      {"git_dirty", dirty},
      {"date", utc_now()},
      {"command_line", command_line},
      {"hostname", host},
      {"server_bin", server_bin},
  };
}

}  // namespace ringbench::run
