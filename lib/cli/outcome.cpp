// From a finished call to an exit code and the AWS CLI's wording.
#include "cli/cli.hpp"

#include "jobs/wire.hpp"

#include <boost/asio/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>

namespace iotjobs::cli {
namespace {

std::string quoted_url(std::string_view url) { return "\"" + std::string(url) + "\""; }

bool is_retryable_service_error(const error_code& ec) {
    if (ec.category() != service_category()) return false;
    switch (static_cast<service_errc>(ec.value())) {
    case service_errc::throttling:
    case service_errc::service_unavailable:
    case service_errc::internal_failure: return true;
    default: return false;
    }
}

failure service_error(const call_outcome& o, std::string_view operation, unsigned max_attempts) {
    std::string name = o.aws_error_name;
    if (name.empty()) name = o.http_status ? std::to_string(o.http_status) : std::string("Unknown");
    std::string msg = "An error occurred (" + name + ") when calling the " + std::string(operation) + " operation";
    if (is_retryable_service_error(o.ec) && o.attempts > 1 && o.attempts >= max_attempts)
        msg += " (reached max retries: " + std::to_string(o.attempts - 1) + ")";
    msg += ": ";
    msg += o.message;
    return failure{exit_service, std::move(msg), false};
}

std::string detail_or(const call_outcome& o) { return o.message.empty() ? o.ec.message() : o.message; }

// The words for a call that ran out of time, from the phase the library reports (AWS CLI wording
// for connect and read timeouts). `fallback` when the phase is unknown.
failure timeout_failure(const call_outcome& o, std::string_view url, timeout_phase fallback) {
    const timeout_phase p = o.timeout == timeout_phase::none ? fallback : o.timeout;
    std::string msg;
    switch (p) {
    case timeout_phase::connect: msg = "Connect timeout on endpoint URL: " + quoted_url(url); break;
    case timeout_phase::tls_handshake: msg = "TLS handshake timeout on endpoint URL: " + quoted_url(url); break;
    case timeout_phase::none:
    case timeout_phase::response: msg = "Read timeout on endpoint URL: " + quoted_url(url); break;
    case timeout_phase::pool_wait: msg = "Timed out waiting for a connection to " + quoted_url(url); break;
    case timeout_phase::rate_wait:
        msg = "The operation timeout would pass while waiting for the client-side rate limiter; the request to " +
              quoted_url(url) + " was not sent";
        break;
    case timeout_phase::before_attempt:
        msg = "The operation timeout passed before the request to " + quoted_url(url) + " could be sent";
        if (o.attempts > 0) msg += " again (after " + std::to_string(o.attempts) + " attempts)";
        break;
    }
    return failure{exit_other, std::move(msg), false};
}

}  // namespace

call_outcome make_outcome(const error_code& ec, const diagnostics& diag) {
    call_outcome o;
    o.ec = ec;
    o.aws_error_name = std::string(diag.aws_error_name());
    o.message = std::string(diag.message());
    o.request_id = std::string(diag.request_id());
    o.http_status = diag.http_status();
    o.attempts = diag.attempts();
    o.timeout = diag.timeout_phase();
    return o;
}

std::string request_url(std::string_view endpoint, const delete_job_execution_request& req) {
    const detail::operation_request r = detail::build_request(req);
    std::string url(endpoint);
    while (!url.empty() && url.back() == '/') url.pop_back();
    url += r.path;
    if (!r.query.empty()) {
        url += '?';
        url += r.query;
    }
    return url;
}

namespace {

// A transport outcome: Asio, SSL and Beast codes.
failure transport_failure(const call_outcome& o, std::string_view operation, std::string_view url) {
    namespace aerr = boost::asio::error;
    const error_code& ec = o.ec;
    const std::string_view category = ec.category().name();
    if (category == "asio.ssl.stream")  // stream_truncated: the peer closed without close_notify
        return failure{
            exit_other,
            "Connection was closed before we received a valid response from endpoint URL: " + quoted_url(url) + ".",
            false};
    if (category.starts_with("asio.ssl"))
        return failure{exit_other, "SSL validation failed for " + std::string(url) + " " + detail_or(o), false};

    if (ec == boost::beast::error::timeout || ec == aerr::timed_out)  // the phase is a diagnostics field
        return timeout_failure(o, url, timeout_phase::response);
    if (ec == aerr::connection_refused || ec == aerr::host_not_found || ec == aerr::host_not_found_try_again ||
        ec == aerr::no_data || ec == aerr::no_recovery || ec == aerr::network_unreachable || ec == aerr::network_down ||
        ec == aerr::host_unreachable || ec == aerr::address_family_not_supported)
        return failure{exit_other,
                       "Could not connect to the endpoint URL: " + quoted_url(url) +
                           (o.message.empty() || o.message == ec.message() ? std::string() : " (" + o.message + ")"),
                       false};
    if (ec == aerr::connection_reset || ec == aerr::eof || ec == aerr::broken_pipe || ec == aerr::connection_aborted ||
        ec == boost::beast::http::error::end_of_stream || ec == boost::beast::http::error::partial_message)
        return failure{
            exit_other,
            "Connection was closed before we received a valid response from endpoint URL: " + quoted_url(url) + ".",
            false};
    if (ec == aerr::operation_aborted)
        return failure{exit_other, "The " + std::string(operation) + " call was cancelled.", false};

    std::string msg = "The " + std::string(operation) + " call to " + quoted_url(url) + " failed: " + ec.message() +
                      " [" + std::string(category) + ":" + std::to_string(ec.value()) + "]";
    if (!o.message.empty() && o.message != ec.message()) msg += ": " + o.message;
    return failure{exit_other, std::move(msg), false};
}

// A client_errc outcome (ec is in the client category).
failure client_failure(const call_outcome& o, std::string_view operation, std::string_view url, unsigned max_attempts) {
    const error_code& ec = o.ec;
    switch (static_cast<client_errc>(ec.value())) {
    case client_errc::invalid_thing_name:
    case client_errc::invalid_job_id:
    case client_errc::invalid_namespace_id:
    case client_errc::invalid_execution_number:
    case client_errc::invalid_parameter:
        return failure{exit_usage, "Parameter validation failed:\n" + detail_or(o), false};
    case client_errc::no_region:
        return failure{exit_config,
                       "You must specify a region. You can also configure your region with the AWS_REGION or "
                       "AWS_DEFAULT_REGION environment variable, or pass --region.",
                       false};
    case client_errc::no_credentials:
        return failure{exit_config,
                       "Unable to locate credentials. You can configure credentials by setting the "
                       "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY environment variables.",
                       false};
    case client_errc::credentials_error:
        return failure{exit_config, "Error when retrieving credentials: " + detail_or(o), false};
    case client_errc::invalid_endpoint:
    case client_errc::invalid_configuration:
    case client_errc::tls_setup_failed: return failure{exit_config, detail_or(o), false};
    case client_errc::retry_quota_exceeded:
        // The last answer was a service error: report it as such, as botocore does.
        if (!o.aws_error_name.empty() || o.http_status >= 300) {
            call_outcome as_service = o;
            as_service.ec = make_error_code(service_errc::unknown_service_error);
            failure f = service_error(as_service, operation, max_attempts);
            f.message += " (retry quota exhausted)";
            return f;
        }
        return failure{exit_other,
                       "Could not complete the request to " + quoted_url(url) + ": the retry quota is exhausted (" +
                           detail_or(o) + ")",
                       false};
    case client_errc::bad_response:
        return failure{
            exit_other,
            "The response from the endpoint URL " + quoted_url(url) + " could not be parsed: " + detail_or(o), false};
    case client_errc::deadline_exceeded: return timeout_failure(o, url, timeout_phase::response);
    case client_errc::proxy_error:  // the message names the proxy (password masked) and the status
        return failure{exit_other, "Proxy error on the way to endpoint URL " + quoted_url(url) + ": " + detail_or(o),
                       false};
    case client_errc::pool_acquire_timeout: return timeout_failure(o, url, timeout_phase::pool_wait);
    case client_errc::pool_closed:
        return failure{exit_other, "The client was shut down before the request completed.", false};
    }
    return transport_failure(o, operation, url);  // a code this switch does not name
}

}  // namespace

failure describe_outcome(const call_outcome& o, std::string_view operation, std::string_view url,
                         unsigned max_attempts) {
    const error_code& ec = o.ec;
    if (!ec) return failure{exit_success, {}, false};
    if (o.interrupted)
        return failure{exit_interrupted,
                       "Interrupted: the " + std::string(operation) +
                           " call was cancelled; if the request had been sent, the service may have processed it.",
                       false};

    if (ec.category() == service_category()) return service_error(o, operation, max_attempts);

    if (ec.category() == client_category()) return client_failure(o, operation, url, max_attempts);
    return transport_failure(o, operation, url);
}

}  // namespace iotjobs::cli
