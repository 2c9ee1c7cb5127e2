// iotjobs::client, and client_impl::execute: the coroutine that performs the attempt machine's actions.
#include "client_impl.hpp"

#include "credentials/redact.hpp"
#include "endpoint/endpoint.hpp"
#include "util/system_error.hpp"

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdlib>
#include <optional>
#include <system_error>

namespace iotjobs {

namespace asio = boost::asio;

client::client(asio::any_io_executor ex, client_config cfg) try
    : impl_(std::make_shared<detail::client_impl>(std::move(ex), std::move(cfg))) {
} catch (const std::system_error& e) {
    detail::rethrow_as_system_error(e);
}
client::~client() = default;
client::client(client&&) noexcept = default;
client& client::operator=(client&&) noexcept = default;

asio::any_io_executor client::get_executor() const { return impl_->executor(); }
const client_config& client::config() const { return impl_->config(); }
void client::cancel() { impl_->cancel_all(); }
void client::shutdown() { impl_->shutdown(); }
client_stats client::stats() const { return impl_->stats(); }
client_metrics client::metrics() const { return impl_->metrics(); }

namespace detail {

namespace {
[[noreturn]] void throw_config_error(error_code ec, const std::string& what) { throw std::system_error(ec, what); }

constexpr std::string_view user_agent = "iotjobs/0.1.0 (C++20; Boost.Asio)";
}  // namespace

client_impl::client_impl(asio::any_io_executor ex, client_config cfg)
    : ex_(std::move(ex)),
      cfg_(std::move(cfg)),
      log_(cfg_),
      quota_(cfg_.retry.quota_capacity),
      strategy_(cfg_.retry, std::chrono::duration_cast<std::chrono::milliseconds>(cfg_.retry.base_delay)),
      adaptive_(std::chrono::steady_clock::now()),
      adaptive_on_(cfg_.retry.mode == retry_mode::adaptive) {
    metrics_.single_writer(cfg_.single_threaded);
    std::string what;
    std::string url_text;
    // "fips-us-east-1" / "us-east-1-fips": the real region signs; FIPS for the default endpoint
    // (a custom endpoint is used as given, as botocore does).
    if (normalize_fips_region(cfg_.region) && cfg_.endpoint_url.empty()) cfg_.use_fips_endpoint = true;
    error_code ec = resolve_endpoint(
        {cfg_.region, cfg_.use_fips_endpoint, cfg_.use_dualstack_endpoint, cfg_.endpoint_url}, url_text, what);
    if (!ec && cfg_.region.empty()) {
        ec = make_error_code(client_errc::no_region);
        what = "You must specify a region (the signing region is needed even with a custom endpoint)";
    }
    if (!ec && !is_valid_region(cfg_.region)) {
        ec = make_error_code(client_errc::invalid_configuration);
        what = "Invalid region \"" + cfg_.region + "\": a region must be a valid host label";
    }
    if (ec) throw_config_error(ec, what);
    ec = parse_endpoint_url(url_text, url_, &what);
    if (ec) throw_config_error(ec, what);
    if (cfg_.retry.max_attempts == 0)
        throw_config_error(make_error_code(client_errc::invalid_configuration), "max_attempts must be at least 1");
    const env_lookup env =
        cfg_.environment ? env_lookup(cfg_.environment) : env_lookup([](const char* n) { return std::getenv(n); });
    std::optional<proxy_url> proxy = choose_transport_proxy(env);
    {
        credentials_chain chain = default_chain(cfg_, env);
        resolved_credentials c;
        if (chain.try_get_sync(c, creds_ec_, creds_why_)) {
            if (!creds_ec_) {
                auto s = std::make_shared<credentials_snapshot>();
                s->value = std::move(c.value);
                s->source = std::move(c.source);
                creds_ = std::move(s);
            }
        } else {
            credentials_cache_params cp;
            if (logging(log_level::error))
                cp.log = [lg = log_](log_level l, std::string_view m) {
                    if (lg.on(l)) lg.emit(l, "credentials", m);
                };
            creds_cache_ = std::make_shared<credentials_cache>(ex_, std::move(chain), std::move(cp));
        }
    }
    // The response fields execute() reads; the transport copies no other. A 2xx is read for its
    // request id alone (the rest judges an error: its type, the S3-style request id, the Date of a
    // clock-skew check).
    transport_settings ts{url_,
                          cfg_.ca_bundle,
                          cfg_.verify_peer,
                          cfg_.pool,
                          cfg_.timeouts,
                          std::string(user_agent),
                          {"x-amzn-requestid"},
                          {"x-amzn-errortype", "x-amz-request-id", "date"},
                          std::move(proxy),
                          log_};
    pool_ = make_connection_pool(ex_, std::move(ts), ec, what);
    if (!pool_) throw_config_error(ec, what);
    env_ = make_attempt_env();
    admit_limit_ = std::max<std::size_t>(cfg_.pool.max_size, 1);
    for (const duration d : {cfg_.pool.acquire_timeout, cfg_.timeouts.operation})
        if (d.count() > 0 && (queue_wait_.count() == 0 || d < queue_wait_)) queue_wait_ = d;
    if (logging(log_level::info)) log_created();
}

client_impl::~client_impl() {
    // Only when no call runs (each holds *this): the io_context was destroyed with calls queued.
    // Their handlers are destroyed, never called.
    std::vector<std::shared_ptr<op_node>> left;
    {
        std::lock_guard lk(ops_mutex_);
        while (queue_head_) left.push_back(unqueue(*queue_head_));
    }
    for (auto& n : left) n->drop();
}

attempt_env client_impl::make_attempt_env() {
    attempt_env e;
    e.operation_timeout = cfg_.timeouts.operation;
    e.attempt_timeout = cfg_.timeouts.attempt;
    e.fixed_credentials = creds_.get();
    e.refreshing_credentials = creds_cache_ != nullptr;
    e.credentials_ec = creds_ec_;
    e.credentials_why = creds_why_;
    // The shared parts are members of *this, which outlives every call (held by its shared_ptr).
    e.share(strategy_, quota_, rng_, adaptive_, adaptive_on_, offset_, counters_, system_attempt_clock());
    return e;
}

void client_impl::log_created() const {
    std::string m = "client created: endpoint " + url_.text() + ", region " + cfg_.region + ", credentials ";
    if (creds_)
        m += "from " + creds_->source;
    else if (creds_cache_)
        m += "from the refreshing chain (fetched on the first call)";
    else
        m += "none";
    log_.emit(log_level::info, "client", m);
    if (!creds_ && !creds_cache_ && logging(log_level::warn))
        log_.emit(log_level::warn, "credentials", "no credentials: every call will fail: " + creds_why_);
}

// The proxy for the endpoint (client_config::proxy, then the environment), logged at debug
// level without its password. Throws on a malformed proxy URL.
std::optional<proxy_url> client_impl::choose_transport_proxy(const env_lookup& env) const {
    const proxy_choice choice = choose_proxy(cfg_.proxy, env, url_.tls);
    std::optional<proxy_url> proxy;
    std::string what;
    if (error_code ec = proxy_for(choice, url_.host, url_.port, proxy, what)) throw_config_error(ec, what);
    if (logging(log_level::debug) && !choice.url.empty()) {
        if (proxy)
            log(log_level::debug,
                "proxy: " + proxy->display() + " (from " + choice.source + "), CONNECT " + url_.host + ":" + url_.port);
        else
            log(log_level::debug, "proxy: none for " + url_.host + " (" + choice.no_proxy_source + " matches)");
    }
    return proxy;
}

// The request an attempt sends, signed as it is written into the connection's buffer.
class client_impl::signed_request final : public request_writer {
public:
    signed_request(client_impl& c, const operation_request& op, const credentials_snapshot& snap) noexcept
        : client_(c), op_(op), snap_(snap) {}
    void write(std::string& out, const wire_target& where) const override {
        client_.write_signed(op_, snap_, out, where);
    }
    bool is_head() const noexcept override { return op_.method == "HEAD"; }

private:
    client_impl& client_;
    const operation_request& op_;
    const credentials_snapshot& snap_;
};

void client_impl::write_signed(const operation_request& op, const credentials_snapshot& snap, std::string& out,
                               const wire_target& where) {
    const credentials& creds = snap.value;
    auto now = std::chrono::time_point_cast<std::chrono::seconds>(offset_.now(std::chrono::system_clock::now()));
    char date_buf[16];
    sigv4::write_amz_date(now, date_buf);
    const std::string_view date(date_buf, sizeof date_buf);
    std::string joined;  // base_path + op.path, only when there is a base path
    std::string_view path = op.path;
    if (!url_.base_path.empty()) {
        joined.reserve(url_.base_path.size() + op.path.size());
        joined.append(url_.base_path).append(op.path);
        path = joined;
    }

    // The request's own headers, signed (in canonical order) and sent (in this order, then
    // Authorization and the transport's User-Agent, transport_settings::user_agent).
    sigv4::header hdrs[4];
    std::size_t n = 0;
    hdrs[n++] = {"Host", url_.host_header};
    hdrs[n++] = {"X-Amz-Date", date};
    if (!creds.session_token.empty()) hdrs[n++] = {"X-Amz-Security-Token", creds.session_token};
    if (!op.content_type.empty()) hdrs[n++] = {"Content-Type", op.content_type};

    sigv4::signing_input in;
    in.request.method = op.method;
    in.request.path = path;
    in.request.query = op.query;
    in.request.headers = std::span<const sigv4::header>(hdrs, n);
    in.request.payload = op.body;
    if (op.body.empty()) in.request.payload_hash = sigv4::empty_payload_sha256;
    in.credentials = {creds.access_key_id, creds.secret_access_key, creds.session_token};
    in.region = cfg_.region;
    in.service = "iot";
    in.time = now;
    // The Authorization value: in a per-thread buffer (its capacity reused by every request), or
    // with debug logging in a local one (a log sink may run anything, a signing included).
    thread_local std::string reused;
    std::string logged;
    std::string_view authorization;
    if (!logging(log_level::debug)) {
        const sigv4::scoped_key key{snap.key.get(creds.secret_access_key, date.substr(0, 8), cfg_.region, "iot")};
        sigv4::sign_authorization(in, key.bytes, reused);
        authorization = reused;
    } else {
        sigv4::signing_result r = sigv4::sign_headers(in, &keys_);
        logged = std::move(r.authorization);
        authorization = logged;
        // The canonical request carries the session token in clear (x-amz-security-token): a
        // credential, never logged (config.hpp).
        std::string canonical = r.canonical_request;
        redact_in_place(canonical, creds.session_token);
        std::optional<request_identity> id;
        log_record rec = request_record(log_level::debug, op, id);
        for (const std::string& m : {"CanonicalRequest:\n" + canonical, "StringToSign:\n" + r.string_to_sign,
                                     "SignedHeaders: " + r.signed_headers}) {
            rec.message = m;
            log_.emit(rec);
        }
    }

    http_field_view fields[5];
    for (std::size_t i = 0; i < n; ++i) fields[i] = {hdrs[i].name, hdrs[i].value};
    fields[n] = {"Authorization", authorization};
    request_parts parts;
    parts.method = op.method;
    parts.path = op.path;
    parts.query = op.query;
    parts.headers = std::span<const http_field_view>(fields, n + 1);
    parts.body = op.body;
    serialize_request(out, parts, where);
}

namespace {
// The 2xx body read into the operation's result; a body that cannot be read fails the call.
error_code read_body(const operation_request& op, const http_response& resp, diagnostics& diag,
                     const client_impl::body_reader* read) {
    if (!read) return {};
    std::string what;
    error_code ec = (*read)(resp.body, what);
    if (ec) access::message(diag) = "cannot parse the " + std::string(op.operation_name) + " response: " + what;
    return ec;
}
}  // namespace

std::chrono::steady_clock::time_point client_impl::call_started(const op_node* node) {
    if (!cfg_.metrics && !logging(log_level::error)) return {};  // (the closing record may be an error)
    if (cfg_.metrics) metrics_.started();
    // A call that waited for admission is measured from when it was issued.
    if (node && node->queued_at != std::chrono::steady_clock::time_point{}) return node->queued_at;
    return std::chrono::steady_clock::now();
}

void client_impl::call_ended(const operation_request& op, const diagnostics& diag, const error_code& ec,
                             std::chrono::steady_clock::time_point start, bool log) {
    if (start == std::chrono::steady_clock::time_point{}) return;
    const auto latency =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start);
    if (cfg_.metrics) metrics_.finished(operation_kind_of(op.operation_name), ec, latency);
    if (log && logging(log_level::error)) log_call_end(op, diag, ec, latency);
}

log_record client_impl::request_record(log_level l, const operation_request& op,
                                       std::optional<request_identity>& id) const {
    if (!id) id = identity_of(op.path, op.query);
    log_record r;
    r.level = l;
    r.component = "client";
    r.operation = op.operation_name;
    set_identity(r, *id);
    return r;
}

void client_impl::log_attempt(const operation_request& op, std::optional<request_identity>& id, unsigned attempt,
                              const error_code& ec, const http_response& resp, const parsed_error* perr,
                              std::chrono::steady_clock::time_point started) const {
    log_record r = request_record(log_level::debug, op, id);
    r.attempt = attempt;
    r.latency = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started);
    std::string m = "attempt " + std::to_string(attempt) + ": ";
    if (ec) {
        r.error = ec;
        m += "transport error: " + ec.message();
    } else if (!perr) {
        r.http_status = resp.status;
        r.request_id = resp.header("x-amzn-requestid");
        m += "HTTP " + std::to_string(resp.status) + " request id " + std::string(r.request_id);
    } else {
        r.http_status = resp.status;
        r.aws_error = perr->code;
        r.request_id = perr->request_id;
        m += "HTTP " + std::to_string(resp.status) + " " + perr->code + ": " + perr->message + " (request id " +
             perr->request_id + ")";
    }
    r.message = m;
    log_.emit(r);
}

