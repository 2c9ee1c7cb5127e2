// The bundled fake AWS IoT Jobs endpoint, as an in-process fixture.
//
// `iotjobs::fake::server` runs the same server as `iotjobs-fake-iot` on its own thread(s):
// HTTP/1.1 keep-alive, plain or TLS, SigV4 verification of every request, the five Jobs
// operations with AWS's state rules and error shapes, per-operation throttling, seeded fault
// injection, and unsigned admin paths under /_fake/. See docs/FAKE_SERVER.md.
//
// This header keeps Beast and OpenSSL out of test translation units (pimpl).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace iotjobs::fake {

enum class execution_status : std::uint8_t {
    queued,
    in_progress,
    succeeded,
    failed,
    timed_out,
    rejected,
    removed,
    canceled
};

std::string_view to_string(execution_status s) noexcept;
std::optional<execution_status> parse_status(std::string_view s) noexcept;

// The operations the server knows, for rate limits, fault rules and statistics.
enum class operation : std::uint8_t {
    delete_job_execution,
    list_job_executions_for_job,
    list_job_executions_for_thing,
    describe_job_execution,
    cancel_job_execution,
    unknown,  // no route matched (answered 404 UnknownOperationException)
};
inline constexpr int operation_count = 6;
std::string_view to_string(operation op) noexcept;
std::optional<operation> parse_operation(std::string_view s) noexcept;  // AWS operation names

struct credential {
    std::string secret_access_key;
    std::string session_token;  // empty: the key needs no token (and must not send one)
};
using credentials_map = std::map<std::string, credential, std::less<>>;
credentials_map default_credentials();  // AKIDEXAMPLE / wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY
// Parses {"AKID": {"secret": "...", "session_token": "..."?}, ...}; throws std::runtime_error.
credentials_map parse_credentials_json(std::string_view json);

// One execution, as seeded or as read back.
struct execution {
    std::string thing_name;
    std::string job_id;
    std::int64_t execution_number = 1;
    execution_status status = execution_status::queued;
    std::string namespace_id;  // empty: none
    std::int64_t version_number = 1;
    std::chrono::sys_seconds queued_at{};        // zero: "now" when added
    std::chrono::sys_seconds started_at{};       // zero: none (or "now" if not QUEUED when added)
    std::chrono::sys_seconds last_updated_at{};  // zero: "now" when added
    bool force_canceled = false;
};
// Parses {"executions": [{"thingName", "jobId", "executionNumber", "status", "namespaceId"?}]};
// validates names and statuses; throws std::runtime_error with a message naming the item.
// An execution with the given key and status (timestamps "now" when added), for tests and seeding.
execution make_execution(std::string thing_name, std::string job_id, std::int64_t execution_number,
                         execution_status status, std::string namespace_id = {});

std::vector<execution> parse_seed_json(std::string_view json);

// --generate: execution i (1..count) is thing-<i> / job-<i % jobs> / executionNumber i, the
// layout bench/ drives. Status drawn from `status_mix` weights with `random_seed`.
struct generate_options {
    std::uint64_t count = 0;
    std::uint64_t jobs = 100;
    std::vector<std::pair<execution_status, double>> status_mix{{execution_status::succeeded, 100.0}};
    std::uint64_t random_seed = 1;
    std::string namespace_id;  // empty: none
};
// "SUCCEEDED=70,FAILED=10,IN_PROGRESS=10,QUEUED=10"; nullopt + error on bad input.
std::optional<std::vector<std::pair<execution_status, double>>> parse_status_mix(std::string_view s,
                                                                                 std::string& error);

struct rate_limit {
    operation op = operation::delete_job_execution;
    double per_second = 10.0;
    double burst = 0.0;  // 0: max(1, per_second)
};
// Whom a rate limit's bucket counts: the whole server (one account), or each access key id of the
// requests' SigV4 credentials separately (one fake standing in for many accounts).
enum class rate_limit_scope { server, account };
// "server" / "account"; nullopt otherwise.
std::optional<rate_limit_scope> parse_rate_limit_scope(std::string_view s);

// "DeleteJobExecution=10,ListJobExecutionsForJob=10"
std::optional<std::vector<rate_limit>> parse_rate_limits(std::string_view s, double burst, std::string& error);

enum class fault_kind : std::uint8_t {
    latency,       // delay before processing (ms, or a distribution)
    unavailable,   // 503 ServiceUnavailableException, not processed
    throttle,      // 400 ThrottlingException, not processed
    reset_before,  // TCP reset after reading the request, not processed
    reset_after,   // processed (a delete happens), then TCP reset instead of the response
    truncate,      // processed, then half of the response bytes and a close
    close,         // processed, answered with Connection: close, connection closed
    stall,         // processed, then no answer for `ms` (0: never; until the peer closes)
};
inline constexpr int fault_kind_count = 8;
std::string_view to_string(fault_kind k) noexcept;

