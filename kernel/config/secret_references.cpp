#include "kernel/config/secret_references.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace plexus::config {
namespace {

constexpr std::string_view kEnvPrefix = "${env:";
constexpr std::string_view kFilePrefix = "${file:";

std::string resolve_env(std::string_view name, std::string_view reference, const Environment& env) {
  auto found = env.find(std::string(name));
  if (found == env.end()) throw ReferenceError(std::string(reference) + ": environment variable " + std::string(name) + " is not set");
  return found->second;
}

std::string resolve_file(std::string_view path_text, std::string_view reference, const std::filesystem::path& base_dir) {
  std::filesystem::path path(path_text);
  if (path.is_relative() && !base_dir.empty()) path = base_dir / path;
  std::string content;
  std::string error;
  if (!read_text_file(path, content, error)) {
    throw ReferenceError(std::string(reference) + ": cannot read " + path.string() + ": " + error);
  }
  if (content.ends_with('\n')) content.pop_back();
  if (content.ends_with('\r')) content.pop_back();
  return content;
}

}  // namespace

ResolvedText resolve_references(std::string_view text, const Environment& env, const std::filesystem::path& base_dir) {
  ResolvedText resolved;
  std::size_t position = 0;
  while (position < text.size()) {
    std::size_t start = text.find("${", position);
    std::string_view rest = start == std::string_view::npos ? std::string_view{} : text.substr(start);
    bool is_env = rest.starts_with(kEnvPrefix);
    if (!is_env && !rest.starts_with(kFilePrefix)) {
      // A plain "${" (or none): copy through it and keep looking.
      std::size_t literal_end = start == std::string_view::npos ? text.size() : start + 2;
      resolved.text.append(text.substr(position, literal_end - position));
      position = literal_end;
      continue;
    }
    resolved.text.append(text.substr(position, start - position));

    std::size_t end = text.find('}', start);
    if (end == std::string_view::npos) {
      std::string opening(is_env ? kEnvPrefix : kFilePrefix);
      throw ReferenceError("unterminated reference " + opening + "... (missing '}')");
    }
    std::string_view reference = text.substr(start, end - start + 1);
    std::size_t prefix_size = is_env ? kEnvPrefix.size() : kFilePrefix.size();
    std::string_view target = reference.substr(prefix_size, reference.size() - prefix_size - 1);
    if (target.empty()) throw ReferenceError(std::string(reference) + ": empty reference");

    std::string secret = is_env ? resolve_env(target, reference, env) : resolve_file(target, reference, base_dir);
    resolved.text += secret;
    resolved.secrets.push_back(std::move(secret));
    position = end + 1;
  }
  return resolved;
}

bool read_text_file(const std::filesystem::path& file, std::string& content, std::string& error) {
  std::error_code status_error;
  if (std::filesystem::is_directory(file, status_error)) {
    error = "is a directory";
    return false;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    error = std::strerror(errno);
    return false;
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) {
    error = std::strerror(errno);
    return false;
  }
  content = buffer.str();
  return true;
}

}  // namespace plexus::config
