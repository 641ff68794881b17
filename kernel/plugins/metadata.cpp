#include "kernel/plugins/metadata.hpp"

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <vector>

#include "kernel/plugins/semver.hpp"

namespace plexus::plugins {
namespace {

constexpr std::string_view metadata_section = PLEXUS_METADATA_SECTION;
constexpr std::uint64_t max_sections = 1'000'000;
constexpr std::uint64_t max_section_names = std::uint64_t{16} * 1024 * 1024;

#if defined(__x86_64__)
constexpr std::uint16_t host_machine = EM_X86_64;
#elif defined(__aarch64__)
constexpr std::uint16_t host_machine = EM_AARCH64;
#elif defined(__riscv) && __riscv_xlen == 64
constexpr std::uint16_t host_machine = EM_RISCV;
#elif defined(__powerpc64__)
constexpr std::uint16_t host_machine = EM_PPC64;
#elif defined(__s390x__)
constexpr std::uint16_t host_machine = EM_S390;
#else
constexpr std::uint16_t host_machine = EM_NONE;  // unknown host: no machine check
#endif

std::string machine_name(std::uint16_t machine) {
  std::string name;
  switch (machine) {
    case EM_X86_64: name = "x86-64"; break;
    case EM_386: name = "i386"; break;
    case EM_AARCH64: name = "AArch64"; break;
    case EM_ARM: name = "ARM"; break;
    case EM_RISCV: name = "RISC-V"; break;
    case EM_PPC64: name = "PowerPC64"; break;
    case EM_S390: name = "s390x"; break;
    default: name = "an unknown machine"; break;
  }
  return name + " (ELF machine " + std::to_string(machine) + ")";
}

std::string hex_bytes(std::string_view bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const auto b = static_cast<unsigned char>(bytes[i]);
    if (i > 0) out += ' ';
    out += digits[b >> 4];
    out += digits[b & 0xf];
  }
  return out;
}

bool printable_text(std::string_view bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](char c) {
    const auto b = static_cast<unsigned char>(c);
    return b >= 0x20 || c == '\n' || c == '\r' || c == '\t';
  });
}

// The first line of `bytes`, at most 40 characters, with anything unprintable as '?'.
std::string first_line(std::string_view bytes) {
  std::string out;
  for (char c : bytes) {
    if (c == '\n' || c == '\r' || out.size() >= 40) break;
    const auto b = static_cast<unsigned char>(c);
    out += (b < 0x20 || b == 0x7f) ? '?' : c;
  }
  return out;
}

// What a file that is not an ELF object looks like, from its first bytes.
std::string describe_non_elf(std::string_view head, std::uint64_t size) {
  if (size == 0) return "an empty file";
  if (head.substr(0, 2) == "#!") return "a file starting with " + first_line(head);
  if (head.substr(0, 8) == "!<arch>\n") return "a static library (ar archive; build the plugin with -shared)";
  if (head.substr(0, 4) == std::string_view("PK\x03\x04", 4)) return "a ZIP archive";
  if (head.substr(0, 2) == "\x1f\x8b") return "a gzip file";
  if (head.substr(0, 2) == "MZ") return "a Windows executable or DLL";
  if (head.substr(0, 4) == "\xcf\xfa\xed\xfe" || head.substr(0, 4) == "\xfe\xed\xfa\xcf" ||
      head.substr(0, 4) == "\xca\xfe\xba\xbe") {
    return "a Mach-O file (macOS)";
  }
  if (head.substr(0, 4) ==
      "\x7f"
      "ELF")
    return "a truncated ELF file of " + std::to_string(size) + " bytes";
  if (printable_text(head)) return "a text file starting with '" + first_line(head) + "'";
  return "a file starting with bytes " + hex_bytes(head.substr(0, 8));
}

std::string file_kind(mode_t mode) {
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  return "a special file";
}

