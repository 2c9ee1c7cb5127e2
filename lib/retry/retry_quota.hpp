// The retry quota of AWS standard mode (botocore/retries/quota.py):
// a token bucket shared by all calls of one client that stops retry storms when the service
// fails for everyone. Each retry takes tokens; a success puts them back.
#pragma once

#include <atomic>

namespace iotjobs::detail {

class retry_quota {
public:
    static constexpr unsigned default_capacity = 500;
    static constexpr unsigned retry_cost = 5;           // a retry after any error but a timeout
    static constexpr unsigned timeout_retry_cost = 10;  // a retry after a connect/read timeout
    static constexpr unsigned no_retry_increment = 1;   // a call that succeeded at once

    // Starts full. capacity 0 disables the quota: every acquire succeeds and nothing is counted.
    explicit retry_quota(unsigned capacity = default_capacity) noexcept : capacity_(capacity), available_(capacity) {}

    retry_quota(const retry_quota&) = delete;
    retry_quota& operator=(const retry_quota&) = delete;

    // Takes `amount` tokens if that many are left; false (and nothing taken) otherwise.
    bool try_acquire(unsigned amount) noexcept;

    // Puts `amount` tokens back, never above capacity.
    void release(unsigned amount) noexcept;

    // A call's attempt succeeded (2xx): refunds the cost of the call's latest retry, or adds
    // no_retry_increment when the call needed no retry (last_retry_cost == 0).
    void on_success(unsigned last_retry_cost) noexcept {
        release(last_retry_cost != 0 ? last_retry_cost : no_retry_increment);
    }

    bool enabled() const noexcept { return capacity_ != 0; }
    unsigned capacity() const noexcept { return capacity_; }
    // Tokens left (equal to capacity() when disabled).
    unsigned available() const noexcept { return available_.load(std::memory_order_relaxed); }

private:
    const unsigned capacity_;
    std::atomic<unsigned> available_;
};

}  // namespace iotjobs::detail
