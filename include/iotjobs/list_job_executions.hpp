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
                               boost::asio::any_completion_handler<list_signature>, handler_executor);
void async_list_for_thing_erased(std::shared_ptr<client_impl>, list_job_executions_for_thing_request, diagnostics*,
                                 boost::asio::any_completion_handler<list_signature>, handler_executor);

// Which compiled body runs a request type (used by the functions below and by the pager).
template <class Request>
inline constexpr operation_body<Request, list_signature> list_body = nullptr;
template <>
inline constexpr operation_body<list_job_executions_for_job_request, list_signature>
    list_body<list_job_executions_for_job_request> = async_list_for_job_erased;
template <>
inline constexpr operation_body<list_job_executions_for_thing_request, list_signature>
    list_body<list_job_executions_for_thing_request> = async_list_for_thing_erased;
}  // namespace detail

// One page of ListJobExecutionsForJob (GET /jobs/{jobId}/things): the executions of a job.
// Completion: void(error_code, list_job_executions_result); the result is empty on failure, and a
// 2xx answer whose body cannot be parsed completes with client_errc::bad_response.
//
// Validation, signing, retries, errors, executor, cancellation, lifetimes and thread safety are
// those of delete_job_execution (include/iotjobs/delete_job_execution.hpp): the request is taken
// by value, `diag` (when given) must outlive the operation, the client handle need not, any number
// of calls may run concurrently on one client, a cancelled call completes with operation_aborted.
//   list_job_executions_for_job(client, request, diag, token)    (client, request, token)
inline constexpr detail::operation<list_job_executions_for_job_request, list_signature> list_job_executions_for_job{
    detail::async_list_for_job_erased};

// One page of ListJobExecutionsForThing (GET /things/{thingName}/jobs): the executions of a
// thing. Completion, errors and the rest as list_job_executions_for_job.
//   list_job_executions_for_thing(client, request, diag, token)    (client, request, token)
inline constexpr detail::operation<list_job_executions_for_thing_request, list_signature> list_job_executions_for_thing{
    detail::async_list_for_thing_erased};

// Walks the pages of a list request: each async_next() yields the next page, passing the
// previous page's nextToken back unchanged; done() once a page came without one.
//
//   iotjobs::job_executions_pager pager(client, iotjobs::list_job_executions_for_job_request{"job-1"});
//   while (!pager.done()) {
//       auto page = co_await pager.async_next();
//       for (auto& e : page.executions) ...
//   }
//
// Executor, cancellation and errors of async_next() are those of the list call it makes: the
// caller's associated executor and cancellation slot are kept; a failed page leaves the pager
// where it was (async_next() asks for the same page again), and last_diagnostics() describes it.
// Thread safety: one async_next() at a time per pager, and the pager's accessors are not to be
// called while one runs. Lifetimes: the pager must outlive each async_next(); the client handle
// need not (the pager shares the client's implementation).
template <class Request>
class basic_job_executions_pager {
public:
    // Starts at `first` (its next_token, if set, is the first page asked for).
    basic_job_executions_pager(client& c, Request first)
        : impl_(detail::access::impl(c)), ex_(c.get_executor()), req_(std::move(first)) {}

    // True once a page came without a nextToken (the last page was delivered).
    bool done() const noexcept { return done_; }
    // The diagnostics of the latest async_next().
    const diagnostics& last_diagnostics() const noexcept { return diag_; }
    // Pages delivered so far.
    std::size_t pages() const noexcept { return pages_; }

    // The next page. Completion: void(error_code, list_job_executions_result).
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
                auto bound =
                    boost::asio::bind_cancellation_slot(slot, boost::asio::bind_executor(ex, std::move(wrapped)));
                detail::initiate_erased<Request, list_signature>{detail::list_body<Request>}(std::move(bound), impl_,
                                                                                             req_, &diag_);
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