void client_impl::log_connection(const exchange_info& info, const error_code& ec) const {
    if (info.connect_failed) return;
    std::string m;
    if (!info.reused_connection) {
        const pool_stats st = pool_->stats();
        m = "connection opened to " + url_.host + ":" + url_.port + " (" + std::to_string(st.connects) +
            " opened so far, " + std::to_string(st.idle + st.leased) + " open or opening now" +
            (st.tls_resumed ? ", TLS sessions resumed so far: " + std::to_string(st.tls_resumed) : std::string()) + ")";
        log_.emit(log_level::info, "pool", m);
    }
    if (ec && ec != asio::error::operation_aborted)
        log_.emit(log_level::info, "pool", "connection dropped after a transport error: " + ec.message());
}

void client_impl::log_call_end(const operation_request& op, const diagnostics& diag, const error_code& ec,
                               std::chrono::microseconds latency) const {
    log_level l = log_level::debug;
    std::string m = "call";
    if (!ec) {
        m += " succeeded";
    } else if (is_fatal_for_client(ec) || ec == client_errc::invalid_configuration ||
               ec == client_errc::invalid_endpoint || ec == client_errc::tls_setup_failed) {
        l = log_level::error;
        m += " failed (check the credentials and configuration): " + ec.message();
    } else if (is_throttling(ec)) {
        l = log_level::warn;
        m += " throttled: gave up after " + std::to_string(diag.attempts()) + " attempts";
    } else {
        m += " failed: " + ec.message();
    }
    if (!logging(l)) return;
    if (ec && !diag.message().empty()) m.append(": ").append(diag.message());
    std::optional<request_identity> id;
    log_record r = request_record(l, op, id);
    r.message = m;
    r.attempt = diag.attempts();
    r.http_status = diag.http_status();
    r.aws_error = diag.aws_error_name();
    r.request_id = diag.request_id();
    r.latency = latency;
    r.error = ec;
    log_.emit(r);
}

