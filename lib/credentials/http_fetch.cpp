#include "credentials/http_fetch.hpp"

#include "http/proxy.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

namespace iotjobs::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

http::request<http::string_body> make_request(const http_fetch_request& req) {
    http::request<http::string_body> r;
    r.method_string(req.method);
    r.target(req.target);
    r.version(11);
    const bool v6 = req.host.find(':') != std::string::npos;
    std::string host = v6 ? "[" + req.host + "]" : req.host;
    if (req.port != (req.tls ? "443" : "80")) host += ":" + req.port;
    r.set(http::field::host, host);
    r.set(http::field::connection, "close");
    for (const auto& [n, v] : req.headers) r.set(n, v);
    r.body() = req.body;
    if (req.method != "GET" || !req.body.empty()) r.prepare_payload();
    return r;
}

template <class Stream>
asio::awaitable<error_code> exchange(Stream& stream, const http_fetch_request& req, http_fetch_response& out) {
    error_code ec;
    auto r = make_request(req);
    co_await http::async_write(stream, r, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return ec;
    beast::flat_buffer buf;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024);
    co_await http::async_read(stream, buf, parser, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
        if (ec.category() == make_error_code(http::error::bad_target).category())
            co_return make_error_code(client_errc::bad_response);
        co_return ec;
    }
    out.status = parser.get().result_int();
    out.body = std::move(parser.get().body());
    co_return error_code{};
}

// CONNECT req.host:req.port through `proxy` on `stream` (already connected to it).
asio::awaitable<error_code> tunnel(beast::tcp_stream& stream, const proxy_url& proxy, const http_fetch_request& req,
                                   http_fetch_response& out) {
    error_code ec;
    const std::string connect = connect_request(proxy, req.host, req.port);
    co_await asio::async_write(stream, asio::buffer(connect), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return ec;
    beast::flat_buffer buf;
    http::response_parser<http::empty_body> parser;
    parser.skip(true);  // the answer to CONNECT has no body to wait for
    co_await http::async_read_header(stream, buf, parser, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return ec;
    const unsigned status = parser.get().result_int();
    if (status < 200 || status > 299) {
        out.status = status;
        const auto reason = parser.get().reason();
        out.error_detail =
            connect_refused_message(proxy, req.host, req.port, status, std::string_view(reason.data(), reason.size()));
        co_return make_error_code(client_errc::proxy_error);
    }
    co_return error_code{};
}

}  // namespace

asio::awaitable<error_code> http_fetch(const http_fetch_request& req, http_fetch_response& out) {
    auto ex = co_await asio::this_coro::executor;
    error_code ec;
    beast::tcp_stream stream(ex);
    const auto deadline = std::chrono::steady_clock::now() + req.timeout;
    stream.expires_at(deadline);
    std::optional<proxy_url> proxy;
    if (req.env && *req.env && !never_proxied(req.host)) {
        std::string what;
        if (error_code pec = proxy_for(choose_proxy({}, *req.env, req.tls), req.host, req.port, proxy, what))
            co_return pec;
    }
    asio::ip::tcp::resolver resolver(ex);
    auto addrs = co_await resolver.async_resolve(proxy ? proxy->host : req.host, proxy ? proxy->port : req.port,
                                                 asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return ec;
    co_await stream.async_connect(addrs, asio::redirect_error(asio::use_awaitable, ec));
    if (ec && proxy) out.error_detail = "could not connect to the proxy " + proxy->display() + ": " + ec.message();
    if (ec) co_return ec;
    if (proxy) {
        ec = co_await tunnel(stream, *proxy, req, out);
        if (ec) co_return ec;
    }
    if (!req.tls) {
        ec = co_await exchange(stream, req, out);
        beast::error_code ignored;
        stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
        co_return ec;
    }
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    ctx.set_verify_mode(asio::ssl::verify_peer);
    if (req.ca_bundle.empty())
        ctx.set_default_verify_paths(ec);
    else
        ctx.load_verify_file(req.ca_bundle, ec);
    if (ec) co_return ec;
    beast::ssl_stream<beast::tcp_stream> tls(std::move(stream), ctx);
    tls.next_layer().expires_at(deadline);
    tls.set_verify_callback(asio::ssl::host_name_verification(req.host));
    error_code aec;
    (void)asio::ip::make_address(req.host, aec);
    if (aec && !SSL_set_tlsext_host_name(tls.native_handle(), req.host.c_str()))  // SNI for names only
        co_return error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category());
    co_await tls.async_handshake(asio::ssl::stream_base::client, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return ec;
    ec = co_await exchange(tls, req, out);
    co_return ec;
}

asio::awaitable<error_code> http_fetch_retrying(const http_fetch_request& req, http_fetch_response& out) {
    error_code ec;
    for (int attempt = 1; attempt <= 3; ++attempt) {
        out = {};
        ec = co_await http_fetch(req, out);
        if (!ec && out.status < 500) break;
        // A proxy that refused the tunnel with a 4xx (407: credentials, 403: not allowed) would
        // refuse again.
        if (ec == client_errc::proxy_error && out.status >= 400 && out.status < 500) break;
    }
    co_return ec;
}

}  // namespace iotjobs::detail
