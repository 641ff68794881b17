#include "tools/plexus/password_input.hpp"

#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <istream>
#include <ostream>

#include "tools/plexus/rest_client.hpp"

namespace plexus::cli {
namespace {

// The terminal settings to restore if Ctrl-C arrives while echo is off: a shell left
// without echo looks broken to the person at it.
struct termios saved_terminal;

extern "C" void restore_terminal_and_exit(int sig) {
  ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_terminal);
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

std::string read_line(std::istream& in, const char* what) {
  std::string line;
  if (!std::getline(in, line) && line.empty())
    throw CommandError(std::string("no ") + what + " on standard input");
  if (line.ends_with('\r')) line.pop_back();
  if (line.empty()) throw CommandError(std::string("empty ") + what);
  return line;
}

std::string read_hidden(const Context& context, std::string_view prompt) {
  context.err << prompt << std::flush;
  if (::tcgetattr(STDIN_FILENO, &saved_terminal) != 0) return read_line(context.in, "password");
  struct termios hidden = saved_terminal;
  hidden.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  hidden.c_lflag |= ECHONL;
  auto* previous_int = ::signal(SIGINT, restore_terminal_and_exit);
  auto* previous_term = ::signal(SIGTERM, restore_terminal_and_exit);
  ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &hidden);
  std::string line;
  const bool got = static_cast<bool>(std::getline(context.in, line));
  ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_terminal);
  ::signal(SIGINT, previous_int);
  ::signal(SIGTERM, previous_term);
  if (!got && line.empty()) throw CommandError("no password entered");
  if (line.ends_with('\r')) line.pop_back();
  if (line.empty()) throw CommandError("empty password");
  return line;
}

}  // namespace

std::string read_password(const Context& context, std::string_view prompt, bool from_stdin) {
  if (from_stdin || !context.interactive) return read_line(context.in, "password");
  return read_hidden(context, prompt);
}

std::string read_new_password(const Context& context, std::string_view prompt, bool from_stdin) {
  if (from_stdin || !context.interactive) return read_line(context.in, "password");
  auto first = read_hidden(context, prompt);
  auto second = read_hidden(context, "Repeat the password: ");
  if (first != second) throw CommandError("the passwords do not match; nothing was changed");
  return first;
}

}  // namespace plexus::cli
