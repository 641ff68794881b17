// A datasource's answer as the body an API answers with.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace plexus::api_manager {

struct RowsBody {
  std::string text;  // {"rows":[{column: value, ...}, ...],"truncated":bool}
  std::int64_t rows = 0;
  bool streamed = false;  // written straight from the answer's text, not through a tree
};

// Turns a connector's answer, {"columns": [names or {"name", "type"}], "rows": [[values]],
// "truncated": bool}, into rows of objects keyed by column, in the statement's column order.
// Written straight from the answer's text when "columns" comes first and names no column twice
// (every shipped connector's answer): on the hot path of every SQL API, a tree of the answer
// and another of the rows cost more than the query. Other answers take the slower way through
// a tree, with the same result. Throws nlohmann::json::exception when the answer is not JSON
// or not of this shape.
RowsBody rows_as_objects(std::string_view answer);

}  // namespace plexus::api_manager