// The body of every operation, one coroutine frame per call: performs the actions of the call's
// attempt_fsm (lib/client/attempt_fsm.hpp), which decides everything: what to wait for, when to
// sign and send, when and how the call ends.
asio::awaitable<error_code> client_impl::execute(const operation_request& op, diagnostics& d, const body_reader* read,
                                                 const op_node* node) {
    co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
    // Cancelled awaits complete with operation_aborted instead of throwing, so that every
    // layer (pool slots above all) runs its normal error path.
    co_await asio::this_coro::throw_if_cancelled(false);
    if (cancelled_before_start(node)) {
        d.clear();
        co_return asio::error::operation_aborted;
    }
    http_response resp;
    const auto start = call_started(node);
    if (node) node->note_started(op, d, start);  // (for call_abandoned)
    // Every local has a slot of its own in the frame (GCC 12 overlaps none): what lives only
    // between two suspension points belongs in the functions called from here.
    attempt_fsm fsm(env_, d);
    // Built on first use (adaptive pacing, retry delays): constructing and destroying a timer
    // costs a lock of the scheduler even when it never waits.
    std::unique_ptr<asio::steady_timer> timer;
    std::shared_ptr<const credentials_snapshot> held;  // a refreshing source's set, for one attempt
    exchange_info info;
    std::chrono::steady_clock::time_point sent_at{};  // for the debug record of an attempt
    attempt_event ev = first_event(node);
    error_code ec;
    // After client::shutdown(): nothing is sent, credentials are not fetched either.
    bool done = pool_->closed();
    if (done) ec = make_error_code(client_errc::pool_closed);
    try {
        while (!done) {
            const attempt_action a = resume(fsm, ev, op, resp, sent_at);
            switch (a.type) {
            case attempt_action_type::check_cancellation:
                ev = attempt_event::cancellation((co_await asio::this_coro::cancellation_state).cancelled());
                break;
            case attempt_action_type::wait: {
                // On the client's executor: the wait still completes on this coroutine's strand.
                if (!timer) timer = std::make_unique<asio::steady_timer>(ex_);
                timer->expires_after(a.delay);
                co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
                ev = attempt_event::timer(ec);
                break;
            }
            case attempt_action_type::get_credentials:
                if (!(held = creds_cache_->try_current())) {
                    ec = co_await await_credentials(held, d);
                    if (ec) {
                        ev = attempt_event::credentials_error(ec, nullptr);  // (the message is in d)
                        break;
                    }
                }
                ev = attempt_event::credentials_ok(held.get());
                break;
            case attempt_action_type::send:
                if (!begin_send(a, node, info, resp, ev, sent_at)) break;  // (a call's wait ran out)
                {  // signed when the pool has a connection for it, straight into that connection's buffer
                    const signed_request req(*this, op, *a.credentials);
                    // (Not a conditional in the co_await operand: GCC 12 dereferenced a null `node` there.)
                    const auto since = waiting_since(a, node);
                    ec = co_await pool_->exchange(req, resp, info, a.attempt_timeout, a.deadline, since);
                }
                if (logging(log_level::info)) log_connection(info, ec);
                ev = attempt_event::exchanged(ec, info, resp);
                break;
            case attempt_action_type::complete:
                ec = a.ec;
                done = true;
                break;
            }
        }
        if (!ec) ec = read_body(op, resp, d, read);
    } catch (...) {  // (std::bad_alloc): keep in_flight right; counted as the caller will see it
        call_ended(op, d, error_from_exception(std::current_exception()), start, false);
        if (node) node->note_ended();
        throw;
    }
    call_ended(op, d, ec, start, true);
    if (node) node->note_ended();
    co_return ec;
}