struct fault_rule {
    fault_kind kind = fault_kind::unavailable;
    // Trigger, over the requests this rule matches (its operation, or all):
    enum class trigger : std::uint8_t { probability, first, every, always } when = trigger::always;
    double probability = 1.0;     // trigger::probability
    std::uint64_t n = 0;          // first: the first n matching requests; every: every n-th (n, 2n, ...)
    std::optional<operation> op;  // nullopt: any operation (not admin paths)
    // latency and stall:
    enum class distribution : std::uint8_t { fixed, uniform, exponential } dist = distribution::fixed;
    double ms = 0;      // fixed value, uniform low bound, or exponential mean
    double ms_max = 0;  // uniform high bound
};
// The largest ms (fixed, uniform bounds, exponential mean) a fault accepts: one day. Larger values
// (1e300) overflowed the timer's microseconds; parse_fault rejects them.
inline constexpr double max_fault_ms = 86'400'000;
// A fault's delay in milliseconds as a timer duration. parse_fault bounds ms, but an exponential
// sample can exceed the mean many times over: clamped (NaN to the bound) before the conversion,
// which is undefined out of range.
inline std::chrono::microseconds fault_delay(double ms) noexcept {
    if (!(ms <= max_fault_ms * 100)) ms = max_fault_ms * 100;
    if (ms < 0) ms = 0;
    return std::chrono::microseconds(static_cast<std::int64_t>(ms * 1000.0));
}
// The largest server clock offset (either sign) POST /_fake/clock and --clock-offset accept.
inline constexpr std::int64_t max_clock_offset_seconds = 1'000'000'000;
// Syntax (docs/FAKE_SERVER.md): KIND=TRIGGER[,op=Operation][,ms=N][,dist=uniform:A:B|exp:MEAN]
//   KIND: latency unavailable throttle reset-before reset-after truncate close stall
//   TRIGGER: P (0..1) | always | first:N | every:K
std::optional<fault_rule> parse_fault(std::string_view s, std::string& error);
std::string to_string(const fault_rule& r);

struct server_options {
    std::string listen = "127.0.0.1:0";  // host:port; [::1]:0 for IPv6
    bool tls = false;
    std::string tls_cert_file;  // PEM; with tls and both empty: a throwaway CA + server cert
    std::string tls_key_file;
    credentials_map credentials = default_credentials();
    std::chrono::seconds clock_offset{0};                    // the server clock is system_clock + offset
    std::vector<rate_limit> rate_limits;                     // empty: no throttling
    rate_limit_scope rate_scope = rate_limit_scope::server;  // account: one set of buckets per access key id
    std::vector<fault_rule> faults;
    std::uint64_t fault_seed = 1;
    unsigned threads = 1;                     // one io_context per thread
    std::string account_id = "123456789012";  // in thingArn
    std::chrono::seconds max_skew{300};
};

struct stats {
    // requests[operation][outcome] where outcome is "ok", an AWS error name, or "no_response"
    std::map<std::string, std::map<std::string, std::uint64_t>> requests;
    std::map<std::string, std::uint64_t> faults;  // injected, by kind
    std::uint64_t requests_total = 0;
    std::uint64_t admin_requests = 0;
    std::uint64_t connections_accepted = 0;
    std::uint64_t tls_handshakes = 0;
    std::uint64_t tls_handshake_failures = 0;
    std::uint64_t throttled = 0;  // by the rate limiter (not by throttle faults)
    // rate_limit_scope::account: by access key id, the requests the rate limiter admitted and
    // throttled (requests of rate-limited operations only).
    struct account_counts {
        std::uint64_t admitted = 0, throttled = 0;
    };
    std::map<std::string, account_counts> accounts;
    std::uint64_t signature_failures = 0;
    std::uint64_t executions_remaining = 0;
    std::uint64_t executions_deleted = 0;
    std::uint64_t count(std::string_view op, std::string_view outcome) const;
};

class server {
public:
    explicit server(server_options opts = {});
    ~server();  // stops
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    // Binds and starts serving (throws std::system_error / std::runtime_error on failure).
    void start();
    // Stops accepting, drops every connection, joins the threads. Idempotent.
    void stop();

    std::string base_url() const;  // "https://127.0.0.1:40123" (valid after start)
    std::uint16_t port() const;
    bool tls() const;
    // The CA that signs the generated certificate (empty when cert files were given or no TLS).
    const std::string& ca_pem() const;
    void write_ca_file(const std::string& path) const;  // throws on I/O error

    struct stats stats() const;
    std::string stats_json() const;  // the body of GET /_fake/stats

    // State (thread-safe; may be called while serving).
    void add_executions(std::span<const execution> items);  // upsert by (thing, job, number)
    void add_execution(const execution& e) { add_executions(std::span<const execution>(&e, 1)); }
    void generate(const generate_options& g);
    std::vector<execution> executions() const;  // every live execution, in (thing, job, number) order
    std::optional<execution> find(std::string_view thing, std::string_view job, std::int64_t number) const;
    std::size_t execution_count() const;

    // Runtime knobs.
    void set_faults(std::vector<fault_rule> rules, std::optional<std::uint64_t> seed = std::nullopt);
    void set_rate_limits(std::vector<rate_limit> limits);
    void set_rate_limit_scope(rate_limit_scope scope);
    void set_clock_offset(std::chrono::seconds offset);

    struct impl;

private:
    std::unique_ptr<impl> impl_;
};

// Signs requests for the benchmark (iotjobs-fake-iot --presign): one line per request,
// "METHOD<TAB>PATH<TAB>X-Amz-Date<TAB>Authorization", for DeleteJobExecution of generated
// executions 1..count (layout of generate_options), host as the client will send it.
std::string presign_deletes(std::string_view host, std::uint64_t count, std::uint64_t jobs,
                            std::string_view access_key_id, std::string_view secret, std::string_view region,
                            std::chrono::sys_seconds when);

}  // namespace iotjobs::fake
