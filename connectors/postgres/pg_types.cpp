#include "connectors/postgres/pg_types.hpp"

namespace plexus::connectors {

PgType pg_type(Oid oid) {
  // OIDs of built-in types are fixed (src/include/catalog/pg_type.dat).
  switch (oid) {
    case 16: return {"boolean", PgValueKind::boolean};
    case 17: return {"bytea", PgValueKind::text};
    case 18: return {"char", PgValueKind::text};
    case 19: return {"name", PgValueKind::text};
    case 20: return {"bigint", PgValueKind::number};
    case 21: return {"smallint", PgValueKind::number};
    case 23: return {"integer", PgValueKind::number};
    case 25: return {"text", PgValueKind::text};
    case 26: return {"oid", PgValueKind::number};
    case 114: return {"json", PgValueKind::json};
    case 142: return {"xml", PgValueKind::text};
    case 650: return {"cidr", PgValueKind::text};
    case 700: return {"real", PgValueKind::number};
    case 701: return {"double precision", PgValueKind::number};
    case 790: return {"money", PgValueKind::text};
    case 829: return {"macaddr", PgValueKind::text};
    case 869: return {"inet", PgValueKind::text};
    case 1042: return {"character", PgValueKind::text};
    case 1043: return {"character varying", PgValueKind::text};
    case 1082: return {"date", PgValueKind::text};
    case 1083: return {"time without time zone", PgValueKind::text};
    case 1114: return {"timestamp without time zone", PgValueKind::text};
    case 1184: return {"timestamp with time zone", PgValueKind::text};
    case 1186: return {"interval", PgValueKind::text};
    case 1266: return {"time with time zone", PgValueKind::text};
    case 1700: return {"numeric", PgValueKind::number};
    case 2950: return {"uuid", PgValueKind::text};
    case 3802: return {"jsonb", PgValueKind::json};
    default: return {"text", PgValueKind::text};
  }
}

}  // namespace plexus::connectors
