// lib/retry/rate_limiter: adaptive (CUBIC) and fixed-rate limiters, driven by a fake clock.
#include "retry/rate_limiter.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <thread>
#include <vector>

using namespace iotjobs::detail;
using namespace std::chrono_literals;

namespace {

const steady_time_point t0 = steady_time_point(std::chrono::seconds(1000));

double secs(steady_duration d) { return std::chrono::duration<double>(d).count(); }

double secs(steady_time_point t) { return std::chrono::duration<double>(t.time_since_epoch()).count(); }

// Feeds successful responses at `per_second` from `from` (exclusive) to `to` (inclusive).
steady_time_point steady_traffic(adaptive_rate_limiter& lim, steady_time_point from, steady_time_point to,
                                 int per_second) {
    const auto step = std::chrono::nanoseconds(1'000'000'000 / per_second);
    steady_time_point t = from;
    while (t + step <= to) {
        t += step;
        lim.on_response(t, false);
    }
    return t;
}

// CUBIC's C: 0.4 from W_max = 100/s up, in proportion to W_max below (at least 0.4 x 0.05).
double expected_scale(double w_max) { return 0.4 * std::clamp(w_max / 100.0, 0.05, 1.0); }

double expected_k(double w_max) { return std::cbrt(w_max * (1 - 0.7) / expected_scale(w_max)); }

double expected_cubic(double w_max, double dt) {
    return expected_scale(w_max) * std::pow(dt - expected_k(w_max), 3) + w_max;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// adaptive_rate_limiter

TEST_CASE("adaptive: initial state as botocore") {
    adaptive_rate_limiter lim(t0);
    const auto s = lim.state();
    CHECK_FALSE(s.enabled);
    CHECK(s.fill_rate == 1.0);
    CHECK(s.max_capacity == 1.0);
    CHECK(s.current_capacity == 0.0);
    CHECK(s.measured_rate == 0.0);
    CHECK(s.w_max == 0.5);
    CHECK(s.k == doctest::Approx(std::cbrt(0.5 * 0.3 / (0.4 * 0.05))));
    CHECK(s.last_throttle == secs(t0));
}

TEST_CASE("adaptive: disabled until the first throttle") {
    adaptive_rate_limiter lim(t0);
    // Many sends and successes: never a wait, no token taken.
    for (int i = 0; i < 1000; ++i) {
        const auto t = t0 + i * 10ms;
        REQUIRE(lim.acquire(t) == steady_duration::zero());
        lim.on_response(t, false);
    }
    CHECK_FALSE(lim.state().enabled);
    const double cap_before = lim.state().current_capacity;
    lim.refund(t0 + 10s);  // no-op while disabled
    CHECK(lim.state().current_capacity == cap_before);

    lim.on_response(t0 + 10s, true);
    CHECK(lim.state().enabled);
    // Now sending faster than the fill rate must wait: at most capacity tokens go at once.
    const auto s = lim.state();
    CHECK(s.fill_rate == doctest::Approx(0.7 * s.measured_rate));
    int immediate = 0;
    steady_duration longest{};
    for (int i = 0; i < 200; ++i) {
        const auto w = lim.acquire(t0 + 10s);
        immediate += w == steady_duration::zero();
        longest = std::max(longest, w);
    }
    CHECK(immediate == static_cast<int>(std::floor(s.current_capacity)));
    CHECK(secs(longest) == doctest::Approx((200 - s.current_capacity) / s.fill_rate));
}

TEST_CASE("adaptive: measured rate in 0.5 s buckets with EMA 0.8") {
    adaptive_rate_limiter lim(t0);  // buckets anchored at 1000.0
    // 5 responses in [1000.0, 1000.5): no bucket closed yet.
    for (int i = 0; i < 5; ++i) lim.on_response(t0 + 50ms + i * 100ms, false);
    CHECK(lim.state().measured_rate == 0.0);
    // The first response at/after 1000.5 closes the bucket: 6 responses / 0.5 s = 12, EMA 0.8*12.
    lim.on_response(t0 + 500ms, false);
    CHECK(lim.state().measured_rate == doctest::Approx(9.6));
    // As botocore, the response that closes a bucket is counted in it: [1000.5, 1001.0) closed
    // by the response at 1001.2 holds 1 response -> 1 / 0.5 s.
    lim.on_response(t0 + 1200ms, false);
    CHECK(lim.state().measured_rate == doctest::Approx(0.8 * 2 + 0.2 * 9.6));
    // An empty bucket is skipped: [1001.0, 1002.0) closed at 1002.0 with 1 response -> 1 / 1 s.
    lim.on_response(t0 + 2000ms, false);
    CHECK(lim.state().measured_rate == doctest::Approx(0.8 * 1 + 0.2 * (0.8 * 2 + 0.2 * 9.6)));
    // Same bucket again: no change.
    lim.on_response(t0 + 2100ms, false);
    CHECK(lim.state().measured_rate == doctest::Approx(0.8 * 1 + 0.2 * (0.8 * 2 + 0.2 * 9.6)));
    // Steady 10/s converges to 10.
    steady_traffic(lim, t0 + 2s, t0 + 12s, 10);
    CHECK(lim.state().measured_rate == doctest::Approx(10.0).epsilon(1e-6));
}

TEST_CASE("adaptive: throttle drops the rate to 0.7 x measured, then CUBIC recovery") {
    adaptive_rate_limiter lim(t0);
    auto t = steady_traffic(lim, t0, t0 + 10s, 10);
    const double measured = lim.state().measured_rate;
    REQUIRE(measured == doctest::Approx(10.0).epsilon(1e-6));

    const auto t_fail = t + 50ms;  // same measurement bucket: measured unchanged
    lim.on_response(t_fail, true);
    auto s = lim.state();
    CHECK(s.enabled);
    CHECK(s.measured_rate == measured);
    CHECK(s.w_max == measured);
    CHECK(s.k == doctest::Approx(std::cbrt(measured * 0.3 / (0.4 * 0.1))));  // C = 0.4 x 10/100
    CHECK(s.k == doctest::Approx(expected_k(measured)));
    CHECK(s.fill_rate == doctest::Approx(0.7 * measured));
    CHECK(s.max_capacity == doctest::Approx(0.7 * measured));
    CHECK(s.last_throttle == doctest::Approx(secs(t_fail)));

    // Successes at 10/s: rate follows C*(t - t_fail - K)^3 + W_max, capped at 2*measured.
    double previous = s.fill_rate;
    bool reached_w_max = false, capped = false;
    for (int i = 1; i <= 150; ++i) {
        const auto now = t_fail + i * 100ms;
        lim.on_response(now, false);
        s = lim.state();
        const double cubic = expected_cubic(measured, secs(now - t_fail));
        const double expect = std::max(std::min(cubic, 2 * s.measured_rate), 0.5);
        CAPTURE(i);
        CHECK(s.fill_rate == doctest::Approx(expect));
        CHECK(s.max_capacity == doctest::Approx(std::max(std::min(cubic, 2 * s.measured_rate), 1.0)));
        if (cubic < 2 * s.measured_rate)
            CHECK(s.fill_rate >= previous - 1e-9);  // the cubic never decreases without a throttle
        previous = s.fill_rate;
        if (secs(now - t_fail) >= s.k) reached_w_max = reached_w_max || s.fill_rate >= measured - 1e-9;
        capped = capped || s.fill_rate == doctest::Approx(2 * s.measured_rate);
    }
    CHECK(reached_w_max);
    CHECK(capped);  // 15 s after the throttle the cubic is far above 2 x measured

    // At t_fail + K exactly the cubic is back at W_max.
    CHECK(expected_cubic(measured, s.k) == doctest::Approx(measured));
    // Right after the throttle it starts at 0.7 * W_max.
    CHECK(expected_cubic(measured, 0) == doctest::Approx(0.7 * measured));
}

TEST_CASE("adaptive: a second throttle uses min(measured, fill rate)") {
    adaptive_rate_limiter lim(t0);
    auto t = steady_traffic(lim, t0, t0 + 10s, 10);
    lim.on_response(t + 10ms, true);
    const double fill1 = lim.state().fill_rate;
    REQUIRE(fill1 == doctest::Approx(7.0).epsilon(1e-6));
    lim.on_response(t + 20ms, true);
    const auto s = lim.state();
    CHECK(s.w_max == doctest::Approx(fill1));
    CHECK(s.fill_rate == doctest::Approx(0.7 * fill1));
}

TEST_CASE("adaptive: fill rate floored at 0.5, capacity at least 1") {
    adaptive_rate_limiter lim(t0);
    lim.on_response(t0 + 100ms, false);  // the first response starts the measurement
    lim.on_response(t0 + 4s, false);     // closes [1000, 1004): 2 / 4 s = 0.5 -> measured 0.8 * 0.5
    REQUIRE(lim.state().measured_rate == doctest::Approx(0.4));
    lim.on_response(t0 + 4100ms, true);
    auto s = lim.state();
    CHECK(s.w_max == doctest::Approx(0.4));
    CHECK(s.fill_rate == 0.5);  // 0.7 * 0.4 = 0.28 floored
    CHECK(s.max_capacity == 1.0);

    // Sends at one instant are spaced 1 / 0.5 = 2 s apart.
    const auto now = t0 + 4100ms;
    const double c0 = lim.state().current_capacity;
    std::vector<double> waits;
    for (int i = 0; i < 5; ++i) waits.push_back(secs(lim.acquire(now)));
    for (int i = 0; i < 5; ++i) {
        CAPTURE(i);
        CHECK(waits[i] == doctest::Approx(std::max(0.0, (i + 1 - c0) / 0.5)).epsilon(1e-9));
    }
    for (int i = 1; i < 5; ++i) CHECK(waits[i] - waits[i - 1] == doctest::Approx(2.0).epsilon(1e-9));
}

TEST_CASE("adaptive: acquire reserves tokens in order; refund gives one back") {
    adaptive_rate_limiter lim(t0);
    auto t = steady_traffic(lim, t0, t0 + 10s, 10);
    const auto now = t + 10ms;
    lim.on_response(now, true);  // fill 7/s, capacity 7
    const auto s = lim.state();
    REQUIRE(s.fill_rate == doctest::Approx(7.0).epsilon(1e-6));
    const double c0 = s.current_capacity;
    REQUIRE(c0 >= 0.0);
    REQUIRE(c0 <= s.max_capacity);

    std::vector<steady_duration> waits;
    for (int i = 0; i < 30; ++i) waits.push_back(lim.acquire(now));
    for (int i = 0; i < 30; ++i) {
        const double expect = std::max(0.0, (i + 1 - c0) / s.fill_rate);
        CAPTURE(i);
        CHECK(secs(waits[i]) == doctest::Approx(expect).epsilon(1e-9));
        CHECK(secs(waits[i]) >= expect - 1e-12);  // rounded up: the token is there when the timer fires
        if (i > 0) CHECK(waits[i] >= waits[i - 1]);
    }
    // The last reserved caller's token is exactly paid at its wake-up time.
    const double debt = lim.state().current_capacity;
    CHECK(debt == doctest::Approx(c0 - 30));
    lim.refund(now);
    CHECK(lim.state().current_capacity == doctest::Approx(c0 - 29));
    // Later: the bucket refills at the fill rate but never above capacity.
    lim.acquire(now + 100s);
    CHECK(lim.state().current_capacity == doctest::Approx(s.max_capacity - 1));
    // Earlier timestamps (another thread's stale now) do not refill backwards.
    const double c = lim.state().current_capacity;
    lim.acquire(now);
    CHECK(lim.state().current_capacity == doctest::Approx(c - 1));
}

TEST_CASE("adaptive: rate limited senders approach the fill rate") {
    // A closed loop: each caller sends when allowed; the service throttles above 5/s.
    adaptive_rate_limiter lim(t0);
    steady_time_point now = t0;
    std::vector<steady_time_point> sends;
    for (int i = 0; i < 3000; ++i) {
        now += lim.acquire(now);
        now += 20ms;  // the request takes 20 ms
        sends.push_back(now);
        // throttled if more than 5 sends in the last second
        const auto window_start = now - 1s;
        const auto in_window = std::count_if(sends.begin(), sends.end(), [&](auto t) { return t > window_start; });
        lim.on_response(now, in_window > 5);
    }
    CHECK(lim.state().enabled);
    // Over the last 100 s the achieved rate stays within the band CUBIC oscillates in.
    const auto last = sends.back();
    const auto recent = std::count_if(sends.begin(), sends.end(), [&](auto t) { return t > last - 100s; });
    CHECK(recent >= 300);  // >= 3/s
    CHECK(recent <= 700);  // <= 7/s
}

TEST_CASE("adaptive: concurrent use is safe") {
    adaptive_rate_limiter lim(t0);
    lim.on_response(t0 + 1s, true);
    std::vector<std::thread> threads;
    for (int th = 0; th < 4; ++th)
        threads.emplace_back([&, th] {
            for (int i = 0; i < 2000; ++i) {
                const auto now = t0 + 1s + i * 1ms;
                (void)lim.acquire(now);
                lim.on_response(now, (i + th) % 97 == 0);
            }
        });
    for (auto& t : threads) t.join();
    const auto s = lim.state();
    CHECK(s.enabled);
    CHECK(s.fill_rate >= 0.5);
    CHECK(std::isfinite(s.current_capacity));
}

// ---------------------------------------------------------------------------------------------
// fixed_rate_limiter

TEST_CASE("fixed: 10,000 queued acquisitions are exactly 1/R apart") {
    for (double rate : {10.0, 3.0, 7.0, 0.5, 1000.0, 37.5}) {
        CAPTURE(rate);
        fixed_rate_limiter lim(rate);
        CHECK(lim.rate() == rate);
        CHECK(lim.burst() == 1);
        const double interval_ns = 1e9 / rate;
        for (std::int64_t n = 0; n < 10'000; ++n) {
            const auto wait = lim.acquire(t0);
            const auto expect = std::chrono::nanoseconds(std::llround(static_cast<double>(n) * interval_ns));
            REQUIRE(std::chrono::abs(wait - expect) <= 1ns);
        }
        // Admitted rate over the run: 9,999 intervals between the first and the last send.
        const auto last = t0 + std::chrono::nanoseconds(std::llround(9999 * interval_ns));
        const double admitted = 9999.0 / secs(last - t0);
        CHECK(admitted == doctest::Approx(rate).epsilon(1e-9));
    }
}

TEST_CASE("fixed: callers that wait and come back keep the exact rate") {
    fixed_rate_limiter lim(10.0);
    steady_time_point now = t0;
    steady_time_point first{}, last{};
    // Each of 4 workers sends, takes 35 ms, and asks again; the limiter is the bottleneck.
    std::vector<steady_time_point> ready(4, t0);
    for (int n = 0; n < 10'000; ++n) {
        auto it = std::min_element(ready.begin(), ready.end());
        now = *it;
        const auto send = now + lim.acquire(now);
        if (n == 0) first = send;
        last = send;
        *it = send + 35ms;
    }
    const double admitted = 9999.0 / secs(last - first);
    CHECK(admitted == doctest::Approx(10.0).epsilon(0.01));
    CHECK(admitted == doctest::Approx(10.0).epsilon(1e-9));
}

TEST_CASE("fixed: bursty arrivals faster than R are smoothed to R") {
    fixed_rate_limiter lim(20.0);
    std::uint64_t lcg = 12345;
    auto next_rand = [&] {
        lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
        return static_cast<double>(lcg >> 11) * 0x1p-53;
    };
    steady_time_point arrival = t0;
    std::vector<steady_time_point> sends;
    for (int n = 0; n < 10'000; ++n) {
        // arrivals average 40/s, in clumps
        arrival += std::chrono::nanoseconds(static_cast<std::int64_t>(next_rand() * 50e6));
        sends.push_back(arrival + lim.acquire(arrival));
    }
    CHECK(std::is_sorted(sends.begin(), sends.end()));
    for (std::size_t i = 1; i < sends.size(); ++i) REQUIRE(sends[i] - sends[i - 1] >= 50ms - 1ns);
    const double admitted = 9999.0 / secs(sends.back() - sends.front());
    CHECK(admitted == doctest::Approx(20.0).epsilon(0.01));
}

TEST_CASE("fixed: slower arrivals never wait; idle restarts the schedule") {
    fixed_rate_limiter lim(10.0);
    for (int n = 0; n < 100; ++n) REQUIRE(lim.acquire(t0 + n * 150ms) == steady_duration::zero());
    // Exactly at the next slot: no wait either.
    fixed_rate_limiter exact(10.0);
    for (int n = 0; n < 100; ++n) REQUIRE(exact.acquire(t0 + n * 100ms) == steady_duration::zero());
    // A little early: wait the remainder.
    CHECK(exact.acquire(t0 + 9930ms) == 70ms);
}

TEST_CASE("fixed: burst") {
    fixed_rate_limiter lim(10.0, 5);
    CHECK(lim.burst() == 5);
    for (int i = 0; i < 5; ++i) CHECK(lim.acquire(t0) == 0ms);
    CHECK(lim.acquire(t0) == 100ms);
    CHECK(lim.acquire(t0) == 200ms);
    // Long idle: the full burst again.
    const auto later = t0 + 10s;
    for (int i = 0; i < 5; ++i) CHECK(lim.acquire(later) == 0ms);
    CHECK(lim.acquire(later) == 100ms);
    // Partial idle: 6 slots were taken at `later` (the 6th at later + 100 ms), so the schedule is
    // 600 ms ahead; 300 ms on, 3 slots were earned but one was already spent: 2 go at once.
    const auto partial = later + 300ms;
    for (int i = 0; i < 2; ++i) CHECK(lim.acquire(partial) == 0ms);
    CHECK(lim.acquire(partial) == 100ms);
    // Over a long backlog the rate is still R.
    fixed_rate_limiter b(10.0, 5);
    steady_duration w{};
    for (int n = 0; n < 10'004; ++n) w = b.acquire(t0);
    CHECK(w == 999900ms);  // the last (n = 10,003) is slot 10,003 - 4 = 9,999: 999.9 s
    fixed_rate_limiter zero_burst(10.0, 0);
    CHECK(zero_burst.burst() == 1);
}

TEST_CASE("fixed: unlimited") {
    for (double r : {0.0, -5.0, std::nan("")}) {
        fixed_rate_limiter lim(r);
        CHECK(lim.unlimited());
        for (int i = 0; i < 1000; ++i) REQUIRE(lim.acquire(t0) == steady_duration::zero());
    }
}

TEST_CASE("fixed: no drift over millions of slots (re-anchoring)") {
    fixed_rate_limiter lim(7.0);
    const std::int64_t n_total = 2'500'000;  // crosses the internal re-anchor twice
    steady_duration wait{};
    for (std::int64_t n = 0; n < n_total; ++n) wait = lim.acquire(t0);
    const double expect_ns = static_cast<double>(n_total - 1) * 1e9 / 7.0;
    CHECK(std::abs(static_cast<double>(std::chrono::nanoseconds(wait).count()) - expect_ns) <= 3.0);
}

TEST_CASE("fixed: concurrent acquisitions get distinct slots") {
    fixed_rate_limiter lim(100.0);
    std::vector<std::vector<steady_duration>> got(4);
    std::vector<std::thread> threads;
    for (int th = 0; th < 4; ++th)
        threads.emplace_back([&, th] {
            for (int i = 0; i < 2500; ++i) got[th].push_back(lim.acquire(t0));
        });
    for (auto& t : threads) t.join();
    std::vector<steady_duration> all;
    for (auto& g : got) all.insert(all.end(), g.begin(), g.end());
    std::sort(all.begin(), all.end());
    for (std::size_t i = 0; i < all.size(); ++i)
        REQUIRE(std::chrono::abs(all[i] - std::chrono::nanoseconds(static_cast<std::int64_t>(i) * 10'000'000)) <= 1ns);
}

TEST_CASE("adaptive: a throttle before the first full bucket uses the rate seen so far") {
    // 600 responses in the first 0.3 s (2000/s), then a throttle: the SDKs' limiter would take
    // W_max = 0 (no bucket closed yet) and fall to the 0.5/s floor; ours starts from 2000/s.
    adaptive_rate_limiter lim(t0 - 3600s);  // built an hour before any traffic
    for (int i = 0; i < 600; ++i) lim.on_response(t0 + std::chrono::microseconds(i * 500), false);
    lim.on_response(t0 + 300ms, true);
    auto s = lim.state();
    CHECK(s.enabled);
    CHECK(s.w_max == doctest::Approx(601.0 / 0.5).epsilon(0.01));  // count / max(elapsed, 0.5 s)
    CHECK(s.fill_rate > 500.0);
}

// ---------------------------------------------------------------------------------------------
// The adaptive limiter in a closed loop against a server token bucket, on a simulated clock.

namespace {

// The fake endpoint's limiter: `rate` tokens per second, `burst` deep, full at the start.
struct server_bucket {
    double rate, burst, tokens, last;
    bool take(double t) {
        tokens = std::min(burst, tokens + (t - last) * rate);
        last = t;
        if (tokens < 1.0) return false;
        tokens -= 1.0;
        return true;
    }
};

struct closed_loop_result {
    std::uint64_t sent = 0, throttled = 0, ok = 0;  // after the warm-up
};

// `workers` callers each send one request after another through the limiter, as the client's
// attempt loop does: acquire, wait in 200 ms slices rescaled to the current fill rate, send;
// a response comes `latency` (+0..9 ms, deterministic) later; a throttled request is sent
// again (bulk mode). Counts what happens after `warmup`.
closed_loop_result run_closed_loop(double limit, int workers, std::chrono::milliseconds latency, steady_duration warmup,
                                   steady_duration total) {
    enum class phase { acquire, slice, response };
    struct event {
        steady_time_point at;
        int worker;
        phase what;
        bool operator>(const event& o) const { return at > o.at || (at == o.at && worker > o.worker); }
    };
    struct worker_state {
        steady_duration wait{};
        double rate = 0;
        steady_time_point sent_at{};
        bool throttled = false;
    };
    adaptive_rate_limiter lim(t0);  // off until the first throttle, as in the client
    server_bucket server{limit, limit, limit, secs(t0)};
    std::vector<worker_state> w(static_cast<std::size_t>(workers));
    std::vector<event> heap;
    const auto push = [&](event e) {
        heap.push_back(e);
        std::push_heap(heap.begin(), heap.end(), std::greater<>{});
    };
    for (int i = 0; i < workers; ++i) push({t0 + i * 1ms, i, phase::acquire});
    closed_loop_result r;
    const auto measure_from = t0 + warmup;
    constexpr steady_duration slice = 200ms;
    std::uint64_t n = 0;
    while (!heap.empty()) {
        std::pop_heap(heap.begin(), heap.end(), std::greater<>{});
        const event e = heap.back();
        heap.pop_back();
        if (e.at >= t0 + total) break;
        auto& s = w[static_cast<std::size_t>(e.worker)];
        if (e.what == phase::acquire) {
            s.wait = lim.acquire(e.at);
            s.rate = lim.state().fill_rate;
        } else if (e.what == phase::response) {
            if (s.throttled)
                lim.on_throttled(e.at, s.sent_at);
            else
                lim.on_response(e.at, false);
            push({e.at, e.worker, phase::acquire});
            continue;
        }
        if (e.what == phase::slice) {
            const double now_rate = lim.state().fill_rate;
            if (s.wait.count() > 0 && now_rate != s.rate) {
                s.wait = std::chrono::duration_cast<steady_duration>(s.wait * (s.rate / now_rate));
                s.rate = now_rate;
            }
        }
        if (s.wait.count() > 0) {
            const steady_duration step = std::min(s.wait, slice);
            s.wait -= step;
            push({e.at + step, e.worker, phase::slice});
            continue;
        }
        s.sent_at = e.at;
        s.throttled = !server.take(secs(e.at));
        if (e.at >= measure_from) {
            ++r.sent;
            r.throttled += s.throttled;
            r.ok += !s.throttled;
        }
        push({e.at + latency + std::chrono::milliseconds(++n * 7 % 10), e.worker, phase::response});
    }
    return r;
}

}  // namespace

TEST_CASE("adaptive: steady quota under 2 % throttled after warm-up, at 10/s and at 1,000/s") {
    for (const double limit : {10.0, 1000.0}) {
        const int workers = limit > 100 ? 64 : 16;
        for (const auto latency : {20ms, 50ms}) {
            const auto r = run_closed_loop(limit, workers, latency, 60s, 360s);
            const double throttled = static_cast<double>(r.throttled) / static_cast<double>(r.sent);
            const double achieved = static_cast<double>(r.ok) / 300.0;
            CAPTURE(limit);
            CAPTURE(latency.count());
            CAPTURE(r.sent);
            CAPTURE(r.throttled);
            CAPTURE(achieved);
            CHECK(throttled < 0.02);
            CAPTURE(workers);
            if (limit * latency.count() / 1000.0 < workers)  // not bounded by the requests in flight
                CHECK(achieved >= 0.9 * limit);
        }
    }
}

TEST_CASE("adaptive: CUBIC's C is the SDKs' 0.4 from 100/s up and scales with W_max below") {
    adaptive_rate_limiter lim(t0);
    auto t = steady_traffic(lim, t0, t0 + 10s, 1000);
    lim.on_response(t + 1ms, true);
    CHECK(lim.state().w_max == doctest::Approx(1000.0).epsilon(1e-6));
    CHECK(lim.state().k == doctest::Approx(std::cbrt(1000.0 * 0.3 / 0.4)));
    // At 10/s the recovery to W_max takes as long as at 100/s.
    CHECK(expected_k(10.0) == doctest::Approx(expected_k(100.0)));
    CHECK(expected_k(10.0) > 2 * std::cbrt(10.0 * 0.3 / 0.4));
}

TEST_CASE("adaptive: on_throttled cuts once per bucket, never for a request sent before the cut") {
    adaptive_rate_limiter lim(t0);
    auto t = steady_traffic(lim, t0, t0 + 10s, 10);
    CHECK(lim.on_throttled(t + 10ms, t));  // the first throttle cuts and enables
    const auto s1 = lim.state();
    CHECK(s1.enabled);
    CHECK(s1.fill_rate == doctest::Approx(7.0).epsilon(1e-6));
    CHECK(s1.last_cut == doctest::Approx(secs(t + 10ms)));
    // In flight when the cut happened: no further cut, even much later.
    CHECK_FALSE(lim.on_throttled(t + 2s, t + 5ms));
    // Sent after the cut but within 0.5 s of it: no cut.
    CHECK_FALSE(lim.on_throttled(t + 400ms, t + 300ms));
    CHECK(lim.state().fill_rate == s1.fill_rate);
    CHECK(lim.state().w_max == s1.w_max);
    // Sent after the cut and 0.5 s after it: cuts.
    CHECK(lim.on_throttled(t + 600ms, t + 550ms));
    CHECK(lim.state().fill_rate < s1.fill_rate);
    CHECK(lim.state().last_cut == doctest::Approx(secs(t + 600ms)));
}

TEST_CASE("adaptive: W_max is what the server let through between two throttles") {
    // After a cut the client sends below the limit while CUBIC recovers (the server's bucket
    // refills), then above it until that burst is spent: 4 s at 7/s, 4 s at 13/s, throttled.
    // The server let 10/s through; the rate at the throttle (13/s measured) overshoots it.
    adaptive_rate_limiter lim(t0);
    auto t = steady_traffic(lim, t0, t0 + 10s, 12);
    REQUIRE(lim.on_throttled(t, t));
    REQUIRE(lim.state().w_max == doctest::Approx(12.0).epsilon(0.01));
    t = steady_traffic(lim, t, t + 4s, 7);
    t = steady_traffic(lim, t, t + 4s, 13);
    REQUIRE(lim.state().measured_rate > 12.0);
    REQUIRE(lim.state().fill_rate > 12.0);
    const auto sent = t;
    t += 10ms;
    REQUIRE(lim.on_throttled(t, sent));
    const auto s = lim.state();
    const double ok = 4 * 7 + 4 * 13;
    CHECK(s.w_max == doctest::Approx(ok / 8.01).epsilon(0.01));
    CHECK(s.fill_rate == doctest::Approx(0.7 * s.w_max));
}

TEST_CASE("adaptive: a throttle spends the tokens saved while the client sent slowly") {
    adaptive_rate_limiter lim(t0);
    auto t = steady_traffic(lim, t0, t0 + 10s, 100);
    lim.on_response(t, true);  // enabled, fill 70/s, capacity 70
    lim.acquire(t + 10s);      // idle: the bucket refills to its capacity
    REQUIRE(lim.state().current_capacity > 50.0);
    lim.on_response(t + 10s, true);
    CHECK(lim.state().current_capacity <= 0.0);
    CHECK(lim.acquire(t + 10s) > steady_duration::zero());
}
