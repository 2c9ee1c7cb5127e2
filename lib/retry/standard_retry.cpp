#include "retry/standard_retry.hpp"

#include <algorithm>
#include <cmath>

namespace iotjobs::detail {

namespace {

double clamp_unit(double r) noexcept {
    if (!(r >= 0.0))  // also NaN
        return 0.0;
    return r > 1.0 ? 1.0 : r;
}

const char* retry_reason(retry_kind k) noexcept {
    switch (k) {
    case retry_kind::throttling: return "throttling";
    case retry_kind::transient: return "transient error";
    case retry_kind::clock_skew: return "clock skew corrected";
    case retry_kind::none: break;
    }
    return "not retryable";
}

}  // namespace

default_random_source::default_random_source() : gen_(std::random_device{}()) {}

double default_random_source::next() {
    std::lock_guard lock(mtx_);
    return std::generate_canonical<double, 53>(gen_) * (1.0 - 0x1p-53);  // strictly below 1
}

standard_retry_strategy::standard_retry_strategy(const retry_config& cfg, std::chrono::milliseconds base) noexcept
    : max_attempts_(std::max(cfg.max_attempts, 1u)),
      max_backoff_(std::max(std::chrono::duration_cast<std::chrono::milliseconds>(cfg.max_backoff),
                            std::chrono::milliseconds(0))),
      base_(std::max(base, std::chrono::milliseconds(0))) {}

std::chrono::milliseconds standard_retry_strategy::backoff_ceiling(unsigned attempts_made) const noexcept {
    const unsigned exponent = attempts_made == 0 ? 0 : attempts_made - 1;
    // base * 2^exponent in double: exact for the ranges that matter, no overflow for large ones.
    const double grown = std::ldexp(static_cast<double>(base_.count()), static_cast<int>(std::min(exponent, 1000u)));
    const double cap = static_cast<double>(max_backoff_.count());
    return std::chrono::milliseconds(static_cast<std::chrono::milliseconds::rep>(std::min(grown, cap)));
}

std::chrono::milliseconds standard_retry_strategy::backoff(unsigned attempts_made, double rand) const noexcept {
    const double ceiling = static_cast<double>(backoff_ceiling(attempts_made).count());
    return std::chrono::milliseconds(std::llround(clamp_unit(rand) * ceiling));
}

retry_decision standard_retry_strategy::decide(const attempt_outcome& outcome, unsigned attempts_made,
                                               bool clock_skew_already_corrected, retry_quota& quota,
                                               random_source& rng) const {
    retry_decision d;
    if (outcome.succeeded()) {
        d.reason = "success";
        return d;
    }
    d.kind = classify(outcome);
    if (d.kind == retry_kind::none) {
        d.reason = "not retryable";
        return d;
    }
    if (attempts_made >= max_attempts_) {
        d.reason = "max attempts reached";
        return d;
    }
    if (d.kind == retry_kind::clock_skew && clock_skew_already_corrected) {
        d.reason = "clock skew already corrected";
        return d;
    }
    const unsigned cost = is_timeout(outcome) ? retry_quota::timeout_retry_cost : retry_quota::retry_cost;
    if (!quota.try_acquire(cost)) {
        d.reason = "retry quota exhausted";
        return d;
    }
    d.retry = true;
    d.quota_cost = quota.enabled() ? cost : 0;
    d.reason = retry_reason(d.kind);
    if (d.kind != retry_kind::clock_skew) d.delay = backoff(attempts_made, rng.next());
    return d;
}

retry_decision retry_call::on_attempt(const attempt_outcome& outcome) {
    ++attempts_;
    if (outcome.succeeded()) {
        quota_->on_success(last_retry_cost_);
        retry_decision d;
        d.reason = "success";
        return d;
    }
    retry_decision d = strategy_->decide(outcome, attempts_, skew_corrected_, *quota_, *rng_);
    if (d.retry) {
        last_retry_cost_ = d.quota_cost;
        if (d.kind == retry_kind::clock_skew) skew_corrected_ = true;
    }
    return d;
}

}  // namespace iotjobs::detail
