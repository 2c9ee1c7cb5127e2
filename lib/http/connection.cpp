// One pooled connection's I/O: connect, proxy tunnel, TLS handshake, request and response.
#include "http/connection.hpp"

#include "http/proxy.hpp"
#include "http/response_sink.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <climits>
#include <cstring>
#include <stdexcept>

namespace iotjobs::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr std::size_t tls_read_size = 17 * 1024;  // a whole TLS record with its header
constexpr std::size_t min_read_size = 4 * 1024;   // plaintext read buffer, grows when a header needs it
constexpr std::size_t max_read_buffer = 1024 * 1024;

// Whatever ran on this thread meanwhile must not confuse SSL_get_error (which looks at the queue
// the way ERR_peek_error does: checking first spares clearing an empty queue).
void clear_ssl_errors() noexcept {
    if (ERR_peek_error() != 0) ERR_clear_error();
}

// Bytes the non-blocking socket takes right now (0 when it would block); ec for real errors.
std::size_t send_now(tcp::socket& s, const char* data, std::size_t size, error_code& ec) {
    std::size_t n = s.send(asio::const_buffer(data, size), 0, ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
        ec = {};
        n = 0;
    }
    return n;
}

asio::awaitable<error_code> send_rest(tcp::socket& s, const char* data, std::size_t size) {
    error_code ec;
    co_await asio::async_write(s, asio::const_buffer(data, size), asio::redirect_error(asio::use_awaitable, ec));
    co_return ec;
}

}  // namespace

asio::mutable_buffer socket_read_target(connection& c) {
    if (!c.ssl) return asio::mutable_buffer(c.rbuf.data() + c.rend, c.rbuf.size() - c.rend);
    c.tls.make_room(tls_read_size);
    return asio::mutable_buffer(c.tls.in.data() + c.tls.in_end, c.tls.in.size() - c.tls.in_end);
}

namespace {

// Books `n` bytes a socket read put at socket_read_target(c) into the TLS input; end of stream is
// noted, not an error.
error_code took_tls_input(connection& c, std::size_t n, error_code ec) {
    c.tls.in_end += n;
    if (ec == asio::error::eof) {
        c.tls.in_eof = true;
        ec = {};
    }
    clear_ssl_errors();
    return ec;
}

// Reads what the socket has into the TLS input buffer (the handshake's reads).
asio::awaitable<error_code> read_tls_input(connection& c) {
    error_code ec;
    std::size_t n =
        co_await c.sock.async_read_some(socket_read_target(c), asio::redirect_error(asio::use_awaitable, ec));
    co_return took_tls_input(c, n, ec);
}

}  // namespace

asio::awaitable<error_code> flush_tls_output(connection& c) {
    const error_code ec = co_await send_rest(c.sock, c.tls.out.data(), c.tls.out.size());
    c.tls.out.clear();
    co_return ec;
}

