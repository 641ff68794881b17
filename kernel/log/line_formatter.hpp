// The spdlog formatter behind every sink: the Plexus line format, text or JSON.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <spdlog/formatter.h>

#include "kernel/log/log.hpp"

namespace plexus::log {

class LineFormatter final : public spdlog::formatter {
 public:
  using Redactor = std::function<std::string(std::string_view)>;
  LineFormatter(Format format, Redactor redactor);
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;

 private:
  Format format_;
  Redactor redactor_;
};

}  // namespace plexus::log
