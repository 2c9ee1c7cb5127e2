// bulk-delete and purge: the pure parts (settings from the options, --status parsing, the progress
// line, the summary, the exit code), declared for the unit tests. The commands themselves are
// bulk_delete_command / purge_command in cli.hpp; everything is implemented in bulk.cpp.
#pragma once

#include "bulk/report.hpp"
#include "cli/cli.hpp"

#include <iotjobs/bulk_delete.hpp>
#include <iotjobs/client.hpp>
#include <iotjobs/client_registry.hpp>
#include <iotjobs/job_execution.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace iotjobs::cli {

inline constexpr std::size_t default_bulk_concurrency = 16;
inline constexpr std::size_t max_bulk_concurrency = 1024;
inline constexpr double max_bulk_rate = 1000000;
// Problems listed in the summary when there is no --report.
inline constexpr std::size_t summary_problem_samples = 5;

enum class bulk_kind { input, purge };

// Everything bulk-delete or purge was asked to do, checked (252 otherwise).
struct bulk_settings {
    bulk_kind kind = bulk_kind::input;
    std::string_view command;  // "bulk-delete" or "purge"
    // bulk-delete
    std::string input;  // a path, or "-" for standard input
    input_format format = input_format::automatic;
    // purge: exactly one of job_id / thing_name
    std::optional<std::string> job_id;
    std::optional<std::string> thing_name;
    std::vector<job_execution_status> statuses;  // empty: every status
    // purge's fan-out: every (profile, region) of these (the global --region / --profile repeated,
    // --regions, --profiles), in order, without repeats; empty: the configured one.
    std::vector<std::string> regions;
    std::vector<std::string> profiles;
    // both
    std::size_t concurrency = default_bulk_concurrency;  // requests in flight, and the pool's size
    double rate = 0;                                     // requests per second; 0: the adaptive limiter
    std::optional<bool> force;                           // --force / --no-force: the items' default
    std::optional<std::string> namespace_id;             // the items' default
    std::optional<std::string> report;                   // JSON Lines report file
    std::vector<std::string> skip_done;                  // bulk-delete: earlier reports (--skip-done, repeatable)
    bool dry_run = false;
};

std::variant<bulk_settings, failure> make_bulk_delete_settings(const parsed_options& opts);
// `globals`: the global options (their lists: --region / --profile given several times).
std::variant<bulk_settings, failure> make_purge_settings(const parsed_options& opts,
                                                         const parsed_options* globals = nullptr);

// "SUCCEEDED,FAILED" -> the statuses, in order, without repeats. The API's names only (case
// matters); blanks around a name are ignored. 252 naming --status otherwise.
std::variant<std::vector<job_execution_status>, failure> parse_status_list(std::string_view text);

// The number of items a regular file holds, for the progress line: its non-blank lines, minus
// the header row for CSV (--format csv, or automatic and the first non-blank character is not
// '{'). nullopt when the file cannot be read. One sequential read, no parsing.
std::optional<std::uint64_t> count_input_items(const std::string& path, input_format format);

// ---------------------------------------------------------------------------------------------
// The progress line (no '\r', no escape sequences).

struct progress_snapshot {
    std::uint64_t done = 0;              // outcomes delivered + items skipped (--skip-done)
    std::optional<std::uint64_t> total;  // items in the input, when known
    std::optional<double> rate;          // outcomes per second over the last seconds
    std::uint64_t throttled = 0;         // throttling responses (client_stats)
    std::uint64_t retried = 0;           // retried attempts (client_stats)
    std::uint64_t failed = 0;
    std::uint64_t refused = 0;
    std::uint64_t invalid = 0;
    bool stopping = false;  // interrupted or stopped early: finishing the requests in flight
    // Fanned out: the items done per (profile, region), as "profile/region" and count.
    std::vector<std::pair<std::string, std::uint64_t>> pairs;
};

//   "1234/30000 4%  1520/s  ETA 19s  throttled 0  retried 2  failed 0"
//   "1234 done  1520/s  throttled 0  retried 2  failed 0"          (total unknown)
// then "  refused N" / "  invalid N" when not zero, "  stopping" when stopping, and when fanned
// out "  |  p1/us-east-1 120  p2/eu-west-1 98" (the items done per profile/region).
std::string format_progress(const progress_snapshot& p);
// 45 -> "45s", 125 -> "2:05", 3725 -> "1:02:05".
std::string format_eta(double seconds);

// ---------------------------------------------------------------------------------------------
// The end of a run.

struct bulk_result {
    bulk_summary summary;
    error_code ec;                        // the run's completion error
    std::optional<bulk_outcome> fatal;    // the first outcome whose error stops every call (is_fatal_for_client)
    std::uint64_t skipped = 0;            // items skipped by --skip-done (their earlier lines carried)
    std::uint64_t carried_deleted = 0;    // of those: earlier outcome deleted
    std::uint64_t carried_not_found = 0;  // ... not_found
    // --dry-run: the valid items by predicted outcome; unknown: the lookup failed.
    std::uint64_t predicted_deleted = 0, predicted_refused = 0, predicted_not_found = 0, predicted_unknown = 0;
    // purge (not a dry run, not stopped early): the verification listing after the run.
    bool verified = false;                                 // it ran to the end
    std::uint64_t remaining = 0;                           // executions still listed
    std::vector<detail::still_present> remaining_samples;  // the first few of them
    std::string verify_error;                              // why it could not run to the end
    bool interrupted = false;                              // SIGINT
    std::string report_error;                              // the report could not be written (the run was stopped)
    std::vector<bulk_outcome> problems;                    // the first few outcomes other than deleted / not_found
    client_stats stats;                                    // the clients' counters at the end (added up)
    // Fanned out (several (profile, region) pairs, or items naming one): each pair's run.
    struct pair_result {
        client_key key;  // profile and region as the run used them ("" in neither)
        bulk_summary summary;
        client_stats stats;
    };
    std::vector<pair_result> pairs;
};

// The exit code and the message for stderr (printed after the summary; may be empty):
//   report_error          -> 255
//   interrupted           -> 130
//   fatal service error   -> 254, "An error occurred (Name) when calling the DeleteJobExecution operation: ..."
//   the input failed      -> 252 (unusable: bad CSV header, nothing sent), 255 (unreadable);
//                            purge: the listing's error as the AWS CLI prints it (254 or 255)
//   no valid item at all, but invalid lines -> 252
//   any refused, failed, invalid_input or (not a dry run) not_attempted item -> 254
//   dry run: any item predicted refused, or whose lookup failed -> 254
//   purge: any execution still listed by the verification -> 254; verification failed -> 255
//   otherwise 0 (every item deleted or not_found, --skip-done's carried items included).
failure bulk_result_failure(const bulk_result& r, const bulk_settings& s, std::string_view endpoint,
                            unsigned max_attempts);

// The summary printed on stderr at the end of every run (several lines, '\n'-terminated).
std::string format_summary(const bulk_result& r, const bulk_settings& s);

}  // namespace iotjobs::cli
