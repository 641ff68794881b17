#include "kernel/store/json_batch.hpp"

#include <memory>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>
#include <soci/soci.h>

#include "kernel/store/json_sql.hpp"
#include "kernel/store/sqlite_rows.hpp"

namespace plexus::store {
namespace {

using nlohmann::json;

const char* const kShape = R"(the batch must be {"columns": [names], "rows": [[values], ...]})";
const char* const kColumnNames = "columns must be parameter names";

// The statement run per row, in one transaction the first row opens.
class BatchRunner {
 public:
  BatchRunner(soci::session& session, const std::string& sql, std::vector<std::string> columns)
      : session_(session), sql_(sql), columns_(std::move(columns)) {
    json names = json::object();  // checked like one row's parameters
    for (const auto& column : columns_) {
      if (names.contains(column)) throw SqlParameterError("column " + column + " is named twice");
      names[column] = nullptr;
    }
    check_parameters(placeholders(sql), names);
  }

  std::string row_error() const {
    return "row " + std::to_string(rows_) + " must be an array of " + std::to_string(columns_.size()) +
           " values";
  }

  void run(const std::vector<json>& row) {
    if (row.size() != columns_.size()) throw SqlParameterError(row_error());
    if (!transaction_) {
      transaction_.emplace(session_);
      if (session_.get_backend_name() == "sqlite3") {
        sqlite_ = std::make_unique<SqliteBatch>(session_, sql_, columns_);
      }
    }
    if (sqlite_) {
      changed_ += sqlite_->run(row);
    } else {
      json params = json::object();
      for (std::size_t c = 0; c < columns_.size(); ++c) params[columns_[c]] = row[c];
      changed_ += exec_json(session_, sql_, params);
    }
    ++rows_;
  }

  std::int64_t commit() {
    sqlite_.reset();  // finalized before its transaction ends
    if (transaction_) transaction_->commit();
    return changed_;
  }

 private:
  soci::session& session_;
  const std::string& sql_;
  std::vector<std::string> columns_;
  std::optional<soci::transaction> transaction_;  // rolled back unless committed
  std::unique_ptr<SqliteBatch> sqlite_;           // declared after: finalized first
  std::size_t rows_ = 0;
  std::int64_t changed_ = 0;
};

// Runs each row as soon as it is parsed. Depth counts the open containers: 1 is the batch,
// 2 the columns or rows array, 3 a row, 4 and more a value's own arrays and objects (bound
// as their JSON text). Rows before columns set `unusual` and stop it before any row has
// run; the caller then reads the batch as a tree. A repeated "columns" or "rows" is refused:
// rows already run cannot be taken back for a later list, as a tree would.
class BatchReader final : public nlohmann::json_sax<json> {
 public:
  BatchReader(soci::session& session, const std::string& sql) : session_(session), sql_(sql) {}

  bool unusual = false;

  std::int64_t finish() {
    if (!runner_) throw SqlParameterError(kShape);  // no "rows", or no "columns" before it
    return runner_->commit();
  }

  bool null() override { return value(nullptr); }
  bool boolean(bool v) override { return value(v); }
  bool number_integer(number_integer_t v) override { return value(v); }
  bool number_unsigned(number_unsigned_t v) override { return value(v); }
  bool number_float(number_float_t v, const string_t&) override { return value(v); }
  bool string(string_t& v) override {
    if (section_ == Section::columns && depth_ == 2) {
      columns_.push_back(std::move(v));
      return true;
    }
    return value(std::move(v));
  }
  bool binary(binary_t&) override { return give_up(); }
  bool start_object(std::size_t) override { return open(json::object()); }
  bool start_array(std::size_t) override {
    if (section_ == Section::rows && depth_ == 2) {  // a row
      row_.clear();
      ++depth_;
      return true;
    }
    return open(json::array());
  }
  bool key(string_t& name) override {
    if (depth_ == 1) return top_key(name);
    if (depth_ >= 4 && section_ == Section::rows) key_ = std::move(name);
    return true;
  }
  bool end_object() override { return close(); }
  bool end_array() override {
    if (section_ == Section::rows && depth_ == 3) runner_->run(row_);
    return close();
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }

