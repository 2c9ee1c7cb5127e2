// Error categories of iotjobs, the mapping from AWS error names to service_errc, and the
// library's exception (throw_if_error).
#include <iotjobs/diagnostics.hpp>
#include <iotjobs/error.hpp>

#include <boost/system/system_error.hpp>

#include <array>
#include <string>
#include <utility>

namespace iotjobs {
namespace {

class service_category_impl final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "iotjobs.service"; }

    std::string message(int ev) const override {
        switch (static_cast<service_errc>(ev)) {
        case service_errc::invalid_request:
            return "the service rejected the request as invalid (InvalidRequestException)";
        case service_errc::invalid_state_transition:
            return "the job execution is not in a state that allows this operation "
                   "(InvalidStateTransitionException)";
        case service_errc::resource_not_found:
            return "the thing, job or job execution does not exist (ResourceNotFoundException)";
        case service_errc::throttling:
            return "the request was throttled: the API rate limit was exceeded (ThrottlingException)";
        case service_errc::service_unavailable:
            return "the service is temporarily unavailable (ServiceUnavailableException)";
        case service_errc::version_conflict:
            return "the job execution's version does not match the expected version "
                   "(VersionConflictException)";
        case service_errc::unrecognized_client:
            return "the access key or security token is not recognised (UnrecognizedClientException)";
        case service_errc::invalid_signature: return "the request signature does not match (InvalidSignatureException)";
        case service_errc::expired_token: return "the security token has expired (ExpiredTokenException)";
        case service_errc::access_denied:
            return "access denied: the credentials are not allowed to perform this operation "
                   "(AccessDeniedException)";
        case service_errc::request_time_too_skewed:
            return "the request time differs too much from the service's clock (RequestTimeTooSkewed)";
        case service_errc::internal_failure:
            return "the service failed internally (InternalFailureException or HTTP 5xx)";
        case service_errc::unknown_service_error:
            return "the service answered with an unrecognised error (see diagnostics)";
        }
        return "unknown iotjobs.service error " + std::to_string(ev);
    }
};

class client_category_impl final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "iotjobs.client"; }

    std::string message(int ev) const override {
        switch (static_cast<client_errc>(ev)) {
        case client_errc::invalid_thing_name: return "invalid thingName: must be 1-128 characters of [a-zA-Z0-9:_-]";
        case client_errc::invalid_job_id: return "invalid jobId: must be 1-64 characters of [a-zA-Z0-9_-]";
        case client_errc::invalid_namespace_id:
            return "invalid namespaceId: must be 1 or more characters of [a-zA-Z0-9_-]";
        case client_errc::invalid_execution_number:
            return "invalid executionNumber: must be a signed 64-bit decimal integer";
        case client_errc::invalid_parameter:
            return "invalid request parameter (see diagnostics for the field and rule)";
        case client_errc::no_region: return "no AWS region configured";
        case client_errc::no_credentials: return "no AWS credentials found by any provider";
        case client_errc::credentials_error: return "a credentials provider failed (see diagnostics)";
        case client_errc::invalid_endpoint: return "the endpoint URL cannot be used";
        case client_errc::invalid_configuration: return "a configuration value is malformed";
        case client_errc::tls_setup_failed: return "TLS could not be initialised or the CA bundle could not be loaded";
        case client_errc::bad_response: return "the service response could not be parsed";
        case client_errc::pool_acquire_timeout: return "no pooled connection became available in time";
        case client_errc::pool_closed: return "the client has been shut down";
        case client_errc::retry_quota_exceeded:
            return "the retry quota is exhausted (see diagnostics for the last error)";
        case client_errc::deadline_exceeded: return "the overall operation deadline passed";
        case client_errc::proxy_error: return "the proxy refused the tunnel to the endpoint";
        }
        return "unknown iotjobs.client error " + std::to_string(ev);
    }
};

struct name_mapping {
    std::string_view name;
    service_errc code;
};

