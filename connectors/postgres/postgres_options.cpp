#include "connectors/postgres/postgres_options.hpp"

#include <algorithm>
#include <array>

#include <plexus/plugin.hpp>

#include "connectors/common/options.hpp"

namespace plexus::connectors {
namespace {

// libpq's URL parameters a tenant may set. Not among them: password (the option is for
// that), and what would reach into the server's own files or settings: passfile, service,
// sslcert, sslkey, sslpassword, krbsrvname, gsslib, requirepeer, replication; nor
// client_encoding, which the driver fixes to UTF8.
constexpr std::array kAllowedParameters = {"host",
                                           "hostaddr",
                                           "port",
                                           "dbname",
                                           "user",
                                           "options",
                                           "application_name",
                                           "connect_timeout",
                                           "keepalives",
                                           "keepalives_idle",
                                           "keepalives_interval",
                                           "keepalives_count",
                                           "tcp_user_timeout",
                                           "sslmode",
                                           "sslrootcert",
                                           "sslcrl",
                                           "sslcrldir",
                                           "sslsni",
                                           "ssl_min_protocol_version",
                                           "ssl_max_protocol_version",
                                           "channel_binding",
                                           "gssencmode",
                                           "target_session_attrs"};

sdk::Error password_in_url() {
  return {PLEXUS_ERR_INVALID,
          "the url holds a password: remove it from the url and put it in the \"password\" option, "
          "which is sealed at rest and never shown"};
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decoded(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

void check_url(std::string_view url) {
  std::string_view rest;
  for (std::string_view scheme : {"postgresql://", "postgres://"}) {
    if (url.substr(0, scheme.size()) == scheme) rest = url.substr(scheme.size());
  }
  if (rest.data() == nullptr) {
    throw sdk::Error(PLEXUS_ERR_INVALID,
                     "the url must be a postgresql:// URL (postgresql://user@host:port/database)");
  }
  // user:password@host: a ':' before the last '@' of the authority.
  const std::string_view authority = rest.substr(0, rest.find_first_of("/?"));
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    if (authority.substr(0, at).find(':') != std::string_view::npos) throw password_in_url();
  }
  const auto query_start = rest.find('?');
  if (query_start == std::string_view::npos) return;
  std::string_view query = rest.substr(query_start + 1);
  while (!query.empty()) {
    const std::string_view pair = query.substr(0, query.find('&'));
    query.remove_prefix(std::min(query.size(), pair.size() + 1));
    const std::string key = percent_decoded(pair.substr(0, pair.find('=')));
    if (key == "password") throw password_in_url();
    if (std::find(kAllowedParameters.begin(), kAllowedParameters.end(), key) == kAllowedParameters.end()) {
      throw sdk::Error(PLEXUS_ERR_INVALID,
                       "the url parameter \"" + key + "\" is not allowed on a datasource");
    }
  }
}

}  // namespace

PostgresOptions parse_postgres_options(std::string_view options_json) {
  const Options options(options_json);
  PostgresOptions out;
  out.url = options.required_string("url");
  check_url(out.url);
  out.password = options.optional_string("password").value_or("");
  out.read_only = options.boolean("read_only", true);
  out.application_name = options.optional_string("application_name").value_or("");
  return out;
}

}  // namespace plexus::connectors
