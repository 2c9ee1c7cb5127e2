// lib/client/attempt_fsm: the attempt loop as a table of event sequences -> actions. No sockets,
// no sleeps: a fake clock that each step moves, a fixed random source (full jitter 0.5: the
// backoff after attempt n is 500 ms * 2^(n-1)), the client-wide parts built per scenario.
#include "client/attempt_fsm.hpp"

#include "credentials/cache.hpp"
#include "http/connection_pool.hpp"
#include "http/message.hpp"

#include <boost/asio/error.hpp>
#include <boost/beast/core/error.hpp>
#include <doctest/doctest.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

using namespace iotjobs;
using namespace iotjobs::detail;
using namespace std::chrono_literals;
using std::chrono::milliseconds;
using act = attempt_action_type;
using ctype = boost::asio::cancellation_type;

namespace {

class fake_clock final : public attempt_clock {
public:
    std::chrono::steady_clock::time_point steady_now() const override { return steady; }
    std::chrono::system_clock::time_point system_now() const override { return system; }
    void advance(std::chrono::steady_clock::duration d) {
        steady += d;
        system += std::chrono::duration_cast<std::chrono::system_clock::duration>(d);
    }
    std::chrono::steady_clock::time_point steady{std::chrono::hours(1000)};
    // Mon, 07 Dec 2026 06:00:00 GMT
    std::chrono::system_clock::time_point system{std::chrono::sys_days{std::chrono::year{2026} / 12 / 7} + 6h};
};

constexpr const char* ten_minutes_ahead = "Mon, 07 Dec 2026 06:10:00 GMT";

struct setup {
    unsigned max_attempts = 3;
    unsigned quota = 500;
    milliseconds operation{0};  // deadline of the whole call; zero: none
    bool adaptive = false;
    bool refreshing = false;  // credentials from a refreshing source (get_credentials)
    bool no_credentials = false;
};

// The client-wide state one scenario's machines share (as a client_impl holds it).
struct world {
    explicit world(const setup& s)
        : strategy(make_config(s), 1000ms), quota(s.quota), limiter(clock.steady_now()), adaptive_on(s.adaptive) {
        creds.value.access_key_id = "AKIDEXAMPLE";
        creds.value.secret_access_key = "secret";
        creds.value.session_token = "TOKEN123";
        env.operation_timeout = s.operation;
        env.attempt_timeout = 30s;
        env.fixed_credentials = s.refreshing || s.no_credentials ? nullptr : &creds;
        env.refreshing_credentials = s.refreshing;
        env.credentials_ec = make_error_code(client_errc::no_credentials);
        env.credentials_why = "no credentials in the chain";
        env.share(strategy, quota, rng, limiter, adaptive_on, offset, counters, clock);
    }
    static retry_config make_config(const setup& s) {
        retry_config c;
        c.max_attempts = s.max_attempts;
        c.quota_capacity = s.quota;
        return c;
    }

