// The fake server's request handling, independent of sockets: routing, SigV4 verification,
// throttling, fault decisions, the operations, admin paths and response bytes.
// The network layer (server.cpp) calls admit() then, after any injected delay, respond().
#pragma once

#include "fake/server.hpp"
#include "fake/store.hpp"
#include "fake/util.hpp"
#include "sigv4/sigv4.hpp"

#include <array>
#include <atomic>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>

namespace iotjobs::fake::detail {

enum class outcome : std::uint8_t {
    ok,
    invalid_request,
    invalid_state_transition,
    resource_not_found,
    throttling,
    service_unavailable,
    version_conflict,
    unrecognized_client,
    invalid_signature,
    incomplete_signature,
    missing_authentication_token,
    unknown_operation,
    no_response
};
inline constexpr int outcome_count = static_cast<int>(outcome::no_response) + 1;
std::string_view to_string(outcome o) noexcept;

struct request_in {
    std::string_view method;
    std::string_view target;  // path?query as received
    std::span<const sigv4::header> headers;
    std::string_view body;
    bool keep_alive = true;
};

// What admit() decided; reused per connection to avoid allocations.
struct plan {
    bool admin = false;
    operation op = operation::unknown;
    outcome early = outcome::ok;  // != ok: answer this error without executing
    std::string early_message;
    std::string thing, job, number;  // decoded labels
    std::string region;
    std::string access_key_id;  // of the request's credential (once authenticated)
    // fault actions
    double latency_ms = 0;
    bool reset_before = false, reset_after = false, truncate = false, close = false, stall = false;
    double stall_ms = 0;  // 0 with stall: never answer
    void reset() {
        admin = false;
        op = operation::unknown;
        early = outcome::ok;
        early_message.clear();
        thing.clear();
        job.clear();
        number.clear();
        region.clear();
        access_key_id.clear();
        latency_ms = 0;
        reset_before = reset_after = truncate = close = stall = false;
        stall_ms = 0;
    }
};

class service {
public:
    explicit service(const server_options& opts);

    void admit(const request_in& req, plan& p);
    // Writes the complete HTTP/1.1 response (status line, headers, body) to `out`.
    void respond(const request_in& req, const plan& p, std::string& out);
    // The request got no response (reset or stall forever).
    void count_no_response(const plan& p);
    void count_fault(fault_kind k) { faults_[static_cast<int>(k)].fetch_add(1, std::memory_order_relaxed); }
    void count_connection() { connections_.fetch_add(1, std::memory_order_relaxed); }
    void count_handshake(bool ok) { (ok ? handshakes_ : handshake_failures_).fetch_add(1, std::memory_order_relaxed); }

    // Fixture / admin.
    std::size_t add(const std::vector<execution>& items);
    void generate(const generate_options& g);
    std::vector<execution> executions() const;
    std::optional<execution> find(std::string_view thing, std::string_view job, std::int64_t number) const;
    std::size_t execution_count() const;
    void set_faults(std::vector<fault_rule> rules, std::optional<std::uint64_t> seed);
    std::vector<fault_rule> faults() const;
    void set_rate_limits(std::vector<rate_limit> limits);
    void set_rate_limit_scope(rate_limit_scope scope);
    void set_clock_offset(std::chrono::seconds offset) { clock_offset_.store(offset.count()); }
    struct stats stats() const;
    std::string stats_json() const;

    std::chrono::sys_seconds now() const;

private:
    struct bucket {
        bool enabled = false;
        double rate = 0, burst = 0, tokens = 0;
        std::chrono::steady_clock::time_point last{};
    };
    struct fault_state {
        fault_rule rule;
        std::uint64_t seen = 0;
    };

    bool authenticate(const request_in& req, std::string_view path, std::string_view query, plan& p);
    bool take_token(operation op, const std::string& access_key_id);
    static bool take_from(bucket& b);
    void roll_faults(plan& p);
    friend struct admin_routes;  // service.cpp: the /_fake/ admin handlers
    // GET /_fake/executions: the live executions that match, at most `limit`.
    struct execution_filter {
        std::string thing, job;
        std::optional<execution_status> status;
        std::uint64_t limit = UINT64_MAX;
    };
    void handle_admin(const request_in& req, std::string_view path, std::string_view query, std::string& out);
    std::string executions_json(const execution_filter& f) const;
    // The operations: execute() routes each request to one of these through a table.
    struct call;
    void execute(const request_in& req, const plan& p, std::string_view query, std::string& out);
    void delete_execution(call& c);
    void list_executions(call& c);
    void describe_execution(call& c);
    void cancel_execution(call& c);
    void unknown_operation(call& c);
    std::string list_page(const plan& p, const std::vector<const record*>& items,
                          const std::optional<cursor>& next) const;
    void write_error(std::string& out, outcome o, std::string_view message, bool keep_alive, operation op);
    void write_ok(std::string& out, std::string_view body, bool keep_alive, operation op, bool close = false);
    void write_raw(std::string& out, int status, std::string_view reason, std::string_view error_type,
                   std::string_view body, bool keep_alive);
    void count(operation op, outcome o) {
        requests_[static_cast<int>(op)][static_cast<int>(o)].fetch_add(1, std::memory_order_relaxed);
    }

    credentials_map credentials_;
    std::string account_id_;
    std::chrono::seconds max_skew_;
    std::atomic<std::int64_t> clock_offset_{0};
    sigv4::signing_key_cache key_cache_;

    mutable std::shared_mutex store_mutex_;
    store store_;

    mutable std::mutex bucket_mutex_;
    std::array<bucket, operation_count> buckets_{};
    std::atomic<bool> throttling_on_{false};
    // rate_limit_scope::account: a copy of buckets_ (full) per access key id, made on its first
    // request, with that account's admitted / throttled counts.
    struct account_state {
        std::array<bucket, operation_count> buckets;
        iotjobs::fake::stats::account_counts counts;
    };
    rate_limit_scope rate_scope_ = rate_limit_scope::server;
    std::map<std::string, account_state, std::less<>> accounts_;

    mutable std::mutex fault_mutex_;
    std::vector<fault_state> rules_;
    splitmix64 fault_rng_{1};
    std::atomic<bool> faults_on_{false};

    std::array<std::array<std::atomic<std::uint64_t>, outcome_count>, operation_count> requests_{};
    std::array<std::atomic<std::uint64_t>, fault_kind_count> faults_{};
    std::atomic<std::uint64_t> admin_requests_{0}, connections_{0}, handshakes_{0}, handshake_failures_{0},
        throttled_{0}, signature_failures_{0};
};

}  // namespace iotjobs::fake::detail
