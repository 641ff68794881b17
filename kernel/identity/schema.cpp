#include "kernel/identity/schema.hpp"

#include "kernel/store/migrations.hpp"

namespace plexus::identity {

void migrate_schema(store::Database& database) {
  store::migrate(
      database, "kernel.identity",
      {{1,
        "tenants, users, roles, sessions, API keys, share links, login history",
        {
            "CREATE TABLE tenants (id TEXT PRIMARY KEY, name TEXT NOT NULL, disabled INTEGER NOT NULL "
            "DEFAULT 0, "
            "created_at TEXT NOT NULL, updated_at TEXT NOT NULL)",
            // roles: JSON array of role names.
            "CREATE TABLE users (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, username TEXT NOT NULL, "
            "display_name TEXT NOT NULL, password_hash TEXT NOT NULL, roles TEXT NOT NULL, "
            "disabled INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, "
            "last_login_at TEXT, UNIQUE (tenant_id, username))",
            // grants: JSON array of permission patterns.
            "CREATE TABLE roles (tenant_id TEXT NOT NULL, name TEXT NOT NULL, description TEXT NOT NULL, "
            "grants TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY "
            "(tenant_id, name))",
            // One row per login; refresh tokens of one session form its family.
            "CREATE TABLE sessions (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, user_id TEXT NOT NULL, "
            "created_at TEXT NOT NULL, expires_at TEXT NOT NULL, max_expires_at TEXT NOT NULL, "
            "revoked_at TEXT, revoked_reason TEXT, ip TEXT NOT NULL, user_agent TEXT NOT NULL)",
            "CREATE INDEX sessions_user ON sessions (tenant_id, user_id)",
            "CREATE TABLE refresh_tokens (token_hash TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, "
            "session_id TEXT NOT NULL, created_at TEXT NOT NULL, used_at TEXT)",
            "CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id)",
            "CREATE TABLE login_attempts (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, username TEXT NOT "
            "NULL, "
            "user_id TEXT, attempted_at TEXT NOT NULL, ip TEXT NOT NULL, user_agent TEXT NOT NULL, outcome "
            "TEXT NOT NULL)",
            "CREATE INDEX login_attempts_name ON login_attempts (tenant_id, username, attempted_at)",
            "CREATE INDEX login_attempts_time ON login_attempts (tenant_id, attempted_at)",
            "CREATE TABLE api_keys (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, name TEXT NOT NULL, "
            "key_hash TEXT NOT NULL, roles TEXT NOT NULL, created_by TEXT NOT NULL, created_at TEXT NOT "
            "NULL, "
            "expires_at TEXT, revoked_at TEXT, last_used_at TEXT, last_used_ip TEXT)",
            "CREATE INDEX api_keys_tenant ON api_keys (tenant_id)",
            "CREATE TABLE share_links (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, created_by TEXT NOT "
            "NULL, "
            "created_by_name TEXT NOT NULL, action TEXT NOT NULL, resource TEXT NOT NULL, created_at TEXT "
            "NOT NULL, "
            "expires_at TEXT NOT NULL, revoked_at TEXT)",
            "CREATE INDEX share_links_tenant ON share_links (tenant_id, created_by)",
            "CREATE TABLE share_link_uses (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, link_id TEXT NOT "
            "NULL, "
            "used_at TEXT NOT NULL, ip TEXT NOT NULL, request_id TEXT NOT NULL)",
            "CREATE INDEX share_link_uses_link ON share_link_uses (tenant_id, link_id, used_at)",
        }}});
}

}  // namespace plexus::identity
