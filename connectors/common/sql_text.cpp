#include "connectors/common/sql_text.hpp"

#include <algorithm>

#include <plexus/plugin.hpp>

namespace plexus::connectors {
namespace {

bool ascii_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool digit(char c) { return c >= '0' && c <= '9'; }
// PostgreSQL identifiers: letters, '_' and any non-ASCII byte, then also digits and '$'.
bool identifier_start(char c) { return ascii_letter(c) || c == '_' || static_cast<unsigned char>(c) >= 0x80; }
bool identifier_char(char c) { return identifier_start(c) || digit(c) || c == '$'; }
bool placeholder_start(char c) { return ascii_letter(c) || c == '_'; }
bool placeholder_char(char c) { return placeholder_start(c) || digit(c); }

// Length of a quoted run opening at `at` with `quote`; a doubled quote stays inside, and
// with `backslash` so does an escaped one. Unterminated: to the end of the text.
std::size_t quoted_length(std::string_view sql, std::size_t at, char quote, bool backslash) {
  for (std::size_t i = at + 1; i < sql.size(); ++i) {
    if (backslash && sql[i] == '\\') {
      ++i;
    } else if (sql[i] == quote) {
      if (i + 1 < sql.size() && sql[i + 1] == quote) {
        ++i;
      } else {
        return i + 1 - at;
      }
    }
  }
  return sql.size() - at;
}

// "/* ... */", which nests in PostgreSQL.
std::size_t block_comment_length(std::string_view sql, std::size_t at) {
  int depth = 0;
  for (std::size_t i = at; i + 1 < sql.size(); ++i) {
    if (sql[i] == '/' && sql[i + 1] == '*') {
      ++depth;
      ++i;
    } else if (sql[i] == '*' && sql[i + 1] == '/') {
      ++i;
      if (--depth == 0) return i + 1 - at;
    }
  }
  return sql.size() - at;
}

// The opening "$tag$" (or "$$") at `at`, or "" when none starts there.
std::string_view dollar_tag(std::string_view sql, std::size_t at) {
  std::size_t i = at + 1;
  if (i < sql.size() && identifier_start(sql[i])) {
    while (i < sql.size() && identifier_char(sql[i]) && sql[i] != '$') ++i;
  }
  if (i < sql.size() && sql[i] == '$') return sql.substr(at, i + 1 - at);
  return {};
}

// Length of the literal, quoted identifier, comment or dollar-quoted string that starts at
// `at`, or 0 when none does. Unterminated ones run to the end of the text.
std::size_t skippable_length(std::string_view sql, std::size_t at) {
  const std::string_view rest = sql.substr(at);
  const bool after_identifier = at > 0 && identifier_char(sql[at - 1]);
  if (rest.substr(0, 2) == "--") {
    const std::size_t end = rest.find('\n');
    return end == std::string_view::npos ? rest.size() : end + 1;
  }
  if (rest.substr(0, 2) == "/*") return block_comment_length(sql, at);
  if (rest[0] == '\'') {
    // E'...' takes backslash escapes; the E must be a word of its own, not the end of one.
    const bool escape_string =
        at > 0 && (sql[at - 1] == 'E' || sql[at - 1] == 'e') && (at == 1 || !identifier_char(sql[at - 2]));
    return quoted_length(sql, at, '\'', escape_string);
  }
  if (rest[0] == '"') return quoted_length(sql, at, '"', false);
  if (rest[0] == '$' && !after_identifier) {
    const std::string_view tag = dollar_tag(sql, at);
    if (tag.empty()) return 0;
    const std::size_t close = sql.find(tag, at + tag.size());
    return close == std::string_view::npos ? rest.size() : close + tag.size() - at;
  }
  return 0;
}

}  // namespace

std::string ascii_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string first_keyword(std::string_view sql) {
  std::size_t i = 0;
  while (i < sql.size()) {
    const char c = sql[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      ++i;
    } else if (sql.substr(i, 2) == "--" || sql.substr(i, 2) == "/*") {
      i += skippable_length(sql, i);
    } else {
      break;
    }
  }
  std::string keyword;
  for (; i < sql.size() && ascii_letter(sql[i]); ++i) {
    keyword += static_cast<char>(sql[i] >= 'a' ? sql[i] - 'a' + 'A' : sql[i]);
  }
  return keyword;
}

PositionalSql to_positional(std::string_view sql) {
  PositionalSql out;
  out.sql.reserve(sql.size());
  std::size_t i = 0;
  while (i < sql.size()) {
    if (const std::size_t skip = skippable_length(sql, i); skip > 0) {
      out.sql.append(sql.substr(i, skip));
      i += skip;
      continue;
    }
    const char c = sql[i];
    const char next = i + 1 < sql.size() ? sql[i + 1] : '\0';
    if (c == ':' && next == ':') {  // a cast: "x::int", also ":name::int" once the name is read
      out.sql += "::";
      i += 2;
      continue;
    }
    if (c == ':' && placeholder_start(next)) {
      std::size_t end = i + 1;
      while (end < sql.size() && placeholder_char(sql[end])) ++end;
      const std::string name(sql.substr(i + 1, end - i - 1));
      auto found = std::find(out.names.begin(), out.names.end(), name);
      if (found == out.names.end()) found = out.names.insert(out.names.end(), name);
      out.sql += "$" + std::to_string(found - out.names.begin() + 1);
      i = end;
      continue;
    }
    if (c == '$' && digit(next) && (i == 0 || !identifier_char(sql[i - 1]))) {
      throw sdk::Error(
          PLEXUS_ERR_INVALID,
          "numbered placeholders ($1, $2, ...) are not supported: write :name and pass the value by name");
    }
    out.sql += c;
    ++i;
  }
  return out;
}

}  // namespace plexus::connectors
