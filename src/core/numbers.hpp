// Strict number parsing for options and form fields: the whole text, plain decimal only
// (no leading spaces or '+', no hex, octal or hex-float, no "inf"/"nan"), within a range.
// strtol/strtod (and CLI11, which calls them with base 0) accept " 2", "0x10", "010" as 8
// and saturate on overflow; these do not. Pure functions, thread-safe.
#pragma once
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>

namespace yamiro {

// True for [-]digits (at most 19, no leading zero: "010" is octal to strtol's base 0).
inline bool is_decimal_integer(const std::string& s) {
  std::size_t i = s.size() > 0 && s[0] == '-' ? 1 : 0;
  if (i == s.size() || s.size() - i > 19 || (s[i] == '0' && s.size() - i > 1)) return false;
  for (; i < s.size(); ++i)
    if (s[i] < '0' || s[i] > '9') return false;
  return true;
}

// True for [-]digits[.digits][(e|E)[-|+]digits], or [-].digits...: a plain decimal number.
inline bool is_decimal_number(const std::string& s) {
  std::size_t i = s.size() > 0 && s[0] == '-' ? 1 : 0;
  const auto digits = [&] {
    const std::size_t from = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i - from;
  };
  std::size_t n = digits();
  if (i < s.size() && s[i] == '.') {
    ++i;
    n += digits();
  }
  if (n == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    if (digits() == 0) return false;
  }
  return i == s.size();
}

// The integer `s` spells when it is plain decimal within [lo, hi]; nullopt otherwise.
inline std::optional<std::int64_t> parse_integer(const std::string& s, std::int64_t lo, std::int64_t hi) {
  if (!is_decimal_integer(s)) return std::nullopt;
  errno = 0;
  const long long v = std::strtoll(s.c_str(), nullptr, 10);
  if (errno == ERANGE || v < lo || v > hi) return std::nullopt;
  return v;
}

// The finite number `s` spells when it is plain decimal within [lo, hi]; nullopt otherwise.
inline std::optional<double> parse_number(const std::string& s, double lo, double hi) {
  if (!is_decimal_number(s)) return std::nullopt;
  errno = 0;
  const double v = std::strtod(s.c_str(), nullptr);
  if (errno == ERANGE || !std::isfinite(v) || v < lo || v > hi) return std::nullopt;
  return v;
}

}  // namespace yamiro