    fake_clock clock;
    standard_retry_strategy strategy;
    retry_quota quota;
    function_random_source rng{[] { return 0.5; }};
    adaptive_rate_limiter limiter;
    std::atomic<bool> adaptive_on;
    clock_offset offset;
    attempt_counters counters;
    credentials_snapshot creds;
    attempt_env env;
};

// One event, as the coroutine would report it; the clock moves by `advance` first.
struct input {
    attempt_event_type type = attempt_event_type::start;
    milliseconds advance{0};
    error_code ec{};
    ctype cancelled = ctype::none;
    unsigned status = 0;
    std::string aws_error{};
    std::string date{};
    bool written = true;          // exchange_info::request_written
    bool connect_failed = false;  // exchange_info::connect_failed
};

input started() { return {}; }
input checked(ctype t = ctype::none) { return {.type = attempt_event_type::cancellation_checked, .cancelled = t}; }
input fired(milliseconds after, error_code ec = {}) {
    return {.type = attempt_event_type::timer_fired, .advance = after, .ec = ec};
}
input creds_ready() { return {.type = attempt_event_type::credentials_ready}; }
input creds_failed(error_code ec) { return {.type = attempt_event_type::credentials_failed, .ec = ec}; }
input answered(unsigned status, std::string aws_error = {}, std::string date = {}, milliseconds after = 0ms) {
    return {.type = attempt_event_type::exchange_done,
            .advance = after,
            .status = status,
            .aws_error = std::move(aws_error),
            .date = std::move(date)};
}
input broke(error_code ec, milliseconds after = 0ms, bool written = true, bool connect_failed = false) {
    return {.type = attempt_event_type::exchange_done,
            .advance = after,
            .ec = ec,
            .written = written,
            .connect_failed = connect_failed};
}

// The action expected back; a delay or attempt of -1 / 0 is not compared.
struct expect {
    act type;
    milliseconds delay{-1};
    wait_reason reason = wait_reason::backoff;
    unsigned attempt = 0;
    error_code ec{};
};

expect check() { return {act::check_cancellation}; }
expect backoff(milliseconds d) { return {act::wait, d, wait_reason::backoff}; }
expect rate_wait() { return {act::wait, milliseconds(-1), wait_reason::rate_slot}; }
expect get_creds() { return {act::get_credentials}; }
expect send(unsigned n) { return {.type = act::send, .attempt = n}; }
template <class E>
expect done(E e) {
    return {.type = act::complete, .ec = make_error_code(e)};
}
expect done_ok() { return {act::complete}; }

struct step {
    input in;
    expect out;
};

// Feeds the steps in order and checks each action; returns the last judgement seen.
struct runner {
    world& w;
    diagnostics diag{};
    attempt_fsm fsm{w.env, diag};
    std::optional<attempt_judgement> last{};
    std::string why = "the credentials process exited with status 1";

    attempt_action feed(const input& in) {
        w.clock.advance(in.advance);
        exchange_info info;
        info.request_written = in.written;
        info.connect_failed = in.connect_failed;
        info.timed_out = in.ec == boost::beast::error::timeout;
        if (info.timed_out) info.timeout = timeout_phase::response;
        http_response resp;
        resp.status = in.status;
        if (!in.aws_error.empty()) resp.headers.push_back({"x-amzn-ErrorType", in.aws_error});
        if (!in.date.empty()) resp.headers.push_back({"Date", in.date});
        resp.headers.push_back({"x-amzn-RequestId", "req-1"});
        attempt_event ev;
        switch (in.type) {
        case attempt_event_type::start: ev = attempt_event::start(); break;
        case attempt_event_type::cancellation_checked: ev = attempt_event::cancellation(in.cancelled); break;
        case attempt_event_type::timer_fired: ev = attempt_event::timer(in.ec); break;
        case attempt_event_type::credentials_ready: ev = attempt_event::credentials_ok(&w.creds); break;
        case attempt_event_type::credentials_failed: ev = attempt_event::credentials_error(in.ec, &why); break;
        case attempt_event_type::exchange_done: ev = attempt_event::exchanged(in.ec, info, resp); break;
        }
        attempt_judgement j;
        j.attempt = 9999;  // reset by a judgement
        attempt_action a = fsm.resume(ev, &j);
        if (fsm.judged()) {
            CHECK(j.attempt != 9999);
            last = j;
        }
        return a;
    }

