// lib/retry: classification, retry quota, standard strategy, clock skew. Deterministic: a
// scripted random source, no clock reads, no sleeps.
#include "retry/clock_skew.hpp"
#include "retry/outcome.hpp"
#include "retry/retry_quota.hpp"
#include "retry/standard_retry.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

using namespace iotjobs;
using namespace iotjobs::detail;
using namespace std::chrono_literals;
using std::chrono::milliseconds;

namespace {

// Returns the scripted values in order, then repeats the last one; counts calls.
class scripted_random final : public random_source {
public:
    explicit scripted_random(std::vector<double> values) : values_(std::move(values)) {}
    double next() override {
        const std::size_t i = calls_ < values_.size() ? calls_ : values_.size() - 1;
        ++calls_;
        return values_[i];
    }
    std::size_t calls() const { return calls_; }

private:
    std::vector<double> values_;
    std::size_t calls_ = 0;
};

attempt_outcome service_error(unsigned status, std::string_view name, std::string_view message = {}) {
    attempt_outcome o;
    o.ec = make_error_code(service_errc_from_response(status, name));
    o.http_status = status;
    o.aws_error_name = name;
    o.message = message;
    return o;
}

attempt_outcome transport(error_code ec) {
    attempt_outcome o;
    o.ec = ec;
    return o;
}

attempt_outcome throttled() { return service_error(400, "ThrottlingException", "Rate exceeded"); }
attempt_outcome success() { return attempt_outcome{}; }

retry_config config(unsigned attempts, milliseconds cap = 20s, unsigned quota = 500) {
    retry_config c;
    c.max_attempts = attempts;
    c.max_backoff = cap;
    c.quota_capacity = quota;
    return c;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// classify

TEST_CASE("classify: success and cancellation are never retried") {
    CHECK(classify(success()) == retry_kind::none);
    attempt_outcome ok;
    ok.http_status = 200;
    CHECK(classify(ok) == retry_kind::none);
    ok.http_status = 204;
    CHECK(classify(ok) == retry_kind::none);

    attempt_outcome aborted = transport(boost::asio::error::operation_aborted);
    CHECK(classify(aborted) == retry_kind::none);
    aborted.transport_error = true;  // even when flagged as a transport failure
    aborted.timed_out = true;
    CHECK(classify(aborted) == retry_kind::none);
}

TEST_CASE("classify: every botocore throttling name, and HTTP 429") {
    for (std::string_view name :
         {"Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
          "TooManyRequestsException", "ProvisionedThroughputExceededException", "TransactionInProgressException",
          "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled", "SlowDown",
          "PriorRequestNotComplete", "EC2ThrottledException"}) {
        CAPTURE(name);
        CHECK(is_throttling_error_name(name));
        CHECK(classify(service_error(400, name)) == retry_kind::throttling);
        // By name alone (no error code set): tests stay independent of the category.
        attempt_outcome by_name;
        by_name.ec = make_error_code(service_errc::unknown_service_error);
        by_name.http_status = 400;
        by_name.aws_error_name = name;
        CHECK(classify(by_name) == retry_kind::throttling);
    }
    CHECK_FALSE(is_throttling_error_name("throttlingexception"));  // codes are case-sensitive
    CHECK_FALSE(is_throttling_error_name(""));

    // A bare 429, with or without an unknown name.
    attempt_outcome bare;
    bare.ec = make_error_code(service_errc::unknown_service_error);
    bare.http_status = 429;
    CHECK(classify(bare) == retry_kind::throttling);
    CHECK(classify(service_error(429, "Whatever")) == retry_kind::throttling);
    // The error code alone.
    CHECK(classify(transport(make_error_code(service_errc::throttling))) == retry_kind::throttling);
}

TEST_CASE("classify: transient service errors and statuses") {
    for (std::string_view name : {"ServiceUnavailableException", "RequestTimeout", "RequestTimeoutException",
                                  "InternalFailure", "InternalFailureException"}) {
        CAPTURE(name);
        CHECK(classify(service_error(400, name)) == retry_kind::transient);
        CHECK(classify(service_error(503, name)) == retry_kind::transient);
    }
    for (unsigned status : {500u, 502u, 503u, 504u}) {
        CAPTURE(status);
        CHECK(classify(service_error(status, "")) == retry_kind::transient);
        // moto's HTML 500: the name becomes the status text
        CHECK(classify(service_error(status, std::to_string(status))) == retry_kind::transient);
    }
    for (unsigned status : {501u, 505u, 400u, 403u, 404u, 409u}) {
        CAPTURE(status);
        CHECK(classify(service_error(status, "")) == retry_kind::none);
    }
    // Error codes alone (no name, no status).
    CHECK(classify(transport(make_error_code(service_errc::service_unavailable))) == retry_kind::transient);
    CHECK(classify(transport(make_error_code(service_errc::internal_failure))) == retry_kind::transient);
}

TEST_CASE("classify: transport errors and timeouts are transient") {
    namespace ae = boost::asio::error;
    namespace bh = boost::beast::http;
    const std::vector<error_code> codes{
        ae::connection_reset,
        ae::eof,
        bh::error::end_of_stream,
        bh::error::partial_message,
        ae::broken_pipe,
        ae::connection_refused,
        ae::connection_aborted,
        ae::host_unreachable,
        ae::network_unreachable,
        boost::asio::ssl::error::stream_truncated,
        boost::beast::error::timeout,
        ae::timed_out,
    };
    for (const auto& ec : codes) {
        CAPTURE(ec.message());
        CHECK(classify(transport(ec)) == retry_kind::transient);
        attempt_outcome mid_response = transport(ec);
        mid_response.response_started = true;
        mid_response.transport_error = true;
        CHECK(classify(mid_response) == retry_kind::transient);
    }
    CHECK(is_timeout(transport(boost::beast::error::timeout)));
    CHECK(is_timeout(transport(ae::timed_out)));
    CHECK_FALSE(is_timeout(transport(ae::connection_reset)));

    // The flags alone.
    attempt_outcome flagged = transport(make_error_code(std::errc::io_error));
    CHECK(classify(flagged) == retry_kind::none);
    flagged.transport_error = true;
    CHECK(classify(flagged) == retry_kind::transient);
    attempt_outcome timed;
    timed.timed_out = true;
    CHECK(classify(timed) == retry_kind::transient);
    CHECK(is_timeout(timed));
}

TEST_CASE("classify: clock skew") {
    const char* expired_msg =
        "Signature expired: 20261126T140000Z is now earlier than 20261126T140500Z "
        "(20261126T141000Z - 5 min.)";
    CHECK(classify(service_error(403, "InvalidSignatureException", expired_msg)) == retry_kind::clock_skew);
    CHECK(classify(service_error(403, "RequestTimeTooSkewed")) == retry_kind::clock_skew);
    CHECK(classify(service_error(403, "RequestExpired")) == retry_kind::clock_skew);
    CHECK(classify(service_error(400, "RequestInTheFuture")) == retry_kind::clock_skew);
    CHECK(classify(transport(make_error_code(service_errc::request_time_too_skewed))) == retry_kind::clock_skew);
    // the code alone plus the message
    attempt_outcome by_code = transport(make_error_code(service_errc::invalid_signature));
    by_code.message = expired_msg;
    CHECK(classify(by_code) == retry_kind::clock_skew);

    // Signature / access errors are skew only when the server's Date is far off.
    for (std::string_view name : {"InvalidSignatureException", "AccessDeniedException", "AccessDenied",
                                  "SignatureDoesNotMatch", "AuthFailure"}) {
        CAPTURE(name);
        attempt_outcome o = service_error(403, name, "The request signature we calculated does not match");
        CHECK(classify(o) == retry_kind::none);
        o.server_clock_skewed = true;
        CHECK(classify(o) == retry_kind::clock_skew);
    }
    attempt_outcome denied = transport(make_error_code(service_errc::access_denied));
    CHECK(classify(denied) == retry_kind::none);
    denied.server_clock_skewed = true;
    CHECK(classify(denied) == retry_kind::clock_skew);

    // A skewed Date does not make other errors retryable.
    attempt_outcome nf = service_error(404, "ResourceNotFoundException");
    nf.server_clock_skewed = true;
    CHECK(classify(nf) == retry_kind::none);
    attempt_outcome token =
        service_error(403, "ExpiredTokenException", "The security token included in the request is expired");
    token.server_clock_skewed = true;
    CHECK(classify(token) == retry_kind::none);
}

TEST_CASE("classify: errors that are never retried") {
    CHECK(classify(service_error(400, "InvalidRequestException")) == retry_kind::none);
    CHECK(classify(service_error(409, "InvalidStateTransitionException")) == retry_kind::none);
    CHECK(classify(service_error(404, "ResourceNotFoundException")) == retry_kind::none);
    CHECK(classify(service_error(409, "VersionConflictException")) == retry_kind::none);
    CHECK(classify(service_error(403, "UnrecognizedClientException")) == retry_kind::none);
    CHECK(classify(service_error(403, "ExpiredTokenException")) == retry_kind::none);
    CHECK(classify(service_error(403, "InvalidSignatureException",
                                 "The request signature we calculated does not match "
                                 "the signature you provided.")) == retry_kind::none);
    CHECK(classify(service_error(403, "AccessDeniedException", "User is not authorized")) == retry_kind::none);
    CHECK(classify(service_error(403, "SignatureDoesNotMatch")) == retry_kind::none);
    CHECK(classify(service_error(400, "SomethingNew")) == retry_kind::none);
    for (auto e : {client_errc::invalid_thing_name, client_errc::invalid_job_id, client_errc::invalid_namespace_id,
                   client_errc::invalid_execution_number, client_errc::invalid_parameter, client_errc::no_region,
                   client_errc::no_credentials, client_errc::bad_response}) {
        CAPTURE(make_error_code(e).message());
        CHECK(classify(transport(make_error_code(e))) == retry_kind::none);
    }
    CHECK(classify(transport(boost::asio::error::operation_aborted)) == retry_kind::none);
    CHECK(classify(transport(make_error_code(std::errc::invalid_argument))) == retry_kind::none);
}

// ---------------------------------------------------------------------------------------------
// retry_quota

TEST_CASE("retry_quota: 100 failing retries drain 500 exactly, successes refund") {
    retry_quota q;  // 500
    CHECK(q.enabled());
    CHECK(q.capacity() == 500);
    for (int i = 0; i < 100; ++i) REQUIRE(q.try_acquire(retry_quota::retry_cost));
    CHECK(q.available() == 0);
    CHECK_FALSE(q.try_acquire(retry_quota::retry_cost));
    CHECK_FALSE(q.try_acquire(1));
    CHECK(q.available() == 0);

    q.on_success(retry_quota::retry_cost);  // refunds the last retry's cost
    CHECK(q.available() == 5);
    q.on_success(0);  // a call that needed no retry
    CHECK(q.available() == 6);
    q.on_success(retry_quota::timeout_retry_cost);
    CHECK(q.available() == 16);
    CHECK(q.try_acquire(retry_quota::timeout_retry_cost));
    CHECK_FALSE(q.try_acquire(retry_quota::timeout_retry_cost));  // 6 left
    CHECK(q.available() == 6);
}

TEST_CASE("retry_quota: capped at capacity, configurable, 0 disables") {
    retry_quota q(20);
    CHECK(q.available() == 20);
    q.on_success(0);
    q.release(1000);
    CHECK(q.available() == 20);
    CHECK(q.try_acquire(10));
    q.release(7);
    CHECK(q.available() == 17);
    q.release(5);
    CHECK(q.available() == 20);

    retry_quota off(0);
    CHECK_FALSE(off.enabled());
    for (int i = 0; i < 10000; ++i) REQUIRE(off.try_acquire(retry_quota::timeout_retry_cost));
    off.release(5);
    CHECK(off.available() == 0);
}

TEST_CASE("retry_quota: concurrent acquire/release never over- or under-counts") {
    retry_quota q(500);
    std::vector<std::thread> threads;
    std::atomic<int> acquired{0};
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 1000; ++i)
                if (q.try_acquire(5)) acquired.fetch_add(1);
        });
    for (auto& t : threads) t.join();
    CHECK(acquired.load() == 100);
    CHECK(q.available() == 0);
    threads.clear();
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 1000; ++i) q.release(1);
        });
    for (auto& t : threads) t.join();
    CHECK(q.available() == 500);
}

