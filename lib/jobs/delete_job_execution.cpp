// DeleteJobExecution: validation, then the shared attempt loop.
#include "jobs/start.hpp"

#include <iotjobs/delete_job_execution.hpp>

#include <boost/asio/this_coro.hpp>

namespace iotjobs::detail {

namespace asio = boost::asio;

void async_delete_job_execution_erased(std::shared_ptr<client_impl> impl, delete_job_execution_request req,
                                       diagnostics* diag, asio::any_completion_handler<void(error_code)> handler,
                                       handler_executor hex) {
    start_operation(std::move(impl), req, diag, std::move(handler), std::move(hex));
}

}  // namespace iotjobs::detail
