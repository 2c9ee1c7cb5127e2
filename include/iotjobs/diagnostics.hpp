// Server-side detail of a failed (or retried) call, as Boost.MySQL's diagnostics.
#pragma once

#include <iotjobs/error.hpp>

#include <chrono>
#include <string>
#include <string_view>

namespace iotjobs {
namespace detail {
struct access;
}

// Which wait of a call ran out of time (diagnostics::timeout_phase()).
enum class timeout_phase {
    none,            // nothing timed out
    connect,         // the TCP connect (timeout_config::connect, or the operation deadline)
    tls_handshake,   // the TLS handshake (timeout_config::tls_handshake, or the operation deadline)
    response,        // writing the request or reading the response (timeout_config::attempt)
    pool_wait,       // waiting for a free pooled connection (pool_config::acquire_timeout)
    rate_wait,       // waiting for the client-side rate limiter (operation deadline)
    before_attempt,  // the operation deadline passed before the next attempt could be sent
};
std::string_view to_string(timeout_phase p) noexcept;

// Filled by the operation it is passed to (every operation has an overload taking one), from its
// start to its completion; read it in or after the completion handler. Thread safety: none of its
// own: one operation at a time per object, and no reading while that operation runs. The views it
// returns are valid until the object is next passed to an operation, cleared or destroyed.
class diagnostics {
public:
    diagnostics() = default;

    // The AWS error name (x-amzn-ErrorType or body code, cleaned), e.g. "ResourceNotFoundException".
    std::string_view aws_error_name() const noexcept { return aws_error_name_; }
    // The service's message ("message"/"Message" in the body), or a client-side explanation.
    std::string_view message() const noexcept { return message_; }
    // x-amzn-RequestId (or x-amz-request-id) of the last response, if any.
    std::string_view request_id() const noexcept { return request_id_; }
    // HTTP status of the last response, 0 if none was received.
    unsigned http_status() const noexcept { return http_status_; }
    // Attempts made (1 when the first attempt decided the outcome; 0 when none was sent).
    unsigned attempts() const noexcept { return attempts_; }
    // Total time spent waiting in backoff between attempts.
    std::chrono::milliseconds retry_wait() const noexcept { return retry_wait_; }
    // True when an earlier attempt may have been processed by the service before the one
    // that decided the outcome (e.g. a retried delete answered ResourceNotFoundException).
    bool earlier_attempt_may_have_succeeded() const noexcept { return earlier_attempt_may_have_succeeded_; }
    // Which step of the last attempt (or which wait between attempts) timed out, when the call
    // failed with beast::error::timeout, client_errc::deadline_exceeded or pool_acquire_timeout;
    // none otherwise.
    iotjobs::timeout_phase timeout_phase() const noexcept { return timeout_phase_; }

    // Back to the default state (every operation clears it when it starts).
    void clear() { *this = diagnostics{}; }

private:
    friend struct detail::access;
    std::string aws_error_name_;
    std::string message_;
    std::string request_id_;
    unsigned http_status_ = 0;
    unsigned attempts_ = 0;
    std::chrono::milliseconds retry_wait_{0};
    bool earlier_attempt_may_have_succeeded_ = false;
    bool an_attempt_may_have_acted_ = false;  // any attempt, the deciding one included (the bulk engine's re-issue)
    iotjobs::timeout_phase timeout_phase_ = iotjobs::timeout_phase::none;
};

// Does nothing when `ec` is not an error; otherwise throws boost::system::system_error(ec) whose
// what() starts with the AWS error name and message of `diag`, as in
//   "ResourceNotFoundException: Execution not found: resource not found [iotjobs.service:3]"
// (the client-side explanation when the service sent none). For callers that take errors as values
// (as_tuple, redirect_error, callbacks) and want the library's exception with the explanation:
// the exception a use_awaitable or use_future token throws carries the error code only.
void throw_if_error(const error_code& ec, const diagnostics& diag);

}  // namespace iotjobs