// A library file opened read-only; every read is bounds-checked against its size.
class ElfFile {
 public:
  explicit ElfFile(const std::filesystem::path& path) : path_(path.string()) {
    fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd_ < 0) fail_errno(errno);
    struct stat st {};
    if (::fstat(fd_, &st) != 0) fail_errno(errno);
    if (S_ISDIR(st.st_mode)) fail_errno(EISDIR);
    if (!S_ISREG(st.st_mode)) fail("expected an ELF shared library, got " + file_kind(st.st_mode));
    size_ = static_cast<std::uint64_t>(st.st_size);
  }
  ~ElfFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  ElfFile(const ElfFile&) = delete;
  ElfFile& operator=(const ElfFile&) = delete;

  std::uint64_t size() const { return size_; }

  [[noreturn]] void fail(const std::string& message) const { throw MetadataError(path_ + ": " + message); }
  [[noreturn]] void fail_errno(int error) const {
    throw MetadataError("cannot read " + path_ + ": " + std::strerror(error));
  }

  // True when [offset, offset + length) lies inside the file.
  bool contains(std::uint64_t offset, std::uint64_t length) const {
    return offset <= size_ && length <= size_ - offset;
  }

  // Reads exactly `length` bytes at `offset`; `what` names them in the error.
  std::string read(std::uint64_t offset, std::uint64_t length, const std::string& what) const {
    if (!contains(offset, length)) {
      fail("expected " + what + " at bytes " + std::to_string(offset) + ".." + plus(offset, length) +
           ", got a file of " + std::to_string(size_) + " bytes (truncated or corrupt)");
    }
    std::string bytes(static_cast<std::size_t>(length), '\0');
    std::size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n =
          ::pread(fd_, bytes.data() + done, bytes.size() - done, static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) fail_errno(errno);
      if (n == 0) fail("expected " + what + ", got end of file (the file shrank while being read)");
      done += static_cast<std::size_t>(n);
    }
    return bytes;
  }

  template <class T>
  T read_struct(std::uint64_t offset, const std::string& what) const {
    const std::string bytes = read(offset, sizeof(T), what);
    T value;
    std::memcpy(&value, bytes.data(), sizeof(T));
    return value;
  }

 private:
  static std::string plus(std::uint64_t offset, std::uint64_t length) {
    if (length > std::numeric_limits<std::uint64_t>::max() - offset) return "(beyond 2^64)";
    return std::to_string(offset + length);
  }

  std::string path_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

std::string missing_section(const std::string& why = "") {
  return "expected a " + std::string(metadata_section) + " section, got none" + why +
         " (was the plugin built with PLEXUS_PLUGIN?)";
}

