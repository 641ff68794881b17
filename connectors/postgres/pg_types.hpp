// PostgreSQL result types by OID: the name a result column reports and how its values
// become JSON.
#pragma once

#include <libpq-fe.h>

namespace plexus::connectors {

enum class PgValueKind {
  text,     // a JSON string
  boolean,  // 't'/'f' -> true/false
  number,   // integers, floats, numeric: a JSON number with the server's digits (NaN: a string)
  json,     // json, jsonb: the value itself
};

struct PgType {
  const char* name;  // as information_schema names it: "integer", "character varying", ...
  PgValueKind kind;
};

// The common built-in types; any other is {"text", PgValueKind::text}.
PgType pg_type(Oid oid);

}  // namespace plexus::connectors