void client_impl::call_abandoned(op_node& n) noexcept {
    bool retired = true;
    try {
        std::lock_guard lk(ops_mutex_);
        retired = n.retired;  // (its initiating function threw, or start_failed ended it: no handler to call)
    } catch (...) {}
    // Off the io_context's thread it is most likely being destroyed: the call counts as aborted.
    const bool here = runs_here(ex_);
    if (n.started.op) {  // execute() counted it started, not ended
        try {            // (no closing record for a call whose initiating function threw: its diagnostics may be gone)
            call_ended(*n.started.op, *n.started.diag,
                       here ? make_error_code(boost::system::errc::not_enough_memory)
                            : error_code(boost::asio::error::operation_aborted),
                       n.started.at, !retired && here);
        } catch (...) {  // (a log sink's exception)
        }
        n.note_ended();
    }
    if (retired) return;
    if (here) {
        start_failed(n);
        return;
    }
    // Not on a thread running the client's io_context: another kind of executor, or the io_context
    // is being destroyed. The call leaves the registry and frees its admission (the queue moves on
    // at the next call's end); its handler is destroyed, never called.
    try {
        std::lock_guard lk(ops_mutex_);
        retire_locked(n, false);
    } catch (...) {}
    n.drop();
}

asio::awaitable<error_code> client_impl::await_credentials(std::shared_ptr<const credentials_snapshot>& held,
                                                           diagnostics& d) {
    std::string why;
    const error_code ec = co_await creds_cache_->async_get(held, why);
    if (ec) access::message(d) = std::move(why);
    co_return ec;
}

