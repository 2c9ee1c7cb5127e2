// The shared state behind iotjobs::client and the attempt loop every operation runs.
#pragma once

#include "credentials/provider.hpp"
#include "http/connection_pool.hpp"
#include "http/url.hpp"
#include "jobs/wire.hpp"
#include "retry/clock_skew.hpp"
#include "retry/rate_limiter.hpp"
#include "retry/retry_quota.hpp"
#include "retry/standard_retry.hpp"
#include "sigv4/sigv4.hpp"

#include <iotjobs/client.hpp>
#include <iotjobs/config.hpp>
#include <iotjobs/diagnostics.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>

#include <atomic>
#include <mutex>
#include <set>
#include <string>

namespace iotjobs::detail {

class client_impl : public std::enable_shared_from_this<client_impl> {
public:
    // Throws std::system_error (client_errc) naming the problem.
    client_impl(boost::asio::any_io_executor ex, client_config cfg);

    const boost::asio::any_io_executor& executor() const noexcept { return ex_; }
    const client_config& config() const noexcept { return cfg_; }
    const endpoint_url& endpoint() const noexcept { return url_; }

    // Runs one operation: credentials, signing, attempts with retries. On success `resp` holds
    // the 2xx response. Fills `diag` either way.
    boost::asio::awaitable<error_code> execute(const operation_request& op, http_response& resp, diagnostics& diag);

    // Starts `body` as a coroutine on the client's executor and completes `handler` with its
    // result, forwarding the handler's cancellation and honouring client::cancel().
    void spawn(boost::asio::awaitable<error_code> body,
               boost::asio::any_completion_handler<void(error_code)> handler);

    // Completes `handler` with `ec` through its associated executor (never inline).
    void post_result(boost::asio::any_completion_handler<void(error_code)> handler, error_code ec);

    void cancel_all();
    client_stats stats() const;

    bool logging(log_level l) const noexcept { return cfg_.log && cfg_.level >= l && l != log_level::off; }
    void log(log_level l, std::string_view msg) const {
        if (logging(l)) cfg_.log(l, msg);
    }

    std::chrono::seconds clock_offset() const noexcept { return offset_.get(); }

private:
    void sign(const operation_request& op, const credentials& creds, http_request& out);

    boost::asio::any_io_executor ex_;
    client_config cfg_;
    endpoint_url url_;
    std::shared_ptr<connection_pool> pool_;
    credentials_chain chain_;
    std::mutex creds_mutex_;
    sigv4::signing_key_cache keys_;
    retry_quota quota_;
    standard_retry_strategy strategy_;
    default_random_source rng_;
    std::unique_ptr<adaptive_rate_limiter> adaptive_;
    detail::clock_offset offset_;

    std::mutex ops_mutex_;
    std::set<std::shared_ptr<boost::asio::cancellation_signal>> ops_;

    std::atomic<std::uint64_t> requests_{0}, retries_{0}, throttled_{0};
};

}  // namespace iotjobs::detail