// ---------------------------------------------------------------------------------------------
// standard_retry_strategy

TEST_CASE("standard strategy: defaults") {
    standard_retry_strategy s;
    CHECK(s.max_attempts() == 3);
    CHECK(s.max_backoff() == 20s);
    CHECK(s.base() == 1s);
    CHECK(standard_retry_strategy(config(0)).max_attempts() == 1);
}

TEST_CASE("standard strategy: full-jitter exponential backoff and cap") {
    standard_retry_strategy s(config(100));
    // ceiling: base * 2^(attempt-1), capped at 20 s
    CHECK(s.backoff_ceiling(1) == 1s);
    CHECK(s.backoff_ceiling(2) == 2s);
    CHECK(s.backoff_ceiling(3) == 4s);
    CHECK(s.backoff_ceiling(4) == 8s);
    CHECK(s.backoff_ceiling(5) == 16s);
    CHECK(s.backoff_ceiling(6) == 20s);
    CHECK(s.backoff_ceiling(60) == 20s);
    CHECK(s.backoff_ceiling(5000) == 20s);  // no overflow
    CHECK(s.backoff_ceiling(0) == 1s);

    CHECK(s.backoff(1, 0.0) == 0ms);
    CHECK(s.backoff(3, 0.25) == 1s);
    CHECK(s.backoff(6, 0.999999) == 20s);
    CHECK(s.backoff(2, 7.0) == 2s);    // clamped
    CHECK(s.backoff(2, -1.0) == 0ms);  // clamped

    // rand = 0.5 through decide(): 0.5 s, 1 s, 2 s, 4 s, 8 s, then 10 s (= 0.5 * 20 s) forever.
    retry_quota q(0);
    scripted_random rng({0.5});
    std::vector<milliseconds> delays;
    for (unsigned attempt = 1; attempt <= 8; ++attempt) {
        const auto d = s.decide(throttled(), attempt, false, q, rng);
        REQUIRE(d.retry);
        CHECK(d.kind == retry_kind::throttling);
        CHECK(std::string_view(d.reason) == "throttling");
        delays.push_back(d.delay);
    }
    CHECK(delays == std::vector<milliseconds>{500ms, 1s, 2s, 4s, 8s, 10s, 10s, 10s});
    CHECK(rng.calls() == 8);

    // A smaller configured cap and a different base.
    standard_retry_strategy small(config(10, 3s), 100ms);
    CHECK(small.backoff_ceiling(1) == 100ms);
    CHECK(small.backoff_ceiling(5) == 1600ms);
    CHECK(small.backoff_ceiling(6) == 3s);
    CHECK(small.decide(throttled(), 9, false, q, rng).delay == 1500ms);
    // cap 0: retry immediately
    standard_retry_strategy nocap(config(10, 0ms));
    CHECK(nocap.decide(throttled(), 3, false, q, rng).delay == 0ms);
}

