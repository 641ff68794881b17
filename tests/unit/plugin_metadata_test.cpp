// Plugin metadata read from the ELF section of a library file without loading it:
// every refusal (not ELF, wrong class, missing section, bad JSON, ABI mismatch),
// hostile and truncated files, and a round trip through the real SDK macro.
// The libraries are small C files compiled here with `cc -shared`.
#include <dlfcn.h>
#include <elf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "kernel/plugins/metadata.hpp"
#include "plexus/plugin.hpp"
#include "tests/support/test_support.hpp"

namespace fs = std::filesystem;
using namespace plexus::plugins;
using Catch::Matchers::Contains;
using Catch::Matchers::Equals;
using Catch::Matchers::StartsWith;
using plexus::test::read_file;
using plexus::test::run_command;
using plexus::test::TempDir;

namespace {

// One scratch directory for the whole test binary; libraries are built once per source.
TempDir& scratch() {
  static TempDir dir;
  return dir;
}

std::string c_string_literal(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// Compiles `source` (C, or C++ when `cplusplus`) into a shared library, once.
fs::path compile(const std::string& name, const std::string& source,
                 const std::vector<std::string>& flags = {"-shared", "-fPIC"}, bool cplusplus = false) {
  static std::map<std::string, fs::path> built;
  const std::string key = name + "\n" + source;
  if (auto it = built.find(key); it != built.end()) return it->second;
  const fs::path src = scratch().write(name + (cplusplus ? ".cpp" : ".c"), source);
  const fs::path out = scratch().path() / name;
  std::vector<std::string> argv{cplusplus ? "c++" : "cc"};
  if (cplusplus) argv.push_back("-std=c++17");
  argv.insert(argv.end(), flags.begin(), flags.end());
  argv.insert(argv.end(), {"-o", out.string(), src.string()});
  const auto result = run_command(argv);
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  built.emplace(key, out);
  return out;
}

// A plugin built from C++ `source` with only the SDK's headers, as an author builds one.
fs::path compile_with_sdk(const std::string& name, const std::string& source) {
  const fs::path include = fs::path(PLEXUS_SOURCE_DIR) / "sdk" / "include";
  return compile(name, source, {"-shared", "-fPIC", "-fvisibility=hidden", "-Wl,-z,defs", "-I" + include.string()},
                 true);
}

// A shared library whose .plexus_metadata section holds `json` (plus any extra C).
fs::path library_with(const std::string& name, const std::string& json, const std::string& extra = "") {
  return compile(name, "__attribute__((section(\".plexus_metadata\"), used)) static const char m[] = " +
                           c_string_literal(json) + ";\nint plexus_test_symbol(void) { return 42; }\n" +
                           extra);
}

const std::string good_json =
    R"({"name":"hello","version":"1.2.3","abi_major":1,"abi_minor":0,"sdk_version":"0.1.0","compiler":"gcc test",)"
    R"("config_schema":{"type":"object","properties":{"greeting":{"type":"string"}}}})";

fs::path good_library() { return library_with("libgood.so", good_json); }

std::string metadata_error(const fs::path& file, std::uint32_t major = 1, std::uint32_t minor = 0) {
  try {
    (void)read_metadata(file, major, minor);
  } catch (const MetadataError& e) {
    return e.what();
  }
  FAIL("expected a MetadataError for " << file);
  return "";
}

fs::path write_bytes(const std::string& name, const std::string& bytes) {
  return scratch().write(name, bytes);
}

template <class T>
void patch(std::string& bytes, std::uint64_t offset, T value) {
  REQUIRE(offset + sizeof(T) <= bytes.size());
  std::memcpy(bytes.data() + offset, &value, sizeof(T));
}

template <class T>
T peek(const std::string& bytes, std::uint64_t offset) {
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof(T));
  return value;
}

// Where things are in a (trusted, well-formed) library, for patching copies of it.
struct Layout {
  Elf64_Ehdr header;
  std::uint64_t metadata_header = 0;  // file offset of the metadata section's header
  std::uint64_t names_header = 0;     // file offset of the section name table's header
};

Layout layout_of(const std::string& bytes) {
  Layout layout{peek<Elf64_Ehdr>(bytes, 0)};
  const auto& h = layout.header;
  const auto names = peek<Elf64_Shdr>(bytes, h.e_shoff + std::uint64_t{h.e_shstrndx} * h.e_shentsize);
  layout.names_header = h.e_shoff + std::uint64_t{h.e_shstrndx} * h.e_shentsize;
  for (std::uint64_t i = 0; i < h.e_shnum; ++i) {
    const std::uint64_t at = h.e_shoff + i * h.e_shentsize;
    const auto section = peek<Elf64_Shdr>(bytes, at);
    if (std::strcmp(bytes.data() + names.sh_offset + section.sh_name, ".plexus_metadata") == 0)
      layout.metadata_header = at;
  }
  REQUIRE(layout.metadata_header != 0);
  return layout;
}

// A real library whose metadata section is a 2 KiB buffer: copies of it get other
// JSON patched in, so each variation needs no compiler run.
fs::path library_with_json(const std::string& name, const std::string& json) {
  static const std::string bytes =
      read_file(compile("libtemplate.so",
                        "__attribute__((section(\".plexus_metadata\"), used)) "
                        "static const char m[2048] = \"{}\";\nint f(void) { return 1; }\n"));
  std::string copy = bytes;
  const auto section = peek<Elf64_Shdr>(copy, layout_of(copy).metadata_header);
  REQUIRE(json.size() < section.sh_size);
  std::fill_n(copy.begin() + static_cast<std::ptrdiff_t>(section.sh_offset), section.sh_size, '\0');
  copy.replace(section.sh_offset, json.size(), json);
  return write_bytes(name, copy);
}

std::string json_error(const std::string& json) {
  static int counter = 0;
  return metadata_error(library_with_json("libjson" + std::to_string(counter++) + ".so", json));
}

}  // namespace

