#include "retry/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace iotjobs::detail {

namespace {

double seconds_of(steady_time_point t) noexcept { return std::chrono::duration<double>(t.time_since_epoch()).count(); }

steady_duration ceil_duration(double seconds) {
    if (!(seconds > 0.0)) return steady_duration::zero();
    return std::chrono::ceil<steady_duration>(std::chrono::duration<double>(seconds));
}

// CUBIC's C for a given W_max: the SDKs' 0.4 (requests/s per s^3) from full_scale_rate up;
// below it C shrinks in proportion to W_max (down to min_scale_fraction of 0.4), so that the
// recovery and the probe above W_max take as long, in seconds, as at full_scale_rate. With a
// fixed C the cycle between two throttles is ~2 s at 10/s (one throttle per ~20 requests);
// with the scaled C it is ~10 s.
double cubic_scale(double w_max) noexcept {
    using L = adaptive_rate_limiter;
    return L::scale_constant * std::clamp(w_max / L::full_scale_rate, L::min_scale_fraction, 1.0);
}

double cubic_zero_point(double w_max) noexcept {
    return std::cbrt(w_max * (1.0 - adaptive_rate_limiter::beta) / cubic_scale(w_max));
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// adaptive_rate_limiter

adaptive_rate_limiter::adaptive_rate_limiter(steady_time_point now) {
    const double t = seconds_of(now);
    last_refill_ = t;
    last_bucket_ = std::floor(t);
    k_ = cubic_zero_point(w_max_);
    last_fail_ = t;
    set_max_rate(initial_fill_rate, t);
}

void adaptive_rate_limiter::refill(double t) {
    if (!(t > last_refill_)) return;
    capacity_ = std::min(max_capacity_, capacity_ + (t - last_refill_) * fill_rate_);
    last_refill_ = t;
}

void adaptive_rate_limiter::set_max_rate(double value, double t) {
    // Tokens earned so far are earned at the old rate.
    refill(t);
    fill_rate_ = std::max(value, min_fill_rate);
    max_capacity_ = std::max(value, 1.0);
    capacity_ = std::min(capacity_, max_capacity_);
}

double adaptive_rate_limiter::record(double t) {
    const double bucket = std::floor(t / bucket_seconds) * bucket_seconds;
    if (!sampled_) {
        sampled_ = true;
        first_sample_ = t;
        last_bucket_ = bucket;  // the first bucket starts now, not at construction
    }
    ++count_;
    if (bucket > last_bucket_) {
        const double current = static_cast<double>(count_) / (bucket - last_bucket_);
        measured_rate_ = current * smoothing + measured_rate_ * (1.0 - smoothing);
        count_ = 0;
        last_bucket_ = bucket;
    }
    return measured_rate_;
}

steady_duration adaptive_rate_limiter::acquire(steady_time_point now) {
    std::lock_guard lock(mtx_);
    if (!enabled_) return steady_duration::zero();
    refill(seconds_of(now));
    capacity_ -= 1.0;
    if (capacity_ >= 0.0) return steady_duration::zero();
    return ceil_duration(-capacity_ / fill_rate_);
}

void adaptive_rate_limiter::refund(steady_time_point now) {
    std::lock_guard lock(mtx_);
    if (!enabled_) return;
    refill(seconds_of(now));
    capacity_ = std::min(max_capacity_, capacity_ + 1.0);
}

void adaptive_rate_limiter::on_response(steady_time_point now, bool throttled) {
    std::lock_guard lock(mtx_);
    respond(seconds_of(now), throttled);
}

bool adaptive_rate_limiter::on_throttled(steady_time_point now, steady_time_point sent_at) {
    std::lock_guard lock(mtx_);
    const double t = seconds_of(now);
    if (seconds_of(sent_at) < last_cut_ || t - last_cut_ < bucket_seconds) {
        record(t);
        return false;
    }
    last_cut_ = t;
    respond(t, true);
    return true;
}

void adaptive_rate_limiter::respond(double t, bool throttled) {
    double measured = record(t);
    if (measured_rate_ <= 0.0 && count_ > 0)  // no full bucket yet: the rate seen so far
        measured = static_cast<double>(count_) / std::max(t - first_sample_, bucket_seconds);
    double new_rate;
    if (!throttled) {
        ++ok_since_cut_;
        const double dt = t - last_fail_ - k_;
        new_rate = cubic_scale(w_max_) * dt * dt * dt + w_max_;
    } else {
        double rate_to_use = enabled_ ? std::min(measured, fill_rate_) : measured;
        // Between two throttles the server's bucket went from empty to empty: what it let
        // through in that time is its sustained rate. The rate at the throttle (above) is higher
        // by what the server's burst absorbed, and CUBIC would aim for that again.
        if (enabled_ && t - last_fail_ >= min_cycle_seconds)
            rate_to_use = std::min(rate_to_use, static_cast<double>(ok_since_cut_) / (t - last_fail_));
        ok_since_cut_ = 0;
        w_max_ = rate_to_use;
        k_ = cubic_zero_point(w_max_);
        last_fail_ = t;
        new_rate = rate_to_use * beta;
        enabled_ = true;
    }
    set_max_rate(std::min(new_rate, max_rate_adjust_scale * measured), t);
    // The server has no slack left: tokens saved while the client sent below its fill rate
    // (up to one second's worth) would go out at once and be throttled too.
    if (throttled) capacity_ = std::min(capacity_, 0.0);
}

adaptive_rate_limiter::snapshot adaptive_rate_limiter::state() const {
    std::lock_guard lock(mtx_);
    return {enabled_, fill_rate_, max_capacity_, capacity_, measured_rate_, w_max_, k_, last_fail_, last_cut_};
}

// ---------------------------------------------------------------------------------------------
// fixed_rate_limiter

fixed_rate_limiter::fixed_rate_limiter(double requests_per_second, unsigned burst)
    : rate_(requests_per_second > 0.0 ? requests_per_second : 0.0),
      burst_(std::max(burst, 1u)),
      interval_ns_(rate_ > 0.0 ? 1e9 / rate_ : 0.0) {}

steady_time_point fixed_rate_limiter::tat() const {
    return anchor_ + std::chrono::nanoseconds(std::llround(static_cast<double>(issued_) * interval_ns_));
}

steady_duration fixed_rate_limiter::acquire(steady_time_point now) {
    if (unlimited()) return steady_duration::zero();
    std::lock_guard lock(mtx_);
    if (!started_ || now >= tat()) {
        // Idle (or first call): the schedule restarts at now, with the full burst available.
        started_ = true;
        anchor_ = now;
        issued_ = 1;
        return steady_duration::zero();
    }
    const auto tolerance = std::chrono::nanoseconds(std::llround(static_cast<double>(burst_ - 1) * interval_ns_));
    const steady_time_point slot = std::max(now, tat() - tolerance);
    ++issued_;
    if (issued_ >= (1u << 20)) {
        // Keep the count (and the double product) small; the rounding of one re-anchor is < 1 ns.
        anchor_ = tat();
        issued_ = 0;
    }
    return slot - now;
}

}  // namespace iotjobs::detail
