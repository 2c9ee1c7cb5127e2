// Job execution types shared by ListJobExecutionsForJob, ListJobExecutionsForThing,
// DescribeJobExecution and CancelJobExecution, and the validate() of their requests.
#pragma once

#include <iotjobs/error.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace iotjobs {

// JobExecutionStatus of the service model.
enum class job_execution_status {
    queued,       // QUEUED
    in_progress,  // IN_PROGRESS
    succeeded,    // SUCCEEDED
    failed,       // FAILED
    timed_out,    // TIMED_OUT
    rejected,     // REJECTED
    removed,      // REMOVED
    canceled,     // CANCELED
};

// The wire name ("QUEUED", ...); an empty view for a value outside the enumeration.
std::string_view to_string(job_execution_status s) noexcept;
// Parses an exact wire name (case-sensitive). Returns false, leaving `out` alone, otherwise.
bool from_string(std::string_view wire_name, job_execution_status& out) noexcept;

// One entry of a ListJobExecutionsFor{Job,Thing} page. Timestamps are epoch seconds
// (with a fraction); absent fields stay empty.
struct job_execution_summary {
    std::string thing_arn;  // set by ListJobExecutionsForJob
    std::string job_id;     // set by ListJobExecutionsForThing
    job_execution_status status = job_execution_status::queued;
    std::optional<std::int64_t> execution_number;
    std::optional<std::int32_t> retry_attempt;
    std::optional<double> queued_at;
    std::optional<double> started_at;
    std::optional<double> last_updated_at;
};

// GET /jobs/{jobId}/things
struct list_job_executions_for_job_request {
    std::string job_id;  // 1-64 chars of [a-zA-Z0-9_-]
    std::optional<job_execution_status> status;
    std::optional<int> max_results;         // 1-250
    std::optional<std::string> next_token;  // opaque, from the previous page, sent unchanged

    list_job_executions_for_job_request() = default;
    list_job_executions_for_job_request(std::string job, std::optional<job_execution_status> status_ = std::nullopt,
                                        std::optional<int> max_results_ = std::nullopt,
                                        std::optional<std::string> next_token_ = std::nullopt)
        : job_id(std::move(job)), status(status_), max_results(max_results_), next_token(std::move(next_token_)) {}
};

// GET /things/{thingName}/jobs
struct list_job_executions_for_thing_request {
    std::string thing_name;  // 1-128 chars of [a-zA-Z0-9:_-]
    std::optional<job_execution_status> status;
    std::optional<std::string> namespace_id;  // [a-zA-Z0-9_-]+
    std::optional<int> max_results;           // 1-250
    std::optional<std::string> next_token;    // opaque, from the previous page, sent unchanged
    std::optional<std::string> job_id;        // filter: 1-64 chars of [a-zA-Z0-9_-]

    list_job_executions_for_thing_request() = default;
    list_job_executions_for_thing_request(std::string thing, std::optional<job_execution_status> status_ = std::nullopt,
                                          std::optional<std::string> namespace_ = std::nullopt,
                                          std::optional<int> max_results_ = std::nullopt,
                                          std::optional<std::string> next_token_ = std::nullopt,
                                          std::optional<std::string> job_ = std::nullopt)
        : thing_name(std::move(thing)),
          status(status_),
          namespace_id(std::move(namespace_)),
          max_results(max_results_),
          next_token(std::move(next_token_)),
          job_id(std::move(job_)) {}
};

// One page of either list operation. next_token is empty on the last page.
struct list_job_executions_result {
    std::vector<job_execution_summary> executions;
    std::optional<std::string> next_token;
};

// GET /things/{thingName}/jobs/{jobId}[?executionNumber=N]
struct describe_job_execution_request {
    std::string thing_name;                        // 1-128 chars of [a-zA-Z0-9:_-]
    std::string job_id;                            // 1-64 chars of [a-zA-Z0-9_-]
    std::optional<std::int64_t> execution_number;  // latest execution when empty

    describe_job_execution_request() = default;
    describe_job_execution_request(std::string thing, std::string job,
                                   std::optional<std::int64_t> number = std::nullopt)
        : thing_name(std::move(thing)), job_id(std::move(job)), execution_number(number) {}
};

// DescribeJobExecution's "execution".
struct job_execution {
    std::string job_id;
    std::string thing_arn;
    job_execution_status status = job_execution_status::queued;
    bool force_canceled = false;                        // absent on the wire = false
    std::map<std::string, std::string> status_details;  // statusDetails.detailsMap
    std::optional<double> queued_at;
    std::optional<double> started_at;
    std::optional<double> last_updated_at;
    std::optional<std::int64_t> execution_number;
    std::optional<std::int64_t> version_number;
    std::optional<std::int64_t> approximate_seconds_before_timed_out;
};

// PUT /things/{thingName}/jobs/{jobId}/cancel[?force=true|false]
struct cancel_job_execution_request {
    std::string thing_name;     // 1-128 chars of [a-zA-Z0-9:_-]
    std::string job_id;         // 1-64 chars of [a-zA-Z0-9_-]
    std::optional<bool> force;  // needed to cancel an IN_PROGRESS execution
    std::optional<std::int64_t> expected_version;
    // At most 10 pairs; keys 1-128 chars of [a-zA-Z0-9:_-]; values non-empty UTF-8 without
    // control or format characters. Not sent when empty.
    std::map<std::string, std::string> status_details;

    cancel_job_execution_request() = default;
    cancel_job_execution_request(std::string thing, std::string job, std::optional<bool> force_ = std::nullopt,
                                 std::optional<std::int64_t> expected_version_ = std::nullopt,
                                 std::map<std::string, std::string> status_details_ = {})
        : thing_name(std::move(thing)),
          job_id(std::move(job)),
          force(force_),
          expected_version(expected_version_),
          status_details(std::move(status_details_)) {}
};

// The request types are plain structs of public fields with constructors taking the fields in
// declaration order. The constructors exist for GCC 12: an *aggregate*-initialised temporary with
// non-trivial members, created inside a co_await expression, is destroyed twice by GCC 12 (a double
// free). With a constructor, `co_await list_job_executions_for_job(client, {"job-1"})` is safe
// (test/asan/brace_init_requests.cpp). Keep them non-aggregates.
static_assert(!std::is_aggregate_v<list_job_executions_for_job_request>);
static_assert(!std::is_aggregate_v<list_job_executions_for_thing_request>);
static_assert(!std::is_aggregate_v<describe_job_execution_request>);
static_assert(!std::is_aggregate_v<cancel_job_execution_request>);

// Check a request against the service model. On failure return client_errc::invalid_thing_name,
// invalid_job_id, invalid_namespace_id or invalid_parameter (status, maxResults, statusDetails)
// and, if `what` is given, store a message naming the field and the rule it breaks.
// Never touch the network; never throw except std::bad_alloc.
error_code validate(const list_job_executions_for_job_request& req, std::string* what = nullptr);
error_code validate(const list_job_executions_for_thing_request& req, std::string* what = nullptr);
error_code validate(const describe_job_execution_request& req, std::string* what = nullptr);
error_code validate(const cancel_job_execution_request& req, std::string* what = nullptr);

}  // namespace iotjobs
