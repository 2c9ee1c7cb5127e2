// Helpers shared by the fuzz targets: splitting one fuzz input into the fields a target needs.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace iotjobs::fuzz {

// The input as text.
inline std::string_view as_text(const std::uint8_t* data, std::size_t size) noexcept {
    return {reinterpret_cast<const char*>(data), size};
}

// Takes the text up to the next '\n' (not included) from `in`; the whole rest when there is none.
inline std::string_view next_line(std::string_view& in) noexcept {
    const auto nl = in.find('\n');
    const std::string_view line = in.substr(0, nl);
    in = nl == std::string_view::npos ? std::string_view{} : in.substr(nl + 1);
    return line;
}

// Takes one byte (0 when empty).
inline unsigned char next_byte(std::string_view& in) noexcept {
    if (in.empty()) return 0;
    const auto b = static_cast<unsigned char>(in.front());
    in.remove_prefix(1);
    return b;
}

// A time as ISO 8601 in UTC with nanoseconds ("2026-12-07T05:06:07.123456789Z"), for the
// round-trip checks of parse_iso8601 (years 0-9999 only).
inline std::string iso8601_utc(std::chrono::system_clock::time_point t) {
    using namespace std::chrono;
    const auto day = floor<days>(t);
    const year_month_day ymd{day};
    const hh_mm_ss<nanoseconds> hms{duration_cast<nanoseconds>(t - day)};
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%09lldZ", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                  static_cast<int>(hms.seconds().count()), static_cast<long long>(hms.subseconds().count()));
    return buf;
}

}  // namespace iotjobs::fuzz
