// ListJobExecutionsForJob / ListJobExecutionsForThing, one page per call, and a pager that
// walks every page.
#pragma once

#include <iotjobs/client.hpp>
#include <iotjobs/detail/operation_glue.hpp>
#include <iotjobs/diagnostics.hpp>
#include <iotjobs/job_execution.hpp>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/deferred.hpp>

namespace iotjobs {

using list_signature = void(error_code, list_job_executions_result);

namespace detail {
void async_list_for_job_erased(std::shared_ptr<client_impl>, list_job_executions_for_job_request, diagnostics*,
                               boost::asio::any_completion_handler<list_signature>);
void async_list_for_thing_erased(std::shared_ptr<client_impl>, list_job_executions_for_thing_request, diagnostics*,
                                 boost::asio::any_completion_handler<list_signature>);
}  // namespace detail

// One page of GET /jobs/{jobId}/things. Completion: void(error_code, list_job_executions_result).
// Same validation, signing, retries, errors and cancellation as delete_job_execution.
template <boost::asio::completion_token_for<list_signature> CompletionToken = boost::asio::deferred_t>
auto list_job_executions_for_job(client& c, list_job_executions_for_job_request req, diagnostics& diag,
                                 CompletionToken&& token = {}) {
    return boost::asio::async_initiate<CompletionToken, list_signature>(
        detail::initiate_erased<list_job_executions_for_job_request, list_signature>{detail::async_list_for_job_erased},
        token, c.impl(), std::move(req), &diag);
}
template <boost::asio::completion_token_for<list_signature> CompletionToken = boost::asio::deferred_t>
auto list_job_executions_for_job(client& c, list_job_executions_for_job_request req, CompletionToken&& token = {}) {
    return boost::asio::async_initiate<CompletionToken, list_signature>(
        detail::initiate_erased<list_job_executions_for_job_request, list_signature>{detail::async_list_for_job_erased},
        token, c.impl(), std::move(req), nullptr);
}

// One page of GET /things/{thingName}/jobs.
template <boost::asio::completion_token_for<list_signature> CompletionToken = boost::asio::deferred_t>
auto list_job_executions_for_thing(client& c, list_job_executions_for_thing_request req, diagnostics& diag,
                                   CompletionToken&& token = {}) {
    return boost::asio::async_initiate<CompletionToken, list_signature>(
        detail::initiate_erased<list_job_executions_for_thing_request, list_signature>{
            detail::async_list_for_thing_erased},
        token, c.impl(), std::move(req), &diag);
}
template <boost::asio::completion_token_for<list_signature> CompletionToken = boost::asio::deferred_t>
auto list_job_executions_for_thing(client& c, list_job_executions_for_thing_request req,
                                   CompletionToken&& token = {}) {
    return boost::asio::async_initiate<CompletionToken, list_signature>(
        detail::initiate_erased<list_job_executions_for_thing_request, list_signature>{
            detail::async_list_for_thing_erased},
        token, c.impl(), std::move(req), nullptr);
}

// Walks the pages of a list request: each async_next() yields the next page, passing the
// previous page's nextToken back unchanged; done() once a page came without one.
//
//   iotjobs::job_executions_pager pager(client, iotjobs::list_job_executions_for_job_request{"job-1"});
//   while (!pager.done()) {
//       auto page = co_await pager.async_next();
//       for (auto& e : page.executions) ...
//   }
//
// One async_next() at a time per pager. The pager must outlive the operation; the client handle
// need not (the pager shares the client's implementation).
template <class Request>
class basic_job_executions_pager {
public:
    basic_job_executions_pager(client& c, Request first)
        : impl_(c.impl()), ex_(c.get_executor()), req_(std::move(first)) {}

    bool done() const noexcept { return done_; }
    const diagnostics& last_diagnostics() const noexcept { return diag_; }
    std::size_t pages() const noexcept { return pages_; }

    template <boost::asio::completion_token_for<list_signature> CompletionToken = boost::asio::deferred_t>
    auto async_next(CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken, list_signature>(
            [this](auto handler) {
                // Keep the caller's executor and cancellation slot on the inner operation.
                auto slot = boost::asio::get_associated_cancellation_slot(handler);
                auto ex = boost::asio::get_associated_executor(handler, ex_);
                auto wrapped = [this, h = std::move(handler)](error_code ec, list_job_executions_result r) mutable {
                    if (!ec) {
                        ++pages_;
                        req_.next_token = r.next_token;
                        done_ = !r.next_token.has_value();
                    }
                    std::move(h)(ec, std::move(r));
                };
                auto bound = boost::asio::bind_cancellation_slot(
                    slot, boost::asio::bind_executor(ex, std::move(wrapped)));
                if constexpr (std::is_same_v<Request, list_job_executions_for_job_request>)
                    detail::async_list_for_job_erased(impl_, req_, &diag_,
                                                      boost::asio::any_completion_handler<list_signature>(
                                                          std::move(bound)));
                else
                    detail::async_list_for_thing_erased(impl_, req_, &diag_,
                                                        boost::asio::any_completion_handler<list_signature>(
                                                            std::move(bound)));
            },
            token);
    }

private:
    std::shared_ptr<detail::client_impl> impl_;
    boost::asio::any_io_executor ex_;
    Request req_;
    diagnostics diag_;
    bool done_ = false;
    std::size_t pages_ = 0;
};

using job_executions_pager = basic_job_executions_pager<list_job_executions_for_job_request>;
using thing_executions_pager = basic_job_executions_pager<list_job_executions_for_thing_request>;

}  // namespace iotjobs
