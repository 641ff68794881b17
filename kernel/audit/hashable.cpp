#include "kernel/audit/hashable.hpp"

#include <cmath>
#include <string_view>

#include "kernel/text/utf8.hpp"

namespace plexus::audit {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the sequence a lead byte announces; 1 for anything that cannot lead.
std::size_t announced_length(unsigned char lead) {
  if (lead >= 0xF0) return 4;
  if (lead >= 0xE0) return 3;
  if (lead >= 0xC0) return 2;
  return 1;
}

}  // namespace

std::string hashable_text(std::string text) {
  if (text::valid_utf8(text)) return text;
  std::string out;
  out.reserve(text.size() + 8);
  const std::string_view view(text);
  std::size_t i = 0;
  while (i < view.size()) {
    const auto length = announced_length(static_cast<unsigned char>(view[i]));
    const auto candidate = view.substr(i, length);
    if (candidate.size() == length && text::valid_utf8(candidate)) {
      out.append(candidate);
      i += length;
    } else {
      out.append(kReplacement);
      ++i;  // resynchronise on the next byte
    }
  }
  return out;
}

nlohmann::json hashable_json(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::string:
      return hashable_text(value.get<std::string>());
    case nlohmann::json::value_t::number_float:
      return std::isfinite(value.get<double>()) ? value : nlohmann::json(nullptr);
    case nlohmann::json::value_t::binary:
    case nlohmann::json::value_t::discarded:
      return nullptr;
    case nlohmann::json::value_t::array: {
      auto out = nlohmann::json::array();
      for (const auto& item : value) out.push_back(hashable_json(item));
      return out;
    }
    case nlohmann::json::value_t::object: {
      auto out = nlohmann::json::object();
      for (const auto& [key, item] : value.items()) out[hashable_text(key)] = hashable_json(item);
      return out;
    }
    default:
      return value;
  }
}

}  // namespace plexus::audit
