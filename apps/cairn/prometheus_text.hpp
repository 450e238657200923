// Builds a /metrics body in the Prometheus text exposition format (version 0.0.4): one
// `# HELP` and `# TYPE` per metric family, then its samples. Not thread-safe; one per scrape.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace cairn::app {

class PrometheusText {
 public:
  // One sample of a counter (monotonic) or gauge family. `labels` is the text inside the braces
  // (e.g. `class="2xx"`), empty for none. The first sample of a family writes its HELP and TYPE
  // lines; later samples of the same family (consecutive, as the format requires) pass no help.
  void Counter(const char* name, const char* help, uint64_t value, const std::string& labels = "") {
    Sample("counter", name, help, labels, std::to_string(value));
  }
  void Gauge(const char* name, const char* help, uint64_t value, const std::string& labels = "") {
    Sample("gauge", name, help, labels, std::to_string(value));
  }
  // A gauge whose value is not an integer (a score), written with up to 6 significant digits.
  void GaugeReal(const char* name, const char* help, double value, const std::string& labels = "") {
    char text[32];
    std::snprintf(text, sizeof text, "%.6g", value);
    Sample("gauge", name, help, labels, text);
  }
  std::string Take() { return std::move(out_); }

 private:
  void Sample(const char* type, const char* name, const char* help, const std::string& labels,
              const std::string& value) {
    if (name != family_) {
      family_ = name;
      out_ += std::string("# HELP ") + name + " " + help + "\n";
      out_ += std::string("# TYPE ") + name + " " + type + "\n";
    }
    out_ += name;
    if (!labels.empty()) out_ += "{" + labels + "}";
    out_ += " " + value + "\n";
  }

  std::string out_;
  std::string family_;
};

}  // namespace cairn::app
