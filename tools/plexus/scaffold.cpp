#include "tools/plexus/scaffold.hpp"

#include "tools/plexus/templates.hpp"

namespace plexus::cli {
namespace {

constexpr std::string_view kTemplateName = "hello";
constexpr std::string_view kTemplateClass = "HelloPlugin";
constexpr std::string_view kTemplatePrefixed = "plexus_hello";
constexpr std::size_t kMaxNameLength = 63;

bool is_word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}
bool is_alnum(char c) { return is_word_char(c) && c != '_'; }

}  // namespace

std::optional<std::string> invalid_plugin_name(std::string_view name) {
  if (name.empty()) return "a plugin name cannot be empty";
  if (name.size() > kMaxNameLength)
    return "a plugin name has at most " + std::to_string(kMaxNameLength) + " characters";
  if (name.front() < 'a' || name.front() > 'z') return "a plugin name starts with a lowercase letter";
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
      return "a plugin name has only lowercase letters, digits and '-'";
    }
  }
  return std::nullopt;
}

PluginNames plugin_names(std::string_view name) {
  PluginNames names{std::string(name), std::string(name), ""};
  bool upper = true;
  for (char& c : names.snake) {
    if (c == '-') c = '_';
  }
  for (char c : name) {
    if (c == '-') {
      upper = true;
      continue;
    }
    names.camel += upper && c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
    upper = false;
  }
  return names;
}

std::string rename_template(std::string_view text, const PluginNames& names) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  std::size_t i = 0;
  auto at = [&](std::string_view word) { return text.substr(i, word.size()) == word; };
  auto word_ends_after = [&](std::size_t length) {
    return i + length >= text.size() || !is_word_char(text[i + length]);
  };
  while (i < text.size()) {
    const bool word_start = i == 0 || !is_word_char(text[i - 1]);
    if (word_start && at(kTemplateClass) && word_ends_after(kTemplateClass.size())) {
      out += names.camel + "Plugin";
      i += kTemplateClass.size();
    } else if (at(kTemplatePrefixed) && (i + kTemplatePrefixed.size() >= text.size() ||
                                         !is_alnum(text[i + kTemplatePrefixed.size()]))) {
      out += "plexus_" + names.snake;  // also inside libplexus_hello.so
      i += kTemplatePrefixed.size();
    } else if (word_start && at(kTemplateName) && word_ends_after(kTemplateName.size())) {
      out += names.name;
      i += kTemplateName.size();
    } else {
      out += text[i++];
    }
  }
  return out;
}

std::vector<ScaffoldFile> scaffold(const PluginNames& names) {
  std::vector<ScaffoldFile> files;
  for (const auto& file : templates()) {
    files.push_back({rename_template(file.path, names), rename_template(file.text, names)});
  }
  return files;
}

}  // namespace plexus::cli
