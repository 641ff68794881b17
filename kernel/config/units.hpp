// Durations and sizes as operators write them: "250ms", "30s", "5m", "2h", "1d";
// "512", "16KiB", "8MiB", "1GiB", "10MB" (KB = 1000 bytes, KiB = 1024).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace plexus::config {

// Milliseconds; a bare integer means seconds. nullopt for anything else, overflow included.
std::optional<std::int64_t> parse_duration_ms(std::string_view text);
// Bytes; a bare integer (or a "B" suffix) means bytes. nullopt for anything else, overflow included.
std::optional<std::int64_t> parse_size_bytes(std::string_view text);

// The shortest exact spelling that the parsers read back: 90000 -> "90s", 16384 -> "16KiB".
std::string format_duration(std::int64_t milliseconds);
std::string format_size(std::int64_t bytes);

}  // namespace plexus::config
