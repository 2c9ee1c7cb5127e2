// Error codes of iotjobs.
//
// Two families, each an enum class with its own category:
//  - service_errc: an error the AWS service (or something speaking for it) answered with;
//    one enumerator per modeled IoT Jobs exception plus the common auth ones.
//  - client_errc: errors found on this side: validation, configuration, bad responses.
// Asio, SSL and Beast codes (operation_aborted, beast::error::timeout, ...) pass through unchanged.
#pragma once

#include <boost/system/error_code.hpp>
#include <string_view>
#include <type_traits>

namespace iotjobs {

using error_code = boost::system::error_code;

enum class service_errc : int {
    invalid_request = 1,       // InvalidRequestException (400)
    invalid_state_transition,  // InvalidStateTransitionException (409)
    resource_not_found,        // ResourceNotFoundException (404)
    throttling,                // ThrottlingException (400) and the other throttling names / 429
    service_unavailable,       // ServiceUnavailableException (503)
    version_conflict,          // VersionConflictException (409, CancelJobExecution)
    unrecognized_client,       // UnrecognizedClientException (403): unknown access key or bad token
    invalid_signature,         // InvalidSignatureException / SignatureDoesNotMatch (403)
    expired_token,             // ExpiredTokenException (403)
    access_denied,             // AccessDeniedException (403)
    request_time_too_skewed,   // RequestTimeTooSkewed / "Signature expired" style skew errors
    internal_failure,          // InternalFailureException / 500-class with a JSON error
    unknown_service_error,     // anything else the service answered with (see diagnostics)
};

enum class client_errc : int {
    invalid_thing_name = 1,    // thingName: 1-128 chars of [a-zA-Z0-9:_-]
    invalid_job_id,            // jobId: 1-64 chars of [a-zA-Z0-9_-]
    invalid_namespace_id,      // namespaceId: [a-zA-Z0-9_-]+
    invalid_execution_number,  // executionNumber: signed 64-bit integer
    invalid_parameter,         // any other request field (maxResults, status, nextToken, ...)
    no_region,                 // no region configured
    no_credentials,            // no credentials found by any provider
    credentials_error,         // a credentials provider failed (see diagnostics message)
    invalid_endpoint,          // the endpoint URL cannot be used
    invalid_configuration,     // a configuration value is malformed
    tls_setup_failed,          // the CA bundle cannot be loaded, or TLS cannot be initialised
    bad_response,              // the response could not be parsed
    pool_acquire_timeout,      // no pooled connection became free in time
    pool_closed,               // the client was shut down (client::shutdown())
    retry_quota_exceeded,      // the retry quota is exhausted (last error in diagnostics)
    deadline_exceeded,         // the overall operation deadline passed
    proxy_error,               // the proxy refused the tunnel (CONNECT not 2xx; see diagnostics)
};

const boost::system::error_category& service_category() noexcept;
const boost::system::error_category& client_category() noexcept;

inline error_code make_error_code(service_errc e) noexcept { return {static_cast<int>(e), service_category()}; }
inline error_code make_error_code(client_errc e) noexcept { return {static_cast<int>(e), client_category()}; }

// The enumerator for an AWS error name (already cleaned: "ThrottlingException", not
// "aws.iot#ThrottlingException:..."), or unknown_service_error.
service_errc service_errc_from_name(std::string_view aws_error_name) noexcept;

// As service_errc_from_name, then by HTTP status when the name is not a known one:
// 429 -> throttling, 503 -> service_unavailable, any other 5xx -> internal_failure,
// anything else -> unknown_service_error. A known name always wins over the status
// (IoT sends ThrottlingException with HTTP 400).
service_errc service_errc_from_response(unsigned http_status, std::string_view aws_error_name) noexcept;

// Classification over error codes (not flags stored in errors).
bool is_throttling(const error_code& ec) noexcept;
// Validation errors found before any network traffic.
bool is_validation_error(const error_code& ec) noexcept;
// Errors that would fail every request of this client the same way (bad key, signature,
// expired token, access denied, no credentials): a bulk run stops on them.
bool is_fatal_for_client(const error_code& ec) noexcept;

}  // namespace iotjobs

template <>
struct boost::system::is_error_code_enum<iotjobs::service_errc> : std::true_type {};
template <>
struct boost::system::is_error_code_enum<iotjobs::client_errc> : std::true_type {};