 private:
  enum class Section { other, columns, rows };

  bool give_up() {
    unusual = true;
    return false;
  }
  bool top_key(const std::string& name) {
    section_ = name == "columns" ? Section::columns : name == "rows" ? Section::rows : Section::other;
    if (section_ == Section::columns) {
      if (seen_columns_) throw SqlParameterError(R"(the batch has "columns" twice)");
      seen_columns_ = true;
    } else if (section_ == Section::rows) {
      if (runner_) throw SqlParameterError(R"(the batch has "rows" twice)");
      if (!seen_columns_) return give_up();
      runner_.emplace(session_, sql_, columns_);
    }
    return true;
  }
  // The shape's checks for a value or a container starting at the current depth; true when
  // it belongs to a row and is to be kept.
  bool in_row() const {
    if (depth_ == 0) throw SqlParameterError(kShape);
    if (section_ == Section::other) return false;
    if (depth_ == 1) throw SqlParameterError(kShape);  // "columns" or "rows" that is not an array
    if (section_ == Section::columns) throw SqlParameterError(kColumnNames);
    if (depth_ == 2) throw SqlParameterError(runner_->row_error());
    return true;
  }
  // Where a value goes: the row, or the array or object it is in.
  json& place(json item) {
    if (depth_ == 3) {
      row_.push_back(std::move(item));
      return row_.back();
    }
    json& parent = *nested_.back();
    if (parent.is_array()) {
      parent.push_back(std::move(item));
      return parent.back();
    }
    return parent[key_] = std::move(item);
  }
  bool value(json item) {
    if (in_row()) place(std::move(item));
    return true;
  }
  bool open(json container) {
    if (depth_ == 0 || (depth_ == 1 && section_ != Section::other)) {
      // The batch is an object; its "columns" and "rows" are arrays.
      if (container.is_object() != (depth_ == 0)) throw SqlParameterError(kShape);
    } else if (in_row()) {
      nested_.push_back(&place(std::move(container)));
    }
    ++depth_;
    return true;
  }
  bool close() {
    if (section_ == Section::rows && depth_ >= 4) nested_.pop_back();
    --depth_;
    return true;
  }

  soci::session& session_;
  const std::string& sql_;
  int depth_ = 0;
  Section section_ = Section::other;
  bool seen_columns_ = false;
  std::vector<std::string> columns_;
  std::optional<BatchRunner> runner_;  // from the "rows" key on
  std::vector<json> row_;
  std::vector<json*> nested_;  // a value's open arrays and objects, innermost last
  std::string key_;            // of the next value in a nested object
};

std::int64_t exec_tree(soci::session& session, const std::string& sql, const json& batch) {
  if (batch.is_discarded()) throw SqlParameterError("batch_json is not JSON");
  if (!batch.is_object() || !batch.contains("columns") || !batch["columns"].is_array() ||
      !batch.contains("rows") || !batch["rows"].is_array()) {
    throw SqlParameterError(kShape);
  }
  std::vector<std::string> columns;
  for (const auto& column : batch["columns"]) {
    if (!column.is_string()) throw SqlParameterError(kColumnNames);
    columns.push_back(column.get<std::string>());
  }
  BatchRunner runner(session, sql, std::move(columns));
  std::vector<json> row;
  for (const auto& values : batch["rows"]) {
    if (!values.is_array()) throw SqlParameterError(runner.row_error());
    row.assign(values.begin(), values.end());
    runner.run(row);
  }
  return runner.commit();
}

}  // namespace

std::int64_t exec_json_batch(soci::session& session, const std::string& sql, std::string_view batch_json) {
  {
    BatchReader reader(session, sql);
    const bool parsed = json::sax_parse(batch_json.begin(), batch_json.end(), &reader);
    if (!reader.unusual) {
      if (!parsed) throw SqlParameterError("batch_json is not JSON");
      return reader.finish();
    }
  }
  return exec_tree(session, sql, json::parse(batch_json, nullptr, false));
}

}  // namespace plexus::store
