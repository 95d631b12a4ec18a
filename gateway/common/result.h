// Result<T, E>: a value or an error, used at every module boundary.
//
// Small on purpose: a tagged union over std::variant. A Result that holds an error
// must not be dereferenced (REQUIRES: ok()); value() and error() assert that.
#pragma once

#include <cassert>
#include <utility>
#include <variant>

namespace midhurst {

template <typename E>
struct Err {
  E error;
};
template <typename E>
Err<std::decay_t<E>> err(E&& e) {
  return {std::forward<E>(e)};
}

template <typename T, typename E>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  template <typename E2>
  Result(Err<E2> e) : v_(std::in_place_index<1>, std::move(e.error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  E& error() & { assert(!ok()); return std::get<1>(v_); }
  const E& error() const& { assert(!ok()); return std::get<1>(v_); }

 private:
  std::variant<T, E> v_;
};

}  // namespace midhurst

namespace midhurst {

// Status<E>: success, or an error of type E. For operations that return nothing.
template <typename E>
class [[nodiscard]] Status {
 public:
  Status() = default;
  template <typename E2>
  Status(Err<E2> e) : error_(std::move(e.error)), failed_(true) {}
  static Status Ok() { return Status(); }

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const E& error() const { assert(failed_); return error_; }

 private:
  E error_{};
  bool failed_ = false;
};

}  // namespace midhurst