// The next action of `fsm`, and the records and metrics of the exchange it judged (if it did).
attempt_action client_impl::resume(attempt_fsm& fsm, const attempt_event& ev, const operation_request& op,
                                   const http_response& resp, std::chrono::steady_clock::time_point sent_at) {
    attempt_judgement j;  // on this stack, not in the call's frame
    const attempt_action a = fsm.resume(ev, &j);
    if (fsm.judged()) report_judgement(op, j, resp, sent_at);
    return a;
}

// A call that waited for admission: its first exchange waits for a connection as if it had been
// in the pool's line since it was issued (or, waited out, fails as that wait would).
attempt_event client_impl::first_event(const op_node* node) {
    if (!node) return attempt_event::start();
    return attempt_event::start(node->queued_at,
                                node->waited_out ? make_error_code(client_errc::pool_acquire_timeout) : error_code{});
}

// When the attempt's wait for a connection began (zero: now): a call that waited for admission
// waits for its first connection as if it had been in the pool's line since it was issued.
std::chrono::steady_clock::time_point client_impl::waiting_since(const attempt_action& a, const op_node* node) {
    if (a.attempt == 1 && node) return node->queued_at;
    return {};
}

// Resets the exchange's outputs (and notes when it is sent, for a debug record). False when the
// first attempt of a call whose wait for a connection ended in the admission queue: `ev` is then
// that wait's failure and nothing is sent.
bool client_impl::begin_send(const attempt_action& a, const op_node* node, exchange_info& info, http_response& resp,
                             attempt_event& ev, std::chrono::steady_clock::time_point& sent_at) const {
    info = exchange_info{};
    resp.clear();
    if (logging(log_level::debug)) sent_at = std::chrono::steady_clock::now();
    if (!(node && node->waited_out && a.attempt == 1)) return true;
    info.connect_failed = true;
    info.timeout = timeout_phase::pool_wait;
    ev = attempt_event::exchanged(make_error_code(client_errc::pool_acquire_timeout), info, resp);
    return false;
}

// The records and metrics of one judged attempt, in the order the judgement went: the attempt,
// an adaptive rate cut, then either why the call stops or the skew fix-up and the retry.
void client_impl::report_judgement(const operation_request& op, const attempt_judgement& j, const http_response& resp,
                                   std::chrono::steady_clock::time_point sent_at) {
    const bool quota_empty = j.quota_exhausted();
    if (quota_empty && cfg_.metrics) metrics_.quota_exhausted();
    if (!logging(log_level::warn)) return;
    std::optional<request_identity> ident;  // decoded for the first record
    const bool debug = logging(log_level::debug);
    if (debug) log_attempt(op, ident, j.attempt, j.transport_ec, resp, j.error, sent_at);
    const auto record = [&](log_level l, std::string message) {
        log_record r = request_record(l, op, ident);
        r.message = message;
        r.attempt = j.attempt;
        if (j.decided) {
            r.retry_reason = j.decision.reason;
            r.error = j.result;
        }
        log_.emit(r);
    };
    if (j.rate_cut && debug) {
        auto st = adaptive_.state();
        log_record r = request_record(log_level::debug, op, ident);
        r.message = "adaptive rate limiter: throttled, send rate now " + std::to_string(st.fill_rate) +
                    "/s (measured " + std::to_string(st.measured_rate) + "/s)";
        r.attempt = j.attempt;
        log_.emit(r);
    }
    if (!j.decided) return;
    const retry_decision& d = j.decision;
    if (!d.retry) {
        const log_level l = quota_empty ? log_level::warn : log_level::debug;
        if (logging(l)) record(l, std::string("not retried: ") + d.reason);
        return;
    }
    if (!debug) return;
    if (j.skew_corrected)
        log(log_level::debug, "clock skew corrected: offset now " + std::to_string(j.skew_corrected->count()) + " s");
    record(log_level::debug, "retrying (" + std::string(to_string(d.kind)) + ": " + d.reason + ") after " +
                                 std::to_string(d.delay.count()) + " ms");
}

