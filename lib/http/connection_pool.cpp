// Connection pool: the bookkeeping of pool_core.hpp (slots, idle list, FIFO waiters, deadlines)
// under one mutex, and the I/O around it: waiting in line, opening connections (DNS cached for
// pool_config::dns_cache_ttl, TLS sessions resumed), one request per connection at a time
// (connection.cpp), a stale kept-alive connection retried once on a fresh one. One steady_timer
// per pool serves every deadline of the core: it is armed only while something is watched, at the
// earliest deadline known; a waiter past its deadline fails with pool_acquire_timeout, a step (TLS
// handshake, one request/response) past its deadline has its socket shut down (::shutdown, safe
// from any thread), which ends the step's pending read or write, and the step reports
// beast::error::timeout. Steps that end in time cost two uncontended lock/unlock pairs and no
// timer operation. Running out of file descriptors lowers the pool's capacity (pool_core.hpp) and
// is logged once, at warn.
#include "http/connection_pool.hpp"

#include "http/connection.hpp"
#include "http/pool_core.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>

#include <openssl/ssl.h>

#include <atomic>
#include <mutex>
#include <optional>

namespace iotjobs::detail {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;
using core_type = pool_core<connection>;

// A step's timeout (zero: none) cut to what is left before `deadline` (max: none); at least 1 ns,
// so that a deadline already past still bounds the step.
duration bounded(duration step, clock_type::time_point deadline) {
    if (deadline == clock_type::time_point::max()) return step;
    const duration left = std::max<duration>(deadline - clock_type::now(), duration(1));
    return step.count() > 0 ? std::min(step, left) : left;
}

// A call waiting in line. Its coroutine sleeps on `wake`, a timer that never expires by itself:
// the core completes the waiter under the pool's mutex (a connection or a slot, a timeout,
// pool_closed), which cancels the timer to wake it; a cancellation of the call ends the wait
// through the timer's own per-operation cancellation. The pending wait belongs to the io_context,
// not to the pool: destroying the context destroys the waiting coroutine (its line_guard leaves
// the line, or gives back a slot granted meanwhile), and nothing in the pool keeps a frame (and,
// through it, the client) alive. Every field and timer operation is under the pool's mutex.
struct pool_waiter final : core_type::waiter {
    explicit pool_waiter(asio::any_io_executor ex) : wake(std::move(ex), asio::steady_timer::time_point::max()) {}
    void complete(error_code ec, std::unique_ptr<connection> c) override {
        done = true;
        result = ec;
        conn = std::move(c);
        wake.cancel();
    }
    asio::steady_timer wake;
    std::unique_ptr<connection> conn;  // granted connection (null with no error: open one)
    error_code result;
    bool done = false;   // completed by the core
    bool taken = false;  // its coroutine has taken the outcome (or given the slot back)
};

class pool_impl final : public connection_pool,
                        public std::enable_shared_from_this<pool_impl>,
                        private step_watch,
                        private pool_timer {
public:
    pool_impl(asio::any_io_executor ex, transport_settings s, std::optional<asio::ssl::context> ctx)
        : ex_(std::move(ex)),
          settings_(std::move(s)),
          ssl_ctx_(std::move(ctx)),
          cx_{settings_, ssl_ctx_ ? ssl_ctx_->native_handle() : nullptr, *this},
          core_(core_params(settings_.pool), *this) {}

    ~pool_impl() override {
        if (session_) SSL_SESSION_free(session_);
    }

    asio::awaitable<error_code> exchange(const request_writer& req, http_response& resp, exchange_info& info,
                                         duration attempt_timeout, clock_type::time_point deadline,
                                         clock_type::time_point waiting_since) override;

    void close_idle() override {
        std::lock_guard lk(mutex_);
        core_.close_idle();
    }

    void close() override {
        std::lock_guard lk(mutex_);
        closed_.store(true, std::memory_order_relaxed);
        core_.close();
    }

    bool closed() const noexcept override { return closed_.load(std::memory_order_relaxed); }

    pool_stats stats() const override {
        pool_stats s;
        s.connects = connects_.load();
        s.tls_handshakes = handshakes_.load();
        s.tls_resumed = resumed_.load();
        s.reuses = reuses_.load();
        std::lock_guard lk(mutex_);
        const auto c = core_.stats();
        s.idle = c.idle;
        s.leased = c.leased;
        s.waiting = c.waiting;
        return s;
    }

private:
    // A slot of the pool held by one exchange round, with its connection once there is one. Given
    // back on every path, exceptions included: as a dropped connection unless give_back() or
    // finish_round() keeps it.
    struct lease {
        explicit lease(pool_impl& p) : pool(p) {}
        lease(const lease&) = delete;
        lease& operator=(const lease&) = delete;
        ~lease() {
            if (held) pool.release(nullptr);
        }
        void give_back(bool keep) {
            held = false;
            pool.release(keep ? std::move(conn) : nullptr);
        }
        pool_impl& pool;
        std::unique_ptr<connection> conn;
        bool held = false;
        bool step_started = false;  // try_lease started the send step's deadline on an idle connection
    };

    static core_type::params core_params(const pool_config& p) {
        core_type::params out;
        out.max_size = p.max_size;
        out.idle_timeout = p.idle_timeout;
        return out;
    }

    // After a round's send, under one lock: ends the step (false: its deadline fired) and gives
    // the connection back, kept when `keep` and the step ended in time.
    bool finish_round(lease& l, step_guard& step, bool keep);
    // After the first round failed (`wrote`: it wrote the whole request): whether it calls for one
    // more round on a new connection (a stale kept-alive connection; then counted, and `info` says
    // the next connection is not a reused one yet).
    bool stale_retry(const error_code& ec, exchange_info& info, bool wrote);

    // The one way to a connection: the core's acquire() under the mutex. An idle connection is
    // leased at once (a plain call: no coroutine frame on the usual path); a full pool enqueues
    // `w` (lease_connection() waits); `open` leaves a slot to open a connection on.
    // `step_timeout` (an idle connection): the send step's deadline starts at once, under the same
    // lock (lease::step_started).
    core_type::acquired try_lease(lease& l, exchange_info& info, std::unique_ptr<pool_waiter>& w,
                                  clock_type::time_point deadline, clock_type::time_point waiting_since = {},
                                  duration step_timeout = {});
    // The rest of the way after try_lease() said `got` (not idle): waiting in line, opening a
    // connection, and acquiring again after running out of file descriptors.
    asio::awaitable<error_code> lease_connection(lease& l, exchange_info& info, clock_type::time_point deadline,
                                                 core_type::acquired got, std::unique_ptr<pool_waiter>& w);
    // Sleeps until the core completes `w` or the call is cancelled (outcome: take_outcome()).
    asio::awaitable<std::tuple<error_code>> wait(pool_waiter& w);
    // The waiter's outcome, once: its error, or none with the connection (null: a slot to open
    // one) moved to `*out`; a waiter still in line (cancelled) leaves it with operation_aborted.
    // `out` null (the waiting frame destroyed): a slot granted meanwhile is given back.
    error_code take_outcome(pool_waiter& w, std::unique_ptr<connection>* out);

    // A waiter's way out of the line when the waiting frame is destroyed (its io_context gone).
    struct line_guard {
        line_guard(pool_impl& p, pool_waiter& wt) : pool(p), w(wt) {}
        line_guard(const line_guard&) = delete;
        line_guard& operator=(const line_guard&) = delete;
        ~line_guard() { pool.take_outcome(w, nullptr); }
        pool_impl& pool;
        pool_waiter& w;
    };

    asio::awaitable<error_code> open(std::unique_ptr<connection>& out, exchange_info& info,
                                     clock_type::time_point deadline);
    asio::awaitable<error_code> resolve(tcp::resolver::results_type& out);
    void ran_out_of_descriptors(const error_code& ec);
    void remember_session(connection& c);

    void release(std::unique_ptr<connection> c) {
        std::lock_guard lk(mutex_);
        core_.release(clock_type::now(), std::move(c));
    }

    // ---- step_watch: a connection's step deadlines on the core's list --------------------------
    void start(connection& c, duration timeout) override {
        if (timeout <= duration::zero()) {
            start_locked(c, {}, timeout);  // (watches nothing: no lock)
            return;
        }
        std::lock_guard lk(mutex_);
        start_locked(c, clock_type::now(), timeout);
    }

    bool finish(connection& c) override {
        if (!c.listed) return true;  // only this step's thread lists or unlists c
        std::lock_guard lk(mutex_);
        return finish_locked(c);
    }

    // start() and finish() for a caller that holds mutex_ (try_lease, finish_round). A zero
    // timeout watches nothing; finish: false when the step's deadline fired.
    void start_locked(connection& c, clock_type::time_point now, duration timeout) {
        c.fired = false;
        if (timeout > duration::zero()) core_.watch(c, now + timeout);
    }
    bool finish_locked(connection& c) { return !c.listed || core_.unwatch(c); }

    // ---- pool_timer: the core's timer, called under mutex_ --------------------------------------
    void arm(pool_time at) override {
        const unsigned generation = ++timer_generation_;  // a wait still pending completes as stale
        timer_.expires_at(at);
        timer_.async_wait([self = shared_from_this(), generation](error_code) { self->on_timer(generation); });
    }

    void cancel() override {
        ++timer_generation_;
        timer_.cancel();
    }

    void on_timer(unsigned generation) {
        std::lock_guard lk(mutex_);
        if (generation == timer_generation_) core_.on_timer(clock_type::now());
    }

    asio::any_io_executor ex_;
    transport_settings settings_;
    std::optional<asio::ssl::context> ssl_ctx_;
    const connection_context cx_;

    mutable std::mutex mutex_;  // guards what follows
    asio::steady_timer timer_{ex_};
    unsigned timer_generation_ = 0;
    core_type core_;
    tcp::resolver::results_type dns_;
    clock_type::time_point dns_expiry_{};
    SSL_SESSION* session_ = nullptr;

    std::atomic<bool> closed_{false};
    std::atomic<std::uint64_t> connects_{0}, handshakes_{0}, resumed_{0}, reuses_{0}, stale_retries_{0};
};

asio::awaitable<error_code> pool_impl::exchange(const request_writer& req, http_response& resp, exchange_info& info,
                                                duration attempt_timeout, clock_type::time_point deadline,
                                                clock_type::time_point waiting_since) {
    info = {};
    bool written_before = false;  // a round before a stale-connection retry wrote the request
    for (int round = 0; round < 2; ++round) {
        lease l(*this);
        std::unique_ptr<pool_waiter> w;  // allocated only to wait in line: a pointer in every exchange frame
        const core_type::acquired got =
            try_lease(l, info, w, deadline, round == 0 ? waiting_since : pool_time{}, attempt_timeout);
        error_code ec;
        if (got != core_type::acquired::idle) ec = co_await lease_connection(l, info, deadline, got, w);
        if (ec) {
            info.connect_failed = true;
            co_return ec;
        }
        // This round's send, straight into `info` (request_written: an earlier round's counts too).
        info.request_written = info.response_started = info.timed_out = false;
        info.timeout = timeout_phase::none;
        bool keep = false;
        {
            step_guard step(*this, *l.conn, attempt_timeout, l.step_started);
            connection& c = *l.conn;
            std::string_view rest;
            ec = begin_request(cx_, c, req, rest);
            if (!ec && !rest.empty()) ec = co_await send_request_rest(c, rest);
            if (!ec) {  // the response, read here: no coroutine frame per exchange or per read
                info.request_written = true;
                begin_response(cx_, c, req);
                read_step rs = read_step::data;
                for (response_need need; !ec && (need = advance_response(c, info, rs, ec)) != response_need::done;) {
                    if (need == response_need::failed) break;
                    if (need == response_need::flush) {
                        ec = co_await flush_tls_output(c);
                        continue;
                    }
                    const std::size_t n = co_await c.sock.async_read_some(
                        socket_read_target(c), asio::redirect_error(asio::use_awaitable, ec));
                    rs = took_input(c, info, n, ec);
                }
                if (!ec) take_response(c, resp, info, keep);
            }
            if (!ec && !c.used) {
                c.used = true;
                remember_session(c);
            }
            // The deadline fired: the socket is shut down. A response completed meanwhile still counts.
            if (!finish_round(l, step, !ec && keep) && ec) {
                ec = beast::error::timeout;
                info.timed_out = true;
                info.timeout = timeout_phase::response;
            }
        }
        const bool wrote = info.request_written;  // this round's
        info.request_written = wrote || written_before;
        if (!ec || round == 1 || !stale_retry(ec, info, wrote)) co_return ec;
        written_before = written_before || wrote;
    }
    co_return make_error_code(client_errc::bad_response);  // not reached
}

bool pool_impl::finish_round(lease& l, step_guard& step, bool keep) {
    connection& c = *l.conn;
    step.dismiss();
    std::lock_guard lk(mutex_);
    const bool in_time = finish_locked(c);
    l.held = false;
    core_.release(clock_type::now(), keep && in_time ? std::move(l.conn) : nullptr);
    return in_time;
}

bool pool_impl::stale_retry(const error_code& ec, exchange_info& info, bool wrote) {
    // A kept-alive connection the server had already closed: retry once on a new connection,
    // without spending one of the caller's attempts. Only when the server cannot have acted on
    // the request: it was not completely written, or the answer was a clean close (EOF, which a
    // server sends between requests). A reset after the request was written may follow
    // processing: the caller must see it (and count it as an attempt), or a retried delete's 404
    // would not be flagged as possibly ours.
    const bool clean_close =
        ec == asio::error::eof || ec == http::error::end_of_stream || ec == asio::ssl::error::stream_truncated;
    const bool stale = info.reused_connection && !info.response_started && !info.timed_out &&
                       ec != asio::error::operation_aborted && (!wrote || clean_close);
    if (!stale) return false;
    info.reused_connection = false;
    stale_retries_.fetch_add(1, std::memory_order_relaxed);
    return true;
}

core_type::acquired pool_impl::try_lease(lease& l, exchange_info& info, std::unique_ptr<pool_waiter>& w,
                                         clock_type::time_point deadline, clock_type::time_point waiting_since,
                                         duration step_timeout) {
    std::lock_guard lk(mutex_);
    const auto now = clock_type::now();
    const core_type::acquired got = core_.acquire(now, l.conn);
    if (got == core_type::acquired::idle) {
        l.held = true;
        if (step_timeout > duration::zero()) {  // (zero: the caller starts the step itself)
            start_locked(*l.conn, now, step_timeout);
            l.step_started = true;
        }
        reuses_.fetch_add(1, std::memory_order_relaxed);
        info.reused_connection = true;
    } else if (got == core_type::acquired::wait) {
        w = std::make_unique<pool_waiter>(ex_);
        const duration wait_for = bounded(settings_.pool.acquire_timeout, deadline);
        pool_time until = wait_for.count() > 0 ? now + wait_for : pool_time::max();
        if (waiting_since != pool_time{} && settings_.pool.acquire_timeout.count() > 0)  // at least 1 ns, as bounded()
            until = std::min(until, std::max(waiting_since + settings_.pool.acquire_timeout, now + duration(1)));
        core_.enqueue(now, *w, until);
    }
    return got;
}

// A connection attempt that finds no file descriptor gives its slot back and acquires again (the
// pool now holds fewer connections than max_size): an idle connection, or a place in line.
asio::awaitable<error_code> pool_impl::lease_connection(lease& l, exchange_info& info, clock_type::time_point deadline,
                                                        core_type::acquired got, std::unique_ptr<pool_waiter>& w) {
    for (;;) {
        if (got == core_type::acquired::idle) co_return error_code{};
        if (got == core_type::acquired::closed) co_return make_error_code(client_errc::pool_closed);
        if (got == core_type::acquired::wait) {  // the coroutine suspends only to wait in line
            line_guard guard{*this, *w};
            co_await wait(*w);
            const error_code ec = take_outcome(*w, &l.conn);
            if (ec == client_errc::pool_acquire_timeout) info.timeout = timeout_phase::pool_wait;
            if (ec) co_return ec;
        }
        l.held = true;
        if (l.conn) {
            reuses_.fetch_add(1, std::memory_order_relaxed);
            info.reused_connection = true;
            co_return error_code{};
        }
        error_code ec = co_await open(l.conn, info, deadline);
        if (out_of_descriptors(ec)) {
            l.held = false;
            ran_out_of_descriptors(ec);
            info.timed_out = false;
            info.timeout = timeout_phase::none;
            info.detail.clear();
            w.reset();
            got = try_lease(l, info, w, deadline);
            continue;
        }
        if (ec) co_return ec;  // the lease gives the slot back
        // Resolving and connecting ignore the cancellation slot: a cancellation that came
        // meanwhile is only recorded in the state. Nothing is written after it; the new
        // connection is kept for the next call.
        if ((co_await asio::this_coro::cancellation_state).cancelled() != asio::cancellation_type::none) {
            l.give_back(true);
            co_return asio::error::operation_aborted;
        }
        co_return error_code{};
    }
}

asio::awaitable<std::tuple<error_code>> pool_impl::wait(pool_waiter& w) {
    constexpr auto token = asio::as_tuple(asio::use_awaitable);
    return asio::async_initiate<decltype(token), void(error_code)>(
        [this, &w](auto handler) {
            std::lock_guard lk(mutex_);
            if (w.done) {  // served (or timed out) before the coroutine suspended
                auto hex = asio::get_associated_executor(handler, ex_);
                asio::post(hex, [h = std::move(handler)]() mutable { std::move(h)(error_code{}); });
                return;
            }
            w.wake.async_wait(std::move(handler));
        },
        token);
}

error_code pool_impl::take_outcome(pool_waiter& w, std::unique_ptr<connection>* out) {
    std::lock_guard lk(mutex_);
    if (w.taken) return w.result;
    w.taken = true;
    if (!w.done) {  // woken by the call's cancellation
        core_.abandon(w, asio::error::operation_aborted);
        return w.result;
    }
    if (out)
        *out = std::move(w.conn);
    else if (!w.result)
        core_.release(clock_type::now(), std::move(w.conn));  // nobody to use the slot
    return w.result;
}

// Lowers the pool's capacity to what it holds; says so once.
void pool_impl::ran_out_of_descriptors(const error_code& ec) {
    bool first = false;
    {
        std::lock_guard lk(mutex_);
        first = core_.lower_capacity();
    }
    if (!first || !settings_.log.on(log_level::warn)) return;
    const std::string msg = "out of file descriptors (" + ec.message() + ") opening a connection to " +
                            settings_.url.host + ":" + settings_.url.port +
                            ": the connection pool goes on with the connections it has (fewer than " +
                            std::to_string(std::max<std::size_t>(settings_.pool.max_size, 1)) +
                            ") and calls wait for one of them; raise the limit (ulimit -n) to use more";
    log_record r;
    r.level = log_level::warn;
    r.component = "pool";
    r.message = msg;
    r.error = ec;
    settings_.log.emit(r);
}

asio::awaitable<error_code> pool_impl::resolve(tcp::resolver::results_type& out) {
    {
        std::lock_guard lk(mutex_);
        if (!dns_.empty() && clock_type::now() < dns_expiry_) {
            out = dns_;
            co_return error_code{};
        }
    }
    error_code ec;
    tcp::resolver resolver(co_await asio::this_coro::executor);  // one per lookup: not thread-safe
    const auto& proxy = settings_.proxy;                         // with a proxy, the proxy's address
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

asio::awaitable<error_code> pool_impl::open(std::unique_ptr<connection>& out, exchange_info& info,
                                            clock_type::time_point deadline) {
    tcp::resolver::results_type endpoints;
    error_code ec = co_await resolve(endpoints);
    if (ec && settings_.proxy)
        info.detail = "cannot resolve the proxy " + settings_.proxy->display() + ": " + ec.message();
    if (ec) co_return ec;
    std::unique_ptr<connection> c;
    ec = co_await connect_tcp(cx_, endpoints, bounded(settings_.timeouts.connect, deadline), c, info);
    if (ec && !out_of_descriptors(ec)) {
        std::lock_guard lk(mutex_);
        dns_expiry_ = {};  // resolve again next time
    }
    if (ec) co_return ec;
    connects_.fetch_add(1, std::memory_order_relaxed);
    if (settings_.proxy && (ec = co_await tunnel(cx_, *c, info, bounded(settings_.timeouts.connect, deadline))))
        co_return ec;
    if (ssl_ctx_) {
        {
            std::lock_guard lk(mutex_);
            ec = tls_setup(cx_, *c, session_);
        }
        if (ec) co_return ec;
        ec = co_await handshake(cx_, *c, info, bounded(settings_.timeouts.tls_handshake, deadline));
        if (ec) co_return ec;
        if (SSL_session_reused(c->ssl))
            resumed_.fetch_add(1, std::memory_order_relaxed);
        else
            handshakes_.fetch_add(1, std::memory_order_relaxed);
    }
    out = std::move(c);
    co_return error_code{};
}

void pool_impl::remember_session(connection& c) {
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

}  // namespace

std::shared_ptr<connection_pool> make_connection_pool(asio::any_io_executor ex, transport_settings settings,
                                                      error_code& ec, std::string& what) {
    std::optional<asio::ssl::context> ctx;
    if (settings.url.tls) {
        ctx.emplace(asio::ssl::context::tls_client);
        ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                         asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
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
