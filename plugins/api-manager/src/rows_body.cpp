#include "rows_body.hpp"

#include <algorithm>
#include <vector>

#include <nlohmann/json.hpp>
#include <plexus/json_text.hpp>

namespace plexus::api_manager {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

RowsBody rows_from_tree(const json& answer) {
  ordered_json rows = ordered_json::array();
  std::vector<std::string> names;
  if (answer.contains("columns") && answer["columns"].is_array()) {
    for (const auto& column : answer["columns"]) {
      names.push_back(column.is_object() ? column.value("name", std::string()) : column.get<std::string>());
    }
  }
  if (answer.contains("rows") && answer["rows"].is_array()) {
    for (const auto& row : answer["rows"]) {
      ordered_json object = ordered_json::object();
      for (std::size_t i = 0; i < row.size() && i < names.size(); ++i) object[names[i]] = row[i];
      rows.push_back(std::move(object));
    }
  }
  ordered_json out = ordered_json::object();
  const auto count = static_cast<std::int64_t>(rows.size());
  out["rows"] = std::move(rows);
  out["truncated"] = answer.value("truncated", false);
  return {out.dump(), count};
}

// Writes the rows as the parser meets them. Depth counts the open containers: 1 is the
// answer, 2 the columns or rows array, 3 a column object or a row, 4 and more a cell's
// own arrays and objects, copied as they are. Anything outside the usual shape gives up
// (returns false with `unusual` set), and the caller takes the tree's way instead.
class RowsWriter final : public nlohmann::json_sax<json> {
 public:
  bool unusual = false;
  bool truncated = false;
  std::int64_t count = 0;
  std::string rows;  // "{...},{...}"

  bool null() override { return scalar("null"); }
  bool boolean(bool value) override {
    if (depth_ == 1 && section_ == Section::truncated) {
      truncated = value;
      return true;
    }
    return scalar(value ? "true" : "false");
  }
  bool number_integer(number_integer_t value) override { return scalar(std::to_string(value)); }
  bool number_unsigned(number_unsigned_t value) override { return scalar(std::to_string(value)); }
  bool number_float(number_float_t, const string_t& text) override { return scalar(text); }
  bool binary(binary_t&) override { return give_up(); }
  bool string(string_t& value) override {
    if (section_ == Section::columns && depth_ == 2) {
      names_.push_back(value);
      return true;
    }
    if (section_ == Section::columns && depth_ == 3 && column_key_is_name_) {
      names_.back() = value;
      return true;
    }
    if (!begin_value()) return false;
    if (writing()) sdk::append_json_string(rows, value);
    return true;
  }

  bool start_object(std::size_t) override {
    if (depth_ == 0) return enter();
    if (section_ == Section::columns && depth_ == 2) {
      names_.emplace_back();  // a column without "name" is called ""
      return enter();
    }
    if (!begin_value()) return false;
    if (writing()) {
      rows += '{';
      open_.push_back({false, true});
    }
    return enter();
  }
  bool key(string_t& name) override {
    if (depth_ == 1) return top_key(name);
    if (section_ == Section::columns && depth_ == 3) {
      column_key_is_name_ = name == "name";
      return true;
    }
    if (writing() && depth_ >= 4) {
      if (!open_.back().first) rows += ',';
      open_.back().first = false;
      sdk::append_json_string(rows, name);
      rows += ':';
    }
    return true;
  }
  bool end_object() override { return leave('}'); }
  bool start_array(std::size_t) override {
    if (depth_ == 0) return give_up();
    if (depth_ == 1) {
      if (section_ == Section::truncated) return give_up();
      return enter();
    }
    if (section_ == Section::rows && depth_ == 2) {  // a row
      if (count > 0) rows += ',';
      rows += '{';
      cell_ = 0;
      return enter();
    }
    if (section_ == Section::columns) return give_up();
    if (!begin_value()) return false;
    if (writing()) {
      rows += '[';
      open_.push_back({true, true});
    }
    return enter();
  }
  bool end_array() override {
    if (section_ == Section::rows && depth_ == 3) {
      rows += '}';
      ++count;
      --depth_;
      return true;
    }
    return leave(']');
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return give_up();  // the tree's parser reports it
  }

 private:
  enum class Section { other, columns, rows, truncated };
  struct Open {
    bool array;
    bool first;
  };

  bool give_up() {
    unusual = true;
    return false;
  }
  bool enter() {
    ++depth_;
    return true;
  }
  bool leave(char closer) {
    if (writing() && depth_ >= 4) {
      rows += closer;
      open_.pop_back();
    }
    --depth_;
    return true;
  }
  bool top_key(const std::string& name) {
    section_ = name == "columns"     ? Section::columns
               : name == "rows"      ? Section::rows
               : name == "truncated" ? Section::truncated
                                     : Section::other;
    if (section_ == Section::other) return true;
    auto& seen = section_ == Section::columns ? seen_columns_
                 : section_ == Section::rows  ? seen_rows_
                                              : seen_truncated_;
    if (seen) return give_up();  // the tree keeps the last of a repeated key
    seen = true;
    if (section_ == Section::rows) {
      auto sorted = names_;
      std::sort(sorted.begin(), sorted.end());
      if (!seen_columns_ || std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
        return give_up();
      }
    }
    return true;
  }
  bool writing() const { return section_ == Section::rows && depth_ >= 3 && !skipping_cell_; }
  // Before any value: the answer's shape is checked, a row's cell gets its column's name,
  // a value inside a cell's array its comma.
  bool begin_value() {
    if (depth_ == 0) return give_up();
    if (depth_ == 1) {  // a value of a top-level key
      return section_ == Section::other ? true : give_up();
    }
    if (section_ == Section::columns) {  // a column's "name" must be text; its type, size... are not read
      return depth_ == 2 || (depth_ == 3 && column_key_is_name_) ? give_up() : true;
    }
    if (section_ != Section::rows) return true;
    if (depth_ == 2) return give_up();  // a row that is not an array
    if (depth_ == 3) {                  // a cell
      skipping_cell_ = cell_ >= names_.size();
      if (!skipping_cell_) {
        if (cell_ > 0) rows += ',';
        sdk::append_json_string(rows, names_[cell_]);
        rows += ':';
      }
      ++cell_;
      return true;
    }
    if (writing() && open_.back().array) {
      if (!open_.back().first) rows += ',';
      open_.back().first = false;
    }
    return true;
  }
  bool scalar(const std::string& text) {
    if (depth_ == 1 && section_ == Section::other) return true;
    if (!begin_value()) return false;
    if (writing()) rows += text;
    return true;
  }

  int depth_ = 0;
  Section section_ = Section::other;
  bool seen_columns_ = false;
  bool seen_rows_ = false;
  bool seen_truncated_ = false;
  bool column_key_is_name_ = false;
  std::vector<std::string> names_;
  std::size_t cell_ = 0;
  bool skipping_cell_ = false;  // a cell beyond the named columns, left out as the tree would
  std::vector<Open> open_;      // a cell's own containers being copied
};

}  // namespace

RowsBody rows_as_objects(std::string_view answer) {
  RowsWriter writer;
  if (json::sax_parse(answer.begin(), answer.end(), &writer) && !writer.unusual) {
    RowsBody body;
    body.text.reserve(writer.rows.size() + 32);
    body.text += R"({"rows":[)";
    body.text += writer.rows;
    body.text += writer.truncated ? R"(],"truncated":true})" : R"(],"truncated":false})";
    body.rows = writer.count;
    body.streamed = true;
    return body;
  }
  return rows_from_tree(json::parse(answer));
}

}  // namespace plexus::api_manager