TEST_CASE("read_metadata reads the section of a library without loading it", "[metadata]") {
  const fs::path library = good_library();
  const PluginMetadata metadata = read_metadata(library, 1, 0);
  CHECK(metadata.name == "hello");
  CHECK(metadata.version == "1.2.3");
  CHECK(metadata.abi_major == 1);
  CHECK(metadata.abi_minor == 0);
  CHECK(metadata.sdk_version == "0.1.0");
  CHECK(metadata.compiler == "gcc test");
  CHECK(metadata.config_schema ==
        nlohmann::json::parse(R"({"type":"object","properties":{"greeting":{"type":"string"}}})"));
  CHECK(metadata.raw == nlohmann::json::parse(good_json));
  CHECK(read_metadata_section(library) == good_json);

  // Defaults are the kernel's own ABI; an older plugin minor is fine with a newer host.
  CHECK(read_metadata(library).name == "hello");
  CHECK(read_metadata(library, 1, 7).abi_minor == 0);
}

TEST_CASE("sdk_version, compiler and config_schema are optional", "[metadata]") {
  const auto library = library_with_json(
      "libminimal.so", R"({"name":"mini","version":"0.1.0-rc.1+build.5","abi_major":1,"abi_minor":0})");
  const auto metadata = read_metadata(library, 1, 0);
  CHECK(metadata.name == "mini");
  CHECK(metadata.version == "0.1.0-rc.1+build.5");
  CHECK(metadata.sdk_version.empty());
  CHECK(metadata.compiler.empty());
  CHECK(metadata.config_schema.is_null());
  CHECK(metadata.permissions.empty());
}

TEST_CASE("declared permissions are read with what they allow, and bad ones refuse the plugin", "[metadata]") {
  const std::string head = R"({"name":"notes","version":"1.0.0","abi_major":1,"abi_minor":0,"permissions":)";
  const auto metadata = parse_metadata(head + R"([{"permission":"notes.publish","description":"Publish notes"},
      {"permission":"notes.export_all-v2","description":""}]})", "libnotes.so", 1, 0);
  REQUIRE(metadata.permissions.size() == 2);
  CHECK(metadata.permissions[0].permission == "notes.publish");
  CHECK(metadata.permissions[0].description == "Publish notes");
  CHECK(metadata.permissions[1].permission == "notes.export_all-v2");
  CHECK(parse_metadata(head + "[]}", "libnotes.so", 1, 0).permissions.empty());

  CHECK_THAT(json_error(head + R"({"notes.publish":"x"}})"),
             Contains("expected metadata field 'permissions' (an array of {permission, description}), got object"));
  CHECK_THAT(json_error(head + R"([{"permission":"notes.publish"}]})"),
             Contains("expected metadata field 'permissions[0]' to be {\"permission\": string, \"description\": "
                      "string}, got object"));
  CHECK_THAT(json_error(head + R"([{"permission":"a.b","description":"x"},"c.d"]})"),
             Contains("metadata field 'permissions[1]'"));
  for (const char* bad : {"Notes.publish", "notes publish", "1notes", "", "notes.*", "notes.read:{id}"}) {
    INFO(bad);
    CHECK_THAT(json_error(head + R"([{"permission":")" + std::string(bad) + R"(","description":"x"}]})"),
               Contains("expected metadata field 'permissions[0]' to name a permission"));
  }
  CHECK_THAT(json_error(head + R"([{"permission":")" + std::string(129, 'a') + R"(","description":"x"}]})"),
             Contains("to name a permission"));
  CHECK_THAT(json_error(head + R"([{"permission":"a.b","description":"x"},{"permission":"a.b","description":"y"}]})"),
             Contains("expected each permission once in metadata field 'permissions', got 'a.b' twice"));
}