TEST_CASE("standard strategy: max attempts") {
    standard_retry_strategy s(config(3));
    retry_quota q;
    scripted_random rng({0.5});
    auto d1 = s.decide(service_error(503, "ServiceUnavailableException"), 1, false, q, rng);
    CHECK(d1.retry);
    CHECK(d1.kind == retry_kind::transient);
    CHECK(std::string_view(d1.reason) == "transient error");
    CHECK(s.decide(service_error(503, ""), 2, false, q, rng).retry);
    auto d3 = s.decide(service_error(503, ""), 3, false, q, rng);
    CHECK_FALSE(d3.retry);
    CHECK(d3.kind == retry_kind::transient);
    CHECK(std::string_view(d3.reason) == "max attempts reached");
    CHECK(d3.delay == 0ms);
    CHECK(d3.quota_cost == 0);
    CHECK(q.available() == 490);  // two retries paid, the refused one not

    standard_retry_strategy once(config(1));
    auto d = once.decide(throttled(), 1, false, q, rng);
    CHECK_FALSE(d.retry);
    CHECK(std::string_view(d.reason) == "max attempts reached");

    // retry_call counts the attempts itself: 3 attempts, then stop.
    retry_call call(s, q, rng);
    CHECK(call.on_attempt(throttled()).retry);
    CHECK(call.on_attempt(throttled()).retry);
    auto last = call.on_attempt(throttled());
    CHECK_FALSE(last.retry);
    CHECK(call.attempts_made() == 3);
}

