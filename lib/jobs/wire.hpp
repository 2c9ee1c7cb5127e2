// The pure wire layer of the IoT Jobs operations (restJson1): validation, percent-encoding,
// request building, error and response parsing. No I/O, no clocks, no global state.
//
// Sources: the IoT service model (botocore, botocore/data/iot/2015-05-28/service-2.json, in
// github.com/boto/botocore) for the operations, and botocore/parsers.py (RestJSONParser) for errors.
#pragma once

#include <iotjobs/delete_job_execution.hpp>
#include <iotjobs/error.hpp>
#include <iotjobs/job_execution.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace iotjobs::detail {

// ---------------------------------------------------------------------------------------------
// Validation. Each returns a default error_code when the value is fine; otherwise the
// client_errc named and, if `what` is given, a message such as
//   thingName 'a b' is invalid: must be 1-128 characters of [a-zA-Z0-9:_-] (character ' ' at offset 1 is not
//   allowed)
// Values are quoted safely in messages (non-printable bytes as \xHH, long values cut).

// thingName: 1-128 characters of [a-zA-Z0-9:_-]            -> client_errc::invalid_thing_name
error_code validate_thing_name(std::string_view value, std::string* what);
// jobId: 1-64 characters of [a-zA-Z0-9_-]                   -> client_errc::invalid_job_id
error_code validate_job_id(std::string_view value, std::string* what);
// namespaceId: 1 or more characters of [a-zA-Z0-9_-]        -> client_errc::invalid_namespace_id
error_code validate_namespace_id(std::string_view value, std::string* what);
// maxResults: 1-250                                         -> client_errc::invalid_parameter
error_code validate_max_results(int value, std::string* what);
// status: one of the eight JobExecutionStatus values         -> client_errc::invalid_parameter
error_code validate_status(job_execution_status value, std::string* what);
// statusDetails: at most 10 pairs, keys 1-128 characters of [a-zA-Z0-9:_-], values non-empty
// valid UTF-8 without control, format, private-use or noncharacter code points
// (the model's [^\p{C}]+, minus unassigned code points, which are not checked)
//                                                            -> client_errc::invalid_parameter
error_code validate_status_details(const std::map<std::string, std::string>& details, std::string* what);

// Parses an executionNumber typed by a user: decimal digits with an optional leading '-', the
// whole signed 64-bit range exactly. Rejects empty text, spaces, '+', hex, floats, overflow.
// On failure leaves `out` alone and, if `what` is given, stores a message naming executionNumber.
bool parse_execution_number(std::string_view text, std::int64_t& out, std::string* what);

// The value as it appears in validation messages: 'text', with ' \ and non-printable bytes
// escaped (\', \\, \xHH) and anything past 64 bytes replaced by "...".
std::string quote_for_message(std::string_view value);

// ---------------------------------------------------------------------------------------------
// Percent-encoding as botocore's percent_encode: every byte outside A-Z a-z 0-9 - . _ ~
// becomes %XX (uppercase hex). Used for URI labels ("my:thing" -> "my%3Athing") and query values
// ("a b" -> "a%20b"); the bytes are taken as they are (UTF-8 in, %XX per byte out).
void append_percent_encoded(std::string& out, std::string_view bytes);
std::string encode_label(std::string_view bytes);
std::string encode_query_value(std::string_view bytes);

// ---------------------------------------------------------------------------------------------
// Request building. The builders do not validate (call validate() first); they encode whatever
// they are given. Query parameters are written in the model's member order, only when set.

struct operation_request {
    std::string_view method;          // "DELETE", "GET", "PUT" (static storage)
    std::string path;                 // percent-encoded once, as on the wire
    std::string query;                // without '?', "" when none
    std::string body;                 // "" when there is no body
    std::string_view content_type;    // "" when there is no body (static storage)
    std::string_view operation_name;  // "DeleteJobExecution", ... (static storage)
};

// DELETE /things/{thingName}/jobs/{jobId}/executionNumber/{n}  ?force=&namespaceId=
operation_request build_request(const delete_job_execution_request& req);
// GET /jobs/{jobId}/things  ?status=&maxResults=&nextToken=
operation_request build_request(const list_job_executions_for_job_request& req);
// GET /things/{thingName}/jobs  ?status=&namespaceId=&maxResults=&nextToken=&jobId=
operation_request build_request(const list_job_executions_for_thing_request& req);
// GET /things/{thingName}/jobs/{jobId}  ?executionNumber=
operation_request build_request(const describe_job_execution_request& req);
// PUT /things/{thingName}/jobs/{jobId}/cancel  ?force=   body {"expectedVersion":N,"statusDetails":{..}}
// or "{}", content type application/json
operation_request build_request(const cancel_job_execution_request& req);

// ---------------------------------------------------------------------------------------------
// restJson1 error responses, as botocore parses them (botocore/parsers.py, BaseRestParser and
// RestJSONParser):
//  1. status >= 500 and the body, stripped of ASCII whitespace, empty or starting "<html>":
//     code = the status in decimal, message = `reason` (the standard phrase if `reason` is empty).
//  2. otherwise the body is parsed as JSON; a body that is not a JSON object becomes
//     {"message": <body text>} (botocore would fail on JSON that is not an object).
//  3. message: body "message", else body "Message", else "" (non-string values are ignored).
//  4. code: x_amzn_error_type, else body "code", else body "Code", else body "__type", else the
//     status in decimal. Each candidate is cleaned (cut at the first ':', then keep what follows
//     the last '#'); empty or non-string candidates are skipped.
//  5. request_id: x_amzn_request_id, else x_amz_request_id.
// Never throws and never crashes, whatever the body holds.
struct parsed_error {
    std::string code;
    std::string message;
    std::string request_id;
    unsigned http_status = 0;
};

parsed_error parse_error_response(unsigned status, std::string_view reason, std::string_view x_amzn_error_type,
                                  std::string_view x_amzn_request_id, std::string_view x_amz_request_id,
                                  std::string_view body) noexcept;

// The cleaning of step 4 (cut at the first ':', keep what follows the last '#'), for tests and the fake
// server.
std::string_view clean_error_code(std::string_view raw) noexcept;

// ---------------------------------------------------------------------------------------------
// Success bodies (Boost.JSON). Missing optional members and unknown members are fine; null counts
// as missing. A body that is not JSON, a member of the wrong type, an unknown status, an
// executionNumber/versionNumber outside int64 or a retryAttempt outside int32 gives
// client_errc::bad_response and, if `what` is given, a message saying what was wrong. `out` is
// only assigned on success. Nothing throws (not even std::bad_alloc, reported as bad_response).
// An empty "nextToken" is reported as no token (the last page).

// {"executionSummaries":[{"thingArn":s,"jobExecutionSummary":{...}}],"nextToken":s?}
error_code parse_list_job_executions_for_job_response(std::string_view body, list_job_executions_result& out,
                                                      std::string* what = nullptr) noexcept;
// {"executionSummaries":[{"jobId":s,"jobExecutionSummary":{...}}],"nextToken":s?}
error_code parse_list_job_executions_for_thing_response(std::string_view body, list_job_executions_result& out,
                                                        std::string* what = nullptr) noexcept;
// {"execution":{...}}; a missing "execution" is bad_response.
error_code parse_describe_job_execution_response(std::string_view body, job_execution& out,
                                                 std::string* what = nullptr) noexcept;

}  // namespace iotjobs::detail
