// iotjobs::client: the handle every operation takes. Cheap to share: many coroutines, on one
// or more threads, may issue calls concurrently. It owns the connection pool, the signing-key
// cache, the retry quota, the adaptive rate limiter and the clock-skew correction.
#pragma once

#include <iotjobs/config.hpp>
#include <iotjobs/error.hpp>
#include <iotjobs/metrics.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <memory>

namespace iotjobs {
namespace detail { class client_impl; }

// Counters of a client's connection pool and retries (a snapshot).
struct client_stats {
    std::uint64_t connects = 0;          // TCP connections opened
    std::uint64_t tls_handshakes = 0;    // full TLS handshakes
    std::uint64_t tls_resumed = 0;       // resumed TLS sessions
    std::uint64_t reuses = 0;            // requests sent on a pooled (kept-alive) connection
    std::uint64_t idle = 0;              // connections idle in the pool now
    std::uint64_t leased = 0;            // connections in use now
    std::uint64_t waiting = 0;           // calls waiting for a connection now
    std::uint64_t requests = 0;          // attempts sent
    std::uint64_t retries = 0;           // attempts that were retries
    std::uint64_t throttled = 0;         // throttling responses received
};

class client {
public:
    // Throws std::system_error with client_errc::no_region, invalid_endpoint,
    // invalid_configuration or tls_setup_failed (what() names the problem).
    client(boost::asio::any_io_executor ex, client_config cfg);
    ~client();
    client(client&&) noexcept;
    client& operator=(client&&) noexcept;

    boost::asio::any_io_executor get_executor() const;
    const client_config& config() const;

    // Cancels every outstanding operation (they complete with operation_aborted) and closes
    // pooled connections. The client stays usable for new calls.
    void cancel();

    // Shuts the client down for good: calls waiting for a connection complete with
    // client_errc::pool_closed, the others in flight with operation_aborted (or their result, as
    // cancel()), pooled connections are closed, and every call started afterwards completes with
    // client_errc::pool_closed without sending anything. Any thread; idempotent.
    void shutdown();

    client_stats stats() const;

    // Counters and per-operation latency percentiles since the client was built
    // (include/iotjobs/metrics.hpp). Any thread, any time; allocates the snapshot's
    // failures_by_error vector. With client_config::metrics false, the per-call parts stay zero.
    client_metrics metrics() const;

    // The shared implementation (kept alive by running operations).
    const std::shared_ptr<detail::client_impl>& impl() const noexcept { return impl_; }

private:
    std::shared_ptr<detail::client_impl> impl_;
};

}  // namespace iotjobs