TEST_CASE("standard strategy: non-retryable errors and success do not touch quota or rng") {
    standard_retry_strategy s(config(5));
    retry_quota q;
    scripted_random rng({0.5});
    auto d = s.decide(service_error(404, "ResourceNotFoundException"), 1, false, q, rng);
    CHECK_FALSE(d.retry);
    CHECK(d.kind == retry_kind::none);
    CHECK(std::string_view(d.reason) == "not retryable");
    auto ok = s.decide(success(), 1, false, q, rng);
    CHECK_FALSE(ok.retry);
    CHECK(std::string_view(ok.reason) == "success");
    CHECK(q.available() == 500);
    CHECK(rng.calls() == 0);
}

TEST_CASE("standard strategy: quota costs, exhaustion and refund") {
    standard_retry_strategy s(config(3));
    retry_quota q;
    scripted_random rng({0.5});

    // 5 per retry, 10 after a timeout
    auto d = s.decide(throttled(), 1, false, q, rng);
    CHECK(d.quota_cost == 5);
    CHECK(q.available() == 495);
    d = s.decide(transport(boost::beast::error::timeout), 1, false, q, rng);
    CHECK(d.retry);
    CHECK(d.quota_cost == 10);
    CHECK(q.available() == 485);
    attempt_outcome connect_timeout;
    connect_timeout.timed_out = true;
    connect_timeout.transport_error = true;
    CHECK(s.decide(connect_timeout, 1, false, q, rng).quota_cost == 10);
    CHECK(q.available() == 475);

    // Drain: 95 more 5-token retries, then refusal.
    for (int i = 0; i < 95; ++i) REQUIRE(s.decide(throttled(), 1, false, q, rng).retry);
    CHECK(q.available() == 0);
    const auto calls_before = rng.calls();
    d = s.decide(throttled(), 1, false, q, rng);
    CHECK_FALSE(d.retry);
    CHECK(d.kind == retry_kind::throttling);
    CHECK(std::string_view(d.reason) == "retry quota exhausted");
    CHECK(rng.calls() == calls_before);

    // A call that retried once and then succeeded refunds its retry's cost.
    q.release(5);
    retry_call call(s, q, rng);
    CHECK(call.on_attempt(throttled()).retry);
    CHECK(q.available() == 0);
    CHECK(call.last_retry_cost() == 5);
    CHECK(std::string_view(call.on_attempt(success()).reason) == "success");
    CHECK(q.available() == 5);
    // A call that succeeds at once adds 1.
    retry_call quick(s, q, rng);
    CHECK_FALSE(quick.on_attempt(success()).retry);
    CHECK(q.available() == 6);
    // A timeout retry then success refunds 10 (only the last retry's cost).
    retry_call slow(s, q, rng);
    CHECK(slow.on_attempt(throttled()).retry);                                     // 6 -> 1
    CHECK_FALSE(slow.on_attempt(transport(boost::asio::error::timed_out)).retry);  // needs 10: refused
    CHECK(q.available() == 1);
    // A failed call (not retryable) refunds nothing.
    q.release(100);
    retry_call failed(s, q, rng);
    CHECK(failed.on_attempt(throttled()).retry);
    CHECK_FALSE(failed.on_attempt(service_error(404, "ResourceNotFoundException")).retry);
    CHECK(q.available() == 96);

    // A disabled quota never refuses.
    retry_quota off(0);
    for (int i = 0; i < 1000; ++i) {
        auto r = s.decide(throttled(), 1, false, off, rng);
        REQUIRE(r.retry);
        REQUIRE(r.quota_cost == 0);
    }
}

