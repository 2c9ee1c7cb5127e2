// Fuzz target: the HTTP Date parser and the clock offset (lib/retry/clock_skew.cpp), which every
// response with a Date header reaches: parse_http_date, compute_clock_offset, and what the client
// does with the offset (significant_skew against the offset in use, clock_offset::update_from_date,
// then signing time = local now + offset).
//
// Input: bytes 0-3 = the local clock as a signed offset in seconds from 2026-12-07T00:00:00Z (a
// local clock within about 68 years of today), then the Date header value.
#include "fuzz_input.hpp"
#include "retry/clock_skew.hpp"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace std::chrono;
    using namespace iotjobs::detail;
    std::string_view in = iotjobs::fuzz::as_text(data, size);
    std::uint32_t raw = 0;
    for (int i = 0; i < 4; ++i) raw = raw << 8 | iotjobs::fuzz::next_byte(in);
    const auto base = sys_days{year{2026} / December / 7};
    const system_clock::time_point local_now =
        base + seconds(static_cast<std::int32_t>(raw)) + nanoseconds(raw % 1000000000);

    if (const auto t = parse_http_date(in, local_now)) {
        // A parsed date is a whole second of a real calendar day.
        const year_month_day ymd{floor<days>(*t)};
        if (!ymd.ok()) std::abort();
    }
    clock_offset offset;
    const seconds used = offset.get();
    if (const auto off = offset.update_from_date(in, local_now)) {
        (void)significant_skew(*off - used);
        if (offset.get() != *off) std::abort();
        (void)offset.now(local_now);  // the time the next request is signed with
    }
    return 0;
}
