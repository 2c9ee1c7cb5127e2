// Error categories, name/status mapping and classification (include/iotjobs/error.hpp).
#include "diagnostics_access.hpp"

#include <iotjobs/diagnostics.hpp>
#include <iotjobs/error.hpp>

#include <boost/system/system_error.hpp>

#include <doctest/doctest.h>

#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

using iotjobs::client_errc;
using iotjobs::error_code;
using iotjobs::service_errc;

namespace {

constexpr service_errc all_service[] = {
    service_errc::invalid_request,         service_errc::invalid_state_transition,
    service_errc::resource_not_found,      service_errc::throttling,
    service_errc::service_unavailable,     service_errc::version_conflict,
    service_errc::unrecognized_client,     service_errc::invalid_signature,
    service_errc::expired_token,           service_errc::access_denied,
    service_errc::request_time_too_skewed, service_errc::internal_failure,
    service_errc::unknown_service_error,
};

constexpr client_errc all_client[] = {
    client_errc::invalid_thing_name,       client_errc::invalid_job_id,    client_errc::invalid_namespace_id,
    client_errc::invalid_execution_number, client_errc::invalid_parameter, client_errc::no_region,
    client_errc::no_credentials,           client_errc::credentials_error, client_errc::invalid_endpoint,
    client_errc::invalid_configuration,    client_errc::tls_setup_failed,  client_errc::bad_response,
    client_errc::pool_acquire_timeout,     client_errc::pool_closed,       client_errc::retry_quota_exceeded,
    client_errc::deadline_exceeded,
};

}  // namespace

TEST_CASE("service_errc: category name, distinct non-empty messages, implicit conversion") {
    CHECK(std::string_view(iotjobs::service_category().name()) == "iotjobs.service");
    CHECK(sizeof(all_service) / sizeof(all_service[0]) ==
          static_cast<std::size_t>(service_errc::unknown_service_error));
    std::set<std::string> messages;
    int expected_value = 1;
    for (auto e : all_service) {
        CAPTURE(static_cast<int>(e));
        const error_code ec = e;  // is_error_code_enum
        CHECK(ec.value() == expected_value++);
        CHECK(&ec.category() == &iotjobs::service_category());
        CHECK(ec == make_error_code(e));
        CHECK(ec);
        const std::string msg = ec.message();
        CHECK(!msg.empty());
        CHECK(msg.find("unknown iotjobs.service error") == std::string::npos);
        CHECK(messages.insert(msg).second);
    }
    // Values outside the enumeration still give a message, never a crash.
    CHECK(!iotjobs::service_category().message(0).empty());
    CHECK(!iotjobs::service_category().message(9999).empty());
    CHECK(!iotjobs::service_category().message(-1).empty());
}

TEST_CASE("client_errc: category name, distinct non-empty messages, implicit conversion") {
    CHECK(std::string_view(iotjobs::client_category().name()) == "iotjobs.client");
    CHECK(sizeof(all_client) / sizeof(all_client[0]) == static_cast<std::size_t>(client_errc::deadline_exceeded));
    std::set<std::string> messages;
    int expected_value = 1;
    for (auto e : all_client) {
        CAPTURE(static_cast<int>(e));
        const error_code ec = e;
        CHECK(ec.value() == expected_value++);
        CHECK(&ec.category() == &iotjobs::client_category());
        CHECK(ec);
        const std::string msg = ec.message();
        CHECK(!msg.empty());
        CHECK(msg.find("unknown iotjobs.client error") == std::string::npos);
        CHECK(messages.insert(msg).second);
    }
    CHECK(!iotjobs::client_category().message(0).empty());
    CHECK(!iotjobs::client_category().message(12345).empty());
    // The two categories are distinct: same value, different codes.
    CHECK(error_code(service_errc::invalid_request) != error_code(client_errc::invalid_thing_name));
}

TEST_CASE("service_errc_from_name: modeled and auth names") {
    const std::vector<std::pair<std::string_view, service_errc>> cases = {
        {"InvalidRequestException", service_errc::invalid_request},
        {"InvalidStateTransitionException", service_errc::invalid_state_transition},
        {"ResourceNotFoundException", service_errc::resource_not_found},
        {"ThrottlingException", service_errc::throttling},
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
    };
    for (const auto& [name, expected] : cases) {
        CAPTURE(name);
        CHECK(iotjobs::service_errc_from_name(name) == expected);
    }
}

TEST_CASE("service_errc_from_name: every throttling alias of botocore standard mode") {
    constexpr std::string_view aliases[] = {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    };
    for (auto name : aliases) {
        CAPTURE(name);
        CHECK(iotjobs::service_errc_from_name(name) == service_errc::throttling);
        CHECK(iotjobs::is_throttling(iotjobs::service_errc_from_name(name)));
    }
}

TEST_CASE("service_errc_from_name: unknown, uncleaned, case-changed and garbage names") {
    using namespace std::string_literals;
    for (std::string_view name :
         {std::string_view(""), std::string_view("InvalidToken"), std::string_view("throttlingexception"),
          std::string_view("THROTTLINGEXCEPTION"), std::string_view("aws.iot#ThrottlingException"),
          std::string_view("ThrottlingException:http://internal"), std::string_view(" ThrottlingException"),
          std::string_view("503"), std::string_view("RequestTimeout")}) {
        CAPTURE(name);
        CHECK(iotjobs::service_errc_from_name(name) == service_errc::unknown_service_error);
    }
    const std::string with_nul = "ThrottlingException\0x"s;
    CHECK(iotjobs::service_errc_from_name(with_nul) == service_errc::unknown_service_error);
    CHECK(iotjobs::service_errc_from_name(std::string(100000, 'A')) == service_errc::unknown_service_error);
}