asio::any_io_executor client_impl::make_op_strand() const {
    if (cfg_.single_threaded) return ex_;  // one thread: already serialised
    if (const auto* io = ex_.target<asio::io_context::executor_type>()) return asio::make_strand(*io);
    return asio::make_strand(ex_);
}

bool client_impl::admit_or_queue(op_node& n) {
    n.prev = nullptr;
    n.next = ops_head_;
    if (ops_head_) ops_head_->prev = &n;
    ops_head_ = &n;
    if (admitted_ < admit_limit_) {  // (the queue is empty: it is only non-empty at the limit)
        ++admitted_;
        return true;
    }
    n.queued = true;
    n.queued_at = std::chrono::steady_clock::now();
    n.keep = n.shared_from_this();
    n.qprev = queue_tail_;
    if (queue_tail_)
        queue_tail_->qnext = &n;
    else
        queue_head_ = &n;
    queue_tail_ = &n;
    ++queued_count_;
    if (!queue_timer_armed_ && queue_wait_.count() > 0) arm_queue_timer();
    return false;
}

std::shared_ptr<op_node> client_impl::unqueue(op_node& n) {
    if (n.qprev)
        n.qprev->qnext = n.qnext;
    else
        queue_head_ = n.qnext;
    if (n.qnext)
        n.qnext->qprev = n.qprev;
    else
        queue_tail_ = n.qprev;
    n.qprev = n.qnext = nullptr;
    n.queued = false;
    --queued_count_;
    ++admitted_;
    if (!queue_head_ && queue_timer_armed_) {  // nothing to watch: let the io_context run out
        queue_timer_armed_ = false;
        ++queue_timer_generation_;
        queue_timer_.cancel();
    }
    return std::move(n.keep);
}

void client_impl::arm_queue_timer() noexcept {
    const unsigned generation = ++queue_timer_generation_;
    try {
        queue_timer_.expires_at(queue_head_->queued_at + queue_wait_);
        queue_timer_.async_wait([w = weak_from_this(), generation](error_code) {
            if (auto self = w.lock()) self->on_queue_timer(generation);
        });
        queue_timer_armed_ = true;
    } catch (...) {  // (std::bad_alloc) not armed: the next call queued, or the next expiry, tries again
        queue_timer_armed_ = false;
    }
}

// The calls whose wait for a connection has expired leave the queue and start: they fail as a
// wait in the pool's line would (execute), or retry as configured.
void client_impl::on_queue_timer(unsigned generation) {
    std::vector<std::shared_ptr<op_node>> expired;
    {
        std::lock_guard lk(ops_mutex_);
        if (generation != queue_timer_generation_) return;
        queue_timer_armed_ = false;
        try {
            expired.reserve(queued_count_);
        } catch (...) {  // (std::bad_alloc) every call stays queued; the timer tries again later
            arm_queue_timer();
            return;
        }
        const auto now = std::chrono::steady_clock::now();
        while (queue_head_ && queue_head_->queued_at + queue_wait_ <= now) {
            queue_head_->waited_out = true;
            expired.push_back(unqueue(*queue_head_));
        }
        if (queue_head_) arm_queue_timer();
    }
    start_all(expired);
}

void client_impl::start_all(std::vector<std::shared_ptr<op_node>>& nodes) noexcept {
    for (auto& n : nodes) start_or_fail(*n);
}

void client_impl::start_or_fail(op_node& n) noexcept {
    try {
        n.start(shared_from_this());
    } catch (...) {
        start_failed(n);
    }
}

