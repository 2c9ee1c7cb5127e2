// Client-side rate limiters. Pure: every method takes the current steady time, nothing sleeps.
//
// acquire(now) reserves one send slot and returns how long the caller must wait before sending
// (zero: send now). An async caller co_awaits a steady_timer for that long; the slot is already
// its own, so callers are served in the order they called acquire. A caller that gives up
// after acquiring (cancelled) may hand its slot back with refund(now).
#pragma once

#include <chrono>
#include <cmath>
#include <cstdint>
#include <mutex>

namespace iotjobs::detail {

using steady_time_point = std::chrono::steady_clock::time_point;
using steady_duration = std::chrono::steady_clock::duration;

// AWS SDK adaptive retry mode (botocore/retries/adaptive.py, throttling.py, bucket.py):
//  - a token bucket that stays off (acquire returns 0) until the first throttling response;
//  - the response rate measured in 0.5 s buckets, smoothed by an EMA (factor 0.8);
//  - CUBIC: on throttle W_max = measured rate (once enabled: min(measured, fill rate)) and the
//    rate drops to beta*W_max; on success rate = C*(t - t_throttle - K)^3 + W_max with
//    K = cbrt(W_max*(1-beta)/C);
//  - the bucket's fill rate = max(min(rate, 2*measured), 0.5) tokens/s, capacity max(rate, 1).
// Initial state as botocore: CUBIC W_max 0.5 at construction time, fill rate 1, bucket empty,
// measurement buckets anchored at the whole second of construction.
// One limiter per client; thread-safe. Times earlier than the latest one seen are treated as
// that latest time (no refill backwards).
class adaptive_rate_limiter {
public:
    static constexpr double scale_constant = 0.4;  // CUBIC C (at W_max >= full_scale_rate)
    static constexpr double full_scale_rate = 100.0;
    static constexpr double min_scale_fraction = 0.05;
    static constexpr double min_cycle_seconds = 1.0;  // shortest throttle-to-throttle span to average
    static constexpr double beta = 0.7;               // CUBIC multiplicative decrease
    static constexpr double smoothing = 0.8;          // EMA weight of the newest bucket
    static constexpr double bucket_seconds = 0.5;     // measurement bucket width
    static constexpr double min_fill_rate = 0.5;      // tokens per second
    static constexpr double max_rate_adjust_scale = 2.0;
    static constexpr double initial_cubic_rate = 0.5;
    static constexpr double initial_fill_rate = 1.0;

    explicit adaptive_rate_limiter(steady_time_point now);

    adaptive_rate_limiter(const adaptive_rate_limiter&) = delete;
    adaptive_rate_limiter& operator=(const adaptive_rate_limiter&) = delete;

    // Before each attempt (retries included). Disabled: returns zero and takes nothing.
    // Enabled: takes one token, which may leave the bucket in debt; returns the time until the
    // debt is paid at the current fill rate (rounded up to the clock's tick).
    steady_duration acquire(steady_time_point now);

    // Gives back a token taken by acquire() and not used. No-op while disabled.
    void refund(steady_time_point now);

    // After each attempt that got a response (or failed): records it in the measured rate and
    // moves the CUBIC rate; `throttled` is classify(...) == retry_kind::throttling. The first
    // throttled response enables the bucket. Every throttle cuts the rate: callers with
    // several requests in flight use on_throttled().
    void on_response(steady_time_point now, bool throttled);

    // A throttled response to a request sent at `sent_at`. Cuts the rate (on_response(now,
    // true)) at most once per measurement bucket and never for a request sent before the latest
    // cut: until the measured rate moves, a further throttle says nothing new (as TCP cuts once
    // per loss window); without this, N requests in flight past the limit cut the rate by 0.7^N.
    // A throttle that does not cut is still counted in the measured rate. True if it cut.
    bool on_throttled(steady_time_point now, steady_time_point sent_at);

    struct snapshot {
        bool enabled;
        double fill_rate;         // tokens per second
        double max_capacity;      // tokens
        double current_capacity;  // tokens; negative while callers wait on reservations
        double measured_rate;     // smoothed responses per second
        double w_max;             // CUBIC W_max
        double k;                 // CUBIC K (seconds)
        double last_throttle;     // seconds (steady clock epoch) of the last throttle / construction
        double last_cut;          // seconds of the latest on_throttled() cut; -inf: none yet
    };
    snapshot state() const;

private:
    void refill(double t);
    void set_max_rate(double value, double t);
    double record(double t);
    void respond(double t, bool throttled);  // on_response() under the lock

    mutable std::mutex mtx_;
    bool enabled_ = false;
    // token bucket
    double fill_rate_ = initial_fill_rate;
    double max_capacity_ = 1.0;
    double capacity_ = 0.0;
    double last_refill_;
    // rate measurement
    double measured_rate_ = 0.0;
    double last_bucket_;
    std::uint64_t count_ = 0;
    // Improvement over the SDKs: measurement starts with the first response (not at
    // construction, which may be long before), and a throttle that arrives before the first
    // 0.5 s bucket completes uses the rate seen so far instead of 0 (which would drop the
    // client to the 0.5/s floor for seconds). See bench/ADAPTIVE.md.
    bool sampled_ = false;
    double first_sample_ = 0.0;
    // CUBIC
    double w_max_ = initial_cubic_rate;
    double k_;
    double last_fail_;
    std::uint64_t ok_since_cut_ = 0;  // successful responses since last_fail_
    double last_cut_ = -HUGE_VAL;     // on_throttled()'s window
};

// A fixed request rate for the bulk engine's --rate: generic cell rate algorithm (virtual
// scheduling). Slot n of a busy period is at anchor + n/R exactly (computed from the count, so
// no rounding error accumulates); up to `burst` requests may go at once after an idle period.
// Over any long busy run the admitted rate is R. Thread-safe.
class fixed_rate_limiter {
public:
    // requests_per_second <= 0 (or NaN) means unlimited: acquire always returns zero.
    // burst 0 is treated as 1.
    explicit fixed_rate_limiter(double requests_per_second, unsigned burst = 1);

    fixed_rate_limiter(const fixed_rate_limiter&) = delete;
    fixed_rate_limiter& operator=(const fixed_rate_limiter&) = delete;

    // Reserves the next slot; returns how long to wait until it (zero: send now).
    steady_duration acquire(steady_time_point now);

    double rate() const noexcept { return rate_; }
    unsigned burst() const noexcept { return burst_; }
    bool unlimited() const noexcept { return !(rate_ > 0.0); }

private:
    steady_time_point tat() const;  // theoretical arrival time of the next slot

    mutable std::mutex mtx_;
    double rate_;
    unsigned burst_;
    double interval_ns_;
    bool started_ = false;
    steady_time_point anchor_{};
    std::uint64_t issued_ = 0;  // slots scheduled since anchor_
};

}  // namespace iotjobs::detail
