// DeleteJobExecution: DELETE /things/{thingName}/jobs/{jobId}/executionNumber/{executionNumber}
#pragma once

#include <iotjobs/client.hpp>
#include <iotjobs/detail/operation_glue.hpp>
#include <iotjobs/diagnostics.hpp>
#include <iotjobs/error.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/deferred.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

namespace iotjobs {

// A plain struct of public fields. The constructors are there for GCC 12, not for checking: they
// make the type a non-aggregate, so the braced form inside a coroutine
//   co_await iotjobs::delete_job_execution(client, {"thing", "job", 7, true, std::nullopt});
// calls a constructor. GCC 12 destroys an *aggregate*-initialised temporary with non-trivial
// members twice when it is created inside a co_await expression (a double free); a temporary made
// by a constructor is destroyed once (test/asan/brace_init_requests.cpp runs every request type in
// that shape under AddressSanitizer). The parameters take the fields in declaration order, the
// order brace initialisation of the aggregate would; designated initialisers are not available.
struct delete_job_execution_request {
    std::string thing_name;                   // 1-128 chars of [a-zA-Z0-9:_-]
    std::string job_id;                       // 1-64 chars of [a-zA-Z0-9_-]
    std::int64_t execution_number = 0;        // the model's long, sent exactly in decimal
    std::optional<bool> force;                // sent as force=true/false when set
    std::optional<std::string> namespace_id;  // [a-zA-Z0-9_-]+, sent as namespaceId when set

    delete_job_execution_request() = default;
    delete_job_execution_request(std::string thing, std::string job, std::int64_t number,
                                 std::optional<bool> force_ = std::nullopt,
                                 std::optional<std::string> namespace_ = std::nullopt)
        : thing_name(std::move(thing)),
          job_id(std::move(job)),
          execution_number(number),
          force(force_),
          namespace_id(std::move(namespace_)) {}
};
static_assert(!std::is_aggregate_v<delete_job_execution_request>,
              "an aggregate request is destroyed twice by GCC 12 when brace-initialised inside co_await");

// Checks the request against the service model. On failure returns client_errc::invalid_thing_name,
// invalid_job_id or invalid_namespace_id and, if `what` is given, a message naming the field and
// the rule it breaks. Never touches the network.
error_code validate(const delete_job_execution_request& req, std::string* what = nullptr);

namespace detail {
void async_delete_job_execution_erased(std::shared_ptr<client_impl> impl, delete_job_execution_request req,
                                       diagnostics* diag, boost::asio::any_completion_handler<void(error_code)> handler,
                                       handler_executor hex);
}  // namespace detail

// Deletes one job execution.
//
// Completion signature: void(error_code). Success: a default error_code. Failure: a service_errc
// (the service's answer, after retries), a client_errc (validation or configuration; nothing sent),
// or an Asio/SSL/Beast code. `diag` is filled with the AWS error name, message, request id,
// HTTP status and number of attempts; it must outlive the operation.
//
// Cancellation (the token's cancellation slot, or client::cancel()): every type (terminal, partial,
// total) is honoured at any time; the connection in use is dropped. A cancelled call completes
// with asio::error::operation_aborted and leaves the client usable. If the request had already
// been written, the service may still have deleted the execution (the call cannot know).
//
// Thread safety: any number of calls may run concurrently on one client. The request is copied.
//
// Called as delete_job_execution(client, request, diag, token) or (client, request, token); the
// token defaults to asio::deferred.
inline constexpr detail::operation<delete_job_execution_request, void(error_code)> delete_job_execution{
    detail::async_delete_job_execution_erased};

}  // namespace iotjobs
