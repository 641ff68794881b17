#include "kernel/plugins/semver.hpp"

#include <algorithm>
#include <limits>
#include <optional>
#include <stdexcept>

namespace plexus::plugins {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_identifier_char(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
}
bool is_numeric(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return is_digit(c); });
}

std::string single_quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

[[noreturn]] void bad_version(std::string_view text, const std::string& why) {
  throw std::invalid_argument("expected a version such as 1.2.3, got " + single_quoted(text) +
                              (why.empty() ? "" : " (" + why + ")"));
}

std::uint64_t parse_number(std::string_view digits, std::string_view text, const char* part) {
  if (!is_numeric(digits)) bad_version(text, std::string(part) + " must be a number");
  if (digits.size() > 1 && digits[0] == '0')
    bad_version(text, std::string(part) + " must not have leading zeros");
  std::uint64_t value = 0;
  for (char c : digits) {
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10)
      bad_version(text, std::string(part) + " is too large");
    value = value * 10 + digit;
  }
  return value;
}

std::vector<std::string_view> split(std::string_view s, char separator) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = s.find(separator, start);
    parts.push_back(s.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

int compare_identifiers(const std::string& a, const std::string& b) {
  const bool a_numeric = is_numeric(a);
  const bool b_numeric = is_numeric(b);
  if (a_numeric && b_numeric) {
    if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;  // no leading zeros: longer is larger
    return a.compare(b) < 0 ? -1 : (a == b ? 0 : 1);
  }
  if (a_numeric != b_numeric) return a_numeric ? -1 : 1;  // numeric identifiers sort first
  const int c = a.compare(b);
  return c < 0 ? -1 : (c == 0 ? 0 : 1);
}

enum class Op { eq, lt, le, gt, ge };

struct Comparator {
  Op op;
  SemVer version;
};

bool holds(const Comparator& c, const SemVer& v) {
  const int order = compare(v, c.version);
  switch (c.op) {
    case Op::eq: return order == 0;
    case Op::lt: return order < 0;
    case Op::le: return order <= 0;
    case Op::gt: return order > 0;
    case Op::ge: return order >= 0;
  }
  return false;
}

bool same_release(const SemVer& a, const SemVer& b) {
  return a.major == b.major && a.minor == b.minor && a.patch == b.patch;
}

using ComparatorSet = std::vector<Comparator>;  // all must hold

bool set_contains(const ComparatorSet& set, const SemVer& v) {
  for (const Comparator& c : set) {
    if (!holds(c, v)) return false;
  }
  if (v.prerelease.empty()) return true;
  // A pre-release only matches when the range opts in for that very release.
  return std::any_of(set.begin(), set.end(), [&](const Comparator& c) {
    return !c.version.prerelease.empty() && same_release(c.version, v);
  });
}

std::optional<std::uint64_t> plus_one(std::uint64_t n) {
  if (n == std::numeric_limits<std::uint64_t>::max()) return std::nullopt;
  return n + 1;
}

SemVer release(std::uint64_t major, std::uint64_t minor, std::uint64_t patch) {
  SemVer v;
  v.major = major;
  v.minor = minor;
  v.patch = patch;
  return v;
}

[[noreturn]] void bad_range(std::string_view range, const std::string& why) {
  throw std::invalid_argument("invalid version range " + single_quoted(range) + ": " + why);
}

// Adds the comparators of one token ("^1.2.0", ">=1.0.0", "1.2.3", "*") to `set`.
void add_token(std::string_view range, std::string_view token, ComparatorSet& set) {
  if (token == "*" || token == "x" || token == "X") return;
  std::string_view op;
  for (std::string_view candidate : {">=", "<=", ">", "<", "=", "^", "~"}) {
    if (token.substr(0, candidate.size()) == candidate) {
      op = candidate;
      break;
    }
  }
  std::string_view text = token.substr(op.size());
  if (text.empty()) bad_range(range, "expected a version after " + single_quoted(op) + ", got nothing");
  if (!is_digit(text[0])) {
    std::size_t end = 0;
    while (end < text.size() && std::string_view("<>=!^~").find(text[end]) != std::string_view::npos) ++end;
    if (end > 0) {
      bad_range(range, "expected one of the operators >=, >, <=, <, =, ^, ~, got " +
                           single_quoted(token.substr(0, op.size() + end)));
    }
  }
  SemVer v;
  try {
    v = parse_semver(text);
  } catch (const std::invalid_argument& e) {
    bad_range(range, e.what());
  }
  if (op == "^" || op == "~") {
    set.push_back({Op::ge, v});
    std::optional<SemVer> upper;
    if (op == "~") {
      if (auto m = plus_one(v.minor)) upper = release(v.major, *m, 0);
    } else if (v.major > 0) {
      if (auto m = plus_one(v.major)) upper = release(*m, 0, 0);
    } else if (v.minor > 0) {
      if (auto m = plus_one(v.minor)) upper = release(0, *m, 0);
    } else {
      if (auto p = plus_one(v.patch)) upper = release(0, 0, *p);
    }
    if (upper) set.push_back({Op::lt, *upper});
    return;
  }
  Op kind = Op::eq;
  if (op == ">=") kind = Op::ge;
  if (op == "<=") kind = Op::le;
  if (op == ">") kind = Op::gt;
  if (op == "<") kind = Op::lt;
  set.push_back({kind, v});
}

bool is_operator_only(std::string_view token) {
  return token == ">=" || token == "<=" || token == ">" || token == "<" || token == "=" || token == "^" ||
         token == "~";
}

std::vector<ComparatorSet> parse_range(std::string_view range) {
  std::vector<ComparatorSet> alternatives;
  std::vector<std::string_view> parts;
  {
    std::size_t start = 0;
    while (true) {
      const std::size_t bar = range.find("||", start);
      parts.push_back(
          range.substr(start, bar == std::string_view::npos ? std::string_view::npos : bar - start));
      if (bar == std::string_view::npos) break;
      start = bar + 2;
    }
  }
  const bool blank = range.find_first_not_of(" \t") == std::string_view::npos;
  if (blank) return {ComparatorSet{}};
  for (std::string_view part : parts) {
    std::vector<std::string_view> tokens;
    std::size_t i = 0;
    while (i < part.size()) {
      if (part[i] == ' ' || part[i] == '\t') {
        ++i;
        continue;
      }
      std::size_t j = i;
      while (j < part.size() && part[j] != ' ' && part[j] != '\t') ++j;
      tokens.push_back(part.substr(i, j - i));
      i = j;
    }
    if (tokens.empty()) bad_range(range, "expected comparators on both sides of '||', got an empty side");
    ComparatorSet set;
    for (std::size_t t = 0; t < tokens.size(); ++t) {
      if (is_operator_only(tokens[t])) {
        // ">= 1.2.0": the operator and its version written apart.
        if (t + 1 == tokens.size())
          bad_range(range, "expected a version after " + single_quoted(tokens[t]) + ", got nothing");
        const std::string joined = std::string(tokens[t]) + std::string(tokens[t + 1]);
        add_token(range, joined, set);
        ++t;
        continue;
      }
      add_token(range, tokens[t], set);
    }
    alternatives.push_back(std::move(set));
  }
  return alternatives;
}

}  // namespace

