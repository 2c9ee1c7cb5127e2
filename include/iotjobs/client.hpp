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
namespace detail {
class client_impl;
struct access;
}  // namespace detail

// Counters of a client's connection pool and retries (a snapshot; client::metrics() holds the
// same figures and more).
struct client_stats {
    std::uint64_t connects = 0;        // TCP connections opened
    std::uint64_t tls_handshakes = 0;  // full TLS handshakes
    std::uint64_t tls_resumed = 0;     // resumed TLS sessions
    std::uint64_t reuses = 0;          // requests sent on a pooled (kept-alive) connection
    std::uint64_t idle = 0;            // connections idle in the pool now
    std::uint64_t leased = 0;          // connections in use now
    std::uint64_t waiting = 0;         // calls waiting for a connection now
    std::uint64_t requests = 0;        // attempts sent
    std::uint64_t retries = 0;         // attempts that were retries
    std::uint64_t throttled = 0;       // throttling responses received
};

// The handle every operation takes (delete_job_execution.hpp, describe_job_execution.hpp,
// list_job_executions.hpp, bulk_delete.hpp).
//
// Executor: operations run on the executor given to the constructor (each on a strand of its own
// over it, unless client_config::single_threaded); that executor's execution context must outlive
// the client and every operation started on it.
// Thread safety: every member function may be called from any thread, concurrently with each
// other and with running operations, except that the handle itself (like any object) must not be
// moved, assigned or destroyed while another thread uses it.
// Lifetimes: operations, pagers and bulk list sources share the client's implementation, so the
// handle may be moved or destroyed while they run; they keep the pool and its connections alive
// until they complete.
class client {
public:
    // Builds the client: resolves the endpoint and region, reads static credentials (from the
    // configuration, the environment or the profile), loads the CA bundle. Does no I/O on the
    // network; temporary credentials are fetched on the first call.
    // Throws boost::system::system_error with client_errc::no_region, invalid_endpoint,
    // invalid_configuration or tls_setup_failed; what() names the problem (never a secret).
    client(boost::asio::any_io_executor ex, client_config cfg);
    // Running operations keep going (they share the implementation); nothing is cancelled.
    ~client();
    // A moved-from client must only be destroyed or assigned to.
    client(client&&) noexcept;
    client& operator=(client&&) noexcept;

    // The executor given to the constructor.
    boost::asio::any_io_executor get_executor() const;
    // The configuration in use (after the constructor's normalisation, e.g. a FIPS region name).
    const client_config& config() const;

    // Cancels every outstanding operation (they complete with operation_aborted) and closes
    // pooled connections. The client stays usable for new calls. A bulk run is not stopped by it
    // (its calls in flight are aborted and reported as failed); cancel the run through its token.
    void cancel();

    // Shuts the client down for good: calls waiting for a connection complete with
    // client_errc::pool_closed, the others in flight with operation_aborted (or their result, as
    // cancel()), pooled connections are closed, and every call started afterwards completes with
    // client_errc::pool_closed without sending anything. Any thread; idempotent.
    void shutdown();

    // Counters of the pool and of attempts, as of now (relaxed reads: see metrics.hpp).
    client_stats stats() const;

    // Counters and per-operation latency percentiles since the client was built
    // (include/iotjobs/metrics.hpp). Any thread, any time; allocates the snapshot's
    // failures_by_error vector. With client_config::metrics false, the per-call parts stay zero.
    client_metrics metrics() const;

private:
    friend struct detail::access;
    // The shared implementation: running operations, pagers and bulk sources hold it too, so the
    // handle may be moved or destroyed while they run.
    std::shared_ptr<detail::client_impl> impl_;
};

}  // namespace iotjobs
