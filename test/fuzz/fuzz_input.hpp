// Helpers shared by the fuzz targets: splitting one fuzz input into the fields a target needs.
#pragma once

#include <cstddef>
#include <cstdint>
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

}  // namespace iotjobs::fuzz
