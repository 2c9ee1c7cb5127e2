// iotjobs::client and the attempt loop shared by every operation.
#include "client_impl.hpp"

#include "credentials/redact.hpp"
#include "diagnostics_access.hpp"
#include "endpoint/endpoint.hpp"

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
#include <boost/beast/core/error.hpp>

#include <cstdlib>
#include <optional>
#include <system_error>

namespace iotjobs {

namespace asio = boost::asio;

client::client(asio::any_io_executor ex, client_config cfg)
    : impl_(std::make_shared<detail::client_impl>(std::move(ex), std::move(cfg))) {}
client::~client() = default;
client::client(client&&) noexcept = default;
client& client::operator=(client&&) noexcept = default;

asio::any_io_executor client::get_executor() const { return impl_->executor(); }
const client_config& client::config() const { return impl_->config(); }
void client::cancel() { impl_->cancel_all(); }
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
    if (cfg_.retry.max_attempts == 0) throw_config_error(make_error_code(client_errc::invalid_configuration),
                                                         "max_attempts must be at least 1");
    const env_lookup env = cfg_.environment ? env_lookup(cfg_.environment)
                                            : env_lookup([](const char* n) { return std::getenv(n); });
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
    // The response fields execute() reads; the transport copies no other.
    transport_settings ts{url_,          cfg_.ca_bundle, cfg_.verify_peer,    cfg_.pool,
                          cfg_.timeouts, std::string(user_agent),
                          {"x-amzn-requestid", "x-amzn-errortype", "x-amz-request-id", "date"}, std::move(proxy)};
    pool_ = make_connection_pool(ex_, std::move(ts), ec, what);
    if (!pool_) throw_config_error(ec, what);
    if (logging(log_level::info)) log_created();
}

void client_impl::log_created() const {
    std::string m = "client created: endpoint " + url_.text() + ", region " + cfg_.region + ", credentials ";
    if (creds_) m += "from " + creds_->source;
    else if (creds_cache_) m += "from the refreshing chain (fetched on the first call)";
    else m += "none";
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
            log(log_level::debug, "proxy: " + proxy->display() + " (from " + choice.source + "), CONNECT " +
                                      url_.host + ":" + url_.port);
        else
            log(log_level::debug, "proxy: none for " + url_.host + " (" + choice.no_proxy_source + " matches)");
    }
    return proxy;
}