    void run(const std::vector<step>& steps) {
        int i = 0;
        for (const step& s : steps) {
            CAPTURE(i);
            const attempt_action a = feed(s.in);
            CHECK(a.type == s.out.type);
            if (s.out.type == act::wait) {
                CHECK(a.reason == s.out.reason);
                if (s.out.delay.count() >= 0) CHECK(a.delay == s.out.delay);
                CHECK(a.delay.count() > 0);
            }
            if (s.out.type == act::send) {
                CHECK(a.attempt == s.out.attempt);
                CHECK(a.credentials == &w.creds);
            }
            if (s.out.type == act::complete) CHECK(a.ec == s.out.ec);
            ++i;
        }
    }
};

struct scenario {
    const char* name;
    setup s;
    std::vector<step> steps;
    unsigned attempts;             // diagnostics::attempts() at the end
    const char* reason = nullptr;  // the last retry verdict's reason, when one was decided
};

const error_code aborted = boost::asio::error::operation_aborted;

std::vector<scenario> table() {
    return {
        {"success on the first attempt",
         {},
         {{started(), check()}, {checked(), send(1)}, {answered(200), done_ok()}},
         1},
        {"a 503, then success after the backoff",
         {},
         {{started(), check()},
          {checked(), send(1)},
          {answered(503), backoff(500ms)},
          {fired(500ms), check()},
          {checked(), send(2)},
          {answered(200), done_ok()}},
         2},
        {"a reset connection, then success",
         {},
         {{started(), check()},
          {checked(), send(1)},
          {broke(boost::asio::error::connection_reset), backoff(500ms)},
          {fired(500ms), check()},
          {checked(), send(2)},
          {answered(200), done_ok()}},
         2},
        {"not retryable: 404 ResourceNotFoundException",
         {},
         {{started(), check()},
          {checked(), send(1)},
          {answered(404, "ResourceNotFoundException"), done(service_errc::resource_not_found)}},
         1,
         "not retryable"},
        {"max attempts: three 503s",
         {},
         {{started(), check()},
          {checked(), send(1)},
          {answered(503), backoff(500ms)},
          {fired(500ms), check()},
          {checked(), send(2)},
          {answered(503), backoff(1000ms)},
          {fired(1000ms), check()},
          {checked(), send(3)},
          {answered(503), done(service_errc::service_unavailable)}},
         3,
         "max attempts reached"},
        {"retry quota exhausted: 5 tokens pay for one retry only",
         {.quota = 5},
         {{started(), check()},
          {checked(), send(1)},
          {answered(503), backoff(500ms)},
          {fired(500ms), check()},
          {checked(), send(2)},
          {answered(503), done(service_errc::service_unavailable)}},
         2,
         "retry quota exhausted"},
        {"throttled (standard mode): backoff, then success",
         {},
         {{started(), check()},
          {checked(), send(1)},
          {answered(400, "ThrottlingException"), backoff(500ms)},
          {fired(500ms), check()},
          {checked(), send(2)},
          {answered(200), done_ok()}},
         2},
        {"clock skew: corrected, retried at once, then success",
         {},
         {{started(), check()},
          {checked(), send(1)},
          {answered(403, "InvalidSignatureException", ten_minutes_ahead), check()},
          {checked(), send(2)},
          {answered(200), done_ok()}},
         2},
        {"clock skew twice: the second is not retried",
         {},
         {{started(), check()},
          {checked(), send(1)},
          {answered(403, "InvalidSignatureException", ten_minutes_ahead), check()},
          {checked(), send(2)},
          {answered(403, "InvalidSignatureException", "Mon, 07 Dec 2026 06:20:00 GMT"),
           done(service_errc::invalid_signature)}},
         2,
         "clock skew already corrected"},
        {"deadline: the backoff would end after it",
         {.operation = 1000ms},
         {{started(), check()},
          {checked(), send(1)},
          {answered(503, "", "", 600ms), done(service_errc::service_unavailable)}},
         1,
         "the operation deadline would pass before the next attempt"},
        {"deadline: passed while the backoff timer ran late",
         {.operation = 1000ms},
         {{started(), check()},
          {checked(), send(1)},
          {answered(503), backoff(500ms)},
          {fired(1200ms), check()},
          {checked(), done(client_errc::deadline_exceeded)}},
         1},
        {"deadline: passed during the attempt",
         {.operation = 1000ms},
         {{started(), check()},
          {checked(), send(1)},
          {broke(boost::beast::error::timeout, 1000ms), done(client_errc::deadline_exceeded)}},
         1},
        {"attempt timeout without a deadline is retried",
         {},
         {{started(), check()},
          {checked(), send(1)},
          {broke(boost::beast::error::timeout, 30000ms), backoff(500ms)},
          {fired(500ms), check()},
          {checked(), send(2)},
          {answered(200), done_ok()}},
         2},
        {"cancelled before the first attempt",
         {},
         {{started(), check()}, {checked(ctype::terminal), done(boost::asio::error::operation_aborted)}},
         0},
        {"cancelled during the backoff",
         {},
         {{started(), check()},
          {checked(), send(1)},
          {answered(503), backoff(500ms)},
          {fired(200ms, aborted), done(boost::asio::error::operation_aborted)}},
         1},
        {"cancelled between attempts (a request the backoff timer ignored)",
         {},
         {{started(), check()},
          {checked(), send(1)},
          {answered(503), backoff(500ms)},
          {fired(500ms), check()},
          {checked(ctype::total), done(boost::asio::error::operation_aborted)}},
         1},
        {"cancelled while connecting: the attempt is withdrawn",
         {},
         {{started(), check()},
          {checked(), send(1)},
          {broke(aborted, 0ms, false, true), done(boost::asio::error::operation_aborted)}},
         0},
        {"cancelled after the request was written: the attempt counts",
         {},
         {{started(), check()}, {checked(), send(1)}, {broke(aborted), done(boost::asio::error::operation_aborted)}},
         1},
        {"refreshing credentials: fetched before every attempt",
         {.refreshing = true},
         {{started(), check()},
          {checked(), get_creds()},
          {creds_ready(), send(1)},
          {answered(503), backoff(500ms)},
          {fired(500ms), check()},
          {checked(), get_creds()},
          {creds_ready(), send(2)},
          {answered(200), done_ok()}},
         2},
        {"credentials failure",
         {.refreshing = true},
         {{started(), check()},
          {checked(), get_creds()},
          {creds_failed(make_error_code(client_errc::credentials_error)), done(client_errc::credentials_error)}},
         0},
        {"cancelled while fetching credentials",
         {.refreshing = true},
         {{started(), check()},
          {checked(), get_creds()},
          {creds_failed(aborted), done(boost::asio::error::operation_aborted)}},
         0},
        {"no credentials at all", {.no_credentials = true}, {{started(), done(client_errc::no_credentials)}}, 0},
    };
}

}  // namespace

