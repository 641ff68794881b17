// Reading SQL text just far enough to tell what a statement is and where its ":name"
// placeholders are: strings, quoted identifiers, comments and dollar quoting are skipped.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace plexus::connectors {

// `text` with ASCII letters lower-cased: SQL keywords, type names and identifiers compare so.
std::string ascii_lower(std::string_view text);

// The statement's first keyword, upper-cased ("INSERT"), after whitespace and comments;
// "" when there is none.
std::string first_keyword(std::string_view sql);

// A statement with numbered placeholders: names[0] is $1, names[1] is $2, ...
struct PositionalSql {
  std::string sql;
  std::vector<std::string> names;
};

// Rewrites ":name" placeholders to PostgreSQL's "$1".."$n", the same name always to the
// same number. Left alone: "::" casts, ":=" (named arguments) and anything inside
// '...', E'...', "...", $tag$...$tag$, -- and /* */ comments. A name is [A-Za-z_]
// followed by [A-Za-z0-9_]. Throws plexus::sdk::Error (PLEXUS_ERR_INVALID) for "$1" in
// the text: numbered placeholders would clash with the rewritten ones.
PositionalSql to_positional(std::string_view sql);

}  // namespace plexus::connectors
