#pragma once
#include <stdexcept>
#include <string>

namespace trainsim::core {

/// Exit codes the CLI maps exceptions to.
enum class ExitCode : int { ok = 0, regression = 1, bad_input = 2, internal = 3 };

/// Base of every exception trainsim throws on purpose.
class Error : public std::runtime_error {
public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
  virtual ExitCode exit_code() const { return ExitCode::internal; }
};

/// Bad user input: names the JSON pointer, the bad value and what would be valid.
class ConfigError : public Error {
public:
  ConfigError(std::string pointer, const std::string& message);
  const std::string& pointer() const { return pointer_; }
  ExitCode exit_code() const override { return ExitCode::bad_input; }

private:
  std::string pointer_;
};

/// A configuration that is well-formed but cannot run (does not fit in memory, ...).
class InfeasibleError : public ConfigError {
public:
  using ConfigError::ConfigError;
};

/// A bad command-line option value.
class UsageError : public Error {
public:
  using Error::Error;
  ExitCode exit_code() const override { return ExitCode::bad_input; }
};

/// An argument a library function cannot work with (an algorithm asked for a collective it does not
/// implement, a quantity without a valid unit, ...). Callers that take the argument from the scenario turn it
/// into a ConfigError naming the JSON path; one that escapes is an internal error (exit 3).
class InvalidArgument : public Error {
public:
  using Error::Error;
};

/// A broken internal invariant (TRAINSIM_ASSERT): a bug in trainsim, never the user's input.
class InternalError : public Error {
public:
  using Error::Error;
};

/// Throws InternalError naming the condition, the source location and `message`.
[[noreturn]] void assertion_failed(const char* condition, const char* file, int line, const std::string& message);

/// Input/output failures on files the user named.
class IoError : public Error {
public:
  using Error::Error;
  ExitCode exit_code() const override { return ExitCode::bad_input; }
};

} // namespace trainsim::core

/// Checks an internal invariant in every build type; `message` (a std::string expression) is evaluated only when
/// the condition fails, so it may be costly to build.
#define TRAINSIM_ASSERT(condition, message)                                                                            \
  do {                                                                                                                 \
    if (!(condition))                                                                                                  \
      ::trainsim::core::assertion_failed(#condition, __FILE__, __LINE__, (message));                                   \
  } while (false)