// Finds the metadata section and returns its bytes (up to the section's size).
std::string extract_section(const ElfFile& file) {
  const std::uint64_t size = file.size();
  const std::string head = file.read(0, std::min<std::uint64_t>(size, EI_NIDENT), "the ELF identification");
  if (size < SELFMAG || head.compare(0, SELFMAG, ELFMAG, SELFMAG) != 0) {
    file.fail(
        "expected an ELF shared library, got " +
        describe_non_elf(file.read(0, std::min<std::uint64_t>(size, 64), "the file's first bytes"), size));
  }
  if (size < EI_NIDENT) file.fail("expected an ELF shared library, got " + describe_non_elf(head, size));
  const std::string wanted = "expected a 64-bit little-endian ELF shared object, got ";
  const auto elf_class = static_cast<unsigned char>(head[EI_CLASS]);
  const auto elf_data = static_cast<unsigned char>(head[EI_DATA]);
  if (elf_class == ELFCLASS32) file.fail(wanted + "a 32-bit ELF file");
  if (elf_class != ELFCLASS64)
    file.fail(wanted + "an ELF file of unknown class " + std::to_string(elf_class));
  if (elf_data == ELFDATA2MSB) file.fail(wanted + "a big-endian ELF file");
  if (elf_data != ELFDATA2LSB)
    file.fail(wanted + "an ELF file of unknown byte order " + std::to_string(elf_data));
  if (size < sizeof(Elf64_Ehdr)) {
    file.fail("expected a " + std::to_string(sizeof(Elf64_Ehdr)) + "-byte ELF header, got a file of " +
              std::to_string(size) + " bytes (truncated)");
  }
  const auto header = file.read_struct<Elf64_Ehdr>(0, "the ELF header");
  switch (header.e_type) {
    case ET_DYN: break;
    case ET_EXEC: file.fail(wanted + "an executable (ET_EXEC)");
    case ET_REL: file.fail(wanted + "a relocatable object file (ET_REL; link it with -shared)");
    case ET_CORE: file.fail(wanted + "a core dump (ET_CORE)");
    default: file.fail(wanted + "an ELF file of type " + std::to_string(header.e_type));
  }
  if (host_machine != EM_NONE && header.e_machine != host_machine) {
    file.fail("expected a shared object for " + machine_name(host_machine) + ", got one for " +
              machine_name(header.e_machine));
  }

  if (header.e_shoff == 0) file.fail(missing_section(" (the file has no section headers)"));
  if (header.e_shentsize < sizeof(Elf64_Shdr)) {
    file.fail("expected section header entries of at least " + std::to_string(sizeof(Elf64_Shdr)) +
              " bytes, got " + std::to_string(header.e_shentsize) + " (corrupt ELF header)");
  }
  const std::uint64_t entry_size = header.e_shentsize;
  auto section_header = [&](std::uint64_t index) {
    // Only called with index < count, and the whole table was bounds-checked.
    return file.read_struct<Elf64_Shdr>(header.e_shoff + index * entry_size,
                                        "section header " + std::to_string(index));
  };

  // Extended numbering: with 0xff00 sections or more the real count and the name
  // table index live in section header 0.
  std::uint64_t count = header.e_shnum;
  std::uint64_t names_index = header.e_shstrndx;
  if (count == 0 || names_index == SHN_XINDEX) {
    const auto first = file.read_struct<Elf64_Shdr>(header.e_shoff, "section header 0");
    if (count == 0) count = first.sh_size;
    if (names_index == SHN_XINDEX) names_index = first.sh_link;
  }
  if (count == 0) file.fail(missing_section(" (the file has no sections)"));
  if (count > max_sections) {
    file.fail("expected at most " + std::to_string(max_sections) + " sections, got " + std::to_string(count) +
              " (corrupt section header table)");
  }
  if (!file.contains(header.e_shoff, count * entry_size)) {
    file.fail("expected " + std::to_string(count) + " section headers at offset " +
              std::to_string(header.e_shoff) + ", got a file of " + std::to_string(size) +
              " bytes (truncated or corrupt)");
  }
  if (names_index == SHN_UNDEF) file.fail(missing_section(" (the file has no section name table)"));
  if (names_index >= count) {
    file.fail("expected a section name table index below " + std::to_string(count) + ", got " +
              std::to_string(names_index) + " (corrupt ELF header)");
  }
  const Elf64_Shdr names_header = section_header(names_index);
  if (names_header.sh_type != SHT_STRTAB) {
    file.fail("expected the section name table (section " + std::to_string(names_index) +
              ") to be a string table, got section type " + std::to_string(names_header.sh_type));
  }
  if (names_header.sh_size > max_section_names) {
    file.fail("expected a section name table of at most " + std::to_string(max_section_names) +
              " bytes, got " + std::to_string(names_header.sh_size));
  }
  const std::string names = file.read(names_header.sh_offset, names_header.sh_size, "the section name table");

  for (std::uint64_t i = 0; i < count; ++i) {
    const Elf64_Shdr section = section_header(i);
    if (section.sh_name >= names.size()) continue;  // a name outside the table: not ours
    const std::size_t end = names.find('\0', section.sh_name);
    if (end == std::string::npos) continue;  // unterminated name: not ours
    if (std::string_view{names}.substr(section.sh_name, end - section.sh_name) != metadata_section) continue;

    if (section.sh_type == SHT_NOBITS) {
      file.fail("expected " + std::string(metadata_section) +
                " to hold the metadata JSON, got a section without data (SHT_NOBITS)");
    }
    if (section.sh_size == 0) {
      file.fail("expected metadata JSON in " + std::string(metadata_section) + ", got an empty section");
    }
    if (section.sh_size > max_metadata_size) {
      file.fail("expected a " + std::string(metadata_section) + " section of at most " +
                std::to_string(max_metadata_size) + " bytes, got " + std::to_string(section.sh_size));
    }
    return file.read(section.sh_offset, section.sh_size, "the " + std::string(metadata_section) + " section");
  }
  file.fail(missing_section());
}

