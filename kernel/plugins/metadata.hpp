// Plugin metadata: the JSON that PLEXUS_PLUGIN writes into the ELF section
// PLEXUS_METADATA_SECTION (".plexus_metadata"). The kernel reads it from the
// library file before dlopen, so an incompatible plugin is refused before a line
// of its code (static initialisers included) runs.
#pragma once

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "plexus/abi.h"

namespace plexus::plugins {

// Why a library cannot be used, as "<path>: expected X, got Y".
class MetadataError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A permission a plugin checks itself (beyond its routes' own), with what it allows: listed in
// the kernel's permission catalogue while the plugin runs, so operators can grant it.
struct DeclaredPermission {
  std::string permission;  // [a-z][a-z0-9_.-]*, e.g. "api.execute"
  std::string description;
};

struct PluginMetadata {
  std::string name;
  std::string version;      // semantic version, checked by parse_semver
  std::string sdk_version;  // "" when the metadata does not say
  std::string compiler;     // "" when the metadata does not say
  std::uint32_t abi_major = 0;
  std::uint32_t abi_minor = 0;
  nlohmann::json config_schema;  // JSON Schema of the manifest's `config`; null when none
  std::vector<DeclaredPermission> permissions;  // "permissions": [{"permission","description"}]
  nlohmann::json raw;            // the whole metadata object as found
};

// A plugin name: [a-z][a-z0-9-]{0,62} (the same rule for metadata and manifests).
bool valid_plugin_name(std::string_view name);

// Largest .plexus_metadata section accepted (the JSON is normally a few hundred bytes).
inline constexpr std::uint64_t max_metadata_size = std::uint64_t{1024} * 1024;

// Reads and checks the metadata of a plugin library WITHOUT loading it: parses the
// ELF64 headers, finds PLEXUS_METADATA_SECTION, reads its bytes up to the first NUL
// and checks them with parse_metadata. Every offset and size in the file is
// bounds-checked, so a truncated or hostile file gives a MetadataError, never a
// crash. Throws MetadataError.
PluginMetadata read_metadata(const std::filesystem::path& library,
                             std::uint32_t host_abi_major = PLEXUS_ABI_MAJOR,
                             std::uint32_t host_abi_minor = PLEXUS_ABI_MINOR);

// The raw bytes of PLEXUS_METADATA_SECTION up to the first NUL (no JSON parsing,
// no ABI check). Throws MetadataError.
std::string read_metadata_section(const std::filesystem::path& library);

// Parses and checks metadata JSON (fields, types, plugin name and version syntax,
// ABI compatibility). `origin` prefixes error messages (the library path, or e.g.
// "libfoo.so: descriptor" when checking the descriptor's metadata_json after
// dlopen). Throws MetadataError.
PluginMetadata parse_metadata(std::string_view json_text, const std::string& origin,
                              std::uint32_t host_abi_major = PLEXUS_ABI_MAJOR,
                              std::uint32_t host_abi_minor = PLEXUS_ABI_MINOR);

}  // namespace plexus::plugins
