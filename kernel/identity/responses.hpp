// Small response helpers shared by identity's routes.
#pragma once

#include "kernel/http/message.hpp"

namespace plexus::identity {

inline http::Response no_content() {
  http::Response response;
  response.status = 204;
  return response;
}

[[noreturn]] inline void not_found(const std::string& what) {
  throw http::HttpError(404, "not_found", "no " + what + " with that id");
}

[[noreturn]] inline void forbidden(const std::string& message) {
  throw http::HttpError(403, "forbidden", message);
}

[[noreturn]] inline void conflict(const std::string& message, nlohmann::json details = nullptr) {
  throw http::HttpError(409, "conflict", message, std::move(details));
}

}  // namespace plexus::identity