TEST_CASE("files that cannot be read", "[metadata]") {
  const fs::path missing = scratch().path() / "no-such-lib.so";
  CHECK_THAT(metadata_error(missing),
             Equals("cannot read " + missing.string() + ": No such file or directory"));

  const fs::path dir = scratch().path() / "a-directory.so";
  fs::create_directories(dir);
  CHECK_THAT(metadata_error(dir), Equals("cannot read " + dir.string() + ": Is a directory"));

  // A FIFO must be refused at once, not block waiting for a writer.
  const fs::path fifo = scratch().path() / "fifo.so";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CHECK_THAT(metadata_error(fifo), Equals(fifo.string() + ": expected an ELF shared library, got a FIFO"));

  if (::geteuid() != 0) {  // root reads anything
    const fs::path locked = write_bytes("locked.so", read_file(good_library()));
    fs::permissions(locked, fs::perms::none);
    CHECK_THAT(metadata_error(locked), Equals("cannot read " + locked.string() + ": Permission denied"));
  }
}

TEST_CASE("files that are not ELF shared libraries", "[metadata]") {
  const auto expect = [](const std::string& name, const std::string& bytes, const std::string& what) {
    const fs::path file = write_bytes(name, bytes);
    CHECK_THAT(metadata_error(file), Equals(file.string() + ": expected an ELF shared library, got " + what));
  };
  expect("empty.so", "", "an empty file");
  expect("script.so", "#!/bin/sh\necho hello\n", "a file starting with #!/bin/sh");
  expect("text.so", "hello world\nsecond line", "a text file starting with 'hello world'");
  expect("archive.so", "!<arch>\nfoo.o/ ...", "a static library (ar archive; build the plugin with -shared)");
  expect("zip.so", std::string("PK\x03\x04rest", 8), "a ZIP archive");
  expect("binary.so", std::string("\x01\x02\x03\x04\x05\x06\x07\x08\x09", 9),
         "a file starting with bytes 01 02 03 04 05 06 07 08");
  expect("short.so",
         "\x7f"
         "EL",
         "a text file starting with '?EL'");
  expect("truncated-ident.so",
         "\x7f"
         "ELF\x02\x01",
         "a truncated ELF file of 6 bytes");
}