TEST_CASE("service_errc_from_response: name first, then 429 / 503 / 5xx") {
    using iotjobs::service_errc_from_response;
    // Known names win over the status (IoT throttles with 400; a 503 body may name anything).
    CHECK(service_errc_from_response(400, "ThrottlingException") == service_errc::throttling);
    CHECK(service_errc_from_response(503, "ThrottlingException") == service_errc::throttling);
    CHECK(service_errc_from_response(500, "ResourceNotFoundException") == service_errc::resource_not_found);
    CHECK(service_errc_from_response(429, "AccessDeniedException") == service_errc::access_denied);
    CHECK(service_errc_from_response(503, "ServiceUnavailableException") == service_errc::service_unavailable);
    // Unknown or missing names fall back to the status.
    CHECK(service_errc_from_response(429, "") == service_errc::throttling);
    CHECK(service_errc_from_response(429, "429") == service_errc::throttling);
    CHECK(service_errc_from_response(429, "SomethingElse") == service_errc::throttling);
    CHECK(service_errc_from_response(503, "") == service_errc::service_unavailable);
    CHECK(service_errc_from_response(503, "503") == service_errc::service_unavailable);
    for (unsigned s : {500u, 501u, 502u, 504u, 599u}) {
        CAPTURE(s);
        CHECK(service_errc_from_response(s, "") == service_errc::internal_failure);
        CHECK(service_errc_from_response(s, std::to_string(s)) == service_errc::internal_failure);
    }
    for (unsigned s : {0u, 200u, 301u, 400u, 403u, 404u, 409u, 428u, 430u, 499u, 600u, 999u}) {
        CAPTURE(s);
        CHECK(service_errc_from_response(s, "") == service_errc::unknown_service_error);
        CHECK(service_errc_from_response(s, "InvalidToken") == service_errc::unknown_service_error);
    }
}

TEST_CASE("is_throttling") {
    for (auto e : all_service) {
        CAPTURE(static_cast<int>(e));
        CHECK(iotjobs::is_throttling(e) == (e == service_errc::throttling));
    }
    for (auto e : all_client) CHECK_FALSE(iotjobs::is_throttling(e));
    // Same value (4) in another category is not throttling.
    CHECK_FALSE(iotjobs::is_throttling(error_code(4, iotjobs::client_category())));
    CHECK_FALSE(iotjobs::is_throttling(error_code(4, boost::system::generic_category())));
    CHECK_FALSE(iotjobs::is_throttling(error_code()));
}

TEST_CASE("is_validation_error") {
    const std::set<client_errc> validation = {client_errc::invalid_thing_name, client_errc::invalid_job_id,
                                              client_errc::invalid_namespace_id, client_errc::invalid_execution_number,
                                              client_errc::invalid_parameter};
    for (auto e : all_client) {
        CAPTURE(static_cast<int>(e));
        CHECK(iotjobs::is_validation_error(e) == (validation.count(e) == 1));
    }
    for (auto e : all_service) CHECK_FALSE(iotjobs::is_validation_error(e));
    CHECK_FALSE(iotjobs::is_validation_error(error_code(1, boost::system::generic_category())));
    CHECK_FALSE(iotjobs::is_validation_error(error_code()));
}

TEST_CASE("is_fatal_for_client") {
    const std::set<service_errc> fatal = {service_errc::unrecognized_client, service_errc::invalid_signature,
                                          service_errc::expired_token, service_errc::access_denied};
    for (auto e : all_service) {
        CAPTURE(static_cast<int>(e));
        CHECK(iotjobs::is_fatal_for_client(e) == (fatal.count(e) == 1));
    }
    // Missing or broken credentials fail every call the same way too.
    for (auto e : all_client)
        CHECK(iotjobs::is_fatal_for_client(e) ==
              (e == iotjobs::client_errc::no_credentials || e == iotjobs::client_errc::credentials_error));
    CHECK(iotjobs::is_fatal_for_client(error_code(7, iotjobs::client_category())));  // no_credentials
    CHECK_FALSE(iotjobs::is_fatal_for_client(error_code(1, iotjobs::client_category())));
    CHECK_FALSE(iotjobs::is_fatal_for_client(error_code()));
}

namespace {
// The exception throw_if_error(ec, d) throws: its code and what().
std::pair<error_code, std::string> thrown_by(error_code ec, const iotjobs::diagnostics& d) {
    try {
        iotjobs::throw_if_error(ec, d);
    } catch (const boost::system::system_error& e) {
        return {e.code(), e.what()};
    }
    FAIL("no exception");
    return {};
}
}  // namespace

TEST_CASE("throw_if_error: the library's exception, with the AWS error name and message in what()") {
    iotjobs::diagnostics d;
    CHECK_NOTHROW(iotjobs::throw_if_error(error_code{}, d));
    iotjobs::detail::access::aws_error_name(d) = "ResourceNotFoundException";
    iotjobs::detail::access::message(d) = "Execution not found";
    auto [ec, what] = thrown_by(service_errc::resource_not_found, d);
    CHECK(ec == service_errc::resource_not_found);
    CHECK(what.starts_with("ResourceNotFoundException: Execution not found: "));
    d.clear();
    iotjobs::detail::access::message(d) = "thingName 'a b' is invalid";
    std::tie(ec, what) = thrown_by(client_errc::invalid_thing_name, d);
    CHECK(ec == client_errc::invalid_thing_name);
    CHECK(what.starts_with("thingName 'a b' is invalid: "));
    d.clear();
    std::tie(ec, what) = thrown_by(client_errc::bad_response, d);
    CHECK(ec == client_errc::bad_response);
    CHECK(what.find(ec.message()) != std::string::npos);
}
