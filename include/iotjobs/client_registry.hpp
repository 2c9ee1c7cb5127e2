// Fan-out across accounts and regions: one client per (profile, region), created when first
// needed, and a bulk delete that sends each item through the client of its own profile and region.
//
// AWS limits DeleteJobExecution per account and per region (10 requests per second, as last
// published), so a cleanup across many accounts and regions has as many independent quotas. Each
// client of the registry has its own credentials, endpoint, connection pool and adaptive rate
// limiter: one account's throttling never slows another's.
//
//   client_registry reg(ioc.get_executor(), [](const client_key& k) {
//       client_config cfg;
//       cfg.profile = k.profile;                 // credentials of that profile
//       cfg.region = k.region;
//       return cfg;
//   });
//   auto [ec, s] = co_await bulk_delete_fanout(reg, source, options, on_outcome,
//                                              boost::asio::as_tuple(boost::asio::use_awaitable));
//
// (examples/7_fan_out.cpp runs against the bundled fake endpoint.)
#pragma once

#include <iotjobs/bulk_delete.hpp>
#include <iotjobs/client.hpp>
#include <iotjobs/config.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/deferred.hpp>

#include <compare>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace iotjobs {

// Which account (a named profile of the shared config files) and which region. An empty member
// stands for the caller's default (what the configuration factory makes of it).
struct client_key {
    std::string profile;
    std::string region;
    friend auto operator<=>(const client_key&, const client_key&) = default;
};

// "profile/region", with "(default)" for an empty member; for display only.
std::string to_string(const client_key& k);

// A map from (profile, region) to a client, filled on demand. Not thread-safe: use it from one
// thread (or one strand), as the bulk fan-out does.
class client_registry {
public:
    // Makes the configuration of the client for a key. It may throw (std::exception): get() throws
    // the same exception, and nothing is stored for the key, so a later get() tries again.
    using config_factory = std::function<client_config(const client_key&)>;

    client_registry(boost::asio::any_io_executor ex, config_factory make_config);
    client_registry(const client_registry&) = delete;
    client_registry& operator=(const client_registry&) = delete;

    // The key's client, made (config_factory, then the client's constructor) on its first use.
    // Throws what either throws.
    client& get(const client_key& key);
    // The key's client if it was made, else null.
    client* find(const client_key& key) noexcept;
    std::size_t size() const noexcept { return clients_.size(); }
    boost::asio::any_io_executor get_executor() const noexcept { return ex_; }

    // Every client made so far, in key order: f(const client_key&, client&).
    template <class F>
    void for_each(F&& f) {
        for (auto& [k, c] : clients_) f(k, *c);
    }
    // The sum of every client's counters.
    client_stats stats() const;
    // client::cancel() on every client.
    void cancel();

private:
    boost::asio::any_io_executor ex_;
    config_factory make_config_;
    std::map<client_key, std::unique_ptr<client>> clients_;
};

// The bulk fan-out: each item of `source` goes to the client of (item.profile, item.region), an
// empty member taken from `defaults`. Each (profile, region) runs its own bulk_delete with
// `per_key` (max_in_flight and rate_limit apply to each key separately), started on its first
// item. Items wait in a bounded queue per key; the source is read only when a key's run is waiting
// for an item and no key's queue is full, so memory stays bounded.
//
// Outcomes reach `on_outcome` one at a time (every run shares one strand). Invalid input lines are
// delivered by the fan-out itself (they need no client); the items of a key whose client cannot be
// made (the factory or the constructor threw) are `failed` (client_errc::invalid_configuration)
// with the reason as message.
struct bulk_fanout_options {
    bulk_options per_key;           // the options of each key's run
    client_key defaults;            // what an item's empty profile / region stands for
    std::size_t queue_per_key = 0;  // items waiting per key; 0: 4 x max_in_flight + 256
};

struct bulk_fanout_summary {
    bulk_summary total;  // every key's counts added, plus the fan-out's own (invalid rows)
    // Each key's run, in key order (its seconds: from its first item to its end); a key whose
    // client could not be made is there too, with the items failed for it (and no seconds).
    std::vector<std::pair<client_key, bulk_summary>> keys;
};

using bulk_fanout_signature = void(error_code, bulk_fanout_summary);

// Makes the source of one key's run (e.g. a listing with make_list_source(c, ...)); it must live
// until the run completes (the fan-out keeps it).
using bulk_source_factory = std::function<std::unique_ptr<bulk_source>(client& c, const client_key& key)>;

namespace detail {
void async_bulk_fanout_keys_erased(client_registry& reg, std::vector<client_key> keys, bulk_source_factory make_source,
                                   bulk_fanout_options options, bulk_outcome_handler on_outcome,
                                   boost::asio::any_completion_handler<bulk_fanout_signature> handler);
void async_bulk_fanout_erased(client_registry& reg, bulk_source& source, bulk_fanout_options options,
                              bulk_outcome_handler on_outcome,
                              boost::asio::any_completion_handler<bulk_fanout_signature> handler);
}  // namespace detail

// Completes with void(error_code, bulk_fanout_summary): the error as bulk_delete's (the source's
// error, else the first key's fatal error, else operation_aborted when cancelled). Cancellation
// as bulk_delete's, passed on to every key's run. `reg` and `source` must outlive the operation.
template <boost::asio::completion_token_for<bulk_fanout_signature> CompletionToken = boost::asio::deferred_t>
auto bulk_delete_fanout(client_registry& reg, bulk_source& source, bulk_fanout_options options,
                        bulk_outcome_handler on_outcome, CompletionToken&& token = {}) {
    return boost::asio::async_initiate<CompletionToken, bulk_fanout_signature>(
        [](auto handler, client_registry* reg, bulk_source* source, bulk_fanout_options options,
           bulk_outcome_handler on_outcome) {
            detail::async_bulk_fanout_erased(
                *reg, *source, std::move(options), std::move(on_outcome),
                boost::asio::any_completion_handler<bulk_fanout_signature>(std::move(handler)));
        },
        token, &reg, &source, std::move(options), std::move(on_outcome));
}

// The same over a fixed set of keys, each with a source of its own (a purge across accounts and
// regions: each key lists and deletes its own executions), every run started at once. A key whose
// client or source cannot be made stops the fan-out's own summary early (source_failed,
// client_errc::invalid_configuration, the reason in stop_detail); the other keys run.
template <boost::asio::completion_token_for<bulk_fanout_signature> CompletionToken = boost::asio::deferred_t>
auto bulk_delete_fanout(client_registry& reg, std::vector<client_key> keys, bulk_source_factory make_source,
                        bulk_fanout_options options, bulk_outcome_handler on_outcome, CompletionToken&& token = {}) {
    return boost::asio::async_initiate<CompletionToken, bulk_fanout_signature>(
        [](auto handler, client_registry* reg, std::vector<client_key> keys, bulk_source_factory make_source,
           bulk_fanout_options options, bulk_outcome_handler on_outcome) {
            detail::async_bulk_fanout_keys_erased(
                *reg, std::move(keys), std::move(make_source), std::move(options), std::move(on_outcome),
                boost::asio::any_completion_handler<bulk_fanout_signature>(std::move(handler)));
        },
        token, &reg, std::move(keys), std::move(make_source), std::move(options), std::move(on_outcome));
}

}  // namespace iotjobs