TEST_CASE("ELF files of the wrong kind", "[metadata]") {
  const std::string good = read_file(good_library());
  const std::string wanted = ": expected a 64-bit little-endian ELF shared object, got ";

  std::string bytes = good;
  bytes[EI_CLASS] = ELFCLASS32;
  fs::path file = write_bytes("class32.so", bytes);
  CHECK_THAT(metadata_error(file), Equals(file.string() + wanted + "a 32-bit ELF file"));

  bytes = good;
  bytes[EI_CLASS] = 7;
  file = write_bytes("class7.so", bytes);
  CHECK_THAT(metadata_error(file), Equals(file.string() + wanted + "an ELF file of unknown class 7"));

  bytes = good;
  bytes[EI_DATA] = ELFDATA2MSB;
  file = write_bytes("bigendian.so", bytes);
  CHECK_THAT(metadata_error(file), Equals(file.string() + wanted + "a big-endian ELF file"));

  // An object file and a non-PIE executable, as the compiler makes them.
  const std::string source = "int main(void) { return 0; }\n";
  const fs::path object = compile("object.o", source, {"-c", "-fPIC"});
  CHECK_THAT(metadata_error(object),
             Equals(object.string() + wanted + "a relocatable object file (ET_REL; link it with -shared)"));
  const fs::path executable = compile("executable", source, {"-no-pie"});
  CHECK_THAT(metadata_error(executable), Equals(executable.string() + wanted + "an executable (ET_EXEC)"));

  bytes = good;
  patch<Elf64_Half>(bytes, offsetof(Elf64_Ehdr, e_type), ET_CORE);
  file = write_bytes("core.so", bytes);
  CHECK_THAT(metadata_error(file), Equals(file.string() + wanted + "a core dump (ET_CORE)"));

  // Built for another machine.
  bytes = good;
  const Elf64_Half own = peek<Elf64_Ehdr>(good, 0).e_machine;
  const Elf64_Half other = own == EM_AARCH64 ? EM_X86_64 : EM_AARCH64;
  patch<Elf64_Half>(bytes, offsetof(Elf64_Ehdr, e_machine), other);
  file = write_bytes("machine.so", bytes);
  const std::string message = metadata_error(file);
  CHECK_THAT(message, StartsWith(file.string() + ": expected a shared object for "));
  CHECK_THAT(message, Contains("(ELF machine " + std::to_string(own) + "), got one for "));
  CHECK_THAT(message, Contains("(ELF machine " + std::to_string(other) + ")"));
}

TEST_CASE("a library without the metadata section", "[metadata]") {
  const fs::path plain = compile("libplain.so", "int plain(void) { return 1; }\n");
  CHECK_THAT(metadata_error(plain), Equals(plain.string() + ": expected a .plexus_metadata section, got none "
                                                            "(was the plugin built with PLEXUS_PLUGIN?)"));
  // A similar name is not the section.
  const fs::path similar = compile("libsimilar.so",
                                   "__attribute__((section(\".plexus_metadatax\"), used)) "
                                   "static const char m[] = \"{}\";\n");
  CHECK_THAT(metadata_error(similar), Contains("expected a .plexus_metadata section, got none"));

  // Stripped of its section headers altogether.
  std::string bytes = read_file(good_library());
  patch<Elf64_Off>(bytes, offsetof(Elf64_Ehdr, e_shoff), 0);
  const fs::path headerless = write_bytes("headerless.so", bytes);
  CHECK_THAT(
      metadata_error(headerless),
      Equals(headerless.string() + ": expected a .plexus_metadata section, got none (the file has no section "
                                   "headers) (was the plugin built with PLEXUS_PLUGIN?)"));
}

