// Per-endpoint pool of HTTP/1.1 keep-alive connections (TLS or plain) behind one call:
// exchange(request) -> response. Beast and OpenSSL stay in lib/http/*.cpp: the bookkeeping in
// pool_core.hpp, the pool's I/O in connection_pool.cpp, a connection's in connection.cpp.
#pragma once

#include "http/message.hpp"
#include "http/proxy.hpp"
#include "http/url.hpp"
#include "observe/logger.hpp"

#include <iotjobs/config.hpp>
#include <iotjobs/diagnostics.hpp>
#include <iotjobs/error.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace iotjobs::detail {

struct transport_settings {
    endpoint_url url;
    std::string ca_bundle;  // PEM file; empty = system trust store
    bool verify_peer = true;
    pool_config pool;
    timeout_config timeouts;
    // Non-empty: sent as "User-Agent: <this>" after the request's own headers (before the
    // Content-Length the transport adds), as if it were the request's last header.
    std::string user_agent;
    // Non-empty: the only response fields kept in http_response::headers (names compared
    // without case); the others are parsed (Connection still decides keep-alive) but not
    // copied. Empty: every field is kept.
    std::vector<std::string> response_headers;
    // With response_headers: fields also kept when the status is not 2xx (read only to judge an
    // error: a 2xx copies none of them).
    std::vector<std::string> error_response_headers;
    // Set: every connection is a tunnel through this HTTP proxy (CONNECT url.host:url.port after
    // the TCP connect to the proxy, bounded by the connect timeout; then TLS to url.host).
    std::optional<proxy_url> proxy;
    // The client's logger: the pool logs (once, at warn) when it runs out of file descriptors.
    logger log;
};

// The pool's counters (a snapshot).
struct pool_stats {
    std::uint64_t connects = 0;        // TCP connections opened
    std::uint64_t tls_handshakes = 0;  // full TLS handshakes
    std::uint64_t tls_resumed = 0;     // resumed TLS sessions
    std::uint64_t reuses = 0;          // requests sent on a kept-alive connection
    std::uint64_t idle = 0;            // connections idle now
    std::uint64_t leased = 0;          // connections in use or being opened now
    std::uint64_t waiting = 0;         // calls waiting for a connection now
};

// What happened during one exchange, for retry decisions.
struct exchange_info {
    bool reused_connection = false;               // sent on a kept-alive connection
    bool request_written = false;                 // the whole request was written: the server may have acted on it
    bool response_started = false;                // at least one response byte arrived
    bool timed_out = false;                       // a connect / handshake / attempt deadline fired
    timeout_phase timeout = timeout_phase::none;  // which one (pool_wait: acquire timeout)
    bool connect_failed = false;                  // the failure happened before the request could be written
    std::string detail;                           // non-empty: the failure in words (the proxy's refusal, ...)
};

class connection_pool {
public:
    virtual ~connection_pool() = default;

    // Sends the request `req` writes (Host and Content-Length are added; see request_writer) and
    // reads the whole response.
    // A connection is returned to the pool only after a complete response that allows keep-alive;
    // it is dropped on any error, on Connection: close and on cancellation. A failure on a reused
    // connection before any response byte is retried once on a new connection.
    // `attempt_timeout` bounds writing the request and reading the response (zero: none);
    // `deadline` (the operation's, max: none) also bounds waiting for a connection (which then
    // fails with pool_acquire_timeout), connecting and the TLS handshake (beast::error::timeout).
    // Running out of file descriptors while opening a connection fails nothing: the pool lowers
    // its capacity to the connections it has and the call waits for one (pool_core.hpp).
    // `waiting_since` (zero: now) is when the call began to wait for a connection: the acquire
    // timeout counts from then (a call that waited for admission before its first exchange).
    // After close(): client_errc::pool_closed, nothing sent.
    virtual boost::asio::awaitable<error_code> exchange(
        const request_writer& req, http_response& resp, exchange_info& info, duration attempt_timeout,
        std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max(),
        std::chrono::steady_clock::time_point waiting_since = {}) = 0;

    // Closes the idle connections (client::cancel()); the pool stays open.
    virtual void close_idle() = 0;

    // Closes the pool for good (client::shutdown()): idle connections are closed, calls waiting
    // for a connection and every later exchange() fail with client_errc::pool_closed, connections
    // in use are closed when their exchange ends.
    virtual void close() = 0;
    // True after close() (any thread).
    virtual bool closed() const noexcept = 0;

    virtual pool_stats stats() const = 0;
};

// Builds the pool (loads the CA bundle, sets up TLS). On failure returns nullptr, sets ec
// (client_errc::tls_setup_failed) and a message naming the problem.
std::shared_ptr<connection_pool> make_connection_pool(boost::asio::any_io_executor ex, transport_settings settings,
                                                      error_code& ec, std::string& what);

}  // namespace iotjobs::detail
