// Connection pool: TCP connect with DNS caching (Beast's tcp_stream, for its connect timeout), TLS
// with OpenSSL straight over the connection's buffers (verified, SNI, session resumption), requests
// serialized by hand, responses parsed by Beast's basic_parser, HTTP/1.1 keep-alive, per-step
// deadlines from one lazy watchdog per connection, FIFO waiters with an acquire timeout.
#include "http/connection_pool.hpp"

#include "http/conn_io.hpp"
#include "http/response_sink.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <boost/beast/http/status.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <sys/socket.h>

#include <climits>
#include <cstring>
#include <atomic>
#include <charconv>
#include <deque>
#include <stdexcept>
#include <mutex>
#include <optional>

namespace iotjobs::detail {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;


constexpr std::size_t tls_read_size = 17 * 1024;   // a whole TLS record with its header
constexpr std::size_t min_read_size = 4 * 1024;     // plaintext read buffer, grows when a header needs it
constexpr std::size_t max_read_buffer = 1024 * 1024;

// A step's timeout (zero: none) cut to what is left before `deadline` (max: none); at least 1 ns,
// so that a deadline already past still bounds the step.
duration bounded(duration step, clock_type::time_point deadline) {
    if (deadline == clock_type::time_point::max()) return step;
    const duration left = std::max<duration>(deadline - clock_type::now(), duration(1));
    return step.count() > 0 ? std::min(step, left) : left;
}

// One TCP connection, TLS or plain. Its socket is non-blocking: requests are sent straight away
// (asynchronously only for what the kernel does not take), responses read with async_read_some.
struct connection {
    explicit connection(tcp::socket s) : sock(std::move(s)), fd(static_cast<int>(sock.native_handle())) {}
    tcp::socket sock;
    int fd;
    SSL* ssl = nullptr;  // null: plain HTTP
    tls_buffers tls;     // raw TLS bytes (TLS only)
    // While a step with a deadline runs, the connection is on the pool's watch list (these fields
    // are the pool mutex's; `watched` only changes on the step's own thread).
    clock_type::time_point deadline = clock_type::time_point::max();
    connection* watch_prev = nullptr;
    connection* watch_next = nullptr;
    bool watched = false;
    bool fired = false;
    std::string request_bytes;  // the serialized request, reused (its capacity) across requests
    std::vector<char> rbuf;     // response bytes (plaintext) not parsed yet: [rbegin, rend)
    std::size_t rbegin = 0;
    std::size_t rend = 0;
    clock_type::time_point idle_since{};
    bool used = false;

    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;
    ~connection() {
        if (ssl) {
            // Freeing an SSL object that was not shut down marks its session "bad" (not
            // resumable), which would also spoil the session we keep for resumption: we drop
            // connections without a close_notify round trip, so say the shutdown happened.
            SSL_set_shutdown(ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
            SSL_free(ssl);  // frees the BIO too
        }
    }
};

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

// Appends to `out` exactly the bytes Beast's serializer writes for `req` as the Beast-based transport built it
// before (request<string_body>: method_string, target base_path + req.target, HTTP/1.1, each
// header inserted in order with its value trimmed of spaces and tabs, Host set when absent,
// prepare_payload(), Content-Length: 0 for an empty PUT/POST/DELETE), without building a Beast
// message: no per-request field allocations and one contiguous buffer to write. Content-Length is
// the transport's: a request header of that name (which the client never adds) is dropped, as set()
// would replace it. Throws std::length_error where basic_fields would (name or value over 65533).
void serialize_request(std::string& out, const http_request& req, std::string_view base_path,
                       std::string_view host_header, std::string_view user_agent) {
    auto trim = trim_ows;
    std::size_t need = req.method.size() + base_path.size() + req.target.size() + 64 + host_header.size() +
                       user_agent.size() + req.body.size();
    for (const auto& h : req.headers) need += h.name.size() + h.value.size() + 4;
    out.reserve(out.size() + need);
    out += req.method;
    out += ' ';
    out += base_path;
    out += req.target;
    out += " HTTP/1.1\r\n";
    bool has_host = false;
    for (const auto& h : req.headers) {
        if (h.name.size() + 2 > 0xffff) throw std::length_error("field name too large");
        if (h.value.size() + 2 > 0xffff) throw std::length_error("field value too large");
        if (iequals(h.name, "host")) has_host = true;
        if (iequals(h.name, "content-length")) continue;
        out += h.name;
        out += ": ";
        out += trim(h.value);
        out += "\r\n";
    }
    if (!user_agent.empty()) {
        if (user_agent.size() + 2 > 0xffff) throw std::length_error("field value too large");
        out += "User-Agent: ";
        out += trim(user_agent);
        out += "\r\n";
    }
    if (!has_host) {
        out += "Host: ";
        out += trim(host_header);
        out += "\r\n";
    }
    const std::string_view m = req.method;
    if (!req.body.empty()) {
        char digits[24];
        auto [end, dec] = std::to_chars(digits, digits + sizeof digits, req.body.size());
        (void)dec;
        out += "Content-Length: ";
        out.append(digits, end);
        out += "\r\n";
    } else if (m == "PUT" || m == "POST" || m == "DELETE" || m == "OPTIONS") {
        out += "Content-Length: 0\r\n";
    }
    out += "\r\n";
    out += req.body;
}

// A waiter for a free connection slot. Its coroutine sleeps on `timer` (set to the acquire
// deadline), which release() cancels to wake it; the pending wait is owned by the io_context, so
// destroying the context destroys the waiting coroutine (nothing in the pool holds its frame).
// All fields and timer operations are under the pool's mutex.
struct waiter {
    explicit waiter(asio::any_io_executor ex) : timer(std::move(ex)) {}
    asio::steady_timer timer;
    std::unique_ptr<connection> conn;  // granted connection (null: create a new one)
    bool granted = false;
    bool done = false;   // out of the line: granted, or given up
    bool taken = false;  // its coroutine has taken the outcome (or given the slot back)
};

class pool_impl final : public connection_pool, public std::enable_shared_from_this<pool_impl> {
public:
    pool_impl(asio::any_io_executor ex, transport_settings s, std::optional<asio::ssl::context> ctx)
        : ex_(std::move(ex)), settings_(std::move(s)), ssl_ctx_(std::move(ctx)) {}