TEST_CASE("metadata that is not valid JSON or misses fields", "[metadata]") {
  CHECK_THAT(json_error("{\"name\": "),
             Contains(": expected metadata JSON in .plexus_metadata, got invalid JSON (parse error"));
  CHECK_THAT(json_error("not json"), Contains("got invalid JSON"));
  CHECK_THAT(json_error("[1,2]"), Contains(": expected a JSON object in .plexus_metadata, got array [1,2]"));
  CHECK_THAT(json_error("\"hello\""),
             Contains("expected a JSON object in .plexus_metadata, got string \"hello\""));

  const std::string rest = R"("version":"1.0.0","abi_major":1,"abi_minor":0)";
  CHECK_THAT(json_error("{" + rest + "}"), Contains(": expected metadata field 'name' (string), got none"));
  CHECK_THAT(json_error(R"({"name":5,)" + rest + "}"),
             Contains("expected metadata field 'name' (string), got number 5"));
  CHECK_THAT(json_error(R"({"name":null,)" + rest + "}"),
             Contains("expected metadata field 'name' (string), got null"));
  CHECK_THAT(
      json_error(R"({"name":"Hello World",)" + rest + "}"),
      Contains(
          "expected metadata field 'name' to be a plugin name ([a-z][a-z0-9-]{0,62}), got 'Hello World'"));

  CHECK_THAT(json_error(R"({"name":"a","abi_major":1,"abi_minor":0})"),
             Contains("expected metadata field 'version' (string), got none"));
  CHECK_THAT(json_error(R"({"name":"a","version":"1.0","abi_major":1,"abi_minor":0})"),
             Contains("metadata field 'version': expected a version such as 1.2.3, got '1.0'"));
  CHECK_THAT(json_error(R"({"name":"a","version":"1.0.0","abi_minor":0})"),
             Contains("expected metadata field 'abi_major' (unsigned integer), got none"));
  CHECK_THAT(json_error(R"({"name":"a","version":"1.0.0","abi_major":"1","abi_minor":0})"),
             Contains("expected metadata field 'abi_major' (unsigned integer), got string \"1\""));
  CHECK_THAT(json_error(R"({"name":"a","version":"1.0.0","abi_major":-1,"abi_minor":0})"),
             Contains("expected metadata field 'abi_major' (unsigned integer), got number -1"));
  CHECK_THAT(json_error(R"({"name":"a","version":"1.0.0","abi_major":4294967296,"abi_minor":0})"),
             Contains("expected metadata field 'abi_major' (unsigned integer), got number 4294967296"));
  CHECK_THAT(json_error(R"({"name":"a","version":"1.0.0","abi_major":1.5,"abi_minor":0})"),
             Contains("expected metadata field 'abi_major' (unsigned integer), got number 1.5"));
  CHECK_THAT(json_error(R"({"name":"a","version":"1.0.0","abi_major":1})"),
             Contains("expected metadata field 'abi_minor' (unsigned integer), got none"));
  CHECK_THAT(json_error("{" + std::string(R"("name":"a",)") + rest + R"(,"sdk_version":1})"),
             Contains("expected metadata field 'sdk_version' (string), got number 1"));
  CHECK_THAT(json_error("{" + std::string(R"("name":"a",)") + rest + R"(,"compiler":[]})"),
             Contains("expected metadata field 'compiler' (string), got array []"));
  CHECK_THAT(
      json_error("{" + std::string(R"("name":"a",)") + rest + R"(,"config_schema":"object"})"),
      Contains("expected metadata field 'config_schema' (a JSON Schema object), got string \"object\""));
}

TEST_CASE("ABI compatibility: major must match, the plugin's minor must not exceed the host's",
          "[metadata]") {
  const auto major2 =
      library_with_json("libmajor2.so", R"({"name":"hello","version":"1.0.0","abi_major":2,"abi_minor":0})");
  std::string message = metadata_error(major2, 1, 0);
  CHECK_THAT(message, StartsWith(major2.string() + ": expected ABI major 1, got 2"));
  CHECK_THAT(message, Contains("plugin 'hello'"));
  CHECK_THAT(metadata_error(good_library(), 2, 0),
             StartsWith(good_library().string() + ": expected ABI major 2, got 1"));

  const auto minor3 =
      library_with_json("libminor3.so", R"({"name":"hello","version":"1.0.0","abi_major":1,"abi_minor":3})");
  CHECK_THAT(metadata_error(minor3, 1, 0),
             Equals(minor3.string() + ": expected ABI minor <= 0, got 3 (the plugin needs a newer kernel)"));
  CHECK_THAT(metadata_error(minor3, 1, 2), Contains("expected ABI minor <= 2, got 3"));
  CHECK(read_metadata(minor3, 1, 3).abi_minor == 3);
  CHECK(read_metadata(minor3, 1, 4).abi_minor == 3);
}

TEST_CASE("two metadata records in one library are refused", "[metadata]") {
  const auto twice =
      library_with("libtwice.so", good_json,
                   "__attribute__((section(\".plexus_metadata\"), used)) static const char m2[] = "
                   "\"{\\\"name\\\":\\\"other\\\"}\";\n");
  CHECK_THAT(metadata_error(twice),
             Equals(twice.string() + ": expected one metadata record in .plexus_metadata, got "
                                     "several (is PLEXUS_PLUGIN used more than once in the library?)"));
}

