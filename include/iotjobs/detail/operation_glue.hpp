// Template glue shared by the public operation headers: the library's access to the client's
// shared implementation and to diagnostics (detail::access), and the one initiation every
// operation goes through, which hands a type-erased handler to the operation's compiled body in
// lib/.
#pragma once

#include <iotjobs/client.hpp>
#include <iotjobs/diagnostics.hpp>
#include <iotjobs/error.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/deferred.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

namespace iotjobs::detail {
class client_impl;

// The library's way into iotjobs::client and iotjobs::diagnostics (friend of both). Not for
// applications: nothing here is part of the public API.
struct access {
    static const std::shared_ptr<client_impl>& impl(const client& c) noexcept { return c.impl_; }

    static std::string& aws_error_name(diagnostics& d) { return d.aws_error_name_; }
    static std::string& message(diagnostics& d) { return d.message_; }
    static std::string& request_id(diagnostics& d) { return d.request_id_; }
    static unsigned& http_status(diagnostics& d) { return d.http_status_; }
    static unsigned& attempts(diagnostics& d) { return d.attempts_; }
    static std::chrono::milliseconds& retry_wait(diagnostics& d) { return d.retry_wait_; }
    static bool& earlier_attempt_may_have_succeeded(diagnostics& d) { return d.earlier_attempt_may_have_succeeded_; }
    static iotjobs::timeout_phase& timeout_phase(diagnostics& d) { return d.timeout_phase_; }
    // Some attempt of the call, the one that decided its outcome included, may have been processed
    // by the service (written and then lost, or answered 5xx).
    static bool& an_attempt_may_have_acted(diagnostics& d) { return d.an_attempt_may_have_acted_; }
};

// The executor a completion handler asked for, found where the handler's type is known: spares
// a type-erased lookup on the any_completion_handler (two allocations) when the call completes.
struct handler_executor {
    boost::asio::any_io_executor ex;  // empty: the handler has none of its own (the client's is used)
    bool known = false;               // false: look it up on the type-erased handler
};

template <class Handler>
handler_executor executor_of(const Handler& handler) {
    using type = boost::asio::associated_executor_t<Handler, boost::asio::any_io_executor>;
    if constexpr (std::is_convertible_v<type, boost::asio::any_io_executor>)
        return {
            boost::asio::any_io_executor(boost::asio::get_associated_executor(handler, boost::asio::any_io_executor())),
            true};
    else
        return {};
}

// The compiled body of an operation: validates `req`, runs it on the client and completes the
// handler once, never inline, on its associated executor (`hex`, when known, spares the lookup;
// bulk_delete looks it up itself). `diag` may be null.
template <class Request, class Signature>
using operation_body = void (*)(std::shared_ptr<client_impl>, Request, diagnostics*,
                                boost::asio::any_completion_handler<Signature>, handler_executor);

template <class Request, class Signature>
struct initiate_erased {
    operation_body<Request, Signature> body;
    template <class Handler>
    void operator()(Handler&& handler, std::shared_ptr<client_impl> impl, Request req, diagnostics* diag) const {
        handler_executor hex = executor_of(handler);
        body(std::move(impl), std::move(req), diag,
             boost::asio::any_completion_handler<Signature>(std::forward<Handler>(handler)), std::move(hex));
    }
};

// Starts `body` with any completion token (the signature is the body's).
template <class Request, class Signature, class CompletionToken>
auto initiate_operation(operation_body<Request, Signature> body, std::shared_ptr<client_impl> impl,
                        std::type_identity_t<Request> req, diagnostics* diag, CompletionToken&& token) {
    return boost::asio::async_initiate<CompletionToken, Signature>(initiate_erased<Request, Signature>{body}, token,
                                                                   std::move(impl), std::move(req), diag);
}

template <class Request, class Signature, class CompletionToken>
auto initiate_operation(operation_body<Request, Signature> body, const client& c, std::type_identity_t<Request> req,
                        diagnostics* diag, CompletionToken&& token) {
    return initiate_operation(body, access::impl(c), std::move(req), diag, std::forward<CompletionToken>(token));
}

// A public operation (delete_job_execution, describe_job_execution, ...): a function object that
// starts `body` with or without diagnostics and with any completion token, deferred by default:
//   op(client, request, diag, token)    op(client, request, token)
// The request is taken by value; `diag`, when given, must outlive the operation.
template <class Request, class Signature>
struct operation {
    operation_body<Request, Signature> body;

    template <boost::asio::completion_token_for<Signature> CompletionToken = boost::asio::deferred_t>
    auto operator()(client& c, Request req, diagnostics& diag, CompletionToken&& token = {}) const {
        return initiate_operation(body, c, std::move(req), &diag, std::forward<CompletionToken>(token));
    }

    template <boost::asio::completion_token_for<Signature> CompletionToken = boost::asio::deferred_t>
    auto operator()(client& c, Request req, CompletionToken&& token = {}) const {
        return initiate_operation(body, c, std::move(req), nullptr, std::forward<CompletionToken>(token));
    }
};

}  // namespace iotjobs::detail