    ~pool_impl() override {
        if (session_) SSL_SESSION_free(session_);
    }

    asio::awaitable<error_code> exchange(const http_request& req, http_response& resp, exchange_info& info,
                                         duration attempt_timeout, clock_type::time_point deadline) override {
        info = {};
        bool written_before = false;  // a round before a stale-connection retry wrote the request
        for (int round = 0; round < 2; ++round) {
            std::unique_ptr<connection> conn;
            error_code ec;
            if (!try_acquire(conn)) ec = co_await acquire(conn, deadline);  // the coroutine only to wait in line
            if (ec) {
                if (ec == client_errc::pool_acquire_timeout) info.timeout = timeout_phase::pool_wait;
                info.connect_failed = true;
                co_return ec;
            }
            // From here the slot is ours: give it back on every path, exceptions included.
            slot_guard slot{this};
            if (!conn) {
                ec = co_await open(conn, info, deadline);
                if (ec) {
                    info.connect_failed = true;
                    co_return ec;  // the guard releases the slot
                }
                // Resolving and connecting ignore the cancellation slot: a cancellation that came
                // meanwhile is only recorded in the state. Nothing is written after it; the new
                // connection is kept for the next call.
                if ((co_await asio::this_coro::cancellation_state).cancelled() != asio::cancellation_type::none) {
                    info.connect_failed = true;
                    slot.active = false;
                    release(std::move(conn));
                    co_return asio::error::operation_aborted;
                }
            } else {
                reuses_.fetch_add(1, std::memory_order_relaxed);
                info.reused_connection = true;
            }
            exchange_info attempt;
            attempt.reused_connection = info.reused_connection;
            bool keep = false;
            {
                step_guard step(*this, *conn, attempt_timeout);
                ec = co_await send_receive(*conn, req, resp, attempt, keep);
                if (!step.finish()) {  // the deadline fired: the socket is shut down
                    keep = false;
                    if (ec) {  // (a response completed in the meantime still counts)
                        ec = beast::error::timeout;
                        attempt.timed_out = true;
                        attempt.timeout = timeout_phase::response;
                    }
                }
            }
            info.request_written = attempt.request_written || written_before;
            info.response_started = attempt.response_started;
            info.timed_out = attempt.timed_out;
            info.timeout = attempt.timeout;
            slot.active = false;
            release(ec || !keep ? nullptr : std::move(conn));
            if (!ec) co_return ec;
            // A kept-alive connection the server had already closed: retry once on a new
            // connection, without spending one of the caller's attempts. Only when the server
            // cannot have acted on the request: it was not completely written, or the answer was
            // a clean close (EOF, which a server sends between requests). A reset after the
            // request was written may follow processing: the caller must see it (and count it as
            // an attempt), or a retried delete's 404 would not be flagged as possibly ours.
            const bool clean_close = ec == asio::error::eof || ec == http::error::end_of_stream ||
                                     ec == asio::ssl::error::stream_truncated;
            bool stale = attempt.reused_connection && !attempt.response_started && !attempt.timed_out &&
                         ec != asio::error::operation_aborted && (!attempt.request_written || clean_close);
            if (!stale || round == 1) co_return ec;
            info.reused_connection = false;
            written_before = written_before || attempt.request_written;
            stale_retries_.fetch_add(1, std::memory_order_relaxed);
        }
        co_return make_error_code(client_errc::bad_response);  // not reached
    }