TEST_CASE("corrupt section headers give errors, never crashes", "[metadata][hostile]") {
  const std::string good = read_file(good_library());
  const Layout layout = layout_of(good);
  int counter = 0;
  const auto error_for = [&](const std::function<void(std::string&)>& corrupt) {
    std::string bytes = good;
    corrupt(bytes);
    return metadata_error(write_bytes("corrupt" + std::to_string(counter++) + ".so", bytes));
  };
  const auto shdr = [](std::uint64_t header, std::size_t member) { return header + member; };

  CHECK_THAT(error_for([](std::string& b) {
               patch<Elf64_Off>(b, offsetof(Elf64_Ehdr, e_shoff), 0x7fffffffffffULL);
             }),
             Contains("got a file of " + std::to_string(good.size()) + " bytes (truncated or corrupt)"));
  CHECK_THAT(error_for([](std::string& b) { patch<Elf64_Off>(b, offsetof(Elf64_Ehdr, e_shoff), ~0ULL - 8); }),
             Contains("(truncated or corrupt)"));
  CHECK_THAT(error_for([](std::string& b) { patch<Elf64_Half>(b, offsetof(Elf64_Ehdr, e_shnum), 0xfeff); }),
             Contains("expected 65279 section headers at offset"));
  CHECK_THAT(error_for([](std::string& b) { patch<Elf64_Half>(b, offsetof(Elf64_Ehdr, e_shentsize), 8); }),
             Contains("expected section header entries of at least 64 bytes, got 8 (corrupt ELF header)"));
  CHECK_THAT(
      error_for([](std::string& b) { patch<Elf64_Half>(b, offsetof(Elf64_Ehdr, e_shentsize), 0xffff); }),
      Contains("(truncated or corrupt)"));
  CHECK_THAT(
      error_for([](std::string& b) { patch<Elf64_Half>(b, offsetof(Elf64_Ehdr, e_shstrndx), 0xfeff); }),
      Contains("expected a section name table index below"));
  CHECK_THAT(
      error_for([](std::string& b) { patch<Elf64_Half>(b, offsetof(Elf64_Ehdr, e_shstrndx), SHN_UNDEF); }),
      Contains("got none (the file has no section name table)"));
  // Extended numbering pointing at absurd counts.
  CHECK_THAT(error_for([&](std::string& b) {
               patch<Elf64_Half>(b, offsetof(Elf64_Ehdr, e_shnum), 0);
               patch<Elf64_Xword>(b, shdr(layout.header.e_shoff, offsetof(Elf64_Shdr, sh_size)), ~0ULL);
             }),
             Contains("expected at most 1000000 sections, got 18446744073709551615"));
  CHECK_THAT(error_for([&](std::string& b) {
               patch<Elf64_Half>(b, offsetof(Elf64_Ehdr, e_shstrndx), SHN_XINDEX);
               patch<Elf64_Word>(b, shdr(layout.header.e_shoff, offsetof(Elf64_Shdr, sh_link)), 0xffffffffU);
             }),
             Contains("expected a section name table index below"));
  // The section name table.
  CHECK_THAT(error_for([&](std::string& b) {
               patch<Elf64_Word>(b, shdr(layout.names_header, offsetof(Elf64_Shdr, sh_type)), SHT_PROGBITS);
             }),
             Contains("to be a string table, got section type 1"));
  CHECK_THAT(error_for([&](std::string& b) {
               patch<Elf64_Xword>(b, shdr(layout.names_header, offsetof(Elf64_Shdr, sh_size)), ~0ULL);
             }),
             Contains("expected a section name table of at most"));
  CHECK_THAT(error_for([&](std::string& b) {
               patch<Elf64_Off>(b, shdr(layout.names_header, offsetof(Elf64_Shdr, sh_offset)), ~0ULL - 2);
             }),
             Contains("the section name table at bytes"));
  // The metadata section itself.
  CHECK_THAT(error_for([&](std::string& b) {
               patch<Elf64_Word>(b, shdr(layout.metadata_header, offsetof(Elf64_Shdr, sh_name)), 0xffffff00U);
             }),
             Contains("expected a .plexus_metadata section, got none"));
  CHECK_THAT(error_for([&](std::string& b) {
               patch<Elf64_Off>(b, shdr(layout.metadata_header, offsetof(Elf64_Shdr, sh_offset)), ~0ULL - 4);
             }),
             Contains("expected the .plexus_metadata section at bytes 18446744073709551611..(beyond 2^64), "
                      "got a file of"));
  CHECK_THAT(error_for([&](std::string& b) {
               patch<Elf64_Xword>(b, shdr(layout.metadata_header, offsetof(Elf64_Shdr, sh_size)), 1ULL << 40);
             }),
             Contains("expected a .plexus_metadata section of at most 1048576 bytes, got 1099511627776"));
  CHECK_THAT(error_for([&](std::string& b) {
               patch<Elf64_Xword>(b, shdr(layout.metadata_header, offsetof(Elf64_Shdr, sh_size)), 0);
             }),
             Contains("expected metadata JSON in .plexus_metadata, got an empty section"));
  CHECK_THAT(error_for([&](std::string& b) {
               patch<Elf64_Word>(b, shdr(layout.metadata_header, offsetof(Elf64_Shdr, sh_type)), SHT_NOBITS);
             }),
             Contains("got a section without data (SHT_NOBITS)"));
  CHECK_THAT(
      error_for([&](std::string& b) {
        const auto offset = peek<Elf64_Off>(b, shdr(layout.metadata_header, offsetof(Elf64_Shdr, sh_offset)));
        const auto size = peek<Elf64_Xword>(b, shdr(layout.metadata_header, offsetof(Elf64_Shdr, sh_size)));
        patch<Elf64_Off>(b, shdr(layout.metadata_header, offsetof(Elf64_Shdr, sh_offset)),
                         b.size() - size / 2);
        (void)offset;
      }),
      Contains("(truncated or corrupt)"));
}

