#include "retry/outcome.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>

#include <algorithm>
#include <array>
#include <optional>

namespace iotjobs::detail {

namespace {

namespace asio_error = boost::asio::error;
namespace beast = boost::beast;

template <std::size_t N>
bool contains(const std::array<std::string_view, N>& names, std::string_view name) noexcept {
    return std::find(names.begin(), names.end(), name) != names.end();
}

// Transient error names: botocore's list plus the 5xx-class exceptions IoT models.
constexpr std::array<std::string_view, 9> transient_names{
    "RequestTimeout",      "RequestTimeoutException", "PriorRequestNotComplete",  "ServiceUnavailableException",
    "ServiceUnavailable",  "InternalFailure",         "InternalFailureException", "InternalServerException",
    "InternalServerError",
};

// Always a clock problem, whatever the Date header says.
constexpr std::array<std::string_view, 3> skew_names{
    "RequestTimeTooSkewed",
    "RequestExpired",
    "RequestInTheFuture",
};

// A clock problem only when the server's Date is far from local time (smithy CLOCK_SKEW_ERROR_CODES
// minus the three above); otherwise a real credentials or permissions error, never retried.
constexpr std::array<std::string_view, 5> skew_if_dated_names{
    "InvalidSignatureException", "SignatureDoesNotMatch", "AccessDeniedException", "AccessDenied", "AuthFailure",
};

bool is_cancellation(const error_code& ec) noexcept { return ec == asio_error::operation_aborted; }

bool is_transport_error_code(const error_code& ec) noexcept {
    return ec == asio_error::connection_reset || ec == asio_error::connection_aborted ||
           ec == asio_error::connection_refused || ec == asio_error::broken_pipe ||
           ec == asio_error::host_unreachable || ec == asio_error::network_unreachable ||
           ec == asio_error::network_down || ec == asio_error::network_reset ||
           ec == asio_error::host_not_found_try_again || ec == asio_error::eof ||
           ec == boost::asio::ssl::error::stream_truncated || ec == beast::http::error::end_of_stream ||
           ec == beast::http::error::partial_message;
}

bool is_timeout_code(const error_code& ec) noexcept {
    return ec == beast::error::timeout || ec == asio_error::timed_out;
}

bool is_transient_status(unsigned status) noexcept {
    return status == 500 || status == 502 || status == 503 || status == 504;
}

// The service_errc of the outcome, if `ec` is one (the jobs layer maps names and statuses with
// service_errc_from_response; a caller may also leave aws_error_name empty).
std::optional<service_errc> service_code(const error_code& ec) noexcept {
    if (ec.category() != service_category()) return std::nullopt;
    return static_cast<service_errc>(ec.value());
}

}  // namespace

const char* to_string(retry_kind k) noexcept {
    switch (k) {
    case retry_kind::none: return "none";
    case retry_kind::throttling: return "throttling";
    case retry_kind::transient: return "transient";
    case retry_kind::clock_skew: return "clock_skew";
    }
    return "unknown";
}

bool is_throttling_error_name(std::string_view aws_error_name) noexcept {
    // One list of throttling names (botocore/retries/standard.py's): the error category's.
    return service_errc_from_name(aws_error_name) == service_errc::throttling;
}

bool is_timeout(const attempt_outcome& o) noexcept { return o.timed_out || is_timeout_code(o.ec); }

retry_kind classify(const attempt_outcome& o) noexcept {
    if (o.succeeded() || is_cancellation(o.ec)) return retry_kind::none;

    const std::string_view name = o.aws_error_name;
    const std::optional<service_errc> svc = service_code(o.ec);
    if (is_throttling_error_name(name) || o.http_status == 429 || is_throttling(o.ec)) return retry_kind::throttling;

    const bool signature_error = name == "InvalidSignatureException" || svc == service_errc::invalid_signature;
    if (contains(skew_names, name) || svc == service_errc::request_time_too_skewed) return retry_kind::clock_skew;
    if (signature_error && o.message.find("Signature expired") != std::string_view::npos) return retry_kind::clock_skew;
    if (o.server_clock_skewed &&
        (contains(skew_if_dated_names, name) || signature_error || svc == service_errc::access_denied))
        return retry_kind::clock_skew;

    if (contains(transient_names, name) || is_transient_status(o.http_status) ||
        svc == service_errc::service_unavailable)
        return retry_kind::transient;
    // service_errc_from_response maps every 5xx to internal_failure; botocore retries only
    // 500/502/503/504 (checked above) or a transient name.
    if (svc == service_errc::internal_failure && o.http_status == 0) return retry_kind::transient;
    // Our own conditions (TLS set-up, pool acquire timeout, an unparseable or oversized response,
    // deadline) would fail the same way again: not retried even when they surface as transport errors.
    if (o.ec.category() == client_category()) return retry_kind::none;
    if (o.transport_error || o.timed_out || is_transport_error_code(o.ec) || is_timeout_code(o.ec))
        return retry_kind::transient;

    return retry_kind::none;
}

}  // namespace iotjobs::detail