    // Releases a leased slot (as a dropped connection) unless the owner released it itself.
    struct slot_guard {
        explicit slot_guard(pool_impl* p) : pool(p) {}
        pool_impl* pool;
        bool active = true;
        slot_guard(const slot_guard&) = delete;
        slot_guard& operator=(const slot_guard&) = delete;
        ~slot_guard() {
            if (active) pool->release(nullptr);
        }
    };

    void close_idle() override {
        std::lock_guard lk(mutex_);
        total_ -= idle_.size();
        idle_.clear();
    }

    void add_stats(client_stats& s) const override {
        s.connects += connects_.load();
        s.tls_handshakes += handshakes_.load();
        s.tls_resumed += resumed_.load();
        s.reuses += reuses_.load();
        std::lock_guard lk(mutex_);
        s.idle += idle_.size();
        s.leased += leased_;
        s.waiting += waiters_.size();
    }

private:
    // ---- slots -------------------------------------------------------------------------------

    // acquire()'s fast path as a plain call: true with an idle connection or the right to open one
    // (conn stays null); false when the caller has to wait in line (then acquire() decides again).
    bool try_acquire(std::unique_ptr<connection>& out) {
        std::lock_guard lk(mutex_);
        auto now = clock_type::now();
        while (!idle_.empty()) {
            auto c = std::move(idle_.back());
            idle_.pop_back();
            if (settings_.pool.idle_timeout.count() > 0 && now - c->idle_since > settings_.pool.idle_timeout) {
                --total_;
                continue;
            }
            ++leased_;
            out = std::move(c);
            return true;
        }
        if (total_ < std::max<std::size_t>(settings_.pool.max_size, 1)) {
            ++total_;
            ++leased_;
            return true;
        }
        return false;
    }

    // Takes an idle connection, or the right to open one (conn stays null), or waits in line.
    asio::awaitable<error_code> acquire(std::unique_ptr<connection>& out, clock_type::time_point deadline) {
        std::shared_ptr<waiter> w;
        auto ex = co_await asio::this_coro::executor;  // never co_await under the lock
        {
            std::lock_guard lk(mutex_);
            auto now = clock_type::now();
            while (!idle_.empty()) {
                auto c = std::move(idle_.back());
                idle_.pop_back();
                if (settings_.pool.idle_timeout.count() > 0 && now - c->idle_since > settings_.pool.idle_timeout) {
                    --total_;
                    continue;
                }
                ++leased_;
                out = std::move(c);
                co_return error_code{};
            }
            if (total_ < std::max<std::size_t>(settings_.pool.max_size, 1)) {
                ++total_;
                ++leased_;
                co_return error_code{};
            }
            w = std::make_shared<waiter>(ex);
            const auto timeout = bounded(settings_.pool.acquire_timeout, deadline);
            w->timer.expires_at(timeout.count() > 0 ? clock_type::now() + timeout : clock_type::time_point::max());
            waiters_.push_back(w);
        }
        leave_line guard{this, w};  // also when the frame is destroyed while waiting
        auto [ec] = co_await wait(w);
        co_return guard.finish(ec, out);
    }

