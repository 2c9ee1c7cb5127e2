// The attempt loop of every operation as a sans-I/O state machine: given what happened (started,
// cancellation checked, a wait ended, credentials arrived or failed, an exchange ended), it says
// what to do next (check cancellation, wait N, get credentials, sign and send attempt N, complete
// with this error). It owns the decisions: rate-limiter pacing, deadlines, the diagnostics, the
// adaptive window, the clock-skew fix-up and the retry policy. client_impl::execute() in client.cpp is
// the coroutine that performs its actions.
//
// No I/O, no sleeps: time comes from an attempt_clock (a fake one in the tests, which drive the
// machine through event sequences and compare the actions; test/unit/test_attempt_fsm.cpp).
// The client-wide parts it reads and updates (quota, adaptive limiter, clock offset, counters)
// are thread-safe objects shared by every call of one client.
#pragma once

#include "jobs/wire.hpp"
#include "retry/clock_skew.hpp"
#include "retry/rate_limiter.hpp"
#include "retry/retry_quota.hpp"
#include "retry/standard_retry.hpp"

#include <iotjobs/config.hpp>
#include <iotjobs/diagnostics.hpp>
#include <iotjobs/error.hpp>

#include <boost/asio/cancellation_type.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace iotjobs::detail {

struct credentials_snapshot;
struct exchange_info;
struct http_response;

// The clocks the machine reads, and only when a decision needs the time.
class attempt_clock {
public:
    virtual ~attempt_clock() = default;
    virtual std::chrono::steady_clock::time_point steady_now() const = 0;
    virtual std::chrono::system_clock::time_point system_now() const = 0;
};

// The real steady and system clocks.
const attempt_clock& system_attempt_clock() noexcept;

// The client's counters of client_stats (requests sent, retries among them, throttled answers).
struct attempt_counters {
    std::atomic<std::uint64_t> requests{0};
    std::atomic<std::uint64_t> retries{0};
    std::atomic<std::uint64_t> throttled{0};
};

// What every call of one client shares. Set once when the client is built; the pointed-to
// objects outlive every machine.
struct attempt_env {
    duration operation_timeout{};  // the whole call, retries included; zero: none
    duration attempt_timeout{};    // one exchange; zero: none
    // Credentials: a set fixed for the client's life, or a refreshing source asked before every
    // attempt (get_credentials), or neither: every call fails with credentials_ec / _why.
    const credentials_snapshot* fixed_credentials = nullptr;
    bool refreshing_credentials = false;
    error_code credentials_ec;
    std::string_view credentials_why;

    // Points at the client-wide objects below (they must outlive every machine).
    void share(const standard_retry_strategy& s, retry_quota& q, random_source& r, adaptive_rate_limiter& l,
               const std::atomic<bool>& adaptive, clock_offset& o, attempt_counters& c,
               const attempt_clock& clk) noexcept {
        strategy = &s;
        quota = &q;
        rng = &r;
        limiter = &l;
        adaptive_on = &adaptive;
        offset = &o;
        counters = &c;
        clock = &clk;
    }

    const standard_retry_strategy* strategy = nullptr;
    retry_quota* quota = nullptr;
    random_source* rng = nullptr;
    adaptive_rate_limiter* limiter = nullptr;
    const std::atomic<bool>* adaptive_on = nullptr;  // pace attempts with `limiter`
    clock_offset* offset = nullptr;
    attempt_counters* counters = nullptr;
    const attempt_clock* clock = nullptr;
};

enum class attempt_action_type {
    check_cancellation,  // report the coroutine's cancellation state (event cancellation_checked)
    wait,                // wait `delay` (a rate-limiter slice or a backoff), then timer_fired
    get_credentials,     // fetch the refreshing source's set, then credentials_ready/_failed
    send,                // sign with `credentials`, exchange, then exchange_done
    complete,            // the call is over: return `ec` (diagnostics already filled)
};

enum class wait_reason { rate_slot, backoff };

struct attempt_action {
    attempt_action_type type = attempt_action_type::complete;
    // wait
    duration delay{};
    wait_reason reason = wait_reason::backoff;
    // send
    unsigned attempt = 0;  // 1-based
    const credentials_snapshot* credentials = nullptr;
    duration attempt_timeout{};  // zero: none
    std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
    // complete
    error_code ec;
};

enum class attempt_event_type {
    start,
    cancellation_checked,
    timer_fired,
    credentials_ready,
    credentials_failed,
    exchange_done,
};

// One input. Pointed-to objects need to live only until resume() returns.
struct attempt_event {
    attempt_event_type type = attempt_event_type::start;
    error_code ec;  // timer_fired, credentials_failed, exchange_done (transport error)
    boost::asio::cancellation_type cancelled = boost::asio::cancellation_type::none;
    const credentials_snapshot* credentials = nullptr;  // credentials_ready (kept until the next one)
    std::string* why = nullptr;                         // credentials_failed: moved into the diagnostics
    exchange_info* info = nullptr;                      // exchange_done (its detail may be moved)
    const http_response* response = nullptr;            // exchange_done without ec
    // start: when the call was issued, if it waited for admission (lib/client_impl.hpp) before
    // it started (zero: it starts as it is issued); its deadline counts from then. With ec
    // client_errc::pool_acquire_timeout its wait for a connection ended there: the first attempt
    // is not sent, its exchange fails with that error (as a wait in the pool's line would).
    std::chrono::steady_clock::time_point since{};

