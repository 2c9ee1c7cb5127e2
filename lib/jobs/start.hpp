// How every operation starts: validate the request (an invalid one completes at once, posted,
// with the message naming the field in the diagnostics, nothing sent), then run it.
#pragma once

#include "client_impl.hpp"
#include "diagnostics_access.hpp"
#include "jobs/wire.hpp"

namespace iotjobs::detail {

// True when `req` is valid; otherwise completes `handler` with the validation error.
template <class Request, class... Ts>
bool accept_request(client_impl& impl, const Request& req, diagnostics* diag,
                    boost::asio::any_completion_handler<void(error_code, Ts...)>& handler) {
    std::string what;
    error_code ec = validate(req, &what);
    if (!ec) return true;
    if (diag) {
        diag->clear();
        access::message(*diag) = std::move(what);
    }
    impl.post_result(std::move(handler), ec);
    return false;
}

// An operation without a result (DeleteJobExecution, CancelJobExecution).
template <class Request>
void start_operation(std::shared_ptr<client_impl> impl, const Request& req, diagnostics* diag,
                     boost::asio::any_completion_handler<void(error_code)>&& handler, handler_executor&& hex) {
    if (!accept_request(*impl, req, diag, handler)) return;
    impl->spawn([op = build_request(req), diag, own = diagnostics()](
                    const std::shared_ptr<client_impl>& self,
                    const op_node* node) mutable { return self->execute(op, diag ? *diag : own, nullptr, node); },
                std::move(handler), std::shared_ptr<std::tuple<>>(), std::move(hex));
}

}  // namespace iotjobs::detail
