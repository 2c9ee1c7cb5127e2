// The credentials cache in front of a chain whose answer can change (credential_process,
// container, IMDS): refreshed ahead of expiry, one fetch for all waiters (single flight), the old
// credentials kept while they are valid and a refresh fails, re-resolution once they expired.
//
// Timing (botocore/credentials.py RefreshableCredentials; the JS SDK v3's credentialsTreatedAsExpired;
// windows measured back from Expiration):
//  - advisory window, 15 min minus a jitter of up to 5 min (botocore's advisory 15 min, the JS
//    SDK's 5 min jitter): the first caller inside it starts a refresh in the background; every
//    caller keeps signing with the current set without waiting;
//  - mandatory window, 5 min (the JS SDK treats credentials with less than 5 min left as expired):
//    callers wait for the refresh; if it fails while the current set has not expired, they use
//    the current set and the next refresh is tried after a delay (a quarter of what is left,
//    between 100 ms and 30 s);
//  - expired: callers wait for a new resolution; its failure is their error.
// For short-lived credentials the windows shrink to a quarter (advisory) and an eighth
// (mandatory) of the lifetime the set had when fetched, so credentials living seconds are
// refetched about once per lifetime, not on every call.
// Credentials without an expiration are never refreshed.
#pragma once

#include "credentials/provider.hpp"
#include "sigv4/sigv4.hpp"

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

namespace iotjobs::detail {

// One set of credentials as the client signs with it; immutable once published, except for the
// signing key it caches (per date; the key is derived from this set's secret only).
struct credentials_snapshot {
    credentials value;
    std::optional<std::chrono::system_clock::time_point> expiration;
    std::string source;
    std::chrono::system_clock::time_point refresh_at = std::chrono::system_clock::time_point::max();
    std::chrono::system_clock::time_point must_refresh_at = std::chrono::system_clock::time_point::max();
    mutable sigv4::signing_key_slot key;
};

struct credentials_cache_params {
    std::chrono::system_clock::duration advisory = std::chrono::minutes(15);
    std::chrono::system_clock::duration advisory_jitter = std::chrono::minutes(5);
    std::chrono::system_clock::duration mandatory = std::chrono::minutes(5);
    std::chrono::system_clock::duration min_retry = std::chrono::milliseconds(100);
    std::chrono::system_clock::duration max_retry = std::chrono::seconds(30);
    std::function<std::chrono::system_clock::time_point()> now;  // empty: system_clock::now
    std::uint64_t seed = 0;                                      // jitter; 0: from std::random_device
    // One line per fetch (never a secret); may be empty. Levels: info (fetched, refreshed), warn (a
    // refresh failed, the current set stays in use), error (no usable set: the waiting calls fail).
    std::function<void(log_level, std::string_view)> log;
};

class credentials_cache : public std::enable_shared_from_this<credentials_cache> {
public:
    credentials_cache(boost::asio::any_io_executor ex, credentials_chain chain, credentials_cache_params params = {});

    // The current set when it can be used without waiting (fresh, or in the advisory window,
    // which starts a background refresh); null when the caller must co_await async_get().
    // No allocation; one atomic shared_ptr load and a clock read.
    std::shared_ptr<const credentials_snapshot> try_current();

    // The set to sign with: the current one when usable, else the result of the refresh in
    // progress (joined) or of a new one. Cancellation (any type, through the awaiting coroutine's
    // slot) ends the wait with operation_aborted; the fetch goes on for the other callers.
    boost::asio::awaitable<error_code> async_get(std::shared_ptr<const credentials_snapshot>& out, std::string& why);

    std::uint64_t fetches() const noexcept { return fetches_.load(std::memory_order_relaxed); }
    // True once a fetch has delivered a set (it stays true when later refreshes fail).
    bool has_credentials() const noexcept { return current_.load(std::memory_order_acquire) != nullptr; }

private:
    struct flight {
        bool done = false;
        error_code ec;
        std::string why;
        std::shared_ptr<const credentials_snapshot> result;
        // Waiters by id (the id lets a cancelled waiter take itself out). A list: Asio 1.81's
        // any_completion_handler move-assignment wraps the handler instead of moving it (and
        // re-registers its cancellation), so handlers are only ever move-constructed here.
        std::list<std::pair<std::uint64_t, boost::asio::any_completion_handler<void()>>> waiters;
    };
    struct fetch_result {
        error_code ec;
        std::string why;
        resolved_credentials creds;
    };

    std::chrono::system_clock::time_point now() const {
        return params_.now ? params_.now() : std::chrono::system_clock::now();
    }
    static boost::asio::awaitable<void> run_fetch(std::shared_ptr<credentials_cache> self,
                                                  std::shared_ptr<fetch_result> r);
    std::shared_ptr<flight> start_flight_locked();
    // The set in `out` (null returned) or the flight to wait for (joined or started).
    std::shared_ptr<flight> join_or_use(std::shared_ptr<const credentials_snapshot>& out);
    // Queues a waiter, or resumes it at once when f is done. When the handler's cancellation
    // slot is connected the waiter can be cancelled (any type: waiting has no side effects): it
    // is taken out and resumed.
    void add_waiter(flight& f, boost::asio::any_completion_handler<void()> h);
    void cancel_waiter(flight& f, std::uint64_t id);
    bool done(const flight& f);
    void resume(boost::asio::any_completion_handler<void()> h);
    void complete(const std::shared_ptr<flight>& f, fetch_result r);
    std::shared_ptr<const credentials_snapshot> make_snapshot_locked(resolved_credentials r,
                                                                     std::chrono::system_clock::time_point fetched);

    boost::asio::any_io_executor ex_;
    credentials_chain chain_;  // used by one flight at a time
    credentials_cache_params params_;
    std::atomic<std::shared_ptr<const credentials_snapshot>> current_;
    std::atomic<std::uint64_t> fetches_{0};

    std::mutex mutex_;
    std::shared_ptr<flight> flight_;  // the fetch in progress
    std::uint64_t next_waiter_id_ = 0;
    std::chrono::system_clock::time_point next_retry_{};  // after a failed refresh of a valid set
    std::minstd_rand rng_;
};

}  // namespace iotjobs::detail