    static attempt_event start() noexcept { return {}; }
    static attempt_event start(std::chrono::steady_clock::time_point issued, error_code waited) noexcept {
        attempt_event e;
        e.since = issued;
        e.ec = waited;
        return e;
    }
    static attempt_event cancellation(boost::asio::cancellation_type t) noexcept {
        attempt_event e;
        e.type = attempt_event_type::cancellation_checked;
        e.cancelled = t;
        return e;
    }
    static attempt_event timer(error_code ec) noexcept {
        attempt_event e;
        e.type = attempt_event_type::timer_fired;
        e.ec = ec;
        return e;
    }
    static attempt_event credentials_ok(const credentials_snapshot* c) noexcept {
        attempt_event e;
        e.type = attempt_event_type::credentials_ready;
        e.credentials = c;
        return e;
    }
    static attempt_event credentials_error(error_code ec, std::string* why) noexcept {
        attempt_event e;
        e.type = attempt_event_type::credentials_failed;
        e.ec = ec;
        e.why = why;
        return e;
    }
    static attempt_event exchanged(error_code ec, exchange_info& info, const http_response& resp) noexcept {
        attempt_event e;
        e.type = attempt_event_type::exchange_done;
        e.ec = ec;
        e.info = &info;
        e.response = &resp;
        return e;
    }
};

// How the latest exchange was judged, for the coroutine's records and metrics: filled by a
// resume(exchange_done) for which judged() is true.
struct attempt_judgement {
    unsigned attempt = 0;
    error_code transport_ec;              // the exchange failed without a response
    const parsed_error* error = nullptr;  // the parsed error response (null: transport error or 2xx)
    bool decided = false;                 // `decision` holds the retry verdict (false after a 2xx)
    retry_decision decision;
    error_code result;                                   // the attempt's error (the call's, when not retried)
    bool rate_cut = false;                               // this answer cut the adaptive limiter's rate
    std::optional<std::chrono::seconds> skew_corrected;  // the offset set for the retry
    bool quota_exhausted() const noexcept {
        return decided && !decision.retry && std::string_view(decision.reason) == "retry quota exhausted";
    }
};

// One call's attempt loop. Not thread-safe (a call runs on one strand).
class attempt_fsm {
public:
    // `diag` is filled as the call goes and must outlive the machine.
    attempt_fsm(const attempt_env& env, diagnostics& diag) noexcept : env_(env), diag_(diag) {}

    attempt_fsm(const attempt_fsm&) = delete;
    attempt_fsm& operator=(const attempt_fsm&) = delete;

    // Feeds one event (start first, then the one the previous action asked for); returns the
    // next action. After complete, the machine is done. When the event is an exchange the machine
    // judges, `*judged` (when given) is reset and filled with the judgement, and judged() is true.
    attempt_action resume(const attempt_event& ev, attempt_judgement* judged = nullptr);

    // True when the resume() that just returned judged an exchange.
    bool judged() const noexcept { return judged_; }

private:
    enum class state { initial, checking_cancel, rate_waiting, getting_credentials, exchanging, backing_off, done };

    attempt_action step(const attempt_event& ev);
    attempt_action on_start(const attempt_event& ev);
    attempt_action next_attempt();
    attempt_action on_cancellation_checked(const attempt_event& ev);
    attempt_action pace(duration wait);
    attempt_action on_rate_timer(const attempt_event& ev);
    attempt_action credentials_step();
    attempt_action send_attempt();
    attempt_action on_exchange(const attempt_event& ev);
    attempt_action on_transport_error(error_code ec, exchange_info& info);
    attempt_action on_error_response(const http_response& resp, const exchange_info& info);
    attempt_action decide(const attempt_outcome& out, bool request_written);
    void on_throttled();
    attempt_action on_backoff_timer(const attempt_event& ev);
    attempt_action deadline_exceeded(std::string message, timeout_phase phase);
    attempt_action complete(error_code ec);
    std::chrono::steady_clock::time_point steady_now() const { return env_.clock->steady_now(); }

    const attempt_env& env_;
    diagnostics& diag_;
    state state_ = state::initial;
    bool has_deadline_ = false;
    std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
    const credentials_snapshot* credentials_ = nullptr;
    unsigned attempts_ = 0;
    unsigned last_cost_ = 0;
    bool skew_corrected_ = false;
    bool maybe_processed_ = false;  // an earlier attempt may have reached the service and acted
    bool waited_out_ = false;       // the wait for a connection ended before the start (see start)
    bool adaptive_ = false;         // this attempt is paced by the adaptive limiter
    std::chrono::seconds signed_offset_{0};
    std::chrono::steady_clock::time_point sent_at_{};  // adaptive only
    // rate-limiter wait in progress
    duration rate_left_{};
    double rate_ = 0.0;
    duration step_{};
    // backoff in progress
    std::chrono::steady_clock::time_point backoff_start_{};
    std::optional<std::chrono::seconds> server_offset_;
    std::unique_ptr<parsed_error> perr_;  // the latest error response (allocated by the first)
    bool judged_ = false;
    attempt_judgement* judgement_ = nullptr;  // during resume(): where the judgement goes
};

}  // namespace iotjobs::detail
