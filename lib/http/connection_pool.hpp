// Per-endpoint pool of HTTP/1.1 keep-alive connections (TLS or plain) behind one call:
// exchange(request) -> response. Beast and OpenSSL stay in connection_pool.cpp.
#pragma once

#include "http/message.hpp"
#include "http/proxy.hpp"
#include "http/url.hpp"

#include <iotjobs/client.hpp>
#include <iotjobs/config.hpp>
#include <iotjobs/diagnostics.hpp>
#include <iotjobs/error.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

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
    // Set: every connection is a tunnel through this HTTP proxy (CONNECT url.host:url.port after
    // the TCP connect to the proxy, bounded by the connect timeout; then TLS to url.host).
    std::optional<proxy_url> proxy;
};

// What happened during one exchange, for retry decisions.
struct exchange_info {
    bool reused_connection = false;  // sent on a kept-alive connection
    bool request_written = false;    // the whole request was written: the server may have acted on it
    bool response_started = false;   // at least one response byte arrived
    bool timed_out = false;          // a connect / handshake / attempt deadline fired
    timeout_phase timeout = timeout_phase::none;  // which one (pool_wait: acquire timeout)
    bool connect_failed = false;     // the failure happened before the request could be written
    std::string detail;              // non-empty: the failure in words (the proxy's refusal, ...)
};

class connection_pool {
public:
    virtual ~connection_pool() = default;

    // Sends `req` (Host and Content-Length are added) and reads the whole response.
    // A connection is returned to the pool only after a complete response that allows keep-alive;
    // it is dropped on any error, on Connection: close and on cancellation. A failure on a reused
    // connection before any response byte is retried once on a new connection.
    // `attempt_timeout` bounds writing the request and reading the response (zero: none);
    // `deadline` (the operation's, max: none) also bounds waiting for a connection (which then
    // fails with pool_acquire_timeout), connecting and the TLS handshake (beast::error::timeout).
    virtual boost::asio::awaitable<error_code> exchange(
        const http_request& req, http_response& resp, exchange_info& info, duration attempt_timeout,
        std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max()) = 0;

    // Closes idle connections and makes waiters fail with pool_closed... until reopen (cancel()).
    virtual void close_idle() = 0;

    virtual void add_stats(client_stats& s) const = 0;
};

// Builds the pool (loads the CA bundle, sets up TLS). On failure returns nullptr, sets ec
// (client_errc::tls_setup_failed) and a message naming the problem.
std::shared_ptr<connection_pool> make_connection_pool(boost::asio::any_io_executor ex, transport_settings settings,
                                                      error_code& ec, std::string& what);

}  // namespace iotjobs::detail
