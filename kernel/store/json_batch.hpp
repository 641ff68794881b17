// One statement run once per row of a JSON batch: how plugins write many rows at once
// (db_exec_batch), such as a log flushed every 100 ms.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace soci {
class session;
}

namespace plexus::store {

// Runs `sql` once per row of `batch_json`, {"columns": ["name", ...], "rows": [[value, ...], ...]}
// (the shape query results have), binding each row's values to the columns' :name
// placeholders as query_json binds parameters, in one transaction: every row or none.
// Rows run as the text is parsed when "columns" comes before "rows", with the statement
// prepared once on SQLite; no tree of the whole batch is built, as a log's batches are the
// hot path. Rows changed in total; SqlParameterError names the column or row at fault, or
// says the text is not JSON.
std::int64_t exec_json_batch(soci::session& session, const std::string& sql, std::string_view batch_json);

}  // namespace plexus::store