TEST_CASE("attempt_fsm: event sequences -> actions") {
    for (const scenario& sc : table()) {
        const std::string name = sc.name;
        CAPTURE(name);
        world w(sc.s);
        runner r{w};
        r.run(sc.steps);
        CHECK(r.diag.attempts() == sc.attempts);
        CHECK(w.counters.requests.load() == sc.attempts);
        CHECK(w.counters.retries.load() == (sc.attempts > 0 ? sc.attempts - 1 : 0));
        if (sc.reason) {
            REQUIRE(r.last);
            CHECK(r.last->decided);
            CHECK(std::string(r.last->decision.reason) == sc.reason);
        }
    }
}

TEST_CASE("attempt_fsm: diagnostics of a retried call") {
    world w({});
    runner r{w};
    r.run({{started(), check()},
           {checked(), send(1)},
           {broke(boost::asio::error::connection_reset), backoff(500ms)},
           {fired(520ms), check()},
           {checked(), send(2)},
           {broke(boost::asio::error::connection_reset), backoff(1000ms)},
           {fired(1000ms), check()},
           {checked(), send(3)},
           {answered(404, "ResourceNotFoundException"), done(service_errc::resource_not_found)}});
    CHECK(r.diag.http_status() == 404);
    CHECK(r.diag.aws_error_name() == "ResourceNotFoundException");
    CHECK(r.diag.request_id() == "req-1");
    CHECK(r.diag.retry_wait() == 1520ms);  // both backoffs, as long as they really took
    // The resets came after the request was written: an earlier delete may have been applied.
    CHECK(r.diag.earlier_attempt_may_have_succeeded());
    CHECK(w.quota.available() == 490);

    // A reset before the request was written cannot have been applied.
    world w2({});
    runner r2{w2};
    r2.run({{started(), check()},
            {checked(), send(1)},
            {broke(boost::asio::error::connection_refused, 0ms, false, true), backoff(500ms)},
            {fired(500ms), check()},
            {checked(), send(2)},
            {answered(404, "ResourceNotFoundException"), done(service_errc::resource_not_found)}});
    CHECK_FALSE(r2.diag.earlier_attempt_may_have_succeeded());
}

TEST_CASE("attempt_fsm: a success refunds the quota the retry took") {
    world w({.quota = 20});
    runner r{w};
    r.run({{started(), check()}, {checked(), send(1)}, {answered(503), backoff(500ms)}});
    CHECK(w.quota.available() == 15);
    r.run({{fired(500ms), check()}, {checked(), send(2)}, {answered(200), done_ok()}});
    CHECK(w.quota.available() == 20);
    CHECK(r.diag.message().empty());
    CHECK(r.diag.aws_error_name().empty());
}

