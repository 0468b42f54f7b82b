// Error values used across module boundaries.
//
// A Status carries a code, the name of the offending field or record (empty
// when the error is not about one input) and a message meant for people that
// states the value and the fix. Result<T> contains either a value or a failed
// Status. Neither type throws.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>

namespace reclaim {

enum class StatusCode {
  kOk,
  kInvalidArgument,  // the caller's input is malformed or out of range
  kNotFound,         // the named record does not exist
  kConflict,         // the request clashes with the record's current state
  kUnavailable,      // a dependency (mailbox, server) could not be reached
  kInternal,         // a bug or an unexpected failure of the platform
};

class Status {
 public:
  Status() = default;
  static Status Ok() { return Status(); }
  static Status Invalid(std::string field, std::string message) {
    return Status(StatusCode::kInvalidArgument, std::move(field), std::move(message));
  }
  static Status NotFound(std::string field, std::string message) {
    return Status(StatusCode::kNotFound, std::move(field), std::move(message));
  }
  static Status Conflict(std::string field, std::string message) {
    return Status(StatusCode::kConflict, std::move(field), std::move(message));
  }
  static Status Unavailable(std::string message) {
    return Status(StatusCode::kUnavailable, {}, std::move(message));
  }
  static Status Internal(std::string message) {
    return Status(StatusCode::kInternal, {}, std::move(message));
  }

  Status(StatusCode code, std::string field, std::string message)
      : code_(code), field_(std::move(field)), message_(std::move(message)) {}

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& field() const { return field_; }
  const std::string& message() const { return message_; }

  // Returns a copy whose field is `prefix.field` (or `prefix` when the field
  // is empty), so a decoder can name the record an inner error belongs to.
  Status WithFieldPrefix(const std::string& prefix) const {
    std::string field = field_.empty() ? prefix : prefix + "." + field_;
    return Status(code_, std::move(field), message_);
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string field_;
  std::string message_;
};

template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    assert(!status_.ok() && "a Result built from a Status must carry an error");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  const T& value() const& {
    assert(ok());
    return *value_;
  }
  T& value() & {
    assert(ok());
    return *value_;
  }
  T&& value() && {
    assert(ok());
    return std::move(*value_);
  }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace reclaim
