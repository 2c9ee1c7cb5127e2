// The fake server's network layer: the only translation unit of lib/fake that uses Beast.
#include "fake/server.hpp"

#include "fake/service.hpp"
#include "fake/tls_cert.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

#include <fstream>
#include <stdexcept>
#include <thread>

namespace iotjobs::fake {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using asio::awaitable;
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

namespace {

tcp::socket& raw_socket(tcp::socket& s) { return s; }
tcp::socket& raw_socket(asio::ssl::stream<tcp::socket>& s) { return s.next_layer(); }

void reset_connection(tcp::socket& s) {
    boost::system::error_code ec;
    s.set_option(asio::socket_base::linger(true, 0), ec);
    s.close(ec);
}

void close_connection(tcp::socket& s) {
    boost::system::error_code ec;
    s.shutdown(tcp::socket::shutdown_send, ec);
    s.close(ec);
}

std::pair<std::string, std::string> split_listen(const std::string& listen) {
    if (listen.starts_with('[')) {
        auto close = listen.find(']');
        if (close == std::string::npos || close + 1 >= listen.size() || listen[close + 1] != ':')
            throw std::invalid_argument("listen address: want [v6addr]:port, got '" + listen + "'");
        return {listen.substr(1, close - 1), listen.substr(close + 2)};
    }
    auto colon = listen.rfind(':');
    if (colon == std::string::npos) throw std::invalid_argument("listen address: want host:port, got '" + listen + "'");
    return {listen.substr(0, colon), listen.substr(colon + 1)};
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

struct server::impl {
    explicit impl(server_options o) : opts(std::move(o)), svc(opts) {}

    server_options opts;
    detail::service svc;
    std::optional<asio::ssl::context> ssl;
    std::string ca_pem;
    std::string url_host;
    std::uint16_t port = 0;
    bool running = false;
    // Declared last: destroyed first, so coroutine frames die before what they reference.
    std::vector<std::unique_ptr<asio::io_context>> contexts;
    std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
    std::unique_ptr<tcp::acceptor> acceptor;
    std::vector<std::thread> threads;

    awaitable<void> accept_loop() {
        std::size_t next = 0;
        for (;;) {
            auto& ctx = *contexts[next++ % contexts.size()];
            auto [ec, sock] = co_await acceptor->async_accept(ctx.get_executor(), tuple_awaitable);
            if (ec) {
                if (ec == asio::error::operation_aborted || !acceptor->is_open()) co_return;
                continue;  // e.g. EMFILE: keep serving
            }
            svc.count_connection();
            boost::system::error_code ignored;
            sock.set_option(tcp::no_delay(true), ignored);
            auto ex = sock.get_executor();
            if (ssl)
                asio::co_spawn(ex, serve_tls(std::move(sock)), asio::detached);
            else
                asio::co_spawn(ex, serve_plain(std::move(sock)), asio::detached);
        }
    }

    awaitable<void> serve_plain(tcp::socket sock) { co_await serve(sock); }

    awaitable<void> serve_tls(tcp::socket sock) {
        asio::ssl::stream<tcp::socket> stream(std::move(sock), *ssl);
        auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::server, tuple_awaitable);
        svc.count_handshake(!ec);
        if (ec) co_return;
        co_await serve(stream);
    }

    template <class Stream>
    awaitable<void> wait_ms(Stream& stream, double ms) {
        asio::steady_timer t(stream.get_executor());
        t.expires_after(fault_delay(ms));
        co_await t.async_wait(tuple_awaitable);
    }

    template <class Stream>
    awaitable<void> serve(Stream& stream) {
        boost::beast::flat_buffer buffer;
        std::vector<sigv4::header> headers;
        headers.reserve(16);
        detail::plan plan;
        std::string out;
        out.reserve(1024);
        for (;;) {
            http::request_parser<http::string_body> parser;
            parser.header_limit(16 * 1024);
            parser.body_limit(1024 * 1024);
            auto [ec, n] = co_await http::async_read(stream, buffer, parser, tuple_awaitable);
            (void)n;
            if (ec) {
                if (ec != http::error::end_of_stream && ec != asio::error::eof &&
                    ec != asio::error::operation_aborted && ec != asio::error::connection_reset &&
                    ec.category() != asio::error::get_ssl_category() && ec != asio::ssl::error::stream_truncated) {
                    // A malformed request: answer 400 like a front end would, then close.
                    static constexpr std::string_view bad =
                        "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: 31\r\n"
                        "Connection: close\r\n\r\n{\"message\":\"Malformed request\"}";
                    co_await asio::async_write(stream, asio::buffer(bad), tuple_awaitable);
                }
                close_connection(raw_socket(stream));
                co_return;
            }
            auto& req = parser.get();
            headers.clear();
            for (auto& f : req) headers.push_back(sigv4::header{f.name_string(), f.value()});
            detail::request_in in{req.method_string(), req.target(), headers, req.body(), req.keep_alive()};
            svc.admit(in, plan);
            if (plan.latency_ms > 0) co_await wait_ms(stream, plan.latency_ms);
            if (plan.reset_before) {
                svc.count_no_response(plan);
                reset_connection(raw_socket(stream));
                co_return;
            }
            svc.respond(in, plan, out);
            if (plan.reset_after) {
                svc.count_no_response(plan);
                reset_connection(raw_socket(stream));
                co_return;
            }
            if (plan.stall) {
                if (plan.stall_ms > 0) {
                    co_await wait_ms(stream, plan.stall_ms);
                } else {
                    // Never answer: hold the connection until the peer gives up (or the server stops).
                    svc.count_no_response(plan);
                    char sink[256];
                    for (;;) {
                        auto [rec, got] = co_await stream.async_read_some(asio::buffer(sink), tuple_awaitable);
                        (void)got;
                        if (rec) break;
                    }
                    close_connection(raw_socket(stream));
                    co_return;
                }
            }
            if (plan.truncate) {
                auto half = out.size() / 2;
                co_await asio::async_write(stream, asio::buffer(out.data(), half), tuple_awaitable);
                close_connection(raw_socket(stream));
                co_return;
            }
            auto [wec, written] = co_await asio::async_write(stream, asio::buffer(out), tuple_awaitable);
            (void)written;
            if (wec) {
                close_connection(raw_socket(stream));
                co_return;
            }
            if (!in.keep_alive || plan.close) {
                close_connection(raw_socket(stream));
                co_return;
            }
        }
    }
};

server::server(server_options opts) : impl_(std::make_unique<impl>(std::move(opts))) {}
server::~server() { stop(); }

void server::start() {
    auto& m = *impl_;
    if (m.running) return;
    if (m.opts.tls) {
        m.ssl.emplace(asio::ssl::context::tls_server);
        m.ssl->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                           asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                           asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
        std::string cert, key;
        if (!m.opts.tls_cert_file.empty() || !m.opts.tls_key_file.empty()) {
            if (m.opts.tls_cert_file.empty() || m.opts.tls_key_file.empty())
                throw std::invalid_argument("TLS needs both a certificate and a key file");
            cert = read_file(m.opts.tls_cert_file);
            key = read_file(m.opts.tls_key_file);
        } else {
            auto g = detail::generate_certs();
            m.ca_pem = g.ca_pem;
            cert = g.cert_pem;
            key = g.key_pem;
        }
        m.ssl->use_certificate_chain(asio::buffer(cert));
        m.ssl->use_private_key(asio::buffer(key), asio::ssl::context::pem);
    }
    auto [host, port_text] = split_listen(m.opts.listen);
    auto addr_text = host == "localhost" ? std::string("127.0.0.1") : host;
    auto addr = asio::ip::make_address(addr_text);
    int port_num = std::stoi(port_text);
    if (port_num < 0 || port_num > 65535) throw std::invalid_argument("listen port out of range");

    unsigned n = m.opts.threads ? m.opts.threads : 1;
    for (unsigned i = 0; i < n; ++i) {
        m.contexts.push_back(std::make_unique<asio::io_context>(1));
        m.guards.push_back(asio::make_work_guard(*m.contexts.back()));
    }
    tcp::endpoint ep(addr, static_cast<std::uint16_t>(port_num));
    m.acceptor = std::make_unique<tcp::acceptor>(*m.contexts[0]);
    m.acceptor->open(ep.protocol());
    m.acceptor->set_option(asio::socket_base::reuse_address(true));
    m.acceptor->bind(ep);
    m.acceptor->listen(asio::socket_base::max_listen_connections);
    m.port = m.acceptor->local_endpoint().port();
    m.url_host = addr.is_v6() ? "[" + host + "]" : host;
    asio::co_spawn(*m.contexts[0], m.accept_loop(), asio::detached);
    for (auto& ctx : m.contexts) m.threads.emplace_back([c = ctx.get()] { c->run(); });
    m.running = true;
}

void server::stop() {
    auto& m = *impl_;
    if (!m.running) return;
    m.running = false;
    for (auto& ctx : m.contexts) ctx->stop();
    for (auto& t : m.threads) t.join();
    m.threads.clear();
    m.guards.clear();
    m.acceptor.reset();
    m.contexts.clear();  // destroys pending coroutine frames and their sockets
}

std::string server::base_url() const {
    return std::string(impl_->ssl ? "https://" : "http://") + impl_->url_host + ":" + std::to_string(impl_->port);
}
std::uint16_t server::port() const { return impl_->port; }
bool server::tls() const { return impl_->opts.tls; }
const std::string& server::ca_pem() const { return impl_->ca_pem; }
void server::write_ca_file(const std::string& path) const {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << impl_->ca_pem;
    if (!out.flush()) throw std::runtime_error("cannot write " + path);
}

struct stats server::stats() const {
    return impl_->svc.stats();
}
std::string server::stats_json() const { return impl_->svc.stats_json(); }
void server::add_executions(std::span<const execution> items) {
    impl_->svc.add(std::vector<execution>(items.begin(), items.end()));
}
void server::generate(const generate_options& g) { impl_->svc.generate(g); }
std::vector<execution> server::executions() const { return impl_->svc.executions(); }
std::optional<execution> server::find(std::string_view thing, std::string_view job, std::int64_t number) const {
    return impl_->svc.find(thing, job, number);
}
std::size_t server::execution_count() const { return impl_->svc.execution_count(); }
void server::set_faults(std::vector<fault_rule> rules, std::optional<std::uint64_t> seed) {
    impl_->svc.set_faults(std::move(rules), seed);
}
void server::set_rate_limits(std::vector<rate_limit> limits) { impl_->svc.set_rate_limits(std::move(limits)); }
void server::set_rate_limit_scope(rate_limit_scope scope) { impl_->svc.set_rate_limit_scope(scope); }
void server::set_clock_offset(std::chrono::seconds offset) { impl_->svc.set_clock_offset(offset); }

}  // namespace iotjobs::fake
