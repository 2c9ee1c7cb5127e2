// Template glue shared by the public operation headers: one initiation that hands the
// type-erased handler to the compiled body in lib/.
#pragma once

#include <iotjobs/diagnostics.hpp>
#include <iotjobs/error.hpp>

#include <boost/asio/any_completion_handler.hpp>

#include <memory>
#include <utility>

namespace iotjobs::detail {
class client_impl;

template <class Request, class Signature>
using erased_body = void (*)(std::shared_ptr<client_impl>, Request, diagnostics*,
                             boost::asio::any_completion_handler<Signature>);

template <class Request, class Signature>
struct initiate_erased {
    erased_body<Request, Signature> body;
    template <class Handler>
    void operator()(Handler&& handler, std::shared_ptr<client_impl> impl, Request req, diagnostics* diag) const {
        body(std::move(impl), std::move(req), diag,
             boost::asio::any_completion_handler<Signature>(std::forward<Handler>(handler)));
    }
};

}  // namespace iotjobs::detail
