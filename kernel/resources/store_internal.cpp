#include "kernel/resources/store_internal.hpp"

#include <array>
#include <stdexcept>

#include <openssl/rand.h>

namespace plexus::resources {

void resource_not_found(std::string_view kind, const std::string& id) {
  throw http::HttpError(404, "not_found", "there is no " + std::string(kind) + " '" + id + "'",
                        {{"kind", std::string(kind)}, {"id", id}});
}

void revision_not_found(std::string_view kind, const std::string& id, std::int64_t number) {
  throw http::HttpError(404, "revision_not_found",
                        std::string(kind) + " '" + id + "' has no revision " + std::to_string(number) +
                            " (it never existed or retention removed it)",
                        {{"kind", std::string(kind)}, {"id", id}, {"revision", number}});
}

void stale_revision(std::int64_t expected, std::int64_t current) {
  throw http::HttpError(
      412, "stale_revision",
      "the resource is at revision " + std::to_string(current) + ", not " + std::to_string(expected) +
          ": read it again and reapply the change",
      {{"header", "If-Match"}, {"expected_revision", expected}, {"current_revision", current}});
}

void conflict(std::string code, const std::string& message, nlohmann::json details) {
  throw http::HttpError(409, std::move(code), message, std::move(details));
}

std::string random_id() {
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
    throw std::runtime_error("RAND_bytes failed");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (const unsigned char byte : bytes) {
    out += kHex[byte >> 4];
    out += kHex[byte & 0x0f];
  }
  return out;
}

}  // namespace plexus::resources