void client_impl::sign(const operation_request& op, const credentials_snapshot& snap, http_request& out) {
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

    sigv4::header hdrs[4];
    std::size_t n = 0;
    hdrs[n++] = {"host", url_.host_header};
    hdrs[n++] = {"x-amz-date", date};
    if (!op.content_type.empty()) hdrs[n++] = {"content-type", op.content_type};
    if (!creds.session_token.empty()) hdrs[n++] = {"x-amz-security-token", creds.session_token};

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
    // Authorization goes straight into the header it is sent in (its capacity reused on retries).
    out.headers.resize(3 + !creds.session_token.empty() + !op.content_type.empty());
    std::string& authorization = out.headers[out.headers.size() - 1].value;
    if (!logging(log_level::debug)) {
        const sigv4::key_bytes key = snap.key.get(creds.secret_access_key, date.substr(0, 8), cfg_.region, "iot");
        sigv4::sign_authorization(in, key, authorization);
    } else {
        sigv4::signing_result r = sigv4::sign_headers(in, &keys_);
        authorization = std::move(r.authorization);
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

    out.method.assign(op.method);
    out.target.reserve(op.path.size() + 1 + op.query.size());
    out.target = op.path;
    if (!op.query.empty()) {
        out.target += '?';
        out.target += op.query;
    }
    // Host, X-Amz-Date, [X-Amz-Security-Token], [Content-Type], Authorization (already written),
    // then the transport's User-Agent (transport_settings::user_agent); assigned in place.
    std::size_t i = 0;
    const auto set = [&](std::string_view name, std::string_view value) {
        out.headers[i].name.assign(name);
        out.headers[i].value.assign(value);
        ++i;
    };
    set("Host", url_.host_header);
    set("X-Amz-Date", date);
    if (!creds.session_token.empty()) set("X-Amz-Security-Token", creds.session_token);
    if (!op.content_type.empty()) set("Content-Type", op.content_type);
    out.headers[i].name.assign("Authorization");
    out.body = op.body;
}

asio::awaitable<error_code> client_impl::execute(const operation_request& op, http_response& resp,
                                                 diagnostics& diag) {
    const bool measure = cfg_.metrics;
    const bool logged = logging(log_level::error);  // the closing record may be an error
    if (!measure && !logged) co_return co_await attempt_loop(op, resp, diag);
    const auto start = std::chrono::steady_clock::now();
    if (measure) metrics_.started();
    error_code ec;
    try {
        ec = co_await attempt_loop(op, resp, diag);
    } catch (...) {  // (std::bad_alloc): keep in_flight right; counted as the caller will see it
        if (measure)
            metrics_.finished(operation_kind_of(op.operation_name), error_from_exception(std::current_exception()),
                              std::chrono::duration_cast<std::chrono::microseconds>(
                                  std::chrono::steady_clock::now() - start));
        throw;
    }
    const auto latency =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start);
    if (measure) metrics_.finished(operation_kind_of(op.operation_name), ec, latency);
    if (logged) log_call_end(op, diag, ec, latency);
    co_return ec;
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
        client_stats st;
        pool_->add_stats(st);
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

asio::awaitable<error_code> client_impl::attempt_loop(const operation_request& op, http_response& resp,
                                                      diagnostics& diag) {
    diag.clear();
    std::optional<request_identity> ident;  // decoded for the first debug record
    if (!creds_ && !creds_cache_) {
        access::message(diag) = creds_why_;
        co_return creds_ec_;
    }
    // creds_: immutable, owned by *this (kept alive by the caller). A refreshing source's set is
    // asked for before every attempt (a refreshed token is used at once) and held by `held`.
    const credentials_snapshot* const fixed_creds = creds_.get();
    std::shared_ptr<const credentials_snapshot> held;

    auto ex = co_await asio::this_coro::executor;
    // Built on first use (adaptive pacing, retry delays): constructing and destroying a timer
    // costs a lock of the scheduler even when it never waits.
    std::optional<asio::steady_timer> timer;
    const bool has_deadline = cfg_.timeouts.operation.count() > 0;
    const auto deadline = has_deadline ? std::chrono::steady_clock::now() + cfg_.timeouts.operation
                                       : std::chrono::steady_clock::time_point::max();
    unsigned attempts = 0;
    unsigned last_cost = 0;
    bool skew_corrected = false;
    bool maybe_processed = false;  // an earlier attempt may have reached the service and acted
    http_request req;

    for (;;) {
        // A cancellation recorded while the last wait ignored it (or before the first attempt).
        if ((co_await asio::this_coro::cancellation_state).cancelled() != asio::cancellation_type::none)
            co_return asio::error::operation_aborted;
        const bool adaptive = adaptive_on_.load(std::memory_order_relaxed);
        if (adaptive) {
            // acquire() reserves a slot and says when it is paid for at the fill rate of now.
            // The rate moves while we wait (every response of the client feeds CUBIC): wait in
            // slices and rescale what is left, so a slot reserved while the rate was at its floor
            // is not held for tens of seconds after the rate recovered (nor used early after it
            // fell). A cancelled wait hands the slot back.
            constexpr duration slice = std::chrono::milliseconds(200);
            auto wait = adaptive_.acquire(std::chrono::steady_clock::now());
            double rate = adaptive_.state().fill_rate;
            while (wait.count() > 0) {
                if (has_deadline && std::chrono::steady_clock::now() + wait >= deadline) {
                    adaptive_.refund(std::chrono::steady_clock::now());
                    access::message(diag) = "the operation deadline would pass while waiting for the rate limiter";
                    access::timeout_phase(diag) = timeout_phase::rate_wait;
                    co_return make_error_code(client_errc::deadline_exceeded);
                }
                const duration step = std::min<duration>(wait, slice);
                if (!timer) timer.emplace(ex);
                timer->expires_after(step);
                error_code wec;
                co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, wec));
                if (wec) {
                    adaptive_.refund(std::chrono::steady_clock::now());
                    co_return wec;
                }
                wait -= step;
                const double now_rate = adaptive_.state().fill_rate;
                if (wait.count() > 0 && now_rate > 0.0 && now_rate != rate) {
                    wait = std::chrono::duration_cast<duration>(wait * (rate / now_rate));
                    rate = now_rate;
                }
            }
        }
        if (!fixed_creds && !(held = creds_cache_->try_current())) {
            std::string why;
            if (error_code cec = co_await creds_cache_->async_get(held, why)) {
                access::message(diag) = std::move(why);
                co_return cec;
            }
        }
        const credentials_snapshot& snap = fixed_creds ? *fixed_creds : *held;
        const credentials& creds = snap.value;
        // The deadline is checked before the attempt is signed and counted: an attempt it stops
        // is never sent, so neither stats().requests nor diag.attempts() may count it.
        duration attempt_timeout = cfg_.timeouts.attempt;
        if (has_deadline) {
            auto left = deadline - std::chrono::steady_clock::now();
            if (left <= duration::zero()) {
                access::message(diag) = attempts == 0 ? "the operation deadline passed before the first attempt"
                                                      : "the operation deadline passed before attempt " +
                                                            std::to_string(attempts + 1);
                access::timeout_phase(diag) = timeout_phase::before_attempt;
                co_return make_error_code(client_errc::deadline_exceeded);
            }
            if (attempt_timeout.count() == 0 || left < attempt_timeout) attempt_timeout = left;
        }
        const auto signed_offset = offset_.get();
        sign(op, snap, req);
        ++attempts;
        access::attempts(diag) = attempts;
        requests_.fetch_add(1, std::memory_order_relaxed);
        if (attempts > 1) retries_.fetch_add(1, std::memory_order_relaxed);

        exchange_info info;
        resp.clear();
        // Only the adaptive limiter's throttling window needs the send time.
        const auto sent_at = adaptive || logging(log_level::debug) ? std::chrono::steady_clock::now()
                                                                     : std::chrono::steady_clock::time_point{};
        error_code ec = co_await pool_->exchange(req, resp, info, attempt_timeout, deadline);
        if (logging(log_level::info)) log_connection(info, ec);
        access::timeout_phase(diag) = info.timeout;
        if ((ec == boost::beast::error::timeout || ec == client_errc::pool_acquire_timeout) && has_deadline &&
            std::chrono::steady_clock::now() >= deadline) {
            access::message(diag) = ec == client_errc::pool_acquire_timeout
                                        ? "the operation deadline passed while waiting for a connection"
                                        : "the operation deadline passed during attempt " + std::to_string(attempts);
            co_return make_error_code(client_errc::deadline_exceeded);
        }
        if (ec == asio::error::operation_aborted) {
            if (info.connect_failed && !info.request_written) {  // cancelled before anything was sent
                --attempts;
                access::attempts(diag) = attempts;
                requests_.fetch_sub(1, std::memory_order_relaxed);
                if (attempts > 0) retries_.fetch_sub(1, std::memory_order_relaxed);
            }
            co_return ec;
        }

        attempt_outcome out;
        parsed_error perr;
        std::optional<std::chrono::seconds> server_offset;
        if (ec) {
            out.ec = ec;
            out.transport_error = true;
            out.timed_out = info.timed_out;
            out.response_started = info.response_started;
            access::http_status(diag) = 0;
            access::aws_error_name(diag).clear();
            access::message(diag) = info.detail.empty() ? ec.message() : std::move(info.detail);
            if (logging(log_level::debug)) log_attempt(op, ident, attempts, ec, resp, nullptr, sent_at);
        } else {
            access::http_status(diag) = resp.status;
            if (resp.status >= 200 && resp.status < 300) {
                access::request_id(diag).assign(resp.header("x-amzn-requestid"));
                access::aws_error_name(diag).clear();
                access::message(diag).clear();
                quota_.on_success(last_cost);
                if (adaptive) adaptive_.on_response(std::chrono::steady_clock::now(), false);
                if (logging(log_level::debug)) log_attempt(op, ident, attempts, ec, resp, nullptr, sent_at);
                co_return error_code{};
            }
            // The server's clock matters only to judge an error (a 2xx returned above without it).
            if (auto date = resp.header("date"); !date.empty())
                server_offset = compute_clock_offset(date, std::chrono::system_clock::now());
            perr = parse_error_response(resp.status, resp.reason, resp.header("x-amzn-errortype"),
                                        resp.header("x-amzn-requestid"), resp.header("x-amz-request-id"),
                                        resp.body);
            // Some signature errors quote the expected canonical request, token included.
            redact_in_place(perr.message, creds.session_token);
            out.ec = make_error_code(service_errc_from_response(resp.status, perr.code));
            out.http_status = resp.status;
            out.aws_error_name = perr.code;
            out.message = perr.message;
            out.response_started = true;
            out.server_clock_skewed = server_offset && significant_skew(*server_offset - signed_offset);
            access::aws_error_name(diag) = perr.code;
            access::message(diag) = perr.message;
            access::request_id(diag) = perr.request_id;
            if (logging(log_level::debug)) log_attempt(op, ident, attempts, ec, resp, &perr, sent_at);
        }

        retry_decision d = strategy_.decide(out, attempts, skew_corrected, quota_, rng_);
        if (d.kind == retry_kind::throttling) {
            throttled_.fetch_add(1, std::memory_order_relaxed);
            if (adaptive && adaptive_.on_throttled(std::chrono::steady_clock::now(), sent_at) &&
                logging(log_level::debug)) {
                auto st = adaptive_.state();
                const std::string m = "adaptive rate limiter: throttled, send rate now " +
                                      std::to_string(st.fill_rate) + "/s (measured " +
                                      std::to_string(st.measured_rate) + "/s)";
                log_record r = request_record(log_level::debug, op, ident);
                r.message = m;
                r.attempt = attempts;
                log_.emit(r);
            }
        } else if (adaptive && !out.transport_error) {
            adaptive_.on_response(std::chrono::steady_clock::now(), false);
        }
        error_code result = out.ec;
        if (d.retry && has_deadline && std::chrono::steady_clock::now() + d.delay >= deadline) {
            d.retry = false;
            d.reason = "the operation deadline would pass before the next attempt";
        }
        if (!d.retry) {
            // Keep a skew correction for later calls even when this one is not retried.
            if (out.server_clock_skewed && server_offset && d.kind == retry_kind::clock_skew) offset_.set(*server_offset);
            if (result == service_errc::resource_not_found && maybe_processed)
                access::earlier_attempt_may_have_succeeded(diag) = true;
            const bool quota_empty = std::string_view(d.reason) == "retry quota exhausted";
            if (quota_empty && cfg_.metrics) metrics_.quota_exhausted();
            const log_level l = quota_empty ? log_level::warn : log_level::debug;
            if (logging(l) && attempts > 0) {
                const std::string m = std::string("not retried: ") + d.reason;
                log_record r = request_record(l, op, ident);
                r.message = m;
                r.attempt = attempts;
                r.retry_reason = d.reason;
                r.error = result;
                log_.emit(r);
            }
            co_return result;
        }
        if (d.kind == retry_kind::clock_skew && server_offset) {
            offset_.set(*server_offset);
            skew_corrected = true;
            if (logging(log_level::debug))
                log(log_level::debug, "clock skew corrected: offset now " + std::to_string(server_offset->count()) + " s");
        }
        // A transport failure after the request was written, or a 5xx, may mean the service acted.
        if ((out.transport_error && info.request_written) || (out.http_status >= 500))
            maybe_processed = true;
        last_cost = d.quota_cost;
        if (logging(log_level::debug)) {
            const std::string m = "retrying (" + std::string(to_string(d.kind)) + ": " + d.reason + ") after " +
                                  std::to_string(d.delay.count()) + " ms";
            log_record r = request_record(log_level::debug, op, ident);
            r.message = m;
            r.attempt = attempts;
            r.retry_reason = d.reason;
            r.error = result;
            log_.emit(r);
        }
        if (d.delay.count() > 0) {
            if (!timer) timer.emplace(ex);
            timer->expires_after(d.delay);
            error_code wec;
            auto before = std::chrono::steady_clock::now();
            co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, wec));
            access::retry_wait(diag) += std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::steady_clock::now() - before);
            if (wec) co_return wec;
        }
    }
}

