// DeleteJobExecution: validation, then the shared attempt loop.
#include "client_impl.hpp"
#include "diagnostics_access.hpp"
#include "jobs/wire.hpp"

#include <iotjobs/delete_job_execution.hpp>

#include <boost/asio/this_coro.hpp>

namespace iotjobs::detail {

namespace asio = boost::asio;


void async_delete_job_execution_erased(std::shared_ptr<client_impl> impl, delete_job_execution_request req,
                                       diagnostics* diag, asio::any_completion_handler<void(error_code)> handler) {
    std::string what;
    if (error_code ec = validate(req, &what)) {
        if (diag) {
            diag->clear();
            access::message(*diag) = std::move(what);
        }
        impl->post_result(std::move(handler), ec);
        return;
    }
    auto& client = *impl;
    client.spawn(run_operation(std::move(impl), build_request(req), diag), std::move(handler));
}

}  // namespace iotjobs::detail
