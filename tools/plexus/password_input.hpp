// Reading a password without showing it: from the terminal with echo off, or one line
// from standard input when it is piped (--password-stdin, scripts, tests).
#pragma once

#include <string>
#include <string_view>

#include "tools/plexus/command.hpp"

namespace plexus::cli {

// One password. With `from_stdin`, or when standard input is not a terminal, reads one
// line of context.in (a trailing "\r" dropped); else prompts on context.err and reads
// with echo off. Throws CommandError when nothing was entered.
std::string read_password(const Context& context, std::string_view prompt, bool from_stdin);

// A new password: as read_password, but at a terminal asks twice and requires both to match.
std::string read_new_password(const Context& context, std::string_view prompt, bool from_stdin);

}  // namespace plexus::cli