TEST_CASE("standard strategy: clock skew retried at once, only once per call") {
    standard_retry_strategy s(config(5));
    retry_quota q;
    scripted_random rng({0.5});
    const auto skew = service_error(403, "RequestTimeTooSkewed");

    auto d = s.decide(skew, 1, false, q, rng);
    CHECK(d.retry);
    CHECK(d.kind == retry_kind::clock_skew);
    CHECK(d.delay == 0ms);
    CHECK(std::string_view(d.reason) == "clock skew corrected");
    CHECK(d.quota_cost == 5);
    CHECK(rng.calls() == 0);
    d = s.decide(skew, 2, true, q, rng);
    CHECK_FALSE(d.retry);
    CHECK(std::string_view(d.reason) == "clock skew already corrected");

    retry_call call(s, q, rng);
    auto first = call.on_attempt(skew);
    CHECK(first.retry);
    CHECK(first.delay == 0ms);
    CHECK(call.clock_skew_corrected());
    auto second = call.on_attempt(service_error(403, "InvalidSignatureException", "Signature expired: ..."));
    CHECK_FALSE(second.retry);
    CHECK(std::string_view(second.reason) == "clock skew already corrected");

    // Other retries still allowed after the skew retry, with backoff for the attempt number.
    retry_call mixed(s, q, rng);
    CHECK(mixed.on_attempt(skew).retry);
    auto t = mixed.on_attempt(throttled());
    CHECK(t.retry);
    CHECK(t.delay == 1s);  // attempt 2: 0.5 * 2 s
    CHECK_FALSE(mixed.on_attempt(skew).retry);

    // Skew by Date only when the caller says so.
    attempt_outcome sig =
        service_error(403, "InvalidSignatureException", "The request signature we calculated does not match");
    CHECK_FALSE(s.decide(sig, 1, false, q, rng).retry);
    sig.server_clock_skewed = true;
    CHECK(s.decide(sig, 1, false, q, rng).retry);
}

