#include "retry/retry_quota.hpp"

namespace iotjobs::detail {

bool retry_quota::try_acquire(unsigned amount) noexcept {
    if (!enabled()) return true;
    unsigned cur = available_.load(std::memory_order_relaxed);
    do {
        if (cur < amount) return false;
    } while (!available_.compare_exchange_weak(cur, cur - amount, std::memory_order_relaxed));
    return true;
}

void retry_quota::release(unsigned amount) noexcept {
    if (!enabled()) return;
    unsigned cur = available_.load(std::memory_order_relaxed);
    unsigned next;
    do {
        next = capacity_ - cur <= amount ? capacity_ : cur + amount;
    } while (!available_.compare_exchange_weak(cur, next, std::memory_order_relaxed));
}

}  // namespace iotjobs::detail
