// What one attempt of a request ended with, and which kind of retry (if any) that calls for.
// Pure: no I/O, no clock. The rules follow AWS standard retry mode (botocore/retries/standard.py;
// smithy-typescript util-retry) plus the clock-skew fix-up of the JS SDK v3 (AwsSdkSigV4Signer).
#pragma once

#include <iotjobs/error.hpp>

#include <string_view>

namespace iotjobs::detail {

// Everything the retry layer needs to know about one finished attempt. Views only: the
// strings must outlive the classify()/decide() call that reads them.
struct attempt_outcome {
    // The attempt's error; empty on success. Asio/Beast/SSL codes pass through unchanged.
    error_code ec;
    // HTTP status of the response, 0 if none was received.
    unsigned http_status = 0;
    // The cleaned AWS error name ("ThrottlingException", not "aws.iot#...:http://..."), empty if none.
    std::string_view aws_error_name;
    // The error message from the response body, empty if none.
    std::string_view message;
    // The connection failed (reset, refused, closed early, ...): transient whatever `ec` says,
    // unless the attempt was cancelled (operation_aborted).
    bool transport_error = false;
    // A connect or read timeout. Transient; a retry after it costs more quota (10, not 5).
    bool timed_out = false;
    // Some of the response had been received when the attempt failed. Informational only: AWS
    // SDKs retry such failures the same way, and so does this layer.
    bool response_started = false;
    // The caller found the response's Date header at least 4 minutes away from local time
    // (see clock_skew.hpp, significant_skew()). Turns signature/auth errors into clock_skew.
    bool server_clock_skewed = false;

    // A 2xx (or no status) with no error and no transport failure.
    bool succeeded() const noexcept {
        return !ec && !transport_error && !timed_out && (http_status == 0 || (http_status >= 200 && http_status < 300));
    }
};

enum class retry_kind {
    none,        // success, or an error that retrying would not fix
    throttling,  // the service asked us to slow down
    transient,   // a server or network failure that may pass
    clock_skew,  // the request was signed with a wrong clock; retry once after fixing the offset
};

const char* to_string(retry_kind k) noexcept;

// The throttling error names of AWS standard mode (botocore/retries/standard.py).
bool is_throttling_error_name(std::string_view aws_error_name) noexcept;

// A connect/read timeout: the timed_out flag, beast::error::timeout or asio::error::timed_out.
// Such retries cost 10 quota tokens instead of 5.
bool is_timeout(const attempt_outcome& outcome) noexcept;

// Classifies one attempt from the AWS error name, the HTTP status, the transport flags and the
// error code (service_errc codes count like their names: throttling, service_unavailable,
// internal_failure without a status, request_time_too_skewed, invalid_signature/access_denied
// under the same skew rules). Precedence: success / cancellation -> none; throttling (error name
// or HTTP 429) -> throttling; clock-skew names -> clock_skew; transient names, HTTP 500/502/503/504,
// transport errors and timeouts -> transient; anything else (InvalidRequest, ResourceNotFound,
// VersionConflict, UnrecognizedClient, validation errors, ...) -> none.
//
// Note: PriorRequestNotComplete is in both botocore lists (transient and throttling); it is
// classified as throttling, which is what botocore's adaptive-mode detector does. Either way
// it is retried.
retry_kind classify(const attempt_outcome& outcome) noexcept;

}  // namespace iotjobs::detail
