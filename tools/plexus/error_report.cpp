#include "tools/plexus/error_report.hpp"

#include <ostream>

#include "tools/plexus/arguments.hpp"

namespace plexus::cli {

int run_reporting_errors(const Context& context, std::string_view command, const std::function<int()>& body) {
  try {
    return body();
  } catch (const UsageError& e) {
    context.err << "plexus " << command << ": " << e.what() << "\n"
                << "  ('plexus " << command << " --help' explains)\n";
    return kExitUsage;
  } catch (const std::exception& e) {  // CommandError, or a file that cannot be written
    context.err << "plexus " << command << ": " << e.what() << "\n";
  }
  return kExitFailure;
}

}  // namespace plexus::cli