    // Sleeps on the waiter's timer until release() grants a slot (the timer is cancelled), the
    // acquire deadline passes, or the awaiting coroutine is cancelled (the timer's own
    // per-operation cancellation). A slot granted before the wait starts completes at once.
    asio::awaitable<std::tuple<error_code>> wait(const std::shared_ptr<waiter>& w) {
        constexpr auto token = asio::as_tuple(asio::use_awaitable);
        return asio::async_initiate<decltype(token), void(error_code)>(
            [self = this, wp = w.get()](auto handler) {
                std::lock_guard lk(self->mutex_);
                if (wp->granted) {
                    auto hex = asio::get_associated_executor(handler, wp->timer.get_executor());
                    asio::post(hex, [h = std::move(handler)]() mutable { std::move(h)(error_code{}); });
                    return;
                }
                wp->timer.async_wait(std::move(handler));
            },
            token);
    }

    // A waiter's way out of the line, on every path: the granted slot is the caller's, else the
    // waiter leaves the line (timeout or cancellation); a slot granted to a coroutine that is
    // gone (its io_context destroyed) is given back.
    struct leave_line {
        leave_line(pool_impl* p, std::shared_ptr<waiter> wt) : pool(p), w(std::move(wt)) {}
        pool_impl* pool;
        std::shared_ptr<waiter> w;
        leave_line(const leave_line&) = delete;
        leave_line& operator=(const leave_line&) = delete;
        error_code finish(error_code ec, std::unique_ptr<connection>& out) {
            std::lock_guard lk(pool->mutex_);
            w->taken = true;
            if (w->granted) {
                out = std::move(w->conn);
                return {};
            }
            pool->leave_locked(w);
            return ec == asio::error::operation_aborted ? ec : make_error_code(client_errc::pool_acquire_timeout);
        }
        ~leave_line() {
            std::unique_ptr<connection> give_back;
            {
                std::lock_guard lk(pool->mutex_);
                if (w->taken) return;
                w->taken = true;
                if (!w->granted) {
                    pool->leave_locked(w);
                    return;
                }
                give_back = std::move(w->conn);
            }
            pool->release(std::move(give_back));
        }
    };

    void leave_locked(const std::shared_ptr<waiter>& w) {
        w->done = true;
        auto it = std::find(waiters_.begin(), waiters_.end(), w);
        if (it != waiters_.end()) waiters_.erase(it);
    }

    // Gives a slot back: to the first waiter, else to the idle list. `c` null = connection dropped.
    void release(std::unique_ptr<connection> c) {
        std::lock_guard lk(mutex_);
        --leased_;
        if (!c) --total_;
        while (!waiters_.empty()) {
            auto w = waiters_.front();
            waiters_.pop_front();
            if (w->done) continue;
            w->done = true;
            w->granted = true;
            w->conn = std::move(c);
            ++leased_;
            if (!w->conn) ++total_;
            w->timer.cancel();  // wakes its coroutine (or wait() sees `granted` and does not sleep)
            return;
        }
        if (c) {
            c->idle_since = clock_type::now();
            idle_.push_back(std::move(c));
        }
    }

    // ---- deadlines ----------------------------------------------------------------------------
    // A step (TLS handshake, one request/response) with a deadline puts its connection on the watch
    // list; one timer per pool, armed only while the list is not empty, wakes up at the earliest
    // deadline it knows of and shuts down (::shutdown, safe from any thread) the socket of every
    // step past its deadline, which ends the step's pending read or write; the step then reports
    // beast::error::timeout. Steps that end in time cost two uncontended lock/unlock pairs and no
    // timer operation, unlike a timer armed and cancelled around every read and write.

    struct step_guard {
        step_guard(pool_impl& p, connection& c, duration timeout) : pool(p), conn(c) { pool.step_start(conn, timeout); }
        ~step_guard() {
            if (!done) pool.step_finish(conn);
        }
        step_guard(const step_guard&) = delete;
        step_guard& operator=(const step_guard&) = delete;
        // False when the deadline fired during the step.
        bool finish() {
            done = true;
            return pool.step_finish(conn);
        }
        pool_impl& pool;
        connection& conn;
        bool done = false;
    };