std::string type_name(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::null: return "null";
    case nlohmann::json::value_t::boolean: return "boolean";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float: return "number";
    case nlohmann::json::value_t::string: return "string";
    case nlohmann::json::value_t::array: return "array";
    case nlohmann::json::value_t::object: return "object";
    default: return "binary";
  }
}

// "number 2", "string \"x\"", "object {...}": the type and a short rendering.
std::string describe(const nlohmann::json& value) {
  if (value.is_null()) return "null";
  std::string text = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  return type_name(value) + " " + text;
}

std::string clean_parse_error(const std::string& what) {
  // "[json.exception.parse_error.101] parse error at line 1, ..." -> "parse error at line 1, ..."
  if (!what.empty() && what[0] == '[') {
    if (const std::size_t close = what.find("] "); close != std::string::npos) return what.substr(close + 2);
  }
  return what;
}

bool valid_permission_name(std::string_view name) {
  if (name.empty() || name.size() > 128 || name[0] < 'a' || name[0] > 'z') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
  });
}

// "permissions": [{"permission": "api.execute", "description": "..."}, ...], each named once.
template <class Fail>
std::vector<DeclaredPermission> declared_permissions(const nlohmann::json& list, const Fail& fail) {
  if (!list.is_array()) {
    throw fail("expected metadata field 'permissions' (an array of {permission, description}), got " +
               describe(list));
  }
  std::vector<DeclaredPermission> permissions;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const auto& item = list[i];
    const auto at = "metadata field 'permissions[" + std::to_string(i) + "]'";
    if (!item.is_object() || !item.contains("permission") || !item["permission"].is_string() ||
        !item.contains("description") || !item["description"].is_string()) {
      throw fail("expected " + at + " to be {\"permission\": string, \"description\": string}, got " +
                 describe(item));
    }
    DeclaredPermission permission{item["permission"].get<std::string>(), item["description"].get<std::string>()};
    if (!valid_permission_name(permission.permission)) {
      throw fail("expected " + at + " to name a permission ([a-z][a-z0-9_.-]*, at most 128), got '" +
                 permission.permission + "'");
    }
    for (const auto& earlier : permissions) {
      if (earlier.permission == permission.permission) {
        throw fail("expected each permission once in metadata field 'permissions', got '" +
                   permission.permission + "' twice");
      }
    }
    permissions.push_back(std::move(permission));
  }
  return permissions;
}

}  // namespace

bool valid_plugin_name(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  if (name[0] < 'a' || name[0] > 'z') return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
}

std::string read_metadata_section(const std::filesystem::path& library) {
  ElfFile file(library);
  std::string bytes = extract_section(file);
  const std::size_t nul = bytes.find('\0');
  if (nul == std::string::npos) return bytes;  // not NUL-terminated: the whole section
  if (bytes.find_first_not_of('\0', nul) != std::string::npos) {
    // Two PLEXUS_PLUGIN records were linked into one library; the linker concatenated them.
    file.fail("expected one metadata record in " + std::string(metadata_section) +
              ", got several (is PLEXUS_PLUGIN used more than once in the library?)");
  }
  bytes.resize(nul);
  return bytes;
}

PluginMetadata read_metadata(const std::filesystem::path& library, std::uint32_t host_abi_major,
                             std::uint32_t host_abi_minor) {
  return parse_metadata(read_metadata_section(library), library.string(), host_abi_major, host_abi_minor);
}

