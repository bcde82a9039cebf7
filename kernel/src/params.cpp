#include "quorumlab/params.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>

namespace quorumlab {

const char* to_string(ParamType t) {
  switch (t) {
    case ParamType::integer:
      return "integer";
    case ParamType::real:
      return "real";
    case ParamType::boolean:
      return "boolean";
    case ParamType::string:
      return "string";
  }
  return "?";
}

ParamType type_of(const ParamValue& v) {
  switch (v.index()) {
    case 0:
      return ParamType::integer;
    case 1:
      return ParamType::real;
    case 2:
      return ParamType::boolean;
    default:
      return ParamType::string;
  }
}

std::string format_value(const ParamValue& v) {
  if (auto* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
  if (auto* d = std::get_if<double>(&v)) {
    std::ostringstream os;
    os << *d;
    return os.str();
  }
  if (auto* b = std::get_if<bool>(&v)) return *b ? "true" : "false";
  return "\"" + std::get<std::string>(v) + "\"";
}

const ParamValue& Params::at(const std::string& key) const {
  auto it = values_.find(key);
  if (it == values_.end()) throw ConfigError("parameter '" + key + "' is not set");
  return it->second;
}

std::int64_t Params::get_int(const std::string& key) const {
  const auto& v = at(key);
  if (auto* i = std::get_if<std::int64_t>(&v)) return *i;
  throw ConfigError("parameter '" + key + "' is a " + to_string(type_of(v)) + ", not an integer");
}

double Params::get_real(const std::string& key) const {
  const auto& v = at(key);
  if (auto* d = std::get_if<double>(&v)) return *d;
  if (auto* i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
  throw ConfigError("parameter '" + key + "' is a " + to_string(type_of(v)) + ", not a real");
}

bool Params::get_bool(const std::string& key) const {
  const auto& v = at(key);
  if (auto* b = std::get_if<bool>(&v)) return *b;
  throw ConfigError("parameter '" + key + "' is a " + to_string(type_of(v)) + ", not a boolean");
}

const std::string& Params::get_string(const std::string& key) const {
  const auto& v = at(key);
  if (auto* s = std::get_if<std::string>(&v)) return *s;
  throw ConfigError("parameter '" + key + "' is a " + to_string(type_of(v)) + ", not a string");
}

namespace {

std::string join_names(const std::vector<ParamSpec>& schema) {
  if (schema.empty()) return "(none: this takes no parameters)";
  std::string out;
  for (const auto& s : schema) {
    if (!out.empty()) out += ", ";
    out += s.name;
  }
  return out;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += ", ";
    out += s;
  }
  return out;
}

ParamValue check_value(const std::string& what, const ParamSpec& spec, const ParamValue& given) {
  ParamValue v = given;
  if (spec.type == ParamType::real && type_of(v) == ParamType::integer) {
    v = static_cast<double>(std::get<std::int64_t>(v));
  }
  if (type_of(v) != spec.type) {
    throw ConfigError(what + ": parameter '" + spec.name + "' must be " + to_string(spec.type) +
                      ", got " + to_string(type_of(given)) + " " + format_value(given));
  }
  if (spec.type == ParamType::integer || spec.type == ParamType::real) {
    double x = spec.type == ParamType::integer ? static_cast<double>(std::get<std::int64_t>(v))
                                               : std::get<double>(v);
    if ((spec.min && x < *spec.min) || (spec.max && x > *spec.max)) {
      std::ostringstream os;
      os << what << ": parameter '" << spec.name << "' = " << format_value(v)
         << " is out of range [" << (spec.min ? std::to_string(*spec.min) : "-inf") << ", "
         << (spec.max ? std::to_string(*spec.max) : "inf") << "]";
      throw ConfigError(os.str());
    }
  }
  if (spec.type == ParamType::string && !spec.choices.empty()) {
    const auto& s = std::get<std::string>(v);
    bool ok = false;
    for (const auto& c : spec.choices)
      ok = ok || c == s;
    if (!ok) {
      throw ConfigError(what + ": parameter '" + spec.name + "' = \"" + s +
                        "\" is not allowed; allowed values: " + join(spec.choices));
    }
  }
  return v;
}

}  // namespace

Params resolve_params(const std::string& what, const std::vector<ParamSpec>& schema,
                      const std::map<std::string, ParamValue>& given) {
  std::map<std::string, ParamValue> out;
  for (const auto& [key, value] : given) {
    const ParamSpec* spec = nullptr;
    for (const auto& s : schema) {
      if (s.name == key) spec = &s;
    }
    if (!spec) {
      throw ConfigError(what + ": unknown parameter '" + key +
                        "'; known parameters: " + join_names(schema));
    }
    out[key] = check_value(what, *spec, value);
  }
  for (const auto& s : schema) {
    if (!out.count(s.name)) out[s.name] = s.default_value;
  }
  return Params(std::move(out));
}

ParamValue parse_param_text(const std::string& key, ParamType type, const std::string& text) {
  auto fail = [&](const char* expected) -> ConfigError {
    return ConfigError("'" + key + "' must be " + expected + ", got '" + text + "'");
  };
  switch (type) {
    case ParamType::integer: {
      errno = 0;
      char* end = nullptr;
      long long x = std::strtoll(text.c_str(), &end, 10);
      if (text.empty() || *end != '\0' || errno == ERANGE) throw fail("an integer");
      return static_cast<std::int64_t>(x);
    }
    case ParamType::real: {
      errno = 0;
      char* end = nullptr;
      double x = std::strtod(text.c_str(), &end);
      if (text.empty() || *end != '\0' || errno == ERANGE || !std::isfinite(x))
        throw fail("a real");
      return x;
    }
    case ParamType::boolean:
      if (text == "true" || text == "1" || text == "yes" || text == "on") return true;
      if (text == "false" || text == "0" || text == "no" || text == "off") return false;
      throw fail("a boolean (true/false)");
    case ParamType::string:
      return text;
  }
  throw fail("valid");
}

ParamSpec int_param(const char* name, std::int64_t def, double min, double max, const char* help) {
  ParamSpec p;
  p.name = name;
  p.type = ParamType::integer;
  p.default_value = def;
  p.help = help;
  p.min = min;
  p.max = max;
  return p;
}

ParamSpec bool_param(const char* name, bool def, const char* help) {
  ParamSpec p;
  p.name = name;
  p.type = ParamType::boolean;
  p.default_value = def;
  p.help = help;
  return p;
}

}  // namespace quorumlab
