// Builds a /metrics body in the Prometheus text exposition format (version 0.0.4): one
// `# HELP` and `# TYPE` per metric family, then its samples. Not thread-safe; one per scrape.
#pragma once

#include <cstdint>
#include <string>

namespace cairn::app {

class PrometheusText {
 public:
  // One sample of a counter (monotonic) or gauge family. `labels` is the text inside the braces
  // (e.g. `class="2xx"`), empty for none. The first sample of a family writes its HELP and TYPE
  // lines; later samples of the same family (consecutive, as the format requires) pass no help.
  void Counter(const char* name, const char* help, uint64_t value, const std::string& labels = "") {
    Sample("counter", name, help, labels, value);
  }
  void Gauge(const char* name, const char* help, uint64_t value, const std::string& labels = "") {
    Sample("gauge", name, help, labels, value);
  }
  std::string Take() { return std::move(out_); }

 private:
  void Sample(const char* type, const char* name, const char* help, const std::string& labels,
              uint64_t value) {
    if (name != family_) {
      family_ = name;
      out_ += std::string("# HELP ") + name + " " + help + "\n";
      out_ += std::string("# TYPE ") + name + " " + type + "\n";
    }
    out_ += name;
    if (!labels.empty()) out_ += "{" + labels + "}";
    out_ += " " + std::to_string(value) + "\n";
  }

  std::string out_;
  std::string family_;
};

}  // namespace cairn::app
