// The kernel-owned resource kind "datasource": a named data source of a tenant,
// {"driver": "postgres", ...the driver's options, "read_only": true}. The driver's
// secret options are sealed at rest with the store key and never shown.
#pragma once

#include "kernel/datasources/driver_registry.hpp"
#include "kernel/resources/kind.hpp"
#include "kernel/secrets/secret_box.hpp"

namespace plexus::datasources {

inline constexpr std::string_view kDatasourceKind = "datasource";

// The kind, bound to the registry (which drivers exist, their options and secrets)
// and the box that seals secrets; both must outlive it.
resources::Kind datasource_kind(const DriverRegistry& drivers, const secrets::SecretBox& box);

// Where a datasource's sealed values are bound: "datasource/<tenant>/<name>".
std::string seal_context(const std::string& tenant, const std::string& name);

// The option names sealed for `driver`: its declared secret fields plus "password".
std::vector<std::string> secret_fields_of(const Driver* driver);

}  // namespace plexus::datasources