PluginMetadata parse_metadata(std::string_view json_text, const std::string& origin,
                              std::uint32_t host_abi_major, std::uint32_t host_abi_minor) {
  auto fail = [&](const std::string& message) -> MetadataError {
    return MetadataError(origin + ": " + message);
  };
  nlohmann::json raw;
  try {
    raw = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::parse_error& e) {
    throw fail("expected metadata JSON in " + std::string(metadata_section) + ", got invalid JSON (" +
               clean_parse_error(e.what()) + ")");
  }
  if (!raw.is_object()) {
    throw fail("expected a JSON object in " + std::string(metadata_section) + ", got " + describe(raw));
  }

  auto field = [&](const char* key, const char* type) -> const nlohmann::json* {
    auto it = raw.find(key);
    if (it == raw.end()) return nullptr;
    const bool ok = std::string_view(type) == "string" ? it->is_string() : it->is_number_integer();
    if (!ok)
      throw fail(std::string("expected metadata field '") + key + "' (" + type + "), got " + describe(*it));
    return &*it;
  };
  auto required = [&](const char* key, const char* type) -> const nlohmann::json& {
    const nlohmann::json* value = field(key, type);
    if (value == nullptr)
      throw fail(std::string("expected metadata field '") + key + "' (" + type + "), got none");
    return *value;
  };
  auto abi_number = [&](const char* key) -> std::uint32_t {
    const nlohmann::json& value = required(key, "unsigned integer");
    const bool negative =
        value.is_number_integer() && !value.is_number_unsigned() && value.get<std::int64_t>() < 0;
    if (negative || value.get<std::uint64_t>() > std::numeric_limits<std::uint32_t>::max()) {
      throw fail(std::string("expected metadata field '") + key + "' (unsigned integer), got " +
                 describe(value));
    }
    return static_cast<std::uint32_t>(value.get<std::uint64_t>());
  };

  PluginMetadata metadata;
  metadata.name = required("name", "string").get<std::string>();
  if (!valid_plugin_name(metadata.name)) {
    throw fail("expected metadata field 'name' to be a plugin name ([a-z][a-z0-9-]{0,62}), got '" +
               metadata.name + "'");
  }
  metadata.version = required("version", "string").get<std::string>();
  try {
    (void)parse_semver(metadata.version);
  } catch (const std::invalid_argument& e) {
    throw fail(std::string("metadata field 'version': ") + e.what());
  }
  metadata.abi_major = abi_number("abi_major");
  metadata.abi_minor = abi_number("abi_minor");
  if (const nlohmann::json* sdk = field("sdk_version", "string"))
    metadata.sdk_version = sdk->get<std::string>();
  if (const nlohmann::json* compiler = field("compiler", "string"))
    metadata.compiler = compiler->get<std::string>();
  if (auto schema = raw.find("config_schema"); schema != raw.end()) {
    if (!schema->is_object() && !schema->is_boolean() && !schema->is_null()) {
      throw fail("expected metadata field 'config_schema' (a JSON Schema object), got " + describe(*schema));
    }
    metadata.config_schema = *schema;
  }
  if (auto declared = raw.find("permissions"); declared != raw.end()) {
    metadata.permissions = declared_permissions(*declared, fail);
  }

  if (metadata.abi_major != host_abi_major) {
    throw fail("expected ABI major " + std::to_string(host_abi_major) + ", got " +
               std::to_string(metadata.abi_major) + " (plugin '" + metadata.name +
               "' was built for another kernel ABI; rebuild it with this kernel's SDK)");
  }
  if (metadata.abi_minor > host_abi_minor) {
    throw fail("expected ABI minor <= " + std::to_string(host_abi_minor) + ", got " +
               std::to_string(metadata.abi_minor) + " (the plugin needs a newer kernel)");
  }
  metadata.raw = std::move(raw);
  return metadata;
}

}  // namespace plexus::plugins
