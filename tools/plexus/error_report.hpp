// One place that turns a command's exceptions into a message and an exit status:
// UsageError -> 2, CommandError (and anything else) -> 1, each naming the command.
#pragma once

#include <functional>
#include <string_view>

#include "tools/plexus/command.hpp"

namespace plexus::cli {

// Runs `body` and returns its exit status, or reports its exception on context.err
// as "plexus <command>: <message>" and returns kExitUsage or kExitFailure.
int run_reporting_errors(const Context& context, std::string_view command, const std::function<int()>& body);

}  // namespace plexus::cli
