// Typed parameters with a schema: used for plugin parameters and for configuration keys.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include <boost/config.hpp>

namespace quorumlab {

enum class ParamType { integer, real, boolean, string };

/// A parameter value. Integers are 64-bit signed; reals are doubles.
using ParamValue = std::variant<std::int64_t, double, bool, std::string>;

const char* to_string(ParamType t);
ParamType type_of(const ParamValue& v);
std::string format_value(const ParamValue& v);

/// Declaration of one parameter: name, type, default, help text and optional limits.
/// `choices`, when not empty, lists the only allowed string values.
struct ParamSpec {
  std::string name;
  ParamType type = ParamType::integer;
  ParamValue default_value = std::int64_t{0};
  std::string help;
  std::optional<double> min;  ///< inclusive lower bound for integer/real
  std::optional<double> max;  ///< inclusive upper bound for integer/real
  std::vector<std::string> choices;
};

/// A schema entry for an integer parameter in [min, max], and for a boolean one.
ParamSpec int_param(const char* name, std::int64_t def, double min, double max, const char* help);
ParamSpec bool_param(const char* name, bool def, const char* help);

/// Thrown for any invalid parameter or configuration value. The message names the key.
class BOOST_SYMBOL_VISIBLE ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Resolved parameter values: every key of the schema is present after `resolve`.
class Params {
 public:
  Params() = default;
  explicit Params(std::map<std::string, ParamValue> values) : values_(std::move(values)) {}

  /// Typed accessors. Throw ConfigError if the key is missing or has another type.
  std::int64_t get_int(const std::string& key) const;
  double get_real(const std::string& key) const;  ///< an integer value is widened
  bool get_bool(const std::string& key) const;
  const std::string& get_string(const std::string& key) const;

  bool contains(const std::string& key) const { return values_.count(key) != 0; }
  const std::map<std::string, ParamValue>& values() const { return values_; }
  void set(const std::string& key, ParamValue v) { values_[key] = std::move(v); }

 private:
  const ParamValue& at(const std::string& key) const;
  std::map<std::string, ParamValue> values_;
};

/// Checks `given` against `schema` and fills in defaults. `what` names the owner in errors
/// (e.g. "broadcast plugin 'zab'"). Rejects unknown keys (listing the allowed ones), values of
/// the wrong type (an integer is accepted for a real), values outside [min, max] and strings
/// not in `choices`.
Params resolve_params(const std::string& what, const std::vector<ParamSpec>& schema,
                      const std::map<std::string, ParamValue>& given);

/// Parses a command-line string ("12", "0.5", "true", "text") into the type of `spec`.
/// Throws ConfigError naming `key` on failure.
ParamValue parse_param_text(const std::string& key, ParamType type, const std::string& text);

}  // namespace quorumlab