TEST_CASE("truncated copies of a valid library are refused", "[metadata][hostile]") {
  const std::string good = read_file(good_library());
  const fs::path file = scratch().path() / "truncated.so";
  std::vector<std::size_t> sizes{1, 4, 15, 16, 63, 64, 100, good.size() / 2, good.size() - 1};
  for (std::size_t size = 101; size < good.size(); size += 211) sizes.push_back(size);
  for (std::size_t size : sizes) {
    INFO("first " << size << " bytes");
    plexus::test::TempDir dir;
    const fs::path cut = dir.write("cut.so", good.substr(0, size));
    CHECK_THROWS_AS(read_metadata(cut, 1, 0), MetadataError);
  }
  // The first 100 bytes: an ELF header whose section headers lie beyond the end.
  const fs::path hundred = write_bytes("hundred.so", good.substr(0, 100));
  CHECK_THAT(metadata_error(hundred), Contains("got a file of 100 bytes (truncated or corrupt)"));
  const fs::path header_only = write_bytes("header-only.so", good.substr(0, 40));
  CHECK_THAT(
      metadata_error(header_only),
      Equals(header_only.string() + ": expected a 64-byte ELF header, got a file of 40 bytes (truncated)"));
}

TEST_CASE("random bytes and random corruption give MetadataError or a result, nothing else",
          "[metadata][hostile]") {
  std::mt19937_64 random(20240611);
  const auto random_bytes = [&](std::size_t n) {
    std::string bytes(n, '\0');
    for (char& c : bytes) c = static_cast<char>(random() & 0xff);
    return bytes;
  };
  plexus::test::TempDir dir;
  // Random garbage, with and without a valid-looking identification.
  for (int i = 0; i < 50; ++i) {
    std::string bytes = random_bytes(64 + static_cast<std::size_t>(random() % 4096));
    if (i % 2 == 0) {
      bytes.replace(0, 7,
                    std::string("\x7f"
                                "ELF\x02\x01\x01",
                                7));
      patch<Elf64_Half>(bytes, offsetof(Elf64_Ehdr, e_type), ET_DYN);
      patch<Elf64_Half>(bytes, offsetof(Elf64_Ehdr, e_machine),
                        peek<Elf64_Ehdr>(read_file(good_library()), 0).e_machine);
    }
    const fs::path file = dir.write("random" + std::to_string(i) + ".so", bytes);
    CHECK_THROWS_AS(read_metadata(file, 1, 0), MetadataError);
  }
  // Random bytes flipped in the ELF header, the section header table and the name table.
  const std::string good = read_file(good_library());
  const Layout layout = layout_of(good);
  const auto names = peek<Elf64_Shdr>(good, layout.names_header);
  const std::uint64_t table_size = std::uint64_t{layout.header.e_shnum} * layout.header.e_shentsize;
  int refused = 0;
  for (int i = 0; i < 250; ++i) {
    std::string bytes = good;
    for (int flips = 0; flips < 1 + i % 4; ++flips) {
      std::uint64_t at = 0;
      switch (random() % 3) {
        case 0: at = random() % sizeof(Elf64_Ehdr); break;
        case 1: at = layout.header.e_shoff + random() % table_size; break;
        default: at = names.sh_offset + random() % names.sh_size; break;
      }
      bytes[at] = static_cast<char>(random() & 0xff);
    }
    const fs::path file = dir.write("flipped.so", bytes);
    try {
      (void)read_metadata(file, 1, 0);
    } catch (const MetadataError&) {
      ++refused;
    }
  }
  CHECK(refused > 0);
}

