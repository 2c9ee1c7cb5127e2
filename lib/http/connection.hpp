// One pooled connection and the I/O on it: TCP connect (Beast's tcp_stream, for its connect timeout
// across the endpoint's addresses), the proxy tunnel, TLS with OpenSSL straight over the
// connection's own buffers (conn_io.hpp), requests serialized by hand, responses parsed by Beast's
// basic_parser (response_sink.hpp). Which connection a call uses, and when a step's deadline
// fires, are the pool's (connection_pool.cpp, pool_core.hpp); only lib/http/*.cpp include this.
#pragma once

#include "http/conn_io.hpp"
#include "http/connection_pool.hpp"
#include "http/pool_core.hpp"
#include "http/response_sink.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/errc.hpp>

#include <openssl/ssl.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace iotjobs::detail {

// A TCP connection, TLS or plain. Its socket is non-blocking: requests are sent straight away
// (asynchronously only for what the kernel does not take), responses read with async_read_some.
// As a deadline_entry it is on the pool's deadline list while a step with a deadline runs.
struct connection : deadline_entry {
    explicit connection(boost::asio::ip::tcp::socket s);
    ~connection();
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;

    // The step's deadline passed: ::shutdown the socket (safe from any thread), which ends the
    // pending read or write; the step then reports beast::error::timeout.
    void on_deadline() noexcept;

    boost::asio::ip::tcp::socket sock;
    int fd;
    SSL* ssl = nullptr;         // null: plain HTTP
    tls_buffers tls;            // raw TLS bytes (TLS only)
    std::string request_bytes;  // the serialized request, reused (its capacity) across requests
    // The parser of the response being read (one at a time on a connection): here rather than in
    // each call's coroutine frame.
    std::optional<response_sink> parser;
    std::vector<char> rbuf;  // response bytes (plaintext) not parsed yet: [rbegin, rend)
    std::size_t rbegin = 0;
    std::size_t rend = 0;
    bool used = false;  // a response was read on it
};

// Where a connection's steps register their deadlines (the pool).
class step_watch {
public:
    // `timeout` zero: no deadline.
    virtual void start(connection& c, duration timeout) = 0;
    // False when the deadline fired during the step.
    virtual bool finish(connection& c) = 0;

protected:
    ~step_watch() = default;
};

// A step under a deadline: started on construction, finished by finish() or on destruction.
class step_guard {
public:
    // `started`: the owner started the step already (with the connection's lease, under one lock).
    step_guard(step_watch& w, connection& c, duration timeout, bool started = false) : watch_(w), conn_(c) {
        if (!started) watch_.start(conn_, timeout);
    }
    ~step_guard() {
        if (!done_) watch_.finish(conn_);
    }
    step_guard(const step_guard&) = delete;
    step_guard& operator=(const step_guard&) = delete;
    // False when the deadline fired during the step.
    bool finish() {
        done_ = true;
        return watch_.finish(conn_);
    }
    // The owner ends the step itself (with the connection's return, under one lock).
    void dismiss() noexcept { done_ = true; }

private:
    step_watch& watch_;
    connection& conn_;
    bool done_ = false;
};

// What the connections of one pool share: the settings, the TLS context (null: plain HTTP) and
// the pool's step deadlines.
struct connection_context {
    const transport_settings& settings;
    SSL_CTX* tls;
    step_watch& watch;
};

// EMFILE (this process) or ENFILE (the system): no file descriptor for a socket.
inline bool out_of_descriptors(const error_code& ec) noexcept {
    return ec == boost::system::errc::too_many_files_open || ec == boost::system::errc::too_many_files_open_in_system;
}

// TCP connect to one of `endpoints` (no_delay, non-blocking), under `timeout` (zero: none).
// On a timeout info.timed_out / timeout_phase::connect are set; through a proxy, info.detail.
// A socket that cannot be opened for want of descriptors fails at once (out_of_descriptors).
boost::asio::awaitable<error_code> connect_tcp(const connection_context& cx,
                                               const boost::asio::ip::tcp::resolver::results_type& endpoints,
                                               duration timeout, std::unique_ptr<connection>& out, exchange_info& info);

// CONNECT url.host:url.port through the proxy on a fresh connection to it, under `timeout` (a
// connect-phase deadline). Bytes after the proxy's answer are kept for TLS or the first response.
boost::asio::awaitable<error_code> tunnel(const connection_context& cx, connection& c, exchange_info& info,
                                          duration timeout);

// The SSL object of `c` (SNI, host name or IP verification) resuming `session` when not null.
// client_errc::tls_setup_failed when OpenSSL refuses.
error_code tls_setup(const connection_context& cx, connection& c, SSL_SESSION* session);

// The TLS handshake under `timeout`.
boost::asio::awaitable<error_code> handshake(const connection_context& cx, connection& c, exchange_info& info,
                                             duration timeout);

// One request and its response on `c`, as plain steps around the awaits of the caller's one
// coroutine (the pool's exchange(), under the deadline it started; no coroutine frame of their
// own on the usual path):
//
//   begin_request; if `rest` is not empty, co_await send_request_rest;
//   begin_response; step = read_step::data;
//   until advance_response(step) says done or failed: flush -> co_await flush_tls_output;
//       read -> co_await c.sock.async_read_some(socket_read_target(c)), step = took_input;
//   take_response.
//
// The caller drops the connection on any error, and when take_response's `keep` is false.

// Writes the request `req` writes into the connection's buffer and as much of it as the socket
// takes now (through TLS when there is TLS); `rest` is what the kernel did not take.
error_code begin_request(const connection_context& cx, connection& c, const request_writer& req,
                         std::string_view& rest);
// Sends the rest of the request asynchronously.
boost::asio::awaitable<error_code> send_request_rest(connection& c, std::string_view rest);
// Sends what OpenSSL queued in c.tls.out (a handshake flight, an alert, a key update answer).
boost::asio::awaitable<error_code> flush_tls_output(connection& c);

// What taking more of a response out of what is already buffered gave.
enum class read_step {
    data,        // plaintext bytes were added to c.rbuf (or: parse what is buffered)
    eof,         // the peer closed (close_notify under TLS)
    need_input,  // read the socket (after sending what OpenSSL queued, if anything)
    need_flush,  // send what OpenSSL queued, then try again
    failed,
};
// What the response needs next.
enum class response_need { done, read, flush, failed };

// A new parser (the connection's) for the response to `req`.
void begin_response(const connection_context& cx, connection& c, const request_writer& req);
// Parses what is buffered and takes more from the TLS input, from `step` on, until the response is
// done, the socket must be read, OpenSSL's output sent (then call again with the same step), or
// it failed (`ec`).
response_need advance_response(connection& c, exchange_info& info, read_step& step, error_code& ec);
// Where the next socket read goes: the TLS input (TLS) or the plaintext buffer (plain HTTP).
boost::asio::mutable_buffer socket_read_target(connection& c);
// Books a socket read of `n` bytes (and its `ec`) into socket_read_target(c): the next step.
read_step took_input(connection& c, exchange_info& info, std::size_t n, error_code& ec);
// Moves the parsed response into `resp`; `keep`: the connection may carry another request.
void take_response(connection& c, http_response& resp, exchange_info& info, bool& keep);

}  // namespace iotjobs::detail