namespace {

// Writes the request (serialized into c.request_bytes, through TLS when there is TLS) straight
// into the socket; `rest` is what the kernel did not take, for the caller to send asynchronously
// (a plain call: no coroutine frame on the usual path, where the kernel takes everything).
error_code write_request_now(connection& c, std::string_view& rest) {
    const char* data = c.request_bytes.data();
    std::size_t size = c.request_bytes.size();
    if (c.ssl) {
        clear_ssl_errors();
        const int r = SSL_write(c.ssl, data, static_cast<int>(std::min<std::size_t>(size, INT_MAX)));
        if (r <= 0 || static_cast<std::size_t>(r) != size) {
            const int kind = SSL_get_error(c.ssl, r);
            return ssl_failure(kind == SSL_ERROR_WANT_READ || kind == SSL_ERROR_WANT_WRITE ? SSL_ERROR_SSL : kind,
                               c.tls);
        }
        data = c.tls.out.data();  // with anything OpenSSL had queued before (a key update answer)
        size = c.tls.out.size();
    }
    error_code ec;
    const std::size_t sent = send_now(c.sock, data, size, ec);
    if (!ec) rest = std::string_view(data + sent, size - sent);
    return ec;
}

// Room for at least min_read_size more plaintext bytes at the end of c.rbuf (compacts, then
// grows up to max_read_buffer: http::error::buffer_overflow beyond).
error_code make_read_room(connection& c) {
    if (c.rbegin == c.rend) c.rbegin = c.rend = 0;
    if (c.rbuf.size() - c.rend < min_read_size && c.rbegin > 0) {
        std::memmove(c.rbuf.data(), c.rbuf.data() + c.rbegin, c.rend - c.rbegin);
        c.rend -= c.rbegin;
        c.rbegin = 0;
    }
    if (c.rbuf.size() - c.rend < min_read_size) {
        if (c.rbuf.size() >= max_read_buffer) return http::error::buffer_overflow;
        c.rbuf.resize(std::max(c.rbuf.size() * 2, min_read_size * 2));
    }
    return {};
}

// Nothing a TLS read could use: no raw bytes buffered or held by OpenSSL, no end of stream or
// shutdown to report. SSL_read would only answer SSL_ERROR_WANT_READ.
bool tls_input_empty(const connection& c) {
    return c.tls.available() == 0 && !c.tls.in_eof && SSL_has_pending(c.ssl) == 0 && SSL_get_shutdown(c.ssl) == 0;
}

// Plaintext into c.rbuf (after make_read_room) from the TLS input already buffered. Plain HTTP
// has nothing buffered beyond c.rbuf: need_input.
read_step read_buffered(connection& c, exchange_info& info, error_code& ec) {
    if (!c.ssl || tls_input_empty(c)) return read_step::need_input;
    char* dst = c.rbuf.data() + c.rend;
    const std::size_t room = c.rbuf.size() - c.rend;
    const int r = SSL_read(c.ssl, dst, static_cast<int>(std::min<std::size_t>(room, INT_MAX)));
    if (r > 0) {
        c.rend += static_cast<std::size_t>(r);
        info.response_started = true;
        return read_step::data;
    }
    const int kind = SSL_get_error(c.ssl, r);
    if (kind == SSL_ERROR_WANT_READ) return read_step::need_input;
    if (kind == SSL_ERROR_WANT_WRITE) return read_step::need_flush;
    ec = ssl_failure(kind, c.tls);
    if (ec != asio::error::eof) return read_step::failed;  // e.g. stream_truncated, as asio::ssl reports it
    ec = {};
    return read_step::eof;  // close_notify
}

}  // namespace

read_step took_input(connection& c, exchange_info& info, std::size_t n, error_code& ec) {
    if (c.ssl) {
        if ((ec = took_tls_input(c, n, ec))) return read_step::failed;
        return read_buffered(c, info, ec);
    }
    c.rend += n;
    if (n > 0) info.response_started = true;
    if (ec == asio::error::eof) {
        ec = {};
        return read_step::eof;
    }
    return ec ? read_step::failed : read_step::data;
}

connection::connection(tcp::socket s)
    : deadline_entry(kind::step), sock(std::move(s)), fd(static_cast<int>(sock.native_handle())) {}

