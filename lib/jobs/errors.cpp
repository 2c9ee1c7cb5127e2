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

// A category whose messages are a table in the order of the enum's values (which start at 1).
template <std::size_t N>
class table_category final : public boost::system::error_category {
public:
    constexpr table_category(const char* name, const std::array<std::string_view, N>& messages) noexcept
        : name_(name), messages_(messages) {}
    const char* name() const noexcept override { return name_; }

    std::string message(int ev) const override {
        if (ev >= 1 && static_cast<std::size_t>(ev) <= N) return std::string(messages_[ev - 1]);
        return "unknown " + std::string(name_) + " error " + std::to_string(ev);
    }

private:
    const char* name_;
    std::array<std::string_view, N> messages_;
};

constexpr std::array<std::string_view, 13> service_messages{
    "the service rejected the request as invalid (InvalidRequestException)",
    "the job execution is not in a state that allows this operation (InvalidStateTransitionException)",
    "the thing, job or job execution does not exist (ResourceNotFoundException)",
    "the request was throttled: the API rate limit was exceeded (ThrottlingException)",
    "the service is temporarily unavailable (ServiceUnavailableException)",
    "the job execution's version does not match the expected version (VersionConflictException)",
    "the access key or security token is not recognised (UnrecognizedClientException)",
    "the request signature does not match (InvalidSignatureException)",
    "the security token has expired (ExpiredTokenException)",
    "access denied: the credentials are not allowed to perform this operation (AccessDeniedException)",
    "the request time differs too much from the service's clock (RequestTimeTooSkewed)",
    "the service failed internally (InternalFailureException or HTTP 5xx)",
    "the service answered with an unrecognised error (see diagnostics)",
};
static_assert(service_messages.size() == static_cast<std::size_t>(service_errc::unknown_service_error),
              "one message per service_errc, in the enum's order");

constexpr std::array<std::string_view, 17> client_messages{
    "invalid thingName: must be 1-128 characters of [a-zA-Z0-9:_-]",
    "invalid jobId: must be 1-64 characters of [a-zA-Z0-9_-]",
    "invalid namespaceId: must be 1 or more characters of [a-zA-Z0-9_-]",
    "invalid executionNumber: must be a signed 64-bit decimal integer",
    "invalid request parameter (see diagnostics for the field and rule)",
    "no AWS region configured",
    "no AWS credentials found by any provider",
    "a credentials provider failed (see diagnostics)",
    "the endpoint URL cannot be used",
    "a configuration value is malformed",
    "TLS could not be initialised or the CA bundle could not be loaded",
    "the service response could not be parsed",
    "no pooled connection became available in time",
    "the client has been shut down",
    "the retry quota is exhausted (see diagnostics for the last error)",
    "the overall operation deadline passed",
    "the proxy refused the tunnel to the endpoint",
};
static_assert(client_messages.size() == static_cast<std::size_t>(client_errc::proxy_error),
              "one message per client_errc, in the enum's order");

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
    static const table_category instance("iotjobs.service", service_messages);
    return instance;
}

const boost::system::error_category& client_category() noexcept {
    static const table_category instance("iotjobs.client", client_messages);
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
