// The common response shape parsed without Beast (see parse_simple_response in response_sink.hpp).
#include "http/response_sink.hpp"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstdint>
#include <cstring>

namespace iotjobs::detail {

namespace {

constexpr std::size_t npos = std::string_view::npos;

// Byte classes: a subset of the token characters Beast accepts in a field name; a subset of what
// it accepts in a reason phrase or a field value (it also takes obs-text).
enum : unsigned char { name_char = 1, text_char = 2 };

struct byte_classes {
    unsigned char v[256] = {};
    constexpr byte_classes() {
        for (int c = 0x20; c < 0x7f; ++c) v[c] = text_char;
        v['\t'] = text_char;
        for (int c = 'a'; c <= 'z'; ++c) v[c] |= name_char;
        for (int c = 'A'; c <= 'Z'; ++c) v[c] |= name_char;
        for (int c = '0'; c <= '9'; ++c) v[c] |= name_char;
        v['-'] |= name_char;
        v['_'] |= name_char;
    }
};
constexpr byte_classes classes{};

bool is_a(char c, unsigned char cls) noexcept { return (classes.v[static_cast<unsigned char>(c)] & cls) != 0; }

// Where the line starting at `p` ends (its CR, followed by LF), every byte before it text; npos for
// anything else, an incomplete line included. One pass, eight bytes at a time: in a word read with
// its first byte lowest, the lowest byte below 0x20 or at 0x7f and above is found exactly (the
// borrow or carry of the arithmetic only reaches the bytes after it). A tab there is text: the
// scan goes on after it.
std::size_t line_end(std::string_view in, std::size_t p) noexcept {
    constexpr std::uint64_t ones = 0x0101010101010101ULL;
    constexpr std::uint64_t highs = 0x8080808080808080ULL;
    const char* const s = in.data();
    const char* const e = s + in.size();
    const char* b = s + std::min(p, in.size());
    const auto stop_at = [&](const char* c) noexcept {  // c: the first byte that is not plain text
        if (*c != '\r' || e - c < 2 || c[1] != '\n') return npos;
        return static_cast<std::size_t>(c - s);
    };
    while (e - b >= 8) {
        std::uint64_t w;
        std::memcpy(&w, b, sizeof w);
        if constexpr (std::endian::native == std::endian::big) w = __builtin_bswap64(w);  // b[0] the low byte
        const std::uint64_t flagged = (((w - 0x20 * ones) & ~w) | ((w + ones) | w)) & highs;
        if (flagged == 0) {
            b += 8;
            continue;
        }
        const char* c = b + std::countr_zero(flagged) / 8;
        if (*c != '\t') return stop_at(c);
        b = c + 1;
    }
    for (; b < e; ++b)
        if (!is_a(*b, text_char)) return stop_at(b);  // (a tab is text)
    return npos;
}

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// `s` equals `lower` (lower-case letters and '-') but for letter case, when `s` holds name or text
// characters only (a field name, a field value). Eight bytes at a time, the 0x20 bit set: that maps
// an upper-case letter onto its lower case and leaves '-' alone; the only other byte it maps onto
// one of those is CR (onto '-'), which no line holds before its end.
bool same_lower(std::string_view s, std::string_view lower) noexcept {
    if (s.size() != lower.size()) return false;
    constexpr std::uint64_t case_bits = 0x2020202020202020ULL;
    const auto word = [](const char* p) noexcept {
        std::uint64_t w;
        std::memcpy(&w, p, sizeof w);
        return w;
    };
    const std::size_t n = s.size();
    if (n < 8) {
        for (std::size_t i = 0; i < n; ++i)
            if ((s[i] | 0x20) != lower[i]) return false;
        return true;
    }
    for (std::size_t i = 0; i + 8 <= n; i += 8)
        if ((word(s.data() + i) | case_bits) != word(lower.data() + i)) return false;
    return (word(s.data() + n - 8) | case_bits) == word(lower.data() + n - 8);  // the tail (overlapping)
}

// "HTTP/1.x DDD reason\r\n"; `pos` is left after it.
bool parse_status_line(std::string_view in, simple_response& out, std::size_t& pos) noexcept {
    if (in.size() < 13 || in.substr(0, 7) != "HTTP/1." || (in[7] != '0' && in[7] != '1') || in[8] != ' ' ||
        !is_digit(in[9]) || !is_digit(in[10]) || !is_digit(in[11]) || in[12] != ' ')
        return false;
    const std::size_t end = line_end(in, 13);
    if (end == npos) return false;
    out.version = in[7] == '1' ? 11 : 10;
    out.status = static_cast<unsigned>((in[9] - '0') * 100 + (in[10] - '0') * 10 + (in[11] - '0'));
    out.reason = in.substr(13, end - 13);
    pos = end + 2;
    return true;
}

// The fields Beast gives a meaning to (told apart by length first), in their simplest forms only.
bool take_field(std::string_view name, std::string_view value, simple_response& out) noexcept {
    switch (name.size()) {
    case 14:  // Content-Length
        if (!same_lower(name, "content-length")) break;
        if (out.has_length || value.empty() || value.size() > 15) return false;
        for (char c : value)
            if (!is_digit(c)) return false;
        std::from_chars(value.data(), value.data() + value.size(), out.content_length);
        out.has_length = true;
        break;
    case 10:  // Connection
        if (!same_lower(name, "connection")) break;
        if (const unsigned char token = same_lower(value, "close")        ? simple_response::close
                                        : same_lower(value, "keep-alive") ? simple_response::keep_alive
                                                                          : 0;
            token == 0) {
            return false;
        } else if (out.first_connection == 0) {
            out.first_connection = token;
        }
        break;
    case 17:  // Transfer-Encoding
    case 16:  // Proxy-Connection
    case 7:   // Upgrade
        if (same_lower(name, "transfer-encoding") || same_lower(name, "proxy-connection") ||
            same_lower(name, "upgrade"))
            return false;
        break;
    default: break;
    }
    if (out.field_count == simple_response::max_fields) return false;
    out.fields[out.field_count++] = {name, value};
    return true;
}

// One "name: value\r\n" line at `pos`, not followed by a folded continuation; `pos` is left after it.
bool parse_field_line(std::string_view in, simple_response& out, std::size_t& pos) noexcept {
    std::size_t i = pos;
    while (i < in.size() && is_a(in[i], name_char)) ++i;
    if (i == pos || i >= in.size() || in[i] != ':') return false;
    const std::string_view name = in.substr(pos, i - pos);
    const std::size_t end = line_end(in, i + 1);
    // A line starting with a space or tab after it would continue it (obs-fold): Beast's to handle.
    if (end == npos || end + 2 >= in.size() || in[end + 2] == ' ' || in[end + 2] == '\t') return false;
    if (!take_field(name, trim_ows(in.substr(i + 1, end - i - 1)), out)) return false;
    pos = end + 2;
    return true;
}

}  // namespace

bool parse_simple_response(std::string_view in, simple_response& out) noexcept {
    out.field_count = 0;
    out.first_connection = 0;
    out.has_length = false;
    out.content_length = 0;
    std::size_t pos = 0;
    if (!parse_status_line(in, out, pos)) return false;
    for (;;) {
        if (pos > simple_response::max_header) return false;
        if (pos + 1 < in.size() && in[pos] == '\r' && in[pos + 1] == '\n') break;
        if (!parse_field_line(in, out, pos)) return false;
    }
    out.header_size = pos + 2;
    // No length (a body to the end of the connection), or a status without a body: Beast's.
    if (!out.has_length || out.status / 100 == 1 || out.status == 204 || out.status == 304) return false;
    return in.size() - out.header_size >= out.content_length;
}

}  // namespace iotjobs::detail