TEST_CASE("the SDK macro's metadata round-trips through the section", "[metadata][sdk]") {
  const std::string source = R"(
#include "plexus/plugin.hpp"
class Hello : public plexus::sdk::Plugin {};
PLEXUS_PLUGIN(Hello, "sdk-hello", "2.3.4-beta.1", "{\"type\":\"object\",\"properties\":{\"greeting\":{\"type\":\"string\",\"default\":\"hi \\\"there\\\"\"}}}")
)";
  const fs::path library = compile_with_sdk("libsdk_hello.so", source);

  const PluginMetadata metadata = read_metadata(library, PLEXUS_ABI_MAJOR, PLEXUS_ABI_MINOR);
  CHECK(metadata.name == "sdk-hello");
  CHECK(metadata.version == "2.3.4-beta.1");
  CHECK(metadata.abi_major == PLEXUS_ABI_MAJOR);
  CHECK(metadata.abi_minor == PLEXUS_ABI_MINOR);
  CHECK(metadata.sdk_version == PLEXUS_SDK_VERSION);
  CHECK_FALSE(metadata.compiler.empty());
  CHECK(metadata.config_schema["properties"]["greeting"]["default"] == "hi \"there\"");
  CHECK(metadata.raw["name"] == "sdk-hello");
  CHECK(metadata.permissions.empty());

  // The section holds exactly the descriptor's metadata_json.
  std::unique_ptr<void, int (*)(void*)> handle(::dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL), &::dlclose);
  REQUIRE(handle != nullptr);
  auto entry = reinterpret_cast<plexus_plugin_entry_fn>(::dlsym(handle.get(), PLEXUS_PLUGIN_ENTRY_SYMBOL));
  REQUIRE(entry != nullptr);
  const plexus_plugin_descriptor* descriptor = entry();
  REQUIRE(descriptor != nullptr);
  CHECK(read_metadata_section(library) == descriptor->metadata_json);
  CHECK(std::string(descriptor->name) == metadata.name);
  CHECK(parse_metadata(descriptor->metadata_json, "descriptor").raw == metadata.raw);
}

TEST_CASE("PLEXUS_PLUGIN_WITH_PERMISSIONS puts the plugin's own permissions in its metadata", "[metadata][sdk]") {
  const std::string source = R"(
#include "plexus/plugin.hpp"
class Notes : public plexus::sdk::Plugin {};
PLEXUS_PLUGIN_WITH_PERMISSIONS(Notes, "notes", "1.0.0", "{}",
    "[{\"permission\":\"notes.publish\",\"description\":\"Publish notes\"}]")
)";
  const fs::path library = compile_with_sdk("libsdk_notes.so", source);
  const auto metadata = read_metadata(library, PLEXUS_ABI_MAJOR, PLEXUS_ABI_MINOR);
  REQUIRE(metadata.permissions.size() == 1);
  CHECK(metadata.permissions[0].permission == "notes.publish");
  CHECK(metadata.permissions[0].description == "Publish notes");
}

TEST_CASE("parse_metadata checks JSON from any origin", "[metadata]") {
  const auto metadata = parse_metadata(good_json, "libfoo.so: descriptor", 1, 0);
  CHECK(metadata.name == "hello");
  CHECK_THROWS_WITH(parse_metadata("{}", "libfoo.so: descriptor", 1, 0),
                    "libfoo.so: descriptor: expected metadata field 'name' (string), got none");
}

TEST_CASE("plugin names", "[metadata]") {
  CHECK(valid_plugin_name("a"));
  CHECK(valid_plugin_name("hello"));
  CHECK(valid_plugin_name("api-manager2"));
  CHECK(valid_plugin_name("a" + std::string(62, 'b')));
  CHECK_FALSE(valid_plugin_name("a" + std::string(63, 'b')));
  CHECK_FALSE(valid_plugin_name(""));
  CHECK_FALSE(valid_plugin_name("Hello"));
  CHECK_FALSE(valid_plugin_name("1abc"));
  CHECK_FALSE(valid_plugin_name("-abc"));
  CHECK_FALSE(valid_plugin_name("a_b"));
  CHECK_FALSE(valid_plugin_name("a.b"));
  CHECK_FALSE(valid_plugin_name("a b"));
}