std::string SemVer::str() const {
  std::string out = std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
  for (std::size_t i = 0; i < prerelease.size(); ++i) out += (i == 0 ? "-" : ".") + prerelease[i];
  if (!build.empty()) out += "+" + build;
  return out;
}

SemVer parse_semver(std::string_view text) {
  if (text.empty()) bad_version(text, "");
  std::string_view rest = text;
  SemVer v;
  if (const std::size_t plus = rest.find('+'); plus != std::string_view::npos) {
    const std::string_view build = rest.substr(plus + 1);
    for (std::string_view id : split(build, '.')) {
      if (id.empty() || !std::all_of(id.begin(), id.end(), is_identifier_char)) {
        bad_version(text, "build metadata must be dot-separated [0-9A-Za-z-] identifiers");
      }
    }
    v.build = std::string(build);
    rest = rest.substr(0, plus);
  }
  if (const std::size_t dash = rest.find('-'); dash != std::string_view::npos) {
    for (std::string_view id : split(rest.substr(dash + 1), '.')) {
      if (id.empty() || !std::all_of(id.begin(), id.end(), is_identifier_char)) {
        bad_version(text, "a pre-release must be dot-separated [0-9A-Za-z-] identifiers");
      }
      if (is_numeric(id) && id.size() > 1 && id[0] == '0') {
        bad_version(text, "numeric pre-release identifiers must not have leading zeros");
      }
      v.prerelease.emplace_back(id);
    }
    rest = rest.substr(0, dash);
  }
  const std::vector<std::string_view> numbers = split(rest, '.');
  if (numbers.size() != 3) bad_version(text, "");
  v.major = parse_number(numbers[0], text, "MAJOR");
  v.minor = parse_number(numbers[1], text, "MINOR");
  v.patch = parse_number(numbers[2], text, "PATCH");
  return v;
}

int compare(const SemVer& a, const SemVer& b) {
  if (a.major != b.major) return a.major < b.major ? -1 : 1;
  if (a.minor != b.minor) return a.minor < b.minor ? -1 : 1;
  if (a.patch != b.patch) return a.patch < b.patch ? -1 : 1;
  // A release ranks above its pre-releases.
  if (a.prerelease.empty() || b.prerelease.empty()) {
    if (a.prerelease.empty() == b.prerelease.empty()) return 0;
    return a.prerelease.empty() ? 1 : -1;
  }
  const std::size_t n = std::min(a.prerelease.size(), b.prerelease.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (int c = compare_identifiers(a.prerelease[i], b.prerelease[i]); c != 0) return c;
  }
  if (a.prerelease.size() == b.prerelease.size()) return 0;
  return a.prerelease.size() < b.prerelease.size() ? -1 : 1;
}

void check_version_range(std::string_view range) { (void)parse_range(range); }

bool version_satisfies(std::string_view version, std::string_view range) {
  const SemVer v = parse_semver(version);
  for (const ComparatorSet& set : parse_range(range)) {
    if (set_contains(set, v)) return true;
  }
  return false;
}

}  // namespace plexus::plugins