void client_impl::start_failed(op_node& first) noexcept {
    std::shared_ptr<op_node> n;
    try {
        n = first.shared_from_this();
    } catch (...) {  // (not owned: never the case for a started node)
        return;
    }
    const error_code ec = make_error_code(boost::system::errc::not_enough_memory);
    while (n) {
        std::shared_ptr<op_node> next;
        bool ends_here = false;  // (not when something else ended it already)
        try {
            std::lock_guard lk(ops_mutex_);
            ends_here = !n->retired;
            next = retire_locked(*n);
        } catch (...) {}
        if (ends_here) {
            try {
                asio::post(ex_, [n, ec, ex = ex_] { n->deliver(ec, ex); });
            } catch (...) {  // (memory again: the handler is destroyed uncalled, as when the io_context goes)
                n->drop();
            }
        }
        n = std::move(next);
        if (!n) return;
        try {
            n->start(shared_from_this());
            return;
        } catch (...) {  // the next one cannot start either: it ends the same way
        }
    }
}

void client_impl::finished(op_node& n) {
    std::shared_ptr<op_node> next;
    {
        std::lock_guard lk(ops_mutex_);
        next = retire_locked(n);
    }
    if (next) start_or_fail(*next);
}

// ---------------------------------------------------------------------------------------------
// Op runners (single-threaded clients)

// One runner coroutine; its cancellation signal is what the running call's node forwards to.
struct client_impl::op_runner {
    asio::cancellation_signal sig;
    // Calls admitted while this runner delivered a completion (under ops_mutex_, in the order
    // they were issued): the first runs here next; `more` is used only when a handler issues
    // several calls.
    std::shared_ptr<op_node> next;
    std::vector<std::shared_ptr<op_node>> more;
};

namespace {
// Runners being started on this thread: their first call's body runs inline in co_spawn, within
// the function that started it (an initiation, a slot's emit(), client::shutdown()).
thread_local unsigned runners_starting = 0;
}  // namespace

void client_impl::start_runner(std::shared_ptr<op_node> first) {
    auto r = std::make_shared<op_runner>();
    auto slot = r->sig.slot();
    struct starting {
        starting() noexcept { ++runners_starting; }
        ~starting() { --runners_starting; }
    } mark;
    // The completion handler holds the runner: co_spawn keeps its cancellation state in the
    // signal's slot until the very end. An exception here is a completion handler's: it leaves
    // io_context::run(), as it would from a call of its own.
    asio::co_spawn(ex_, run_calls(r, std::move(first)), asio::bind_cancellation_slot(slot, [r](std::exception_ptr ep) {
                       if (ep) std::rethrow_exception(ep);
                   }));
}

// Every body is execute(), which resets the runner's cancellation state (and its throw-if-
// cancelled) first: a call left cancelled does not reach the next one.
asio::awaitable<void> client_impl::run_calls(std::shared_ptr<op_runner> r, std::shared_ptr<op_node> n) {
    const auto self = shared_from_this();
    // While a call runs here its node's cancellation comes to this runner's signal (request() is
    // on this executor too). Cleared however the body ends, the frame's destruction included.
    struct forwarding {
        op_node& node;
        forwarding(op_node& n, asio::cancellation_signal& to) noexcept : node(n) { node.forward = &to; }
        ~forwarding() { node.forward = nullptr; }
        forwarding(const forwarding&) = delete;
        forwarding& operator=(const forwarding&) = delete;
    };
    // Destroyed while the body is suspended (Asio unwinding the stack after an initiation threw):
    // the call ends there (call_abandoned).
    struct watch {
        client_impl& client;
        op_node& node;
        bool armed = true;
        watch(client_impl& c, op_node& n) noexcept : client(c), node(n) {}
        ~watch() {
            if (armed) client.call_abandoned(node);
        }
        watch(const watch&) = delete;
        watch& operator=(const watch&) = delete;
    };
    while (n) {
        error_code ec;
        {
            const forwarding f(*n, r->sig);
            watch w(*this, *n);
            try {
                ec = co_await n->body(self);
            } catch (...) {
                ec = error_from_exception(std::current_exception());
            }
            w.armed = false;
        }
        // A body that ended without suspending while its runner was being started: its handler
        // must not run inside the function that started it (co_spawn's own completion would not).
        if (runners_starting != 0) co_await asio::post(ex_, asio::use_awaitable);
        n = next_call(*r, std::move(n), ec);
    }
}

std::shared_ptr<op_node> client_impl::retire_locked(op_node& n, bool admit_next) noexcept {
    if (n.retired) return nullptr;
    n.retired = true;
    unregister_op(n);
    --admitted_;
    // At most one: at most admit_limit_ were admitted before (more only after waiting out).
    if (admit_next && queue_head_ && admitted_ < admit_limit_) return unqueue(*queue_head_);
    return nullptr;
}

