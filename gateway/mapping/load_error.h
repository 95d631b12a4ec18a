// LoadError: why a mapping profile or ConceptMap file was refused, and exactly where.
//
// Every check the loader makes reports file, line and column (1-based, columns in characters) of
// the JSON value or key at fault, so an integration engineer can go straight to it.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "common/json_reader.h"

namespace midhurst::mapping {

struct LoadError {
  std::string file;  // as given to the loader (relative to the mappings directory when loaded from one)
  std::size_t line = 0;
  std::size_t column = 0;
  std::string reason;

  // "hl7v2-care/adt-patient.json:12:17: unknown transform 'uper'"
  std::string to_string() const {
    return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + reason;
  }
  bool operator==(const LoadError&) const = default;
};

using LoadErrors = std::vector<LoadError>;

// Collects errors for one parsed file.
class ErrorSink {
 public:
  ErrorSink(std::string file, const JsonDocument* doc, LoadErrors* out)
      : file_(std::move(file)), doc_(doc), out_(out) {}
  // Records `reason` at byte `offset` of the file.
  void at(std::size_t offset, std::string reason) const {
    const TextPosition p = doc_ ? doc_->position(offset) : TextPosition{};
    out_->push_back(LoadError{file_, p.line, p.column, std::move(reason)});
  }
  // At a node's start, or `extra` characters into a string node (a path inside a JSON string;
  // exact when the string holds no escape sequence before that point).
  void at(const JsonNode& node, std::string reason, std::size_t extra = 0) const {
    at(node.offset + (node.is_string() ? 1 + extra : 0), std::move(reason));
  }
  const std::string& file() const { return file_; }
  const JsonDocument* doc() const { return doc_; }
  std::size_t count() const { return out_->size(); }

 private:
  std::string file_;
  const JsonDocument* doc_;
  LoadErrors* out_;
};

}  // namespace midhurst::mapping