asio::any_io_executor client_impl::make_op_strand() const {
    if (cfg_.single_threaded) return ex_;  // one thread: already serialised
    if (const auto* io = ex_.target<asio::io_context::executor_type>()) return asio::make_strand(*io);
    return asio::make_strand(ex_);
}

void client_impl::register_op(op_node& n) {
    std::lock_guard lk(ops_mutex_);
    n.prev = nullptr;
    n.next = ops_head_;
    if (ops_head_) ops_head_->prev = &n;
    ops_head_ = &n;
}

void client_impl::unregister_op(op_node& n) {
    std::lock_guard lk(ops_mutex_);
    if (n.prev) n.prev->next = n.next;
    else if (ops_head_ == &n) ops_head_ = n.next;
    if (n.next) n.next->prev = n.prev;
    n.prev = n.next = nullptr;
}

asio::awaitable<error_code> run_operation(std::shared_ptr<client_impl> impl, operation_request op,
                                          diagnostics* diag, const op_node* node) {
    co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
    // Cancelled awaits complete with operation_aborted instead of throwing, so that every
    // layer (pool slots above all) runs its normal error path.
    co_await asio::this_coro::throw_if_cancelled(false);
    if (cancelled_before_start(node)) {
        if (diag) diag->clear();
        co_return asio::error::operation_aborted;
    }
    diagnostics own;
    http_response resp;
    co_return co_await impl->execute(op, resp, diag ? *diag : own);
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
    return m;
}

client_stats client_impl::stats() const {
    client_stats s;
    pool_->add_stats(s);
    s.requests = requests_.load();
    s.retries = retries_.load();
    s.throttled = throttled_.load();
    return s;
}

}  // namespace detail
}  // namespace iotjobs
