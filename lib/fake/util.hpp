// Small helpers shared by the fake server's translation units (not part of the fixture API).
#pragma once

#include "util/json_text.hpp"
#include "util/text.hpp"

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace iotjobs::fake::detail {

// Model patterns and lengths (the IoT service model, botocore/data/iot/2015-05-28/service-2.json).
inline bool is_name_char(char c, bool allow_colon) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           (allow_colon && c == ':');
}
inline bool valid_chars(std::string_view s, bool allow_colon) noexcept {
    for (char c : s)
        if (!is_name_char(c, allow_colon)) return false;
    return true;
}
inline bool valid_thing_name(std::string_view s) noexcept {
    return !s.empty() && s.size() <= 128 && valid_chars(s, true);
}
inline bool valid_job_id(std::string_view s) noexcept { return !s.empty() && s.size() <= 64 && valid_chars(s, false); }
inline bool valid_namespace_id(std::string_view s) noexcept { return !s.empty() && valid_chars(s, false); }

inline std::optional<std::int64_t> parse_i64(std::string_view s) noexcept {
    std::int64_t v = 0;
    if (s.empty()) return std::nullopt;
    const char* b = s.data();
    if (*b == '+') ++b;
    auto [p, ec] = std::from_chars(b, s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
    return v;
}

using iotjobs::detail::append_json_string;  // util/json_text.hpp

using iotjobs::detail::append_int;    // util/text.hpp
using iotjobs::detail::json_members;  // util/json_text.hpp

inline int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Percent-decodes; false on a malformed escape. '+' stays '+'.
inline bool percent_decode(std::string_view in, std::string& out) {
    out.clear();
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        char c = in[i];
        if (c == '%') {
            if (i + 2 >= in.size()) return false;
            int h = hex_value(in[i + 1]), l = hex_value(in[i + 2]);
            if (h < 0 || l < 0) return false;
            out.push_back(static_cast<char>(h * 16 + l));
            i += 2;
        } else {
            out.push_back(c);
        }
    }
    return true;
}

using iotjobs::detail::iequals;  // util/text.hpp

// splitmix64: deterministic, fast, good enough for generation and fault rolls.
struct splitmix64 {
    std::uint64_t state;
    std::uint64_t next() noexcept {
        std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    double uniform01() noexcept { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }
};

}  // namespace iotjobs::fake::detail
