// The client's per-call metrics (client::metrics()): relaxed atomic counters, a bounded table of
// failures by error, and one latency histogram per operation. No lock, no allocation on update.
#pragma once

#include "observe/histogram.hpp"

#include <iotjobs/metrics.hpp>

#include <array>
#include <atomic>
#include <string_view>

namespace iotjobs::detail {

// The operation of an operation_name ("DeleteJobExecution", ...); other for any other name.
operation_kind operation_kind_of(std::string_view operation_name) noexcept;

class call_metrics {
public:
    // Slots of failures_by_error: service_errc 1..13, client_errc 1..16, cancelled, timeout, transport.
    static constexpr std::size_t service_slots = 13, client_slots = 16;
    static constexpr std::size_t cancelled_slot = service_slots + client_slots, timeout_slot = cancelled_slot + 1,
                                 transport_slot = timeout_slot + 1, error_slots = transport_slot + 1;
    static std::size_t slot_of(const error_code& ec) noexcept;

    // Set when one thread makes every update (client_config::single_threaded: execute() runs on
    // the one thread that runs the client's executor): plain loads and stores then, no locked
    // read-modify-write; readers on other threads still see whole values.
    void single_writer(bool on) noexcept { single_writer_ = on; }
    void started() noexcept { add(in_flight_, 1); }
    void finished(operation_kind k, const error_code& ec, std::chrono::microseconds latency) noexcept;
    void quota_exhausted() noexcept { quota_exhausted_.fetch_add(1, std::memory_order_relaxed); }

    // Fills the per-call parts of `m` (calls, successes, failures, in flight, by error, quota,
    // operations).
    void snapshot(client_metrics& m) const;

private:
    bool single_writer_ = false;
    void add(std::atomic<std::uint64_t>& a, std::uint64_t d) noexcept { relaxed_add(a, d, single_writer_); }
    struct per_op {
        std::atomic<std::uint64_t> successes{0}, failures{0};
        latency_histogram latency;
    };
    std::atomic<std::uint64_t> in_flight_{0};
    std::atomic<std::uint64_t> quota_exhausted_{0};
    std::array<std::atomic<std::uint64_t>, error_slots> errors_{};
    std::array<per_op, operation_kind_count> ops_;
};

}  // namespace iotjobs::detail
