// AWS standard retry mode as a value (botocore/retries/standard.py): at most max_attempts attempts in
// total, full-jitter exponential backoff capped at max_backoff, a per-client retry quota, and
// one immediate retry after a clock-skew error (the JS SDK v3's behaviour, AwsSdkSigV4Signer).
//
// Pure: no clock, no sleep. The caller co_awaits a timer for retry_decision::delay, so a
// backoff is cancellable like any other wait.
//
// Backoff base: 1 s, as botocore's standard mode (delay = rand * min(2^(attempt-1), 20) s).
// The JS SDK uses 100 ms (transient) / 500 ms (throttling); IoT Jobs quotas are ~10 TPS per
// account, so the longer botocore base is the safer default for bulk runs. It can be changed
// per strategy.
#pragma once

#include "retry/outcome.hpp"
#include "retry/retry_quota.hpp"

#include <iotjobs/config.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <random>

namespace iotjobs::detail {

// A source of uniform numbers in [0, 1). Values outside that range are clamped by the users.
class random_source {
public:
    virtual ~random_source() = default;
    virtual double next() = 0;
};

// std::mt19937_64 seeded from std::random_device (or a given seed); thread-safe.
class default_random_source final : public random_source {
public:
    default_random_source();
    explicit default_random_source(std::uint64_t seed) : gen_(seed) {}
    double next() override;

private:
    std::mutex mtx_;
    std::mt19937_64 gen_;
};

// Adapts a callable (tests, or a caller's own generator). Thread safety is the callable's.
class function_random_source final : public random_source {
public:
    explicit function_random_source(std::function<double()> f) : f_(std::move(f)) {}
    double next() override { return f_(); }

private:
    std::function<double()> f_;
};

struct retry_decision {
    bool retry = false;
    std::chrono::milliseconds delay{0};  // wait this long before the next attempt (0 when !retry)
    retry_kind kind = retry_kind::none;  // classification of the judged attempt
    const char* reason = "";             // static string: why (not) retried, for logs/diagnostics
    unsigned quota_cost = 0;             // quota tokens taken for this retry (0 when !retry)
};

class standard_retry_strategy {
public:
    static constexpr std::chrono::milliseconds default_base{1000};

    // max_attempts 0 is treated as 1 (no retries); max_backoff is truncated to milliseconds.
    // cfg.mode and cfg.quota_capacity are not used here (the quota is a separate object).
    explicit standard_retry_strategy(const retry_config& cfg = {},
                                     std::chrono::milliseconds base = default_base) noexcept;

    unsigned max_attempts() const noexcept { return max_attempts_; }
    std::chrono::milliseconds max_backoff() const noexcept { return max_backoff_; }
    std::chrono::milliseconds base() const noexcept { return base_; }

    // min(base * 2^(attempts_made-1), max_backoff): the largest delay after attempt number
    // `attempts_made` (1-based) failed.
    std::chrono::milliseconds backoff_ceiling(unsigned attempts_made) const noexcept;

    // Full jitter: rand * backoff_ceiling(attempts_made), rounded to the nearest millisecond;
    // rand is clamped to [0, 1].
    std::chrono::milliseconds backoff(unsigned attempts_made, double rand) const noexcept;

    // Judges attempt number `attempts_made` (1-based, the judged attempt included).
    // In order:
    //  - a successful outcome: no retry, reason "success" (the quota is not touched: call
    //    quota.on_success(last_retry_cost), or use retry_call which does);
    //  - classify() says none: "not retryable";
    //  - attempts_made >= max_attempts: "max attempts reached";
    //  - clock_skew when clock_skew_already_corrected: "clock skew already corrected";
    //  - the quota cannot pay 5 tokens (10 after a timeout): "retry quota exhausted";
    //  - otherwise retry: clock_skew immediately (delay 0), else after backoff(attempts_made,
    //    rng.next()). rng is only read when a backoff is computed.
    // A clock-skew retry also costs quota (5 tokens) and counts as an attempt.
    retry_decision decide(const attempt_outcome& outcome, unsigned attempts_made, bool clock_skew_already_corrected,
                          retry_quota& quota, random_source& rng) const;

private:
    unsigned max_attempts_;
    std::chrono::milliseconds max_backoff_;
    std::chrono::milliseconds base_;
};

// The per-call bookkeeping around standard_retry_strategy: counts attempts, remembers the
// latest retry's quota cost for the refund on success, and allows one clock-skew retry.
// One object per call; not thread-safe (a call runs on one strand). The referenced strategy,
// quota and random source must outlive it.
class retry_call {
public:
    retry_call(const standard_retry_strategy& strategy, retry_quota& quota, random_source& rng) noexcept
        : strategy_(&strategy), quota_(&quota), rng_(&rng) {}

    // Call once after every attempt. On success refunds the quota (quota.on_success) and
    // returns {retry=false, reason="success"}; otherwise returns strategy.decide(...).
    retry_decision on_attempt(const attempt_outcome& outcome);

    unsigned attempts_made() const noexcept { return attempts_; }
    unsigned last_retry_cost() const noexcept { return last_retry_cost_; }
    bool clock_skew_corrected() const noexcept { return skew_corrected_; }

private:
    const standard_retry_strategy* strategy_;
    retry_quota* quota_;
    random_source* rng_;
    unsigned attempts_ = 0;
    unsigned last_retry_cost_ = 0;
    bool skew_corrected_ = false;
};

}  // namespace iotjobs::detail
