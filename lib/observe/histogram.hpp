// A fixed log-linear latency histogram of relaxed atomics (HdrHistogram's layout, one unit = 1 us):
// values 0..127 us have a bucket each; above, every power of two [2^e, 2^(e+1)) is split into 64
// equal buckets, so a bucket is at most 1/64 (1.6 %) of its values wide. Values are clamped to
// max_value (2^27 - 1 us, 134 s). record() is lock-free and wait-free except for the max (a CAS
// loop that only runs while the value is a new maximum).
#pragma once

#include <iotjobs/metrics.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace iotjobs::detail {

// a += d, relaxed (d = -1 subtracts: modulo 2^64). single_writer: every update of `a` on one
// thread, so a plain load and store (no locked read-modify-write); readers elsewhere still see
// whole values.
inline void relaxed_add(std::atomic<std::uint64_t>& a, std::uint64_t d, bool single_writer) noexcept {
    if (single_writer)
        a.store(a.load(std::memory_order_relaxed) + d, std::memory_order_relaxed);
    else
        a.fetch_add(d, std::memory_order_relaxed);
}

class latency_histogram {
public:
    static constexpr unsigned sub_bits = 6;                        // 64 buckets per power of two
    static constexpr std::uint64_t linear_limit = 2u << sub_bits;  // 128: one bucket per us below
    static constexpr unsigned max_exponent = 26;                   // highest power of two: 2^26
    static constexpr std::uint64_t max_value = (std::uint64_t{1} << (max_exponent + 1)) - 1;
    static constexpr std::size_t bucket_count =
        linear_limit + (max_exponent - sub_bits) * (std::size_t{1} << sub_bits);  // 1408

    // The bucket of a value in microseconds (clamped to max_value).
    static std::size_t index_of(std::uint64_t us) noexcept;
    // The smallest value of bucket i; bucket i holds [lower_bound(i), lower_bound(i + 1)).
    static std::uint64_t lower_bound(std::size_t i) noexcept;

    // single_writer: every record() on one thread (plain loads and stores, no locked operations).
    void record(std::chrono::microseconds d, bool single_writer = false) noexcept;
    latency_summary summary() const noexcept;

private:
    std::array<std::atomic<std::uint64_t>, bucket_count> counts_{};
    std::atomic<std::uint64_t> sum_{0};
    std::atomic<std::uint64_t> max_{0};
};

}  // namespace iotjobs::detail
