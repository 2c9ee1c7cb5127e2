// One pooled connection and the I/O on it: TCP connect (Beast's tcp_stream, for its connect timeout
// across the endpoint's addresses), the proxy tunnel, TLS with OpenSSL straight over the
// connection's own buffers (conn_io.hpp), requests serialized by hand, responses parsed by Beast's
// basic_parser (response_sink.hpp). Which connection a call uses, and when a step's deadline
// fires, are the pool's (connection_pool.cpp, pool_core.hpp); only lib/http/*.cpp include this.
#pragma once

#include "http/conn_io.hpp"
#include "http/connection_pool.hpp"
#include "http/pool_core.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/errc.hpp>

#include <openssl/ssl.h>

#include <memory>
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
    std::vector<char> rbuf;     // response bytes (plaintext) not parsed yet: [rbegin, rend)
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
    step_guard(step_watch& w, connection& c, duration timeout) : watch_(w), conn_(c) { watch_.start(conn_, timeout); }
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

// One request and its response on `c`, under the deadline the caller started. `keep` says whether
// the connection may carry another request; the caller drops it on any error and when not.
boost::asio::awaitable<error_code> send_receive(const connection_context& cx, connection& c, const http_request& req,
                                                http_response& resp, exchange_info& info, bool& keep);

// Appends to `out` the bytes of `req` as Beast's serializer writes a request<string_body>
// (method_string, target base_path + req.target, HTTP/1.1, each header in order with its value
// trimmed of spaces and tabs, Host set when absent, prepare_payload(), Content-Length: 0 for an
// empty PUT/POST/DELETE/OPTIONS), without building a Beast message: no per-request field
// allocations and one contiguous buffer to write. Content-Length is the transport's: a request
// header of that name is dropped, as set() would replace it. `user_agent` (non-empty) follows the
// request's own headers. Throws std::length_error where basic_fields would (name or value over 65533).
void serialize_request(std::string& out, const http_request& req, std::string_view base_path,
                       std::string_view host_header, std::string_view user_agent);

}  // namespace iotjobs::detail