// Names from the IoT model (botocore/data/iot/2015-05-28/service-2.json), the common auth errors
// and every throttling code botocore's standard retry mode knows (botocore/retries/standard.py).
constexpr std::array<name_mapping, 32> name_table{{
    {"InvalidRequestException", service_errc::invalid_request},
    {"InvalidStateTransitionException", service_errc::invalid_state_transition},
    {"ResourceNotFoundException", service_errc::resource_not_found},
    {"ThrottlingException", service_errc::throttling},
    {"Throttling", service_errc::throttling},
    {"ThrottledException", service_errc::throttling},
    {"RequestThrottledException", service_errc::throttling},
    {"TooManyRequestsException", service_errc::throttling},
    {"ProvisionedThroughputExceededException", service_errc::throttling},
    {"TransactionInProgressException", service_errc::throttling},
    {"RequestLimitExceeded", service_errc::throttling},
    {"BandwidthLimitExceeded", service_errc::throttling},
    {"LimitExceededException", service_errc::throttling},
    {"RequestThrottled", service_errc::throttling},
    {"SlowDown", service_errc::throttling},
    {"PriorRequestNotComplete", service_errc::throttling},
    {"EC2ThrottledException", service_errc::throttling},
    {"ServiceUnavailableException", service_errc::service_unavailable},
    {"VersionConflictException", service_errc::version_conflict},
    {"UnrecognizedClientException", service_errc::unrecognized_client},
    {"InvalidSignatureException", service_errc::invalid_signature},
    {"SignatureDoesNotMatch", service_errc::invalid_signature},
    {"ExpiredTokenException", service_errc::expired_token},
    {"ExpiredToken", service_errc::expired_token},
    {"RequestExpired", service_errc::expired_token},
    {"AccessDeniedException", service_errc::access_denied},
    {"AccessDenied", service_errc::access_denied},
    {"RequestTimeTooSkewed", service_errc::request_time_too_skewed},
    {"RequestInTheFuture", service_errc::request_time_too_skewed},
    {"InternalFailureException", service_errc::internal_failure},
    {"InternalFailure", service_errc::internal_failure},
    {"InternalServerError", service_errc::internal_failure},
}};

}  // namespace

const boost::system::error_category& service_category() noexcept {
    static const service_category_impl instance;
    return instance;
}

const boost::system::error_category& client_category() noexcept {
    static const client_category_impl instance;
    return instance;
}

service_errc service_errc_from_name(std::string_view aws_error_name) noexcept {
    for (const auto& entry : name_table) {
        if (entry.name == aws_error_name) return entry.code;
    }
    return service_errc::unknown_service_error;
}

service_errc service_errc_from_response(unsigned http_status, std::string_view aws_error_name) noexcept {
    const service_errc by_name = service_errc_from_name(aws_error_name);
    if (by_name != service_errc::unknown_service_error) return by_name;
    if (http_status == 429) return service_errc::throttling;
    if (http_status == 503) return service_errc::service_unavailable;
    if (http_status >= 500 && http_status <= 599) return service_errc::internal_failure;
    return service_errc::unknown_service_error;
}

bool is_throttling(const error_code& ec) noexcept {
    return ec.category() == service_category() && ec.value() == static_cast<int>(service_errc::throttling);
}

bool is_validation_error(const error_code& ec) noexcept {
    if (ec.category() != client_category()) return false;
    switch (static_cast<client_errc>(ec.value())) {
    case client_errc::invalid_thing_name:
    case client_errc::invalid_job_id:
    case client_errc::invalid_namespace_id:
    case client_errc::invalid_execution_number:
    case client_errc::invalid_parameter: return true;
    default: return false;
    }
}

bool is_fatal_for_client(const error_code& ec) noexcept {
    if (ec == client_errc::no_credentials || ec == client_errc::credentials_error) return true;
    if (ec.category() != service_category()) return false;
    switch (static_cast<service_errc>(ec.value())) {
    case service_errc::unrecognized_client:
    case service_errc::invalid_signature:
    case service_errc::expired_token:
    case service_errc::access_denied: return true;
    default: return false;
    }
}

std::string_view to_string(timeout_phase p) noexcept {
    switch (p) {
    case timeout_phase::none: return "none";
    case timeout_phase::connect: return "connect";
    case timeout_phase::tls_handshake: return "tls_handshake";
    case timeout_phase::response: return "response";
    case timeout_phase::pool_wait: return "pool_wait";
    case timeout_phase::rate_wait: return "rate_wait";
    case timeout_phase::before_attempt: return "before_attempt";
    }
    return "unknown";
}

void throw_if_error(const error_code& ec, const diagnostics& diag) {
    if (!ec) return;
    std::string what(diag.aws_error_name());
    if (!diag.message().empty()) what.append(what.empty() ? "" : ": ").append(diag.message());
    if (what.empty()) throw boost::system::system_error(ec);
    throw boost::system::system_error(ec, what);
}

}  // namespace iotjobs