TEST_CASE("attempt_fsm: clock skew sets the client's offset and signs the retry with it") {
    world w({});
    runner r{w};
    r.run({{started(), check()},
           {checked(), send(1)},
           {answered(403, "InvalidSignatureException", ten_minutes_ahead), check()}});
    REQUIRE(r.last);
    CHECK(r.last->skew_corrected == std::chrono::seconds(600));
    CHECK(w.offset.get() == std::chrono::seconds(600));
    // A skewed Date on an error that is not about the signature changes nothing.
    world w2({});
    runner r2{w2};
    r2.run({{started(), check()},
            {checked(), send(1)},
            {answered(404, "ResourceNotFoundException", ten_minutes_ahead), done(service_errc::resource_not_found)}});
    CHECK(w2.offset.get() == std::chrono::seconds(0));
}

TEST_CASE("attempt_fsm: a session token quoted in an error message is redacted") {
    world w({});
    runner r{w};
    r.run({{started(), check()}, {checked(), send(1)}});
    exchange_info info;
    http_response resp;
    resp.status = 400;
    resp.headers.push_back({"x-amzn-ErrorType", "InvalidRequestException"});
    resp.body = R"({"message":"bad x-amz-security-token:TOKEN123 here"})";
    const attempt_action a = r.fsm.resume(attempt_event::exchanged({}, info, resp));
    CHECK(a.type == act::complete);
    CHECK(r.diag.message().find("TOKEN123") == std::string_view::npos);
    CHECK(r.diag.message().find("here") != std::string_view::npos);
}

TEST_CASE("attempt_fsm: the deadline bounds each attempt and the wait for the rate limiter") {
    world w({.operation = 1000ms});
    runner r{w};
    r.run({{started(), check()}});
    w.clock.advance(300ms);
    const attempt_action a = r.fsm.resume(attempt_event::cancellation(ctype::none));
    REQUIRE(a.type == act::send);
    CHECK(a.attempt_timeout == 700ms);
    CHECK(a.deadline == w.clock.steady_now() + 700ms);
    r.run({{broke(boost::beast::error::timeout, 700ms), done(client_errc::deadline_exceeded)}});
    CHECK(r.diag.timeout_phase() == timeout_phase::response);
    CHECK(r.diag.message() == "the operation deadline passed during attempt 1");
}

TEST_CASE("attempt_fsm: adaptive mode paces attempts, and a cancelled rate wait hands the slot back") {
    world w({.adaptive = true});
    // Throttled once: the limiter's bucket is on and empty, so the next slot must be waited for.
    w.limiter.on_response(w.clock.steady_now(), true);
    runner r{w};
    r.run({{started(), check()}, {checked(), rate_wait()}});
    const double debt = w.limiter.state().current_capacity;
    r.run({{fired(10ms, aborted), done(boost::asio::error::operation_aborted)}});
    CHECK(w.limiter.state().current_capacity > debt);
    CHECK(r.diag.attempts() == 0);

    // The wait is sliced (200 ms at most) and ends in a send.
    runner r2{w};
    r2.run({{started(), check()}});
    attempt_action a = r2.feed(checked());
    int slices = 0;
    while (a.type == act::wait && slices < 1000) {
        CHECK(a.reason == wait_reason::rate_slot);
        CHECK(a.delay <= 200ms);
        a = r2.feed(fired(std::chrono::duration_cast<milliseconds>(a.delay)));
        ++slices;
    }
    CHECK(a.type == act::send);
    CHECK(slices > 0);
}

TEST_CASE("attempt_fsm: a rate wait the deadline would cut short fails at once") {
    world w({.operation = 1000ms, .adaptive = true});
    w.limiter.on_response(w.clock.steady_now(), true);
    // Drain the bucket further so the next slot is seconds away.
    for (int i = 0; i < 100; ++i) (void)w.limiter.acquire(w.clock.steady_now());
    runner r{w};
    r.run({{started(), check()}, {checked(), done(client_errc::deadline_exceeded)}});
    CHECK(r.diag.timeout_phase() == timeout_phase::rate_wait);
}