    void step_start(connection& c, duration timeout) {
        c.fired = false;
        if (timeout <= duration::zero()) return;
        const auto deadline = clock_type::now() + timeout;
        std::lock_guard lk(mutex_);
        c.deadline = deadline;
        if (!c.watched) {
            c.watched = true;
            c.watch_prev = nullptr;
            c.watch_next = watch_head_;
            if (watch_head_) watch_head_->watch_prev = &c;
            watch_head_ = &c;
        }
        if (!watch_armed_ || deadline < watch_at_) arm_watch_locked(deadline);
    }

    bool step_finish(connection& c) {
        if (!c.watched) return true;
        std::lock_guard lk(mutex_);
        c.watched = false;
        if (c.watch_prev) c.watch_prev->watch_next = c.watch_next;
        else watch_head_ = c.watch_next;
        if (c.watch_next) c.watch_next->watch_prev = c.watch_prev;
        c.watch_prev = c.watch_next = nullptr;
        if (!watch_head_ && watch_armed_) {  // nothing to watch: do not keep the executor busy
            watch_armed_ = false;
            ++watch_generation_;
            watch_timer_.cancel();
        }
        return !c.fired;
    }

    void arm_watch_locked(clock_type::time_point at) {
        watch_armed_ = true;
        watch_at_ = at;
        const unsigned generation = ++watch_generation_;  // a wait still pending completes as stale
        watch_timer_.expires_at(at);
        watch_timer_.async_wait([self = shared_from_this(), generation](error_code) { self->on_watch(generation); });
    }

    void on_watch(unsigned generation) {
        std::lock_guard lk(mutex_);
        if (generation != watch_generation_) return;
        watch_armed_ = false;
        const auto now = clock_type::now();
        auto next = clock_type::time_point::max();
        for (connection* c = watch_head_; c; c = c->watch_next) {
            if (c->fired) continue;
            if (c->deadline <= now) {
                c->fired = true;
                ::shutdown(c->fd, SHUT_RDWR);
            } else {
                next = std::min(next, c->deadline);
            }
        }
        if (next != clock_type::time_point::max()) arm_watch_locked(next);
    }

    // ---- connections -------------------------------------------------------------------------

    asio::awaitable<error_code> resolve(tcp::resolver::results_type& out) {
        {
            std::lock_guard lk(mutex_);
            if (!dns_.empty() && clock_type::now() < dns_expiry_) {
                out = dns_;
                co_return error_code{};
            }
        }
        error_code ec;
        tcp::resolver resolver(co_await asio::this_coro::executor);  // one per lookup: not thread-safe
        const auto& proxy = settings_.proxy;  // with a proxy, the proxy's address
        auto results = co_await resolver.async_resolve(proxy ? proxy->host : settings_.url.host,
                                                       proxy ? proxy->port : settings_.url.port,
                                                       asio::redirect_error(asio::use_awaitable, ec));
        if (ec) co_return ec;
        std::lock_guard lk(mutex_);
        dns_ = results;
        dns_expiry_ = clock_type::now() + settings_.pool.dns_cache_ttl;
        out = std::move(results);
        co_return error_code{};
    }