std::shared_ptr<op_node> client_impl::next_call(op_runner& r, std::shared_ptr<op_node> done, error_code ec) {
    std::shared_ptr<op_node> next;
    {
        std::lock_guard lk(ops_mutex_);
        next = retire_locked(*done);  // the queue first: a call issued now waits behind it
        if (!next) finishing_ = &r;   // calls admitted while the handler runs come here
    }
    // After the handler (which may throw): the runner is no longer the one to hand over to. It
    // runs the one call handed over; several start in the order they were issued.
    const bool handing = !next;
    const auto settle = [&] {
        if (!handing) return;
        std::vector<std::shared_ptr<op_node>> handed;
        {
            std::lock_guard lk(ops_mutex_);
            finishing_ = finishing_ == &r ? nullptr : finishing_;
            next = std::move(r.next);
            handed.swap(r.more);
        }
        if (handed.empty()) return;
        start_or_fail(*next);  // each on a runner of its own
        next.reset();
        start_all(handed);
    };
    try {
        done->deliver(ec, ex_);
    } catch (...) {
        settle();
        if (next) start_or_fail(*next);  // on a runner of its own: this one stops
        throw;
    }
    settle();
    return next;
}

bool client_impl::hand_over(const std::shared_ptr<op_node>& n) noexcept {
    if (!finishing_) return false;
    if (!finishing_->next) {
        finishing_->next = n;
        return true;
    }
    try {
        finishing_->more.push_back(n);
    } catch (const std::bad_alloc&) {
        return false;  // started at once instead
    }
    return true;
}

bool client_impl::admit_cancelled(op_node& n) {
    std::shared_ptr<op_node> keep;
    {
        std::lock_guard lk(ops_mutex_);
        if (!n.queued) return false;
        keep = unqueue(n);
    }
    start_or_fail(*keep);
    return true;
}

void op_node::request(boost::asio::cancellation_type t) {
    requested = requested | t;
    if (auto c = owner.lock(); c && c->admit_cancelled(*this)) return;
    (forward ? *forward : sig).emit(t);
}

void client_impl::unregister_op(op_node& n) {
    if (n.prev)
        n.prev->next = n.next;
    else if (ops_head_ == &n)
        ops_head_ = n.next;
    if (n.next) n.next->prev = n.prev;
    n.prev = n.next = nullptr;
}

error_code error_from_exception(std::exception_ptr ep) noexcept {
    try {
        std::rethrow_exception(ep);
    } catch (const boost::system::system_error& e) {
        return e.code();
    } catch (const std::system_error& e) {
        return error_code(e.code());
    } catch (const std::bad_alloc&) {
        return make_error_code(boost::system::errc::not_enough_memory);
    } catch (...) {
        return make_error_code(client_errc::bad_response);
    }
}

void client_impl::cancel_all() {
    std::lock_guard lk(ops_mutex_);
    // A registered node is owned (at least) by its operation's completion handler, which
    // unregisters it before letting go: shared_from_this() is safe here.
    for (op_node* n = ops_head_; n; n = n->next)
        asio::post(n->strand, [n = n->shared_from_this()] { n->request(asio::cancellation_type::terminal); });
    pool_->close_idle();
}

// The calls waiting for admission start first (they find the pool closed: pool_closed, as calls
// in its line get), then every call is cancelled.
void client_impl::shutdown() {
    pool_->close();
    std::vector<std::shared_ptr<op_node>> queued;
    {
        std::lock_guard lk(ops_mutex_);
        queued.reserve(queued_count_);  // (a std::bad_alloc here leaves every call queued)
        while (queue_head_) queued.push_back(unqueue(*queue_head_));
    }
    start_all(queued);
    cancel_all();
}

bool client_impl::transient_credentials_failure(const error_code& ec) const noexcept {
    return creds_cache_ && (ec == client_errc::credentials_error || ec == client_errc::no_credentials) &&
           creds_cache_->has_credentials();
}

client_metrics client_impl::metrics() const {
    client_metrics m;
    client_stats s = stats();
    m.requests = s.requests;
    m.retries = s.retries;
    m.throttled = s.throttled;
    m.connections_opened = s.connects;
    m.tls_handshakes = s.tls_handshakes;
    m.tls_resumed = s.tls_resumed;
    m.connections_reused = s.reuses;
    m.connections_idle = s.idle;
    m.connections_leased = s.leased;
    m.waiting_for_connection = s.waiting;
    metrics_.snapshot(m);
    if (cfg_.metrics) {  // calls waiting for admission have started too (execute() counts the rest)
        std::lock_guard lk(ops_mutex_);
        m.in_flight += queued_count_;
        m.calls_started += queued_count_;
    }
    return m;
}

client_stats client_impl::stats() const {
    client_stats s;
    const pool_stats p = pool_->stats();
    s.connects = p.connects;
    s.tls_handshakes = p.tls_handshakes;
    s.tls_resumed = p.tls_resumed;
    s.reuses = p.reuses;
    s.idle = p.idle;
    s.leased = p.leased;
    s.waiting = p.waiting;
    {
        std::lock_guard lk(ops_mutex_);
        s.waiting += queued_count_;
    }
    s.requests = counters_.requests.load();
    s.retries = counters_.retries.load();
    s.throttled = counters_.throttled.load();
    return s;
}

}  // namespace detail
}  // namespace iotjobs
