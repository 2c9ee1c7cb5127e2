// The attempt loop's decisions (attempt_fsm.hpp).
#include "client/attempt_fsm.hpp"

#include "credentials/cache.hpp"
#include "credentials/redact.hpp"
#include "diagnostics_access.hpp"
#include "http/connection_pool.hpp"
#include "http/message.hpp"

#include <boost/asio/error.hpp>
#include <boost/assert.hpp>
#include <boost/beast/core/error.hpp>

#include <algorithm>

namespace iotjobs::detail {

namespace {

class real_clock final : public attempt_clock {
public:
    std::chrono::steady_clock::time_point steady_now() const override { return std::chrono::steady_clock::now(); }
    std::chrono::system_clock::time_point system_now() const override { return std::chrono::system_clock::now(); }
};

attempt_action action(attempt_action_type t) noexcept {
    attempt_action a;
    a.type = t;
    return a;
}

}  // namespace

const attempt_clock& system_attempt_clock() noexcept {
    static const real_clock clock;
    return clock;
}

attempt_action attempt_fsm::resume(const attempt_event& ev, attempt_judgement* judged) {
    judged_ = false;
    attempt_judgement scratch;  // on the caller's stack, not in every call's frame
    judgement_ = judged ? judged : &scratch;
    const attempt_action a = step(ev);
    judgement_ = nullptr;
    return a;
}

attempt_action attempt_fsm::step(const attempt_event& ev) {
    switch (state_) {
    case state::initial: BOOST_ASSERT(ev.type == attempt_event_type::start); return on_start(ev);
    case state::checking_cancel:
        BOOST_ASSERT(ev.type == attempt_event_type::cancellation_checked);
        return on_cancellation_checked(ev);
    case state::rate_waiting: BOOST_ASSERT(ev.type == attempt_event_type::timer_fired); return on_rate_timer(ev);
    case state::getting_credentials:
        if (ev.type == attempt_event_type::credentials_ready) {
            credentials_ = ev.credentials;
            return send_attempt();
        }
        BOOST_ASSERT(ev.type == attempt_event_type::credentials_failed);
        if (ev.why) access::message(diag_) = std::move(*ev.why);
        return complete(ev.ec);
    case state::exchanging: BOOST_ASSERT(ev.type == attempt_event_type::exchange_done); return on_exchange(ev);
    case state::backing_off: BOOST_ASSERT(ev.type == attempt_event_type::timer_fired); return on_backoff_timer(ev);
    case state::done: break;
    }
    BOOST_ASSERT_MSG(false, "attempt_fsm resumed after it completed");
    return complete(make_error_code(boost::system::errc::operation_not_permitted));
}

attempt_action attempt_fsm::on_start(const attempt_event& ev) {
    diag_.clear();
    if (!env_.fixed_credentials && !env_.refreshing_credentials) {
        access::message(diag_) = std::string(env_.credentials_why);
        return complete(env_.credentials_ec);
    }
    credentials_ = env_.fixed_credentials;
    has_deadline_ = env_.operation_timeout.count() > 0;
    if (has_deadline_)
        deadline_ =
            (ev.since == std::chrono::steady_clock::time_point{} ? steady_now() : ev.since) + env_.operation_timeout;
    waited_out_ = ev.ec == client_errc::pool_acquire_timeout;
    return next_attempt();
}

// Before every attempt: a cancellation recorded while the last wait ignored it (or before the
// first attempt) ends the call.
attempt_action attempt_fsm::next_attempt() {
    state_ = state::checking_cancel;
    return action(attempt_action_type::check_cancellation);
}

attempt_action attempt_fsm::on_cancellation_checked(const attempt_event& ev) {
    if (ev.cancelled != boost::asio::cancellation_type::none) return complete(boost::asio::error::operation_aborted);
    adaptive_ = env_.adaptive_on->load(std::memory_order_relaxed);
    if (!adaptive_) return credentials_step();
    // acquire() reserves a slot and says when it is paid for at the fill rate of now.
    const auto now = steady_now();
    const duration wait = env_.limiter->acquire(now);
    rate_ = env_.limiter->state().fill_rate;
    return pace(wait);
}

// The rate moves while we wait for a slot (every response of the client feeds CUBIC): wait in
// slices and rescale what is left, so a slot reserved while the rate was at its floor is not held
// for tens of seconds after the rate recovered (nor used early after it fell). A wait that would
// outlast the deadline, or a cancelled one, hands the slot back.
attempt_action attempt_fsm::pace(duration wait) {
    if (wait.count() <= 0) return credentials_step();
    if (has_deadline_ && steady_now() + wait >= deadline_) {
        env_.limiter->refund(steady_now());
        return deadline_exceeded("the operation deadline would pass while waiting for the rate limiter",
                                 timeout_phase::rate_wait);
    }
    constexpr duration slice = std::chrono::milliseconds(200);
    rate_left_ = wait;
    step_ = std::min<duration>(wait, slice);
    state_ = state::rate_waiting;
    attempt_action a = action(attempt_action_type::wait);
    a.delay = step_;
    a.reason = wait_reason::rate_slot;
    return a;
}

attempt_action attempt_fsm::on_rate_timer(const attempt_event& ev) {
    if (ev.ec) {
        env_.limiter->refund(steady_now());
        return complete(ev.ec);
    }
    rate_left_ -= step_;
    const double now_rate = env_.limiter->state().fill_rate;
    if (rate_left_.count() > 0 && now_rate > 0.0 && now_rate != rate_) {
        rate_left_ = std::chrono::duration_cast<duration>(rate_left_ * (rate_ / now_rate));
        rate_ = now_rate;
    }
    return pace(rate_left_);
}

// A refreshing source's set is asked for before every attempt (a refreshed token is used at once).
attempt_action attempt_fsm::credentials_step() {
    if (!env_.refreshing_credentials) return send_attempt();
    state_ = state::getting_credentials;
    return action(attempt_action_type::get_credentials);
}

// The deadline is checked before the attempt is signed and counted: an attempt it stops is never
// sent, so neither stats().requests nor diag.attempts() may count it. A first attempt whose wait for
// a connection already ended (waited_out_) goes on to that wait's failure, judged in on_exchange.
attempt_action attempt_fsm::send_attempt() {
    duration attempt_timeout = env_.attempt_timeout;
    if (has_deadline_ && !(waited_out_ && attempts_ == 0)) {
        const auto left = deadline_ - steady_now();
        if (left <= duration::zero())
            return deadline_exceeded(
                attempts_ == 0 ? "the operation deadline passed before the first attempt"
                               : "the operation deadline passed before attempt " + std::to_string(attempts_ + 1),
                timeout_phase::before_attempt);
        if (attempt_timeout.count() == 0 || left < attempt_timeout) attempt_timeout = left;
    }
    signed_offset_ = env_.offset->get();
    ++attempts_;
    access::attempts(diag_) = attempts_;
    env_.counters->requests.fetch_add(1, std::memory_order_relaxed);
    if (attempts_ > 1) env_.counters->retries.fetch_add(1, std::memory_order_relaxed);
    // Only the adaptive limiter's throttling window needs the send time.
    if (adaptive_) sent_at_ = steady_now();
    state_ = state::exchanging;
    attempt_action a = action(attempt_action_type::send);
    a.attempt = attempts_;
    a.credentials = credentials_;
    a.attempt_timeout = attempt_timeout;
    a.deadline = deadline_;
    return a;
}

attempt_action attempt_fsm::on_exchange(const attempt_event& ev) {
    exchange_info& info = *ev.info;
    const error_code ec = ev.ec;
    access::timeout_phase(diag_) = info.timeout;
    if ((ec == boost::beast::error::timeout || ec == client_errc::pool_acquire_timeout) && has_deadline_ &&
        steady_now() >= deadline_) {
        access::message(diag_) = ec == client_errc::pool_acquire_timeout
                                     ? "the operation deadline passed while waiting for a connection"
                                     : "the operation deadline passed during attempt " + std::to_string(attempts_);
        return complete(make_error_code(client_errc::deadline_exceeded));
    }
    if (ec == boost::asio::error::operation_aborted) {
        if (info.connect_failed && !info.request_written) {  // cancelled before anything was sent
            --attempts_;
            access::attempts(diag_) = attempts_;
            env_.counters->requests.fetch_sub(1, std::memory_order_relaxed);
            if (attempts_ > 0) env_.counters->retries.fetch_sub(1, std::memory_order_relaxed);
        }
        return complete(ec);
    }
    judged_ = true;
    *judgement_ = attempt_judgement{};
    judgement_->attempt = attempts_;
    if (ec) return on_transport_error(ec, info);
    const http_response& resp = *ev.response;
    access::http_status(diag_) = resp.status;
    if (resp.status >= 200 && resp.status < 300) {
        access::request_id(diag_).assign(resp.header("x-amzn-requestid"));
        access::aws_error_name(diag_).clear();
        access::message(diag_).clear();
        env_.quota->on_success(last_cost_);
        if (adaptive_) env_.limiter->on_response(steady_now(), false);
        return complete(error_code{});
    }
    return on_error_response(resp, info);
}

attempt_action attempt_fsm::on_transport_error(error_code ec, exchange_info& info) {
    attempt_outcome out;
    out.ec = ec;
    out.transport_error = true;
    out.timed_out = info.timed_out;
    out.response_started = info.response_started;
    access::http_status(diag_) = 0;
    access::aws_error_name(diag_).clear();
    access::message(diag_) = info.detail.empty() ? ec.message() : std::move(info.detail);
    judgement_->transport_ec = ec;
    server_offset_.reset();
    return decide(out, info.request_written);
}

attempt_action attempt_fsm::on_error_response(const http_response& resp, const exchange_info& info) {
    // The server's clock matters only to judge an error (a 2xx completes without it).
    server_offset_.reset();
    if (auto date = resp.header("date"); !date.empty())
        server_offset_ = compute_clock_offset(date, env_.clock->system_now());
    if (!perr_) perr_ = std::make_unique<parsed_error>();
    parsed_error& perr = *perr_;
    perr = parse_error_response(resp.status, resp.reason, resp.header("x-amzn-errortype"),
                                resp.header("x-amzn-requestid"), resp.header("x-amz-request-id"), resp.body);
    // Some signature errors quote the expected canonical request, token included.
    if (credentials_) redact_in_place(perr.message, credentials_->value.session_token);
    attempt_outcome out;
    out.ec = make_error_code(service_errc_from_response(resp.status, perr.code));
    out.http_status = resp.status;
    out.aws_error_name = perr.code;
    out.message = perr.message;
    out.response_started = true;
    out.server_clock_skewed = server_offset_ && significant_skew(*server_offset_ - signed_offset_);
    access::aws_error_name(diag_) = perr.code;
    access::message(diag_) = perr.message;
    access::request_id(diag_) = perr.request_id;
    judgement_->error = &perr;
    return decide(out, info.request_written);
}

attempt_action attempt_fsm::decide(const attempt_outcome& out, bool request_written) {
    retry_decision d = env_.strategy->decide(out, attempts_, skew_corrected_, *env_.quota, *env_.rng);
    if (d.kind == retry_kind::throttling) {
        env_.counters->throttled.fetch_add(1, std::memory_order_relaxed);
        if (adaptive_) on_throttled();
    } else if (adaptive_ && !out.transport_error) {
        env_.limiter->on_response(steady_now(), false);
    }
    if (d.retry && has_deadline_ && steady_now() + d.delay >= deadline_) {
        d.retry = false;
        d.reason = "the operation deadline would pass before the next attempt";
    }
    judgement_->decided = true;
    judgement_->decision = d;
    judgement_->result = out.ec;
    // A transport failure after the request was written, or a 5xx, may mean the service acted.
    const bool this_may_have_acted = (out.transport_error && request_written) || out.http_status >= 500;
    if (!d.retry) {
        access::an_attempt_may_have_acted(diag_) = maybe_processed_ || this_may_have_acted;
        // Keep a skew correction for later calls even when this one is not retried.
        if (out.server_clock_skewed && server_offset_ && d.kind == retry_kind::clock_skew)
            env_.offset->set(*server_offset_);
        if (out.ec == service_errc::resource_not_found && maybe_processed_)
            access::earlier_attempt_may_have_succeeded(diag_) = true;
        return complete(out.ec);
    }
    if (d.kind == retry_kind::clock_skew && server_offset_) {
        env_.offset->set(*server_offset_);
        skew_corrected_ = true;
        judgement_->skew_corrected = *server_offset_;
    }
    if (this_may_have_acted) maybe_processed_ = true;
    last_cost_ = d.quota_cost;
    if (d.delay.count() <= 0) return next_attempt();
    backoff_start_ = steady_now();
    state_ = state::backing_off;
    attempt_action a = action(attempt_action_type::wait);
    a.delay = d.delay;
    a.reason = wait_reason::backoff;
    return a;
}

// At most one multiplicative decrease per measurement bucket (0.5 s), and none for a request sent
// before the latest one: until the measured rate moves, a further throttle says nothing new (as
// TCP cuts once per loss window). Without this, N calls in flight past the limit cut the rate by
// 0.7^N at once.
void attempt_fsm::on_throttled() {
    // The limiter cuts at most once per measurement window and never for a request sent before
    // its latest cut (adaptive_rate_limiter::on_throttled).
    if (env_.limiter->on_throttled(steady_now(), sent_at_)) judgement_->rate_cut = true;
}

attempt_action attempt_fsm::on_backoff_timer(const attempt_event& ev) {
    access::retry_wait(diag_) += std::chrono::duration_cast<std::chrono::milliseconds>(steady_now() - backoff_start_);
    if (ev.ec) return complete(ev.ec);
    return next_attempt();
}

attempt_action attempt_fsm::deadline_exceeded(std::string message, timeout_phase phase) {
    access::message(diag_) = std::move(message);
    access::timeout_phase(diag_) = phase;
    return complete(make_error_code(client_errc::deadline_exceeded));
}

attempt_action attempt_fsm::complete(error_code ec) {
    state_ = state::done;
    attempt_action a = action(attempt_action_type::complete);
    a.ec = ec;
    return a;
}

}  // namespace iotjobs::detail