TEST_CASE("default_random_source: values in [0, 1)") {
    default_random_source r;
    default_random_source seeded(42);
    default_random_source seeded2(42);
    double lo = 1, hi = 0;
    for (int i = 0; i < 10000; ++i) {
        const double v = r.next();
        REQUIRE(v >= 0.0);
        REQUIRE(v < 1.0);
        lo = std::min(lo, v);
        hi = std::max(hi, v);
        REQUIRE(seeded.next() == seeded2.next());
    }
    CHECK(lo < 0.01);
    CHECK(hi > 0.99);
    function_random_source f([] { return 0.25; });
    CHECK(f.next() == 0.25);
}

// ---------------------------------------------------------------------------------------------
// clock skew

namespace {

std::chrono::sys_seconds utc(int y, unsigned mo, unsigned d, int h, int mi, int s) {
    using namespace std::chrono;
    return sys_days{year{y} / month{mo} / day{d}} + hours{h} + minutes{mi} + seconds{s};
}

const auto ref_now = std::chrono::system_clock::time_point(utc(2026, 11, 26, 14, 30, 45));

}  // namespace

TEST_CASE("parse_http_date: the three RFC 7231 forms") {
    CHECK(parse_http_date("Thu, 26 Nov 2026 14:30:45 GMT", ref_now) == utc(2026, 11, 26, 14, 30, 45));
    CHECK(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT", ref_now) == utc(1994, 11, 6, 8, 49, 37));
    CHECK(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT", ref_now) == utc(1994, 11, 6, 8, 49, 37));
    CHECK(parse_http_date("Sun Nov  6 08:49:37 1994", ref_now) == utc(1994, 11, 6, 8, 49, 37));
    CHECK(parse_http_date("Thu Nov 26 14:30:45 2026", ref_now) == utc(2026, 11, 26, 14, 30, 45));
    // RFC 850 two-digit years: at most 50 years ahead of the reference.
    CHECK(parse_http_date("Thursday, 26-Nov-26 14:30:45 GMT", ref_now) == utc(2026, 11, 26, 14, 30, 45));
    CHECK(parse_http_date("Monday, 01-Jan-76 00:00:00 GMT", ref_now) == utc(2076, 1, 1, 0, 0, 0));
    CHECK(parse_http_date("Friday, 01-Jan-77 00:00:00 GMT", ref_now) == utc(1977, 1, 1, 0, 0, 0));
    // Tolerated: surrounding whitespace, case, UTC, one-digit day, leap second, leap day.
    CHECK(parse_http_date("  \tthu, 26 nov 2026 14:30:45 gmt \t", ref_now) == utc(2026, 11, 26, 14, 30, 45));
    CHECK(parse_http_date("Thu, 26 Nov 2026 14:30:45 UTC", ref_now) == utc(2026, 11, 26, 14, 30, 45));
    CHECK(parse_http_date("Fri, 6 Nov 2026 01:02:03 GMT", ref_now) == utc(2026, 11, 6, 1, 2, 3));
    CHECK(parse_http_date("Wed, 31 Dec 2025 23:59:60 GMT", ref_now) == utc(2026, 1, 1, 0, 0, 0));
    CHECK(parse_http_date("Thu, 29 Feb 2024 12:00:00 GMT", ref_now) == utc(2024, 2, 29, 12, 0, 0));
}

TEST_CASE("parse_http_date: garbage is rejected cleanly") {
    const std::vector<std::string> bad{
        "",
        " ",
        "GMT",
        "Thu",
        "Thu,",
        "Thu, ",
        "Thu, 26",
        "Thu, 26 Nov",
        "Thu, 26 Nov 2026",
        "Thu, 26 Nov 2026 14:30",
        "Thu, 26 Nov 2026 14:30:45",
        "Thu, 26 Nov 2026 14:30:45 EST",
        "Thu, 26 Nov 2026 14:30:45 GMT junk",
        "Thu, 26 Nov 2026 14:30:45 GMTX",
        "Thu, 26 Nov 2026 14:30:45 +0000",
        "Xyz, 26 Nov 2026 14:30:45 GMT",
        "Thu 26 Nov 2026 14:30:45 GMT",
        "Thu,26 Nov 2026 14:30:45 GMT",
        "Thu, 26 Foo 2026 14:30:45 GMT",
        "Thu, 32 Nov 2026 14:30:45 GMT",
        "Thu, 00 Nov 2026 14:30:45 GMT",
        "Thu, 31 Nov 2026 14:30:45 GMT",
        "Thu, 29 Feb 2026 14:30:45 GMT",
        "Thu, 26 Nov 2026 24:00:00 GMT",
        "Thu, 26 Nov 2026 14:60:00 GMT",
        "Thu, 26 Nov 2026 14:30:61 GMT",
        "Thu, 26 Nov 26 14:30:45 GMT",
        "Thu, 26 Nov 20260 14:30:45 GMT",
        "Thu, 260 Nov 2026 14:30:45 GMT",
        "Thu, 26 Nov 2026 1:30:45 GMT",
        "Thu, 26 Nov 2026 14:3:45 GMT",
        "Thu, 26 Nov 2026 14-30-45 GMT",
        "Thu, -6 Nov 2026 14:30:45 GMT",
        "Thursday, 26-Nov-2026 14:30:45 GMT",
        "Thursday, 26-Nov 14:30:45 GMT",
        "Thu Nov 26 14:30:45",
        "Thu Nov 26 14:30:45 26",
        "Thu Nov 26 14:30:45 2026 GMT",
        "Thu Nov 126 14:30:45 2026",
        "1764167445",
        "2026-11-26T14:30:45Z",
        std::string("Thu, 26 Nov 2026 14:30:45 GMT\0", 30),
        std::string(1000, 'A'),
        std::string(100000, ' ') + "Thu, 26 Nov 2026 14:30:45 GMT",
        "\xff\xfe\x80, 26 Nov 2026 14:30:45 GMT",
    };
    for (const auto& s : bad) {
        CAPTURE(s);
        CHECK_FALSE(parse_http_date(s, ref_now).has_value());
        CHECK_FALSE(compute_clock_offset(s, ref_now).has_value());
    }
    // Every prefix of a valid date is rejected, and nothing crashes.
    const std::string good = "Sunday, 06-Nov-94 08:49:37 GMT";
    for (std::size_t n = 0; n < good.size(); ++n)
        CHECK_FALSE(parse_http_date(std::string_view(good).substr(0, n), ref_now).has_value());
}

TEST_CASE("compute_clock_offset and clock_offset") {
    using std::chrono::seconds;
    CHECK(compute_clock_offset("Thu, 26 Nov 2026 14:30:45 GMT", ref_now) == seconds(0));
    CHECK(compute_clock_offset("Thu, 26 Nov 2026 15:30:45 GMT", ref_now) == seconds(3600));
    CHECK(compute_clock_offset("Thu, 26 Nov 2026 14:25:45 GMT", ref_now) == seconds(-300));
    // rounded to the nearest second against a sub-second local time
    CHECK(compute_clock_offset("Thu, 26 Nov 2026 14:30:50 GMT", ref_now + 400ms) == seconds(5));
    CHECK(compute_clock_offset("Thu, 26 Nov 2026 14:30:50 GMT", ref_now + 600ms) == seconds(4));

    // Issue 13: a Date far from now is bad input, never a wrapped offset (a year of 9999 made
    // server - local_now overflow int64 nanoseconds; a release build adopted the wrapped value).
    for (const char* far :
         {"Fri, 31 Dec 9999 23:59:59 GMT", "Sat, 01 Jan 0000 00:00:00 GMT", "Wed, 01 Jan 1737 00:00:00 GMT",
          "Tue, 31 Dec 1737 23:59:59 GMT", "Mon, 01 Jan 2200 00:00:00 GMT", "Thu, 01 Jan 1903 00:00:00 GMT"}) {
        CAPTURE(far);
        CHECK(parse_http_date(far, ref_now).has_value());             // a valid date...
        CHECK_FALSE(compute_clock_offset(far, ref_now).has_value());  // ...but not an offset to adopt
    }
    // Against extreme local clocks too (an injected or broken local clock).
    using sys_ns = std::chrono::time_point<std::chrono::system_clock, std::chrono::nanoseconds>;
    CHECK_FALSE(compute_clock_offset("Thu, 26 Nov 2026 14:30:45 GMT", sys_ns::min()).has_value());
    CHECK_FALSE(compute_clock_offset("Thu, 26 Nov 2026 14:30:45 GMT", sys_ns::max()).has_value());
    CHECK_FALSE(compute_clock_offset("Fri, 31 Dec 9999 23:59:59 GMT", sys_ns::min()).has_value());
    // A local clock reset to the epoch is a real skew and is corrected (exactly).
    const std::chrono::system_clock::time_point epoch{};
    CHECK(compute_clock_offset("Thu, 26 Nov 2026 14:30:45 GMT", epoch) ==
          std::chrono::duration_cast<seconds>(ref_now.time_since_epoch()));
    CHECK(compute_clock_offset("Thu, 26 Nov 2026 14:30:45 GMT", ref_now + max_clock_offset) == -max_clock_offset);
    CHECK_FALSE(
        compute_clock_offset("Thu, 26 Nov 2026 14:30:45 GMT", ref_now + max_clock_offset + seconds(1)).has_value());
    clock_offset kept(seconds(42));
    CHECK_FALSE(kept.update_from_date("Fri, 31 Dec 9999 23:59:59 GMT", ref_now).has_value());
    CHECK(kept.get() == seconds(42));  // unchanged

    CHECK_FALSE(significant_skew(seconds(239)));
    CHECK_FALSE(significant_skew(seconds(-239)));
    CHECK(significant_skew(seconds(240)));
    CHECK(significant_skew(seconds(-240)));
    CHECK(significant_skew(seconds(3600)));

    clock_offset off;
    CHECK(off.get() == seconds(0));
    CHECK(off.now(ref_now) == ref_now);
    CHECK(off.update_from_date("Thu, 26 Nov 2026 15:30:45 GMT", ref_now) == seconds(3600));
    CHECK(off.get() == seconds(3600));
    CHECK(off.now(ref_now) == ref_now + std::chrono::hours(1));
    CHECK_FALSE(off.update_from_date("garbage", ref_now).has_value());
    CHECK(off.get() == seconds(3600));  // unchanged
    CHECK_FALSE(off.set(seconds(3600)));
    CHECK(off.set(seconds(-10)));
    CHECK(off.now(ref_now) == ref_now - seconds(10));
    clock_offset preset(seconds(7));
    CHECK(preset.get() == seconds(7));
}

TEST_CASE("clock skew end to end: detection, correction, one retry") {
    using std::chrono::seconds;
    standard_retry_strategy s;
    retry_quota q;
    scripted_random rng({0.5});
    clock_offset offset;
    retry_call call(s, q, rng);

    // Attempt 1 signed with offset 0; the server is 1 h ahead and rejects the signature.
    const seconds used = offset.get();
    attempt_outcome o =
        service_error(403, "InvalidSignatureException", "The request signature we calculated does not match");
    auto server_offset = offset.update_from_date("Thu, 26 Nov 2026 15:30:45 GMT", ref_now);
    REQUIRE(server_offset);
    o.server_clock_skewed = significant_skew(*server_offset - used);
    auto d = call.on_attempt(o);
    CHECK(d.retry);
    CHECK(d.kind == retry_kind::clock_skew);
    CHECK(d.delay == 0ms);
    CHECK(offset.now(ref_now) == ref_now + std::chrono::hours(1));

    // Attempt 2 with the corrected clock, rejected again with the same Date offset: not skew
    // any more (offset unchanged), so not retried.
    attempt_outcome o2 = o;
    o2.server_clock_skewed =
        significant_skew(*offset.update_from_date("Thu, 26 Nov 2026 15:30:46 GMT", ref_now + 1s) - offset.get());
    CHECK_FALSE(o2.server_clock_skewed);
    CHECK_FALSE(call.on_attempt(o2).retry);
}