    asio::awaitable<error_code> open(std::unique_ptr<connection>& out, exchange_info& info,
                                     clock_type::time_point deadline) {
        auto ex = co_await asio::this_coro::executor;
        tcp::resolver::results_type endpoints;
        error_code ec = co_await resolve(endpoints);
        if (ec && settings_.proxy) info.detail = "cannot resolve the proxy " + settings_.proxy->display() + ": " + ec.message();
        if (ec) co_return ec;
        std::unique_ptr<connection> c;
        {
            // Beast's stream for its connect timeout across the endpoint's addresses; its
            // per-operation timers are not wanted afterwards, so the socket leaves it.
            beast::tcp_stream stream(ex);
            if (auto t = bounded(settings_.timeouts.connect, deadline); t.count() > 0) stream.expires_after(t);
            co_await stream.async_connect(endpoints, asio::redirect_error(asio::use_awaitable, ec));
            if (ec) {
                if (ec == beast::error::timeout || ec == asio::error::timed_out) {
                    info.timed_out = true;
                    info.timeout = timeout_phase::connect;
                }
                if (settings_.proxy)
                    info.detail = "could not connect to the proxy " + settings_.proxy->display() + ": " + ec.message();
                std::lock_guard lk(mutex_);
                dns_expiry_ = {};  // resolve again next time
                co_return ec;
            }
            c = std::make_unique<connection>(stream.release_socket());
        }
        connects_.fetch_add(1, std::memory_order_relaxed);
        c->sock.set_option(tcp::no_delay(true), ec);
        c->sock.non_blocking(true, ec);
        if (ec) co_return ec;
        if (settings_.proxy) {
            ec = co_await tunnel(*c, info, bounded(settings_.timeouts.connect, deadline));
            if (ec) co_return ec;
        }
        if (ssl_ctx_) {
            c->ssl = SSL_new(ssl_ctx_->native_handle());
            BIO* bio = c->ssl ? make_buffer_bio(c->tls) : nullptr;
            if (!bio) co_return make_error_code(client_errc::tls_setup_failed);
            SSL_set_bio(c->ssl, bio, bio);
            SSL_set_connect_state(c->ssl);
            SSL_set_mode(c->ssl, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
            SSL_set_read_ahead(c->ssl, 1);
            SSL* ssl = c->ssl;
            const auto& host = settings_.url.host;
            error_code addr_ec;
            asio::ip::make_address(host, addr_ec);
            bool is_ip = !addr_ec;
            if (!is_ip && !SSL_set_tlsext_host_name(ssl, host.c_str())) co_return make_error_code(client_errc::tls_setup_failed);
            if (settings_.verify_peer) {
                X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
                X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
                int ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str())
                               : X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
                if (!ok) co_return make_error_code(client_errc::tls_setup_failed);
            }
            {
                std::lock_guard lk(mutex_);
                if (session_) SSL_set_session(ssl, session_);
            }
            ec = co_await handshake(*c, info, bounded(settings_.timeouts.tls_handshake, deadline));
            if (ec) co_return ec;
            if (SSL_session_reused(ssl)) resumed_.fetch_add(1, std::memory_order_relaxed);
            else handshakes_.fetch_add(1, std::memory_order_relaxed);
        }
        out = std::move(c);
        co_return error_code{};
    }

