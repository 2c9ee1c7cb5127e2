#include "credentials/redact.hpp"

namespace iotjobs::detail {
namespace {

bool is_token_char(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' || c == '/' ||
           c == '=' || c == '_' || c == '-' || c == '%';
}

char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool starts_with_ci(std::string_view text, std::size_t pos, std::string_view prefix) noexcept {
    if (text.size() - pos < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i)
        if (lower(text[pos + i]) != prefix[i]) return false;
    return true;
}

// The end of a quoted header or query value starting at `pos`: a line break, a quote, a space, '&'.
std::size_t value_end(std::string_view text, std::size_t pos) noexcept {
    while (pos < text.size()) {
        const char c = text[pos];
        if (c == '\n' || c == '\r' || c == '\'' || c == '"' || c == ' ' || c == '\t' || c == '&') break;
        ++pos;
    }
    return pos;
}

}  // namespace

void redact_in_place(std::string& text, std::string_view token) {
    if (token.empty() || text.empty()) return;
    constexpr std::string_view header = "x-amz-security-token:";
    constexpr std::string_view query = "x-amz-security-token=";
    const bool free_text = token.size() >= min_free_text_token;
    const std::string_view in(text);
    std::string out;
    bool changed = false;
    std::size_t copied = 0;  // in[0, copied) is in `out` (once changed)
    auto replace = [&](std::size_t from, std::size_t to) {
        if (!changed) {
            out.reserve(text.size());
            changed = true;
        }
        out.append(in.substr(copied, from - copied));
        out.append(redaction_marker);
        copied = to;
    };
    std::size_t i = 0;
    while (i < in.size()) {
        if (starts_with_ci(in, i, header) || starts_with_ci(in, i, query)) {
            const std::size_t begin = i + header.size();  // both prefixes have the same length
            const std::size_t end = value_end(in, begin);
            if (end > begin) replace(begin, end);
            i = std::max(end, begin);
            continue;
        }
        if (free_text && in.compare(i, token.size(), token) == 0 && (i == 0 || !is_token_char(in[i - 1])) &&
            (i + token.size() == in.size() || !is_token_char(in[i + token.size()]))) {
            replace(i, i + token.size());
            i += token.size();
            continue;
        }
        ++i;
    }
    if (!changed) return;
    out.append(in.substr(copied));
    text = std::move(out);
}

}  // namespace iotjobs::detail
