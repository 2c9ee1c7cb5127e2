// List, Describe and Cancel: validation, the shared attempt loop, typed results.
#include "jobs/start.hpp"

#include <iotjobs/describe_job_execution.hpp>
#include <iotjobs/list_job_executions.hpp>

#include <boost/asio/this_coro.hpp>

namespace iotjobs::detail {

namespace asio = boost::asio;

namespace {

template <class Request, class Result, class Parse>
void start(std::shared_ptr<client_impl> impl, const Request& req, diagnostics* diag,
           asio::any_completion_handler<void(error_code, Result)>&& handler, handler_executor&& hex, Parse parse) {
    if (!accept_request(*impl, req, diag, handler)) return;
    auto out = std::make_shared<std::tuple<Result>>();
    // Read inside execute(), so that a 2xx body that cannot be parsed counts as a failure.
    client_impl::body_reader read = [&result = std::get<0>(*out), parse](std::string_view body, std::string& what) {
        return parse(body, result, &what);
    };
    impl->spawn([op = build_request(req), diag, own = diagnostics(), read = std::move(read)](
                    const std::shared_ptr<client_impl>& self,
                    const op_node* node) mutable { return self->execute(op, diag ? *diag : own, &read, node); },
                std::move(handler), std::move(out), std::move(hex));
}

}  // namespace

void async_list_for_job_erased(std::shared_ptr<client_impl> impl, list_job_executions_for_job_request req,
                               diagnostics* diag, asio::any_completion_handler<list_signature> handler,
                               handler_executor hex) {
    start(std::move(impl), req, diag, std::move(handler), std::move(hex),
          [](std::string_view body, list_job_executions_result& r, std::string* what) {
              return parse_list_job_executions_for_job_response(body, r, what);
          });
}

void async_list_for_thing_erased(std::shared_ptr<client_impl> impl, list_job_executions_for_thing_request req,
                                 diagnostics* diag, asio::any_completion_handler<list_signature> handler,
                                 handler_executor hex) {
    start(std::move(impl), req, diag, std::move(handler), std::move(hex),
          [](std::string_view body, list_job_executions_result& r, std::string* what) {
              return parse_list_job_executions_for_thing_response(body, r, what);
          });
}

void async_describe_erased(std::shared_ptr<client_impl> impl, describe_job_execution_request req, diagnostics* diag,
                           asio::any_completion_handler<describe_signature> handler, handler_executor hex) {
    start(std::move(impl), req, diag, std::move(handler), std::move(hex),
          [](std::string_view body, job_execution& r, std::string* what) {
              return parse_describe_job_execution_response(body, r, what);
          });
}

void async_cancel_erased(std::shared_ptr<client_impl> impl, cancel_job_execution_request req, diagnostics* diag,
                         asio::any_completion_handler<cancel_signature> handler, handler_executor hex) {
    start_operation(std::move(impl), req, diag, std::move(handler), std::move(hex));
}

}  // namespace iotjobs::detail
