// DescribeJobExecution and CancelJobExecution.
#pragma once

#include <iotjobs/client.hpp>
#include <iotjobs/detail/operation_glue.hpp>
#include <iotjobs/diagnostics.hpp>
#include <iotjobs/job_execution.hpp>

#include <boost/asio/async_result.hpp>
#include <boost/asio/deferred.hpp>

namespace iotjobs {

using describe_signature = void(error_code, job_execution);
using cancel_signature = void(error_code);

namespace detail {
void async_describe_erased(std::shared_ptr<client_impl>, describe_job_execution_request, diagnostics*,
                           boost::asio::any_completion_handler<describe_signature>);
void async_cancel_erased(std::shared_ptr<client_impl>, cancel_job_execution_request, diagnostics*,
                         boost::asio::any_completion_handler<cancel_signature>);
}  // namespace detail

// GET /things/{thingName}/jobs/{jobId}?executionNumber=N. Completion: void(error_code, job_execution).
template <boost::asio::completion_token_for<describe_signature> CompletionToken = boost::asio::deferred_t>
auto describe_job_execution(client& c, describe_job_execution_request req, diagnostics& diag,
                            CompletionToken&& token = {}) {
    return boost::asio::async_initiate<CompletionToken, describe_signature>(
        detail::initiate_erased<describe_job_execution_request, describe_signature>{detail::async_describe_erased},
        token, c.impl(), std::move(req), &diag);
}

// PUT /things/{thingName}/jobs/{jobId}/cancel. Completion: void(error_code).
template <boost::asio::completion_token_for<cancel_signature> CompletionToken = boost::asio::deferred_t>
auto cancel_job_execution(client& c, cancel_job_execution_request req, diagnostics& diag,
                          CompletionToken&& token = {}) {
    return boost::asio::async_initiate<CompletionToken, cancel_signature>(
        detail::initiate_erased<cancel_job_execution_request, cancel_signature>{detail::async_cancel_erased}, token,
        c.impl(), std::move(req), &diag);
}

}  // namespace iotjobs
