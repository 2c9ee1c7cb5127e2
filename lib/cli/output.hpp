// --output json|text|table: the responses of the read commands (list, describe) as the AWS CLI
// prints them, the JSON summary of bulk-delete and purge, and the AWS CLI's --max-items /
// --starting-token resume tokens. Pure: no I/O.
#pragma once

#include "cli/cli.hpp"

#include <iotjobs/bulk_delete.hpp>
#include <iotjobs/job_execution.hpp>

#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace iotjobs::cli {

struct bulk_result;
struct bulk_settings;

// A timestamp as the AWS CLI v2 prints it by default (cli_timestamp_format = iso8601): Python's
// datetime.fromtimestamp(t, tzlocal()).isoformat(), e.g. "2026-12-07T04:01:11.038000+00:00"
// (the local time zone, TZ; microseconds only when not zero).
std::string iso8601_timestamp(double epoch_seconds);

// The response JSON, with the model's member names in the model's order.
boost::json::object summary_json(const job_execution_summary& s, bool for_job);  // ...ForJob / ...ForThing
boost::json::object execution_json(const job_execution& e);                      // JobExecution

// The text the AWS CLI prints for a response (nothing for an empty object, as the AWS CLI):
//   json   json.dumps(indent=4, ensure_ascii=False) and a newline
//   text   awscli's text formatter: scalars of an object tab-separated on one line (sorted by
//          key), nested lists and objects on lines of their own prefixed by their upper-cased key
//   table  a boxed table titled `title`: an object's scalars as key | value rows, each list of
//          objects as a table with one column per member (nested members dotted: a.b)
std::string format_response(const boost::json::value& v, output_format f, std::string_view title);
std::string format_json(const boost::json::value& v);
std::string format_text(const boost::json::value& v);
std::string format_table(const boost::json::value& v, std::string_view title);

// The AWS CLI's resume token (botocore's): base64 of {"nextToken": T, "boto_truncate_amount": N}.
struct resume_token {
    std::optional<std::string> next_token;  // the service's token of the page to fetch again
    std::uint64_t truncate_amount = 0;      // items of that page already printed
};
std::string encode_resume_token(const resume_token& t);
// nullopt when `text` is not such a token (also accepts botocore's legacy "T___N").
std::optional<resume_token> decode_resume_token(std::string_view text);

// The JSON summary of bulk-delete and purge (--output json), one line:
//   {"command":"purge","items":N,"outcomes":{"deleted":N,"not_found":N,"refused":N,"failed":N,
//    "not_attempted":N,"invalid_input":N},"skipped":N,"stoppedEarly":false,"stopReason":null,
//    "report":"path"|"-"|null,"seconds":S,"requests":N,"retries":N,"throttled":N,
//    "dryRun":{...} (dry runs), "verification":{...} (purge),
//    "pairs":[{"profile":s|null,"region":s|null,"items":N,"seconds":S,"outcomes":{...},"requests":N,"retries":N,
//    "throttled":N}] (fanned out only), "exitCode":N}
boost::json::object bulk_summary_json(const bulk_result& r, const bulk_settings& s, int exit_code);

// With --output json, at the end of a run: the JSON summary (one line) on ctx.out, or on ctx.err
// when the report goes to standard output (--report -), so that the report stays JSON Lines.
// Nothing with text or table (the human summary on stderr is printed in any case).
void print_bulk_json_summary(const command_context& ctx, const bulk_result& r, const bulk_settings& s, int exit_code);

// The --debug line of one bulk outcome, naming the item, so that the lines of a concurrent run
// can be told apart: "line 12 (thing=sensor-1 job=fw-42 execution=3): refused, HTTP error
// InvalidStateTransitionException, request id R, attempts 1" ("item N" for purge).
std::string outcome_debug_line(const bulk_outcome& o, bool purge);

}  // namespace iotjobs::cli
