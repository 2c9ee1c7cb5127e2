// Clock-skew fix-up as the AWS SDK for JavaScript v3 does it (@aws-sdk/core, AwsSdkSigV4Signer and
// its systemClockOffset): the offset between the server's clock (response Date header) and ours,
// applied when signing. Pure: local time is a parameter.
//
// Use by the client:
//   1. sign with offset.now(system_clock::now());   remember used = offset.get()
//   2. on every response with a Date header (and no Age header, round trip < 900 s):
//        if (auto off = compute_clock_offset(date, receive_time)) {
//            outcome.server_clock_skewed = significant_skew(*off - used);
//            offset.set(*off);
//        }
//   3. retry_call allows one immediate retry for retry_kind::clock_skew, signed with the new offset.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace iotjobs::detail {

// |server - local| at or above this means the signing clock is wrong (JS: 240 000 ms).
inline constexpr std::chrono::seconds clock_skew_threshold{240};

inline bool significant_skew(std::chrono::seconds offset) noexcept {
    return offset >= clock_skew_threshold || offset <= -clock_skew_threshold;
}

// Parses an HTTP-date (RFC 7231 7.1.1.1): IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT" and the
// obsolete forms RFC 850 "Sunday, 06-Nov-94 08:49:37 GMT" and asctime "Sun Nov  6 08:49:37 1994".
// Leading/trailing spaces and tabs are ignored; names are matched case-insensitively; the
// weekday must be a valid name but is not checked against the date; "UTC" is accepted for "GMT";
// a one-digit day is accepted in the first two forms. A two-digit RFC 850 year is put in the
// century that makes it at most 50 years after `reference` (RFC 7231). Anything else
// (wrong field, out-of-range value, trailing garbage) gives nullopt; never throws.
std::optional<std::chrono::sys_seconds> parse_http_date(std::string_view value,
                                                        std::chrono::system_clock::time_point reference) noexcept;

// The largest offset compute_clock_offset accepts (either sign). A local clock reset to 1970 is
// within it until 2070; a Date of year 9999 is not. It also keeps local_now + offset (the time the
// client signs with) far inside system_clock's range (years 1677-2262 in nanoseconds).
inline constexpr std::chrono::seconds max_clock_offset = std::chrono::years{100};

// server Date - local_now, rounded to the nearest second; nullopt if the header is unusable or
// the offset is beyond max_clock_offset (no overflow for any Date the parser accepts).
std::optional<std::chrono::seconds> compute_clock_offset(std::string_view http_date_header,
                                                         std::chrono::system_clock::time_point local_now) noexcept;

// The offset shared by all calls of one client. Thread-safe (one atomic).
class clock_offset {
public:
    clock_offset() noexcept = default;
    explicit clock_offset(std::chrono::seconds initial) noexcept : seconds_(initial.count()) {}

    clock_offset(const clock_offset&) = delete;
    clock_offset& operator=(const clock_offset&) = delete;

    std::chrono::seconds get() const noexcept { return std::chrono::seconds(seconds_.load(std::memory_order_relaxed)); }

    // Stores `offset`; returns true if it differs from the previous value.
    bool set(std::chrono::seconds offset) noexcept {
        return seconds_.exchange(offset.count(), std::memory_order_relaxed) != offset.count();
    }

    // The corrected time to sign with: local_now + offset.
    std::chrono::system_clock::time_point now(std::chrono::system_clock::time_point local_now) const noexcept {
        return local_now + get();
    }

    // compute_clock_offset + set; returns the new offset, or nullopt (offset unchanged).
    std::optional<std::chrono::seconds> update_from_date(std::string_view http_date_header,
                                                         std::chrono::system_clock::time_point local_now) noexcept;

private:
    std::atomic<std::int64_t> seconds_{0};
};

}  // namespace iotjobs::detail
