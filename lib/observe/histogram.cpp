#include "observe/histogram.hpp"

#include <bit>

namespace iotjobs::detail {

std::size_t latency_histogram::index_of(std::uint64_t us) noexcept {
    if (us > max_value) us = max_value;
    if (us < linear_limit) return static_cast<std::size_t>(us);
    const unsigned e = static_cast<unsigned>(std::bit_width(us)) - 1;  // sub_bits + 1 .. max_exponent
    const unsigned shift = e - sub_bits;                               // us >> shift in [64, 128)
    return linear_limit + (shift - 1) * (std::size_t{1} << sub_bits) + ((us >> shift) - (1u << sub_bits));
}

std::uint64_t latency_histogram::lower_bound(std::size_t i) noexcept {
    if (i < linear_limit) return i;
    const std::size_t k = i - linear_limit;
    const unsigned shift = static_cast<unsigned>(k >> sub_bits) + 1;
    const std::uint64_t mantissa = (k & ((1u << sub_bits) - 1)) + (1u << sub_bits);
    return mantissa << shift;
}

void latency_histogram::record(std::chrono::microseconds d, bool single_writer) noexcept {
    constexpr auto relaxed = std::memory_order_relaxed;
    const std::uint64_t us = d.count() > 0 ? static_cast<std::uint64_t>(d.count()) : 0;
    relaxed_add(counts_[index_of(us)], 1, single_writer);
    relaxed_add(sum_, us, single_writer);
    std::uint64_t m = max_.load(relaxed);
    if (single_writer) {
        if (us > m) max_.store(us, relaxed);
        return;
    }
    while (us > m && !max_.compare_exchange_weak(m, us, relaxed)) {}
}

latency_summary latency_histogram::summary() const noexcept {
    std::array<std::uint64_t, bucket_count> c;
    latency_summary s;
    for (std::size_t i = 0; i < bucket_count; ++i) s.count += (c[i] = counts_[i].load(std::memory_order_relaxed));
    if (s.count == 0) return s;
    const std::uint64_t max = max_.load(std::memory_order_relaxed);
    s.max = std::chrono::microseconds(max);
    s.mean = std::chrono::microseconds(sum_.load(std::memory_order_relaxed) / s.count);
    // q in thousandths; rank = ceil(q * count), at least 1.
    const auto at = [&](std::uint64_t q) {
        const std::uint64_t rank = std::max<std::uint64_t>(1, (q * s.count + 999) / 1000);
        std::uint64_t seen = 0;
        for (std::size_t i = 0; i < bucket_count; ++i) {
            seen += c[i];
            if (seen >= rank) {
                const std::uint64_t upper = i + 1 < bucket_count ? lower_bound(i + 1) - 1 : max_value;
                return std::chrono::microseconds(std::min(upper, max));
            }
        }
        return s.max;
    };
    s.p50 = at(500);
    s.p90 = at(900);
    s.p99 = at(990);
    return s;
}

}  // namespace iotjobs::detail
