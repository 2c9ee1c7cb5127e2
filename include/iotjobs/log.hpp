// Logging: a level threshold plus sinks set in client_config (off by default).
//
// Levels, as the library uses them:
//   error  an operation failed for a reason the user must act on (credentials, signature, access,
//          configuration)
//   warn   a retry-quota exhaustion, a throttled call that gave up, a credential refresh that failed
//          while the current credentials stay in use, the connection pool out of file descriptors
//          (component "pool", once per client: it goes on with fewer connections)
//   info   lifecycle: client created (endpoint, region, credential source), connections opened and
//          dropped, credentials fetched or refreshed
//   debug  one record per attempt (and per retry decision, per call completion, signing details)
// Nothing the library logs holds a secret: no secret key, session token, signing key or
// Authorization value. A record below the threshold is never built (no formatting, no allocation).
// Sinks are called synchronously, inside the operation that logs, on the threads running the
// client's operations and possibly concurrently: they must be thread-safe, should return quickly
// (the operation waits for them), and must not throw.
#pragma once

#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace iotjobs {

enum class log_level { off, error, warn, info, debug };

// "ERROR", "WARN", "INFO", "DEBUG", "OFF".
std::string_view to_string(log_level l) noexcept;

// One log event with its fields. Every string_view points into storage that lives only for the
// duration of the sink call: copy what you keep. Empty views / absent optionals / zero numbers
// mean "not applicable".
struct log_record {
    log_level level = log_level::debug;
    std::string_view component;  // "client", "credentials", "pool"
    std::string_view message;    // human-readable text, without the fields below
    // The request (per-call and per-attempt records).
    std::string_view operation;   // "DeleteJobExecution", "ListJobExecutionsForJob", ...
    std::string_view thing_name;  // decoded (as the caller gave it)
    std::string_view job_id;
    std::optional<std::int64_t> execution_number;
    std::string_view namespace_id;
    // The attempt or the call's outcome.
    unsigned attempt = 0;                              // 1-based attempt number; 0: not about one attempt
    unsigned http_status = 0;                          // 0: no response
    std::string_view aws_error;                        // e.g. "ThrottlingException"
    std::string_view request_id;                       // x-amzn-RequestId
    std::optional<std::chrono::microseconds> latency;  // of the attempt, or of the whole call
    std::string_view retry_reason;                     // why (not) retried
    boost::system::error_code error;                   // the failure, if any
};

// The text a string sink receives (a pure function: any thread): the message, then the fields that are set, as
// "message [op=DeleteJobExecution thing=t job=j execution=1 attempt=2 status=400
//  error=ThrottlingException request_id=... latency_us=1234 reason=...]".
std::string format(const log_record& r);

}  // namespace iotjobs
