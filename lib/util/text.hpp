// ASCII text helpers used across the library: case-insensitive comparison, case mapping and
// whitespace trimming. ASCII only, independent of the C locale: header names, config keys, HTTP
// tokens and AWS names are ASCII, and bytes >= 0x80 compare and map as themselves.
#pragma once

#include <charconv>
#include <string>
#include <string_view>

namespace iotjobs::detail {

// Appends the decimal digits of an integer.
template <class Int>
void append_int(std::string& out, Int v) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}

constexpr char ascii_lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
constexpr char ascii_upper(char c) noexcept { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

// Equal but for ASCII letter case.
constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
    return true;
}

inline std::string to_lower(std::string_view s) {
    std::string r(s);
    for (char& c : r) c = ascii_lower(c);
    return r;
}

inline std::string to_upper(std::string_view s) {
    std::string r(s);
    for (char& c : r) c = ascii_upper(c);
    return r;
}

// Space and horizontal tab: HTTP's optional whitespace (RFC 9110 section 5.6.3).
constexpr bool is_blank(char c) noexcept { return c == ' ' || c == '\t'; }

// Space, \t, \n, \v, \f, \r: isspace() in the C locale, and what Python's str.strip() removes from
// ASCII text.
constexpr bool is_ascii_space(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

// `s` without the leading and trailing characters for which `drop` is true.
template <class Pred>
constexpr std::string_view trim_if(std::string_view s, Pred drop) noexcept {
    while (!s.empty() && drop(s.front())) s.remove_prefix(1);
    while (!s.empty() && drop(s.back())) s.remove_suffix(1);
    return s;
}

constexpr std::string_view trim_blanks(std::string_view s) noexcept { return trim_if(s, is_blank); }
constexpr std::string_view trim_space(std::string_view s) noexcept { return trim_if(s, is_ascii_space); }

}  // namespace iotjobs::detail
