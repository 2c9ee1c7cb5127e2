// Bulk delete: many DeleteJobExecution calls at once, at a bounded concurrency and rate, with
// exactly one outcome per item, delivered as it happens. Memory is bounded by max_in_flight,
// not by the number of items.
#pragma once

#include <iotjobs/client.hpp>
#include <iotjobs/detail/operation_glue.hpp>
#include <iotjobs/delete_job_execution.hpp>
#include <iotjobs/diagnostics.hpp>
#include <iotjobs/job_execution.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/deferred.hpp>

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace iotjobs {

// One item of a bulk run: a request plus where it came from.
struct bulk_item {
    delete_job_execution_request request;
    std::uint64_t line = 0;  // 1-based line of the input file, or the item's index in a range; 0 = unknown
    // The execution's status when the source knows it (the list source: from the listing); a dry
    // run predicts the outcome from it (and looks it up with DescribeJobExecution when unknown).
    std::optional<job_execution_status> status;
    // Fan-out (client_registry.hpp): the profile and region whose client deletes this item; empty:
    // the run's default. The stream source reads them from region / profile columns or members.
    std::string profile;
    std::string region;
};

enum class bulk_outcome_kind {
    deleted,        // the service answered 200
    not_found,      // ResourceNotFoundException (see earlier_attempt_may_have_succeeded)
    refused,        // the service refused it (InvalidStateTransition, InvalidRequest, ...): message says why
    failed,         // failed after retries (throttling, 5xx, network, ...): error says which
    not_attempted,  // the run stopped (or was a dry run) before this item was sent
    invalid_input,  // the input line could not be parsed or breaks the model's rules; nothing sent
};
std::string_view to_string(bulk_outcome_kind k) noexcept;

// What DeleteJobExecution would do to an execution in `status`: deleted for a terminal status
// (SUCCEEDED, FAILED, TIMED_OUT, REJECTED, REMOVED, CANCELED), and for QUEUED / IN_PROGRESS only
// with force; refused otherwise (InvalidStateTransitionException).
bulk_outcome_kind predict_delete_outcome(job_execution_status status, bool force) noexcept;

struct bulk_outcome {
    bulk_item item;
    bulk_outcome_kind kind = bulk_outcome_kind::not_attempted;
    error_code ec;               // the call's error (default for deleted)
    std::string aws_error_name;  // e.g. "InvalidStateTransitionException"
    std::string message;         // the service's or the client's explanation
    std::string raw_input;       // invalid_input only: the offending line, whole (up to 64 KiB)
    // Every attempt for the item. A call that gives up throttled is made again (throttling alone
    // never fails an item; the run slows down instead), so this may exceed retry.max_attempts.
    unsigned attempts = 0;
    std::string request_id;  // x-amzn-RequestId of the last response, when the service answered
    bool earlier_attempt_may_have_succeeded = false;
    // Dry runs (kind not_attempted): what a real run would do, from item.status (deleted or
    // refused), or not_found when DescribeJobExecution did not find it; nullopt when the lookup
    // failed (ec / message say why).
    std::optional<bulk_outcome_kind> predicted;
};

// A source of items, pulled one at a time by the engine (never concurrently).
class bulk_source {
public:
    virtual ~bulk_source() = default;
    // Completes with (error, item): an item; or no error and nullopt at the end; or an error that
    // ends the run (e.g. a List call that failed after retries). An unparseable input line is an
    // item with `invalid` set (see bulk_pull), not an error.
    struct pull {
        std::optional<bulk_item> item;
        std::optional<std::string> invalid;  // why the line at item->line is invalid
        std::string raw;                     // the raw line, for reports
    };
    virtual void async_next(boost::asio::any_completion_handler<void(error_code, pull)> handler) = 0;
    // True when the rest of the input can be read cheaply to report it as not_attempted when the
    // run stops early (files, ranges); false for list-based sources (purge), which just stop.
    virtual bool drain_on_stop() const noexcept { return true; }
    // After a failed async_next: the diagnostics of the call that failed (a List call of a
    // list-based source), or null when the source makes no calls.
    virtual const diagnostics* last_diagnostics() const noexcept { return nullptr; }
};

// Sources.
// Items from a vector (moved in); index = position + 1.
std::unique_ptr<bulk_source> make_vector_source(std::vector<delete_job_execution_request> items);
// Items from a generator: returns nullopt at the end.
std::unique_ptr<bulk_source> make_generator_source(std::function<std::optional<delete_job_execution_request>()> next);

enum class input_format { automatic, csv, jsonl };
// Items from a stream (a file or stdin): CSV with a header row (thingName,jobId,executionNumber
// [,force][,namespaceId][,region][,profile], any order) or JSON Lines ({"thingName":..,"jobId":..,
// "executionNumber":..,"force":..?,"namespaceId":..?,"region":..?,"profile":..?}).
// automatic: JSON Lines if the first non-blank character is '{'.
// Blank lines are skipped. The stream must outlive the run.
std::unique_ptr<bulk_source> make_stream_source(std::istream& in, input_format format = input_format::automatic);

// The executions of a job (ListJobExecutionsForJob) or of a thing (ListJobExecutionsForThing),
// one pass per status in `statuses` (all statuses when empty), page by page.
struct list_source_params {
    std::optional<std::string> job_id;  // exactly one of job_id / thing_name
    std::optional<std::string> thing_name;
    std::vector<job_execution_status> statuses;
    std::optional<std::string> namespace_id;  // thing listing filter, and passed to the deletes
    int page_size = 250;
};
// The source shares the client's implementation: the client handle may be moved or destroyed
// while the source is in use.
std::unique_ptr<bulk_source> make_list_source(client& c, list_source_params params);

struct bulk_options {
    std::size_t max_in_flight = 16;  // concurrent deletes
    // Requests per second (fixed rate, exact over time). 0: the client's adaptive rate limiter
    // (AWS SDK adaptive mode, shared by every call of the client) paces the run; it stays on for
    // the client's later calls (use a separate client for bulk work if that matters). Either way
    // an item whose call gives up throttled is sent again until it gets another answer, the run
    // stops or it is cancelled: a quota the account never grants keeps the run waiting.
    double rate_limit = 0;
    std::optional<bool> default_force;                // applied to items that do not say
    std::optional<std::string> default_namespace_id;  // applied to items that do not say
    // Read and validate everything, delete nothing: every valid item is not_attempted with
    // `predicted` set; items without a known status are looked up with DescribeJobExecution (at
    // max_in_flight).
    bool dry_run = false;
};

// Why a run stopped before its end (bulk_summary::stop_kind).
enum class bulk_stop_reason {
    none,                   // it did not stop early
    cancelled,              // the bulk_delete operation was cancelled (stop_error operation_aborted)
    source_failed,          // the source completed with an error or threw (stop_detail says what)
    fatal_error,            // a call failed in a way every remaining call would (stop_outcome says which)
    outcome_handler_threw,  // the outcome handler threw (stop_detail: what())
};
std::string_view to_string(bulk_stop_reason r) noexcept;

struct bulk_summary {
    std::uint64_t items = 0;  // outcomes delivered
    std::uint64_t deleted = 0, not_found = 0, refused = 0, failed = 0, not_attempted = 0, invalid_input = 0;
    std::uint64_t possibly_deleted_earlier = 0;  // not_found after a retry of a possibly processed attempt
    bool stopped_early = false;
    bulk_stop_reason stop_kind = bulk_stop_reason::none;  // why it stopped early, as a type
    error_code stop_error;    // why it stopped early (the fatal service error, or operation_aborted)
    std::string stop_reason;  // human-readable, for display (not to be parsed)
    std::string stop_detail;  // source_failed / outcome_handler_threw: the source's or handler's own words
    // fatal_error: the call that stopped the run (its item, error, AWS error name, message, attempts)
    // and its diagnostics; source_failed: the failed List call's diagnostics (list sources).
    std::optional<bulk_outcome> stop_outcome;
    diagnostics stop_diagnostics;
    double seconds = 0;
};

using bulk_outcome_handler = std::function<void(const bulk_outcome&)>;
using bulk_signature = void(error_code, bulk_summary);

namespace detail {
// What bulk_delete passes to its compiled body (the operation's "request").
struct bulk_call {
    bulk_source* source = nullptr;
    bulk_options options;
    bulk_outcome_handler on_outcome;

    bulk_call(bulk_source& s, bulk_options o, bulk_outcome_handler cb)
        : source(&s), options(std::move(o)), on_outcome(std::move(cb)) {}
};
void async_bulk_delete_erased(std::shared_ptr<client_impl> c, bulk_call call, diagnostics* diag,
                              boost::asio::any_completion_handler<bulk_signature> handler, handler_executor);
}  // namespace detail

// Deletes every item of `source`, calling `on_outcome` once per item as outcomes arrive.
// Completes with void(error_code, bulk_summary): the error is the source's error, or the fatal
// service error that stopped the run early (unknown key, invalid signature, access denied,
// expired token), or operation_aborted when cancelled; the summary holds the counts either way.
// `diag`, when given, receives the summary's stop_diagnostics (the call that stopped the run, or
// the failed List call of a list source; cleared when nothing stopped it).
//
// Executor: the run works on a strand over the client's executor; `on_outcome` is called on that
// strand, never concurrently with itself, and may throw (the run stops: outcome_handler_threw).
// The completion handler is invoked through its associated executor, never inline.
//
// Cancellation: partial or total = stop taking new items, finish those in flight, report the rest
// as not_attempted (where the source can be drained); terminal = also abort the calls in flight.
// client::cancel() aborts the calls in flight (each then reported as failed with operation_aborted)
// but does not stop the run.
//
// Lifetimes: `source` and `diag` must outlive the operation; `options` and `on_outcome` are moved
// in. The client handle need not (the run shares the client's implementation, so the handle may
// be moved or destroyed while it runs). Thread safety: runs may overlap with each other and with
// other calls on the same client; the rate limit of each run is its own.
template <boost::asio::completion_token_for<bulk_signature> CompletionToken = boost::asio::deferred_t>
auto bulk_delete(client& c, bulk_source& source, bulk_options options, bulk_outcome_handler on_outcome,
                 diagnostics& diag, CompletionToken&& token = {}) {
    return detail::initiate_operation(detail::async_bulk_delete_erased, c,
                                      detail::bulk_call(source, std::move(options), std::move(on_outcome)), &diag,
                                      std::forward<CompletionToken>(token));
}

// As above, without diagnostics (summary.stop_diagnostics holds them).
template <boost::asio::completion_token_for<bulk_signature> CompletionToken = boost::asio::deferred_t>
auto bulk_delete(client& c, bulk_source& source, bulk_options options, bulk_outcome_handler on_outcome,
                 CompletionToken&& token = {}) {
    return detail::initiate_operation(detail::async_bulk_delete_erased, c,
                                      detail::bulk_call(source, std::move(options), std::move(on_outcome)), nullptr,
                                      std::forward<CompletionToken>(token));
}

}  // namespace iotjobs