TEST_CASE("attempt_fsm: adaptive window: throttles in flight together cut the rate once") {
    world w({.adaptive = true});
    runner a{w}, b{w};
    a.run({{started(), check()}, {checked(), send(1)}});
    b.run({{started(), check()}, {checked(), send(1)}});
    a.run({{answered(400, "ThrottlingException", "", 10ms), backoff(500ms)}});
    REQUIRE(a.last);
    CHECK(a.last->rate_cut);
    CHECK(w.limiter.state().enabled);
    b.run({{answered(400, "ThrottlingException", "", 10ms), backoff(500ms)}});
    REQUIRE(b.last);
    CHECK_FALSE(b.last->rate_cut);  // sent before the cut, and within the same 0.5 s window
    CHECK(w.counters.throttled.load() == 2);
}

TEST_CASE("attempt_fsm: standard mode never touches the adaptive limiter") {
    world w({});
    runner r{w};
    r.run({{started(), check()}, {checked(), send(1)}, {answered(400, "ThrottlingException"), backoff(500ms)}});
    REQUIRE(r.last);
    CHECK_FALSE(r.last->rate_cut);
    CHECK_FALSE(w.limiter.state().enabled);
    CHECK(w.counters.throttled.load() == 1);
}

TEST_CASE("attempt_fsm: a call that waited for admission: its deadline counts from when it was issued") {
    world w(setup{.operation = 1000ms});
    diagnostics diag;
    attempt_fsm fsm(w.env, diag);
    const auto issued = w.clock.steady_now() - 1500ms;  // waited 1.5 s in the admission queue
    CHECK(fsm.resume(attempt_event::start(issued, {})).type == act::check_cancellation);
    const attempt_action a = fsm.resume(attempt_event::cancellation(ctype::none));
    CHECK(a.type == act::complete);
    CHECK(a.ec == client_errc::deadline_exceeded);
    CHECK(diag.attempts() == 0);
    CHECK(diag.timeout_phase() == timeout_phase::before_attempt);

    attempt_fsm in_time(w.env, diag);
    CHECK(in_time.resume(attempt_event::start(w.clock.steady_now() - 400ms, {})).type == act::check_cancellation);
    const attempt_action s = in_time.resume(attempt_event::cancellation(ctype::none));
    REQUIRE(s.type == act::send);
    CHECK(s.deadline == w.clock.steady_now() + 600ms);
}

// A call issued 1 s ago whose wait for a connection ended in the admission queue: its first
// attempt is not stopped before it (that wait is what ended), and fails as the wait would.
static attempt_action waited_out_call(world& w, diagnostics& diag) {
    attempt_fsm fsm(w.env, diag);
    const auto issued = w.clock.steady_now() - 1000ms;
    const error_code waited = make_error_code(client_errc::pool_acquire_timeout);
    CHECK(fsm.resume(attempt_event::start(issued, waited)).type == act::check_cancellation);
    const attempt_action s = fsm.resume(attempt_event::cancellation(ctype::none));
    REQUIRE(s.type == act::send);
    CHECK(s.attempt == 1);
    exchange_info info;
    info.connect_failed = true;
    info.timeout = timeout_phase::pool_wait;
    http_response resp;
    return fsm.resume(attempt_event::exchanged(waited, info, resp));
}

TEST_CASE("attempt_fsm: a wait for a connection that ended in the admission queue fails as one in the pool") {
    diagnostics diag;
    SUBCASE("at the operation deadline: deadline_exceeded, waiting for a connection, one attempt") {
        world w(setup{.operation = 1000ms});
        const attempt_action a = waited_out_call(w, diag);
        CHECK(a.type == act::complete);
        CHECK(a.ec == client_errc::deadline_exceeded);
        CHECK(diag.message() == "the operation deadline passed while waiting for a connection");
    }
    SUBCASE("at the acquire timeout, before the deadline: pool_acquire_timeout") {
        world w(setup{.max_attempts = 1, .operation = 5000ms});
        const attempt_action a = waited_out_call(w, diag);
        CHECK(a.type == act::complete);
        CHECK(a.ec == client_errc::pool_acquire_timeout);
    }
    CHECK(diag.timeout_phase() == timeout_phase::pool_wait);
    CHECK(diag.attempts() == 1);
}
