// Config::load: schema defaults, then the YAML file, then PLEXUS_* environment variables.
#include <cctype>
#include <set>

#include <yaml-cpp/yaml.h>

#include "kernel/config/closest_match.hpp"
#include "kernel/config/config.hpp"
#include "kernel/config/secret_references.hpp"
#include "kernel/config/value_parsing.hpp"

namespace plexus::config {
namespace {

// PLEXUS_ variables that are not configuration keys, read elsewhere (first-start
// admin password, test harness switches), so they must not be rejected as typos.
bool is_reserved_variable(std::string_view name) {
  return name == "PLEXUS_ADMIN_PASSWORD" || name.starts_with("PLEXUS_TEST_");
}

struct Assignment {
  const KeyDef* def;
  ParsedValue parsed;
  std::string origin;
};

// Every key and every section, the places a misspelt name may have meant.
std::vector<std::string> known_paths(const Schema& schema) {
  std::set<std::string> paths;
  for (const KeyDef& def : schema.keys()) {
    paths.insert(def.path);
    for (std::size_t dot = def.path.find('.'); dot != std::string::npos; dot = def.path.find('.', dot + 1)) {
      paths.insert(def.path.substr(0, dot));
    }
  }
  return {paths.begin(), paths.end()};
}

// The first keys of a section, to show what belongs there.
std::vector<std::string> keys_in(const Schema& schema, const std::string& section, std::size_t limit) {
  std::vector<std::string> keys;
  for (const KeyDef& def : schema.keys()) {
    if (keys.size() < limit && def.path.starts_with(section + ".")) keys.push_back(def.path);
  }
  return keys;
}

// Walks the YAML document along the schema: sections recurse, keys are parsed.
class FileReader {
 public:
  FileReader(const Schema& schema, std::string file, const References& references)
      : schema_(schema), file_(std::move(file)), references_(references), known_paths_(known_paths(schema)) {}

  std::vector<Assignment> read(const YAML::Node& root) {
    if (!root.IsNull() && !root.IsMap()) {
      fail(source_at(file_, root.Mark()), "", "expected sections and keys such as 'http:' at the top level");
    }
    read_section(root, "");
    return std::move(assignments_);
  }

 private:
  void read_section(const YAML::Node& section, const std::string& prefix) {
    for (const auto& item : section) {
      const YAML::Node& key = item.first;
      const YAML::Node& value = item.second;
      const Source key_source = source_at(file_, key.Mark());
      if (!key.IsScalar() || key.Scalar().empty()) fail(key_source, prefix, "expected a key name");

      // A dotted name ("http.port: 80") is the same as nesting it.
      const std::string path = prefix.empty() ? key.Scalar() : prefix + "." + key.Scalar();
      if (auto [first, inserted] = first_lines_.emplace(path, key_source.line); !inserted) {
        fail(key_source, path, "set twice (first on line " + std::to_string(first->second) + ")");
      }

      if (const KeyDef* def = schema_.find(path)) {
        std::string origin = file_ + ":" + std::to_string(key_source.line);
        assignments_.push_back({def, parse_yaml(*def, value, file_, key_source, references_), std::move(origin)});
      } else if (schema_.is_section(path)) {
        if (value.IsMap()) {
          read_section(value, path);
        } else if (!value.IsNull()) {
          // The value is not echoed: it may be a secret written at the wrong level.
          std::vector<std::string> examples = keys_in(schema_, path, 2);
          fail(source_at(file_, value.Mark()), path,
               "expected a section with keys such as " + examples.front() + (examples.size() > 1 ? ", " + examples[1] : "") +
                   ", got " + (value.IsSequence() ? "a list" : "a single value"));
        }
      } else {
        std::optional<std::string> suggestion = closest_match(path, known_paths_);
        fail(key_source, path, suggestion ? "unknown key (did you mean '" + *suggestion + "'?)" : "unknown key");
      }
    }
  }

  const Schema& schema_;
  const std::string file_;
  const References& references_;
  const std::vector<std::string> known_paths_;
  std::map<std::string, int> first_lines_;
  std::vector<Assignment> assignments_;
};

YAML::Node parse_document(const std::string& file, const std::string& text) {
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(text);
  } catch (const YAML::ParserException& error) {
    fail(source_at(file, error.mark), "", "invalid YAML: " + error.msg);
  }
  if (documents.size() > 1) fail(source_at(file, documents[1].Mark()), "", "expected one YAML document, found several");
  return documents.empty() ? YAML::Node() : documents.front();
}

std::string unknown_variable_message(const Schema& schema, std::string_view name) {
  // Undo env_var_name(): PLEXUS_HTTP__PROT -> http.prot.
  std::string guess;
  for (std::size_t i = std::string_view("PLEXUS_").size(); i < name.size(); ++i) {
    if (name.substr(i).starts_with("__")) {
      guess += '.';
      ++i;
    } else {
      guess += static_cast<char>(std::tolower(static_cast<unsigned char>(name[i])));
    }
  }
  std::string message = "not a configuration key";
  if (schema.is_section(guess)) {
    message += " (" + guess + " is a section; set one of its keys, e.g. " + env_var_name(keys_in(schema, guess, 1).front()) + ")";
  } else if (std::optional<std::string> suggestion = closest_match(guess, known_paths(schema));
             suggestion && schema.find(*suggestion) != nullptr) {
    message += " (did you mean " + env_var_name(*suggestion) + " for '" + *suggestion + "'?)";
  }
  return message + "; every PLEXUS_ variable must name a key, see docs/configuration.md";
}

std::vector<Assignment> read_environment(const Schema& schema, const Environment& env, const References& references) {
  std::map<std::string, const KeyDef*, std::less<>> by_variable;
  for (const KeyDef& def : schema.keys()) by_variable.emplace(env_var_name(def.path), &def);

  std::vector<Assignment> assignments;
  for (const auto& [name, text] : env) {
    if (!name.starts_with("PLEXUS_") || is_reserved_variable(name)) continue;
    const Source source{"env " + name};
    auto found = by_variable.find(name);
    if (found == by_variable.end()) fail(source, "", unknown_variable_message(schema, name));
    assignments.push_back({found->second, parse_text(*found->second, text, source, references), source.name});
  }
  return assignments;
}

}  // namespace

Config Config::load(const std::filesystem::path& file, const Schema& schema, const Environment& env) {
  Config config = defaults(schema);
  config.file_ = file;
  config.env_ = env;
  const std::string file_name = file.string();

  const References references{config.env_, file.parent_path()};
  std::vector<Assignment> assignments;
  if (!file.empty()) {
    std::string text;
    std::string error;
    if (!read_text_file(file, text, error)) fail(Source{file_name}, "", "cannot read the configuration file: " + error);
    assignments = FileReader(schema, file_name, references).read(parse_document(file_name, text));
  }
  for (Assignment& assignment : read_environment(schema, env, references)) assignments.push_back(std::move(assignment));

  for (Assignment& assignment : assignments) {
    Entry& target = config.entries_.at(assignment.def->path);
    target.value = std::move(assignment.parsed.value);
    target.origin = std::move(assignment.origin);
    target.referenced_secrets = std::move(assignment.parsed.referenced_secrets);
  }
  return config;
}

}  // namespace plexus::config