    // CONNECT url.host:url.port through the proxy on a fresh connection to it, under `timeout` (a
    // connect-phase deadline). Bytes after the proxy's answer (none are expected before the client
    // speaks) are kept for TLS or the first response.
    asio::awaitable<error_code> tunnel(connection& c, exchange_info& info, duration timeout) {
        const proxy_url& proxy = *settings_.proxy;
        const auto& url = settings_.url;
        step_guard step(*this, c, timeout);
        const std::string req = connect_request(proxy, url.host, url.port);
        error_code ec = co_await send_rest(c.sock, req.data(), req.size());
        std::string head;
        std::size_t end = std::string::npos;
        while (!ec && end == std::string::npos) {
            char buf[2048];
            const std::size_t n = co_await c.sock.async_read_some(asio::buffer(buf),
                                                                  asio::redirect_error(asio::use_awaitable, ec));
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
        if (!rest.empty() && ssl_ctx_) {
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

    // Reads what the socket has into the TLS input buffer; end of stream is noted, not an error.
    static asio::awaitable<error_code> read_tls_input(connection& c) {
        c.tls.make_room(tls_read_size);
        error_code ec;
        std::size_t n = co_await c.sock.async_read_some(
            asio::mutable_buffer(c.tls.in.data() + c.tls.in_end, c.tls.in.size() - c.tls.in_end),
            asio::redirect_error(asio::use_awaitable, ec));
        c.tls.in_end += n;
        if (ec == asio::error::eof) {
            c.tls.in_eof = true;
            ec = {};
        }
        ERR_clear_error();  // whatever ran on this thread meanwhile must not confuse SSL_get_error
        co_return ec;
    }

    asio::awaitable<error_code> handshake(connection& c, exchange_info& info, duration timeout) {
        step_guard step(*this, c, timeout);
        error_code ec;
        ERR_clear_error();
        for (;;) {
            const int r = SSL_connect(c.ssl);
            const int kind = r == 1 ? SSL_ERROR_NONE : SSL_get_error(c.ssl, r);
            error_code failure;
            if (kind != SSL_ERROR_NONE && kind != SSL_ERROR_WANT_READ && kind != SSL_ERROR_WANT_WRITE)
                failure = ssl_failure(kind, c.tls);
            if (!c.tls.out.empty()) {  // our flight, or the alert that goes with a failure
                ec = co_await send_rest(c.sock, c.tls.out.data(), c.tls.out.size());
                c.tls.out.clear();
            }
            if (failure) ec = failure;
            if (ec || kind == SSL_ERROR_NONE) break;
            if (kind == SSL_ERROR_WANT_READ) {
                ec = co_await read_tls_input(c);
                if (ec) break;
            }
        }
        if (!step.finish()) {
            ec = beast::error::timeout;
            info.timed_out = true;
            info.timeout = timeout_phase::tls_handshake;
        }
        co_return ec;
    }

    void remember_session(connection& c) {
        if (!c.ssl) return;
        SSL_SESSION* s = SSL_get1_session(c.ssl);
        if (!s) return;
        if (!SSL_SESSION_is_resumable(s)) {
            SSL_SESSION_free(s);
            return;
        }
        std::lock_guard lk(mutex_);
        if (session_) SSL_SESSION_free(session_);
        session_ = s;
    }

    // One request and its response on `c`, under the deadline the caller started on c.watch. The
    // caller drops the connection on any error and when `keep` stays false.
    asio::awaitable<error_code> send_receive(connection& c, const http_request& req, http_response& resp,
                                             exchange_info& info, bool& keep) {
        // ---- the request: straight into the socket, asynchronously only for what is left ----
        c.request_bytes.clear();
        serialize_request(c.request_bytes, req, settings_.url.base_path, settings_.url.host_header,
                          settings_.user_agent);
        error_code ec;
        const char* data = c.request_bytes.data();
        std::size_t size = c.request_bytes.size();
        if (c.ssl) {
            ERR_clear_error();
            const int r = SSL_write(c.ssl, data, static_cast<int>(std::min<std::size_t>(size, INT_MAX)));
            if (r <= 0 || static_cast<std::size_t>(r) != size) {
                const int kind = SSL_get_error(c.ssl, r);
                co_return ssl_failure(kind == SSL_ERROR_WANT_READ || kind == SSL_ERROR_WANT_WRITE ? SSL_ERROR_SSL : kind,
                                      c.tls);
            }
            data = c.tls.out.data();  // with anything OpenSSL had queued before (a key update answer)
            size = c.tls.out.size();
        }
        std::size_t sent = send_now(c.sock, data, size, ec);
        if (!ec && sent < size) ec = co_await send_rest(c.sock, data + sent, size - sent);
        if (c.ssl) c.tls.out.clear();
        if (ec) co_return ec;
        info.request_written = true;

        // ---- the response ----
        response_sink parser(&settings_.response_headers, req.method == "HEAD");
        for (;;) {
            ec = parser.feed(c.rbuf.data(), c.rbegin, c.rend);
            if (ec) co_return ec;
            if (parser.is_done()) break;

            // More bytes are needed: make room in the plaintext buffer.
            if (c.rbegin == c.rend) c.rbegin = c.rend = 0;
            if (c.rbuf.size() - c.rend < min_read_size && c.rbegin > 0) {
                std::memmove(c.rbuf.data(), c.rbuf.data() + c.rbegin, c.rend - c.rbegin);
                c.rend -= c.rbegin;
                c.rbegin = 0;
            }
            if (c.rbuf.size() - c.rend < min_read_size) {
                if (c.rbuf.size() >= max_read_buffer) co_return http::error::buffer_overflow;
                c.rbuf.resize(std::max(c.rbuf.size() * 2, min_read_size * 2));
            }
            char* dst = c.rbuf.data() + c.rend;
            const std::size_t room = c.rbuf.size() - c.rend;

            bool eof = false;
            if (c.ssl) {
                const int r = SSL_read(c.ssl, dst, static_cast<int>(std::min<std::size_t>(room, INT_MAX)));
                if (r > 0) {
                    c.rend += static_cast<std::size_t>(r);
                    info.response_started = true;
                    continue;
                }
                const int kind = SSL_get_error(c.ssl, r);
                if (kind == SSL_ERROR_WANT_READ || kind == SSL_ERROR_WANT_WRITE) {
                    if (!c.tls.out.empty()) {  // OpenSSL has something to say first
                        ec = co_await send_rest(c.sock, c.tls.out.data(), c.tls.out.size());
                        c.tls.out.clear();
                        if (ec) co_return ec;
                    }
                    if (kind == SSL_ERROR_WANT_READ) {
                        ec = co_await read_tls_input(c);
                        if (ec) co_return ec;
                    }
                    continue;
                }
                ec = ssl_failure(kind, c.tls);
                if (ec != asio::error::eof) co_return ec;  // e.g. stream_truncated, as asio::ssl reports it
                ec = {};
                eof = true;  // close_notify
            } else {
                const std::size_t n = co_await c.sock.async_read_some(asio::mutable_buffer(dst, room),
                                                                      asio::redirect_error(asio::use_awaitable, ec));
                c.rend += n;
                if (n > 0) info.response_started = true;
                if (ec == asio::error::eof) {
                    ec = {};
                    eof = true;
                } else if (ec) {
                    co_return ec;
                }
            }
            if (eof) {
                // What Beast's read does: the end of a message delimited by the connection's end,
                // a truncated message, or no message at all.
                if (!parser.got_some()) co_return http::error::end_of_stream;
                parser.put_eof(ec);
                if (ec) co_return ec;
                break;
            }
        }
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
        if (!c.used) {
            c.used = true;
            remember_session(c);
        }
        co_return error_code{};
    }

    asio::any_io_executor ex_;
    transport_settings settings_;
    std::optional<asio::ssl::context> ssl_ctx_;

    mutable std::mutex mutex_;
    std::vector<std::unique_ptr<connection>> idle_;
    std::deque<std::shared_ptr<waiter>> waiters_;
    std::size_t total_ = 0;   // open or opening
    std::size_t leased_ = 0;  // in use
    tcp::resolver::results_type dns_;
    clock_type::time_point dns_expiry_{};
    SSL_SESSION* session_ = nullptr;
    asio::steady_timer watch_timer_{ex_};
    connection* watch_head_ = nullptr;
    clock_type::time_point watch_at_{};
    unsigned watch_generation_ = 0;
    bool watch_armed_ = false;

    std::atomic<std::uint64_t> connects_{0}, handshakes_{0}, resumed_{0}, reuses_{0}, stale_retries_{0};
};

}  // namespace

std::shared_ptr<connection_pool> make_connection_pool(asio::any_io_executor ex, transport_settings settings,
                                                      error_code& ec, std::string& what) {
    std::optional<asio::ssl::context> ctx;
    if (settings.url.tls) {
        ctx.emplace(asio::ssl::context::tls_client);
        ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                         asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                         asio::ssl::context::no_tlsv1_1);
        SSL_CTX_set_session_cache_mode(ctx->native_handle(), SSL_SESS_CACHE_CLIENT);
        error_code lec;
        if (!settings.ca_bundle.empty()) {
            ctx->load_verify_file(settings.ca_bundle, lec);
            if (lec) {
                ec = make_error_code(client_errc::tls_setup_failed);
                what = "cannot load the CA bundle \"" + settings.ca_bundle + "\": " + lec.message();
                return nullptr;
            }
        } else {
            ctx->set_default_verify_paths(lec);
            if (lec) {
                ec = make_error_code(client_errc::tls_setup_failed);
                what = "cannot load the system trust store: " + lec.message();
                return nullptr;
            }
        }
        ctx->set_verify_mode(settings.verify_peer ? asio::ssl::verify_peer : asio::ssl::verify_none);
    }
    ec = {};
    return std::make_shared<pool_impl>(std::move(ex), std::move(settings), std::move(ctx));
}

}  // namespace iotjobs::detail
