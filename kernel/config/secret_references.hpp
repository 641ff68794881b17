// ${env:NAME} and ${file:PATH} inside string values, so secrets stay out of the
// config file. "${" starts a reference only when "env:" or "file:" follows.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "kernel/config/config.hpp"

namespace plexus::config {

struct ResolvedText {
  std::string text;
  std::vector<std::string> secrets;  // what each reference was replaced with
};

// Its message names the reference, never the secret.
class ReferenceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A relative ${file:PATH} is read from `base_dir`; one trailing newline (\n or \r\n) is dropped.
ResolvedText resolve_references(std::string_view text, const Environment& env, const std::filesystem::path& base_dir);

// Reads the whole file; on failure false, with the reason ("No such file or directory") in `error`.
bool read_text_file(const std::filesystem::path& file, std::string& content, std::string& error);

}  // namespace plexus::config
