// Hex and base64 (see encoding.hpp).
#include "util/encoding.hpp"

#include <cstring>

namespace iotjobs::detail {
namespace {

constexpr char base64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Every byte's two hex digits, so that encoding copies two characters per byte.
struct hex_pairs {
    char v[512] = {};
    constexpr hex_pairs() {
        constexpr char digits[] = "0123456789abcdef";
        for (int i = 0; i < 256; ++i) {
            v[2 * i] = digits[i >> 4];
            v[2 * i + 1] = digits[i & 0x0f];
        }
    }
};
constexpr hex_pairs hex_table{};

int base64_value(char c) noexcept {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

}  // namespace

void hex_encode(const unsigned char* in, std::size_t n, char* out) noexcept {
    for (std::size_t i = 0; i < n; ++i) std::memcpy(out + 2 * i, hex_table.v + 2 * in[i], 2);
}

std::string hex_lower(std::string_view bytes) {
    std::string out(2 * bytes.size(), '\0');
    hex_encode(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), out.data());
    return out;
}

std::string base64_encode(std::string_view bytes) {
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    const auto byte = [&](std::size_t i) { return i < bytes.size() ? static_cast<unsigned char>(bytes[i]) : 0u; };
    for (std::size_t i = 0; i < bytes.size(); i += 3) {
        const unsigned v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
        const std::size_t present = bytes.size() - i;  // 1, 2, or 3 and more
        out += base64_alphabet[(v >> 18) & 63];
        out += base64_alphabet[(v >> 12) & 63];
        out += present > 1 ? base64_alphabet[(v >> 6) & 63] : '=';
        out += present > 2 ? base64_alphabet[v & 63] : '=';
    }
    return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
    if (text.size() % 4 != 0) return std::nullopt;
    std::string out;
    out.reserve(text.size() / 4 * 3);
    for (std::size_t i = 0; i < text.size(); i += 4) {
        const bool last = i + 4 == text.size();
        unsigned v = 0;
        int pad = 0;
        for (std::size_t k = 0; k < 4; ++k) {
            const char c = text[i + k];
            int d = 0;
            if (c == '=' && last && k >= 2)
                ++pad;
            else if (pad || (d = base64_value(c)) < 0)
                return std::nullopt;  // a character after '=', or one outside the alphabet
            v = (v << 6) | static_cast<unsigned>(d);
        }
        out += static_cast<char>((v >> 16) & 255);
        if (pad < 2) out += static_cast<char>((v >> 8) & 255);
        if (pad < 1) out += static_cast<char>(v & 255);
    }
    return out;
}

}  // namespace iotjobs::detail