connection::~connection() {
    if (ssl) {
        // Freeing an SSL object that was not shut down marks its session "bad" (not resumable),
        // which would also spoil the session the pool keeps for resumption: connections are
        // dropped without a close_notify round trip, so say the shutdown happened.
        SSL_set_shutdown(ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
        SSL_free(ssl);  // frees the BIO too
    }
}

void connection::on_deadline() noexcept { ::shutdown(fd, SHUT_RDWR); }

asio::awaitable<error_code> connect_tcp(const connection_context& cx, const tcp::resolver::results_type& endpoints,
                                        duration timeout, std::unique_ptr<connection>& out, exchange_info& info) {
    // Beast's stream for its connect timeout, one deadline across the endpoint's addresses; its
    // per-operation timers are not wanted afterwards, so the socket leaves it. Each socket is
    // opened here rather than by a range connect: asio's range connect reports a socket it could
    // not open (EMFILE) as operation_aborted, and the pool must tell that case apart.
    beast::tcp_stream stream(co_await asio::this_coro::executor);
    if (timeout.count() > 0) stream.expires_after(timeout);
    error_code ec = asio::error::not_found;  // no address at all
    for (const auto& entry : endpoints) {
        error_code ignored;
        stream.socket().close(ignored);
        stream.socket().open(entry.endpoint().protocol(), ec);
        if (out_of_descriptors(ec)) co_return ec;
        if (ec) continue;
        co_await stream.async_connect(entry.endpoint(), asio::redirect_error(asio::use_awaitable, ec));
        if (!ec || ec == beast::error::timeout) break;
    }
    if (ec) {
        if (ec == beast::error::timeout || ec == asio::error::timed_out) {
            info.timed_out = true;
            info.timeout = timeout_phase::connect;
        }
        if (const auto& proxy = cx.settings.proxy)
            info.detail = "could not connect to the proxy " + proxy->display() + ": " + ec.message();
        co_return ec;
    }
    auto c = std::make_unique<connection>(stream.release_socket());
    c->sock.set_option(tcp::no_delay(true), ec);
    c->sock.non_blocking(true, ec);
    if (!ec) out = std::move(c);
    co_return ec;
}

asio::awaitable<error_code> tunnel(const connection_context& cx, connection& c, exchange_info& info, duration timeout) {
    const proxy_url& proxy = *cx.settings.proxy;
    const auto& url = cx.settings.url;
    step_guard step(cx.watch, c, timeout);
    const std::string req = connect_request(proxy, url.host, url.port);
    error_code ec = co_await send_rest(c.sock, req.data(), req.size());
    std::string head;
    std::size_t end = std::string::npos;
    while (!ec && end == std::string::npos) {
        char buf[2048];
        const std::size_t n =
            co_await c.sock.async_read_some(asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
        head.append(buf, n);
        end = head.find("\r\n\r\n");
        if (end == std::string::npos && head.size() > 16 * 1024) ec = make_error_code(client_errc::bad_response);
    }
    if (!step.finish()) {
        info.timed_out = true;
        info.timeout = timeout_phase::connect;
        info.detail = "the proxy " + proxy.display() + " did not answer CONNECT in time";
        co_return beast::error::timeout;
    }
    unsigned status = 0;
    std::string reason;
    if (!ec && !parse_connect_response(head, status, reason)) ec = make_error_code(client_errc::bad_response);
    if (ec) {
        info.detail = "the proxy " + proxy.display() + " failed during CONNECT " + url.host + ":" + url.port + ": " +
                      (ec == asio::error::eof ? std::string("it closed the connection") : ec.message());
        co_return ec;
    }
    if (status < 200 || status > 299) {
        info.detail = connect_refused_message(proxy, url.host, url.port, status, reason);
        co_return make_error_code(client_errc::proxy_error);
    }
    const std::string_view rest = std::string_view(head).substr(end + 4);
    if (!rest.empty() && cx.tls) {
        c.tls.make_room(rest.size());
        std::memcpy(c.tls.in.data() + c.tls.in_end, rest.data(), rest.size());
        c.tls.in_end += rest.size();
    } else if (!rest.empty()) {
        c.rbuf.assign(rest.begin(), rest.end());
        c.rbegin = 0;
        c.rend = rest.size();
    }
    co_return error_code{};
}

error_code tls_setup(const connection_context& cx, connection& c, SSL_SESSION* session) {
    const auto failed = make_error_code(client_errc::tls_setup_failed);
    c.ssl = SSL_new(cx.tls);
    BIO* bio = c.ssl ? make_buffer_bio(c.tls) : nullptr;
    if (!bio) return failed;
    SSL_set_bio(c.ssl, bio, bio);
    SSL_set_connect_state(c.ssl);
    SSL_set_mode(c.ssl, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_set_read_ahead(c.ssl, 1);
    const auto& host = cx.settings.url.host;
    error_code addr_ec;
    asio::ip::make_address(host, addr_ec);
    const bool is_ip = !addr_ec;
    if (!is_ip && !SSL_set_tlsext_host_name(c.ssl, host.c_str())) return failed;
    if (cx.settings.verify_peer) {
        X509_VERIFY_PARAM* param = SSL_get0_param(c.ssl);
        X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        const int ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str())
                             : X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
        if (!ok) return failed;
    }
    if (session) SSL_set_session(c.ssl, session);
    return {};
}

asio::awaitable<error_code> handshake(const connection_context& cx, connection& c, exchange_info& info,
                                      duration timeout) {
    step_guard step(cx.watch, c, timeout);
    error_code ec;
    ERR_clear_error();
    for (;;) {
        const int r = SSL_connect(c.ssl);
        const int kind = r == 1 ? SSL_ERROR_NONE : SSL_get_error(c.ssl, r);
        error_code failure;
        if (kind != SSL_ERROR_NONE && kind != SSL_ERROR_WANT_READ && kind != SSL_ERROR_WANT_WRITE)
            failure = ssl_failure(kind, c.tls);
        if (!c.tls.out.empty()) ec = co_await flush_tls_output(c);  // our flight, or a failure's alert
        if (failure) ec = failure;
        if (ec || kind == SSL_ERROR_NONE) break;
        if (kind == SSL_ERROR_WANT_READ && (ec = co_await read_tls_input(c))) break;
    }
    if (!step.finish()) {
        ec = beast::error::timeout;
        info.timed_out = true;
        info.timeout = timeout_phase::tls_handshake;
    }
    co_return ec;
}

error_code begin_request(const connection_context& cx, connection& c, const request_writer& req,
                         std::string_view& rest) {
    const auto& settings = cx.settings;
    c.request_bytes.clear();
    req.write(c.request_bytes, {settings.url.base_path, settings.url.host_header, settings.user_agent});
    const error_code ec = write_request_now(c, rest);
    if (c.ssl && (ec || rest.empty())) c.tls.out.clear();
    return ec;
}

asio::awaitable<error_code> send_request_rest(connection& c, std::string_view rest) {
    const error_code ec = co_await send_rest(c.sock, rest.data(), rest.size());
    if (c.ssl) c.tls.out.clear();
    co_return ec;
}

void begin_response(const connection_context& cx, connection& c, const request_writer& req) {
    c.parser.emplace(&cx.settings.response_headers, req.is_head(), &cx.settings.error_response_headers);
}

response_need advance_response(connection& c, exchange_info& info, read_step& step, error_code& ec) {
    response_sink& parser = *c.parser;
    for (;;) {
        switch (step) {
        case read_step::data:
            if ((ec = parser.feed(c.rbuf.data(), c.rbegin, c.rend))) return response_need::failed;
            if (parser.is_done()) return response_need::done;
            if ((ec = make_read_room(c))) return response_need::failed;
            step = read_buffered(c, info, ec);
            break;
        case read_step::need_input:
        case read_step::need_flush:
            if (c.ssl && !c.tls.out.empty()) return response_need::flush;  // OpenSSL speaks first
            if (step == read_step::need_input) return response_need::read;
            step = read_buffered(c, info, ec);
            break;
        case read_step::failed: return response_need::failed;
        case read_step::eof:
            // What Beast's read does: the end of a message delimited by the connection's end,
            // a truncated message, or no message at all.
            if (!parser.got_some()) {
                ec = http::error::end_of_stream;
                return response_need::failed;
            }
            parser.put_eof(ec);
            return ec ? response_need::failed : response_need::done;
        }
    }
}

void take_response(connection& c, http_response& resp, exchange_info& info, bool& keep) {
    response_sink& parser = *c.parser;
    info.response_started = true;
    resp.status = parser.status;
    resp.reason = std::move(parser.reason);
    resp.headers = std::move(parser.headers);
    resp.body = std::move(parser.body);
    // A body delimited by the end of the connection leaves nothing to reuse, nor do bytes
    // nobody asked for after the response.
    resp.keep_alive = parser.keep_alive() && !parser.need_eof();
    keep = resp.keep_alive && c.rbegin == c.rend && (!c.ssl || SSL_pending(c.ssl) == 0);
    if (c.rbegin == c.rend) c.rbegin = c.rend = 0;
}

namespace {
// Writes into memory sized beforehand (serialize_fields): a copy each, no capacity checks.
struct write_cursor {
    char* p;
    void put(std::string_view s) noexcept {
        std::memcpy(p, s.data(), s.size());
        p += s.size();
    }
    void put(char c) noexcept { *p++ = c; }
    void put_field(std::string_view name, std::string_view value) noexcept {
        put(name);
        put(": ");
        put(trim_ows(value));
        put("\r\n");
    }
};

constexpr std::string_view http_version = " HTTP/1.1\r\n";

// serialize_request() over any sequence of fields with `name` and `value`: the size first (every
// piece counted as it is written), then the bytes, straight into `out`.
template <class Fields>
void serialize_fields(std::string& out, std::string_view method, std::string_view path, std::string_view query,
                      const Fields& fields, std::string_view body, const wire_target& where) {
    constexpr std::size_t field_extra = 4;  // ": " and CRLF
    std::size_t need = method.size() + 1 + where.base_path.size() + path.size() + 1 + query.size() +
                       http_version.size() + where.host_header.size() + where.user_agent.size() + 2 * field_extra +
                       std::string_view("User-Agent").size() + std::string_view("Host").size() +
                       std::string_view("Content-Length: 18446744073709551615\r\n").size() + 2 + body.size();
    bool has_host = false;
    for (const auto& h : fields) {
        const std::string_view name = h.name;
        const std::string_view value = h.value;
        if (name.size() + 2 > 0xffff) throw std::length_error("field name too large");
        if (value.size() + 2 > 0xffff) throw std::length_error("field value too large");
        if (iequals(name, "host")) has_host = true;
        need += name.size() + value.size() + field_extra;
    }
    if (where.user_agent.size() + 2 > 0xffff) throw std::length_error("field value too large");
    const std::size_t start = out.size();
    out.resize(start + need);
    write_cursor c{out.data() + start};
    c.put(method);
    c.put(' ');
    c.put(where.base_path);
    c.put(path);
    if (!query.empty()) {
        c.put('?');
        c.put(query);
    }
    c.put(http_version);
    for (const auto& h : fields) {
        if (iequals(h.name, "content-length")) continue;
        c.put_field(h.name, h.value);
    }
    if (!where.user_agent.empty()) c.put_field("User-Agent", where.user_agent);
    if (!has_host) c.put_field("Host", where.host_header);
    if (!body.empty()) {
        c.put("Content-Length: ");
        const auto r = std::to_chars(c.p, c.p + 20, body.size());
        c.p = r.ptr;
        c.put("\r\n");
    } else if (method == "PUT" || method == "POST" || method == "DELETE" || method == "OPTIONS") {
        c.put("Content-Length: 0\r\n");
    }
    c.put("\r\n");
    c.put(body);
    out.resize(static_cast<std::size_t>(c.p - out.data()));
}
}  // namespace

void serialize_request(std::string& out, const request_parts& req, const wire_target& where) {
    serialize_fields(out, req.method, req.path, req.query, req.headers, req.body, where);
}

void http_request_writer::write(std::string& out, const wire_target& where) const {
    serialize_fields(out, req_.method, req_.target, {}, req_.headers, req_.body, where);
}

}  // namespace iotjobs::detail
