// DescribeJobExecution (GET /things/{thingName}/jobs/{jobId}) and CancelJobExecution
// (PUT /things/{thingName}/jobs/{jobId}/cancel).
//
// Both behave as delete_job_execution (include/iotjobs/delete_job_execution.hpp) in everything
// but their result:
//
// Validation: the request is checked first (validate() in job_execution.hpp); an invalid one
// completes with the client_errc naming the field (message in the diagnostics), nothing sent.
//
// Executor: the operation runs on the client's executor (on a strand of its own unless
// client_config::single_threaded); the handler is invoked through its associated executor (the
// client's when it has none), never inline from the initiating function.
//
// Cancellation (the token's cancellation slot, or client::cancel()): terminal, partial and total
// are honoured at any time; the connection in use is dropped and the call completes with
// asio::error::operation_aborted, leaving the client usable. A cancel that was already written
// may still have taken effect on the service.
//
// Lifetimes: the request is taken by value. `diag`, when given, must outlive the operation; it is
// filled with the AWS error name, message, request id, HTTP status and attempts. The client handle
// need not outlive the operation (the call shares the client's implementation).
//
// Thread safety: any number of calls may run concurrently on one client, from any thread.
// Exceptions: with a token that reports errors by exception (use_awaitable, use_future), a failure
// is thrown as boost::system::system_error carrying the error code; the explanation is in `diag`.
#pragma once

#include <iotjobs/client.hpp>
#include <iotjobs/detail/operation_glue.hpp>
#include <iotjobs/diagnostics.hpp>
#include <iotjobs/job_execution.hpp>

#include <boost/asio/async_result.hpp>
#include <boost/asio/deferred.hpp>

#include <utility>

namespace iotjobs {

using describe_signature = void(error_code, job_execution);
using cancel_signature = void(error_code);

namespace detail {
void async_describe_erased(std::shared_ptr<client_impl>, describe_job_execution_request, diagnostics*,
                           boost::asio::any_completion_handler<describe_signature>, handler_executor);
void async_cancel_erased(std::shared_ptr<client_impl>, cancel_job_execution_request, diagnostics*,
                         boost::asio::any_completion_handler<cancel_signature>, handler_executor);
}  // namespace detail

// Reads one job execution (the latest of the thing and job when req.execution_number is empty).
// Completion: void(error_code, job_execution); the execution is default-constructed on failure.
// A 2xx answer whose body cannot be parsed completes with client_errc::bad_response.
//   describe_job_execution(client, request, diag, token)    describe_job_execution(client, request, token)
inline constexpr detail::operation<describe_job_execution_request, describe_signature> describe_job_execution{
    detail::async_describe_erased};

// Cancels one job execution (QUEUED, or IN_PROGRESS with force). Completion: void(error_code).
// Refusals arrive as service_errc::invalid_state_transition or version_conflict (expected_version).
//   cancel_job_execution(client, request, diag, token)    cancel_job_execution(client, request, token)
inline constexpr detail::operation<cancel_job_execution_request, cancel_signature> cancel_job_execution{
    detail::async_cancel_erased};

}  // namespace iotjobs
