#include "retry/clock_skew.hpp"

#include "util/text.hpp"

#include <array>
#include <cstddef>

namespace iotjobs::detail {

namespace {

using namespace std::chrono;

constexpr std::array<std::string_view, 12> month_names{"jan", "feb", "mar", "apr", "may", "jun",
                                                       "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<std::string_view, 7> short_day_names{"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
constexpr std::array<std::string_view, 7> long_day_names{"monday", "tuesday",  "wednesday", "thursday",
                                                         "friday", "saturday", "sunday"};

template <std::size_t N>
bool in(const std::array<std::string_view, N>& names, std::string_view word) noexcept {
    for (auto n : names)
        if (iequals(n, word)) return true;
    return false;
}

// A cursor over the header value; every read checks bounds.
class cursor {
public:
    explicit cursor(std::string_view s) noexcept : s_(s) {}

    bool done() const noexcept { return pos_ == s_.size(); }
    bool peek(char c) const noexcept { return pos_ < s_.size() && s_[pos_] == c; }

    bool literal(char c) noexcept {
        if (!peek(c)) return false;
        ++pos_;
        return true;
    }

    // A run of ASCII letters (possibly empty).
    std::string_view word() noexcept {
        const std::size_t start = pos_;
        while (pos_ < s_.size() && ((s_[pos_] >= 'a' && s_[pos_] <= 'z') || (s_[pos_] >= 'A' && s_[pos_] <= 'Z')))
            ++pos_;
        return s_.substr(start, pos_ - start);
    }

    // Between min_digits and max_digits decimal digits.
    std::optional<int> number(std::size_t min_digits, std::size_t max_digits) noexcept {
        std::size_t n = 0;
        int value = 0;
        while (n < max_digits && pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
            value = value * 10 + (s_[pos_] - '0');
            ++pos_;
            ++n;
        }
        if (n < min_digits) return std::nullopt;
        // More digits than allowed is an error, not a shorter number.
        if (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') return std::nullopt;
        return value;
    }

    std::optional<unsigned> month() noexcept {
        const std::string_view w = word();
        for (std::size_t i = 0; i < month_names.size(); ++i)
            if (iequals(month_names[i], w)) return static_cast<unsigned>(i + 1);
        return std::nullopt;
    }

private:
    std::string_view s_;
    std::size_t pos_ = 0;
};

struct time_of_day {
    int h, m, s;
};

// hour ":" minute ":" second, each 2DIGIT; second may be 60 (leap second).
std::optional<time_of_day> read_time(cursor& c) noexcept {
    auto h = c.number(2, 2);
    if (!h || !c.literal(':')) return std::nullopt;
    auto m = c.number(2, 2);
    if (!m || !c.literal(':')) return std::nullopt;
    auto s = c.number(2, 2);
    if (!s || *h > 23 || *m > 59 || *s > 60) return std::nullopt;
    return time_of_day{*h, *m, *s};
}

bool read_zone(cursor& c) noexcept {
    const std::string_view z = c.word();
    return iequals(z, "GMT") || iequals(z, "UTC");
}

std::optional<sys_seconds> make_time(int y, unsigned mon, int d, time_of_day t) noexcept {
    const year_month_day ymd{year{y}, month{mon}, day{static_cast<unsigned>(d)}};
    if (!ymd.ok()) return std::nullopt;
    return sys_days{ymd} + hours{t.h} + minutes{t.m} + seconds{t.s};
}

}  // namespace

std::optional<sys_seconds> parse_http_date(std::string_view value, system_clock::time_point reference) noexcept {
    if (value.size() > 64)  // the longest valid form is 36 characters
        return std::nullopt;
    cursor c(trim_blanks(value));
    const std::string_view day_name = c.word();
    if (!in(short_day_names, day_name) && !in(long_day_names, day_name)) return std::nullopt;

    if (c.literal(',')) {
        // IMF-fixdate or RFC 850.
        if (!c.literal(' ')) return std::nullopt;
        auto d = c.number(1, 2);
        if (!d) return std::nullopt;
        std::optional<unsigned> mon;
        int y = 0;
        if (c.literal(' ')) {  // IMF-fixdate: DD SP Mon SP YYYY
            mon = c.month();
            if (!mon || !c.literal(' ')) return std::nullopt;
            auto yy = c.number(4, 4);
            if (!yy) return std::nullopt;
            y = *yy;
        } else if (c.literal('-')) {  // RFC 850: DD-Mon-YY
            mon = c.month();
            if (!mon || !c.literal('-')) return std::nullopt;
            auto yy = c.number(2, 2);
            if (!yy) return std::nullopt;
            // RFC 7231: a two-digit year more than 50 years in the future is in the past century.
            const int ref_year = static_cast<int>(year_month_day{floor<days>(reference)}.year());
            y = (ref_year / 100) * 100 + *yy;
            if (y > ref_year + 50)
                y -= 100;
            else if (y < ref_year - 49)
                y += 100;
        } else {
            return std::nullopt;
        }
        if (!c.literal(' ')) return std::nullopt;
        auto t = read_time(c);
        if (!t || !c.literal(' ') || !read_zone(c) || !c.done()) return std::nullopt;
        return make_time(y, *mon, *d, *t);
    }

    // asctime: Mon SP (DD / SP D) SP hh:mm:ss SP YYYY
    if (!c.literal(' ')) return std::nullopt;
    auto mon = c.month();
    if (!mon || !c.literal(' ')) return std::nullopt;
    if (c.peek(' ')) c.literal(' ');
    auto d = c.number(1, 2);
    if (!d || !c.literal(' ')) return std::nullopt;
    auto t = read_time(c);
    if (!t || !c.literal(' ')) return std::nullopt;
    auto y = c.number(4, 4);
    if (!y || !c.done()) return std::nullopt;
    return make_time(*y, *mon, *d, *t);
}

std::optional<seconds> compute_clock_offset(std::string_view http_date_header,
                                            system_clock::time_point local_now) noexcept {
    const auto server = parse_http_date(http_date_header, local_now);
    if (!server) return std::nullopt;
    // Whole seconds first: `*server - local_now` would convert a date of year 9999 (or 1737,
    // against a late enough clock) to nanoseconds and overflow int64. Both sides fit in int64
    // seconds (a 4-digit year is within +/- 3e11 s), so this difference cannot overflow.
    const sys_seconds local_whole = floor<seconds>(local_now);
    const seconds whole = *server - local_whole;
    if (whole > max_clock_offset || whole < -max_clock_offset)
        return std::nullopt;  // not a clock that is off; a broken or hostile Date: keep the offset
    // |whole| <= 100 years is ~3.2e18 ns and the fraction is under a second: no overflow.
    return round<seconds>(whole - (local_now - local_whole));
}

std::optional<seconds> clock_offset::update_from_date(std::string_view http_date_header,
                                                      system_clock::time_point local_now) noexcept {
    auto off = compute_clock_offset(http_date_header, local_now);
    if (off) set(*off);
    return off;
}

}  // namespace iotjobs::detail
