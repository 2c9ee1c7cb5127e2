// A snapshot of a client's metrics: client::metrics().
//
// Thread safety: the client updates its counters with relaxed atomics (no lock on the hot path);
// metrics() may be called from any thread at any time. A snapshot is not atomic as a whole: taken
// while calls run, counters read a few nanoseconds apart may disagree by the calls that completed
// in between (a histogram's count is the sum of its buckets, so its percentiles always agree with
// its count). Taken while nothing runs, every figure is exact.
#pragma once

#include <iotjobs/error.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace iotjobs {

// The operations metrics are kept for (other: a request the client built for no named operation).
enum class operation_kind {
    delete_job_execution,
    list_job_executions_for_job,
    list_job_executions_for_thing,
    describe_job_execution,
    cancel_job_execution,
    other,
};
inline constexpr std::size_t operation_kind_count = 6;
// "DeleteJobExecution", ..., "other".
std::string_view to_string(operation_kind k) noexcept;

// Latencies of calls, from a log-linear histogram: 64 buckets per power of two (a value is reported
// within 1.6 %: about two significant digits) from 1 us up to 2^27 us (134 s; longer calls count in
// the last bucket; `max` is exact). A percentile is the upper bound of the bucket holding the value
// of that rank (rank = ceil(q * count)), capped at `max`. All zero when count is zero.
struct latency_summary {
    std::uint64_t count = 0;
    std::chrono::microseconds mean{0};
    std::chrono::microseconds p50{0};
    std::chrono::microseconds p90{0};
    std::chrono::microseconds p99{0};
    std::chrono::microseconds max{0};
};

struct operation_metrics {
    std::string_view name;    // to_string(kind)
    std::uint64_t calls = 0;  // calls completed (successes + failures)
    std::uint64_t successes = 0;
    std::uint64_t failures = 0;
    // Whole calls, from the start of the attempt loop to its end: credentials, rate-limiter and
    // pool waits, every attempt and backoff included (validation and completion dispatch not).
    latency_summary latency;
};

// Failures counted by error. `code` is the error itself for service_errc and client_errc codes,
// asio::error::operation_aborted (cancelled) and beast::error::timeout; the "transport" slot
// (any other Asio/SSL/Beast code: resets, refused connections, TLS failures) has no code.
struct error_count {
    error_code code;        // empty for the transport slot
    std::string_view kind;  // "service", "client", "cancelled", "timeout", "transport"
    std::uint64_t count = 0;
};

struct client_metrics {
    // Calls: operations that passed validation and entered the attempt loop (a request refused by
    // validation is completed before it and not counted).
    std::uint64_t calls_started = 0;
    std::uint64_t successes = 0;                 // calls completed without error
    std::uint64_t failures = 0;                  // calls completed with an error (cancelled ones included)
    std::uint64_t in_flight = 0;                 // calls started and not yet completed
    std::vector<error_count> failures_by_error;  // non-zero slots only; at most 32 entries
    // Attempts.
    std::uint64_t requests = 0;               // attempts sent (as client_stats::requests)
    std::uint64_t retries = 0;                // attempts that were retries
    std::uint64_t throttled = 0;              // throttling answers received (each attempt counts)
    std::uint64_t retry_quota_exhausted = 0;  // retries refused because the retry quota was empty
    // Connections (the pool).
    std::uint64_t connections_opened = 0;      // TCP connections opened
    std::uint64_t tls_handshakes = 0;          // full TLS handshakes
    std::uint64_t tls_resumed = 0;             // TLS sessions resumed
    std::uint64_t connections_reused = 0;      // requests sent on a kept-alive connection
    std::uint64_t connections_idle = 0;        // now
    std::uint64_t connections_leased = 0;      // now (in use, or being opened)
    std::uint64_t waiting_for_connection = 0;  // calls waiting for a free connection now
    // Per operation, indexed by operation_kind.
    std::array<operation_metrics, operation_kind_count> operations{};

    const operation_metrics& operation(operation_kind k) const noexcept {
        return operations[static_cast<std::size_t>(k)];
    }
};

}  // namespace iotjobs
