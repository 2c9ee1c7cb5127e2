// The read commands' parameters (pure, for the unit tests); the commands are in cli.hpp.
#pragma once

#include "cli/cli.hpp"
#include "cli/output.hpp"

#include <iotjobs/describe_job_execution.hpp>
#include <iotjobs/job_execution.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>

namespace iotjobs::cli {

// The AWS CLI's pagination options of a list command. --max-results / --next-token (the
// service's own) turn automatic pagination off, as the AWS CLI does.
struct paging {
    std::optional<int> max_results;          // --max-results
    std::optional<std::string> next_token;   // --next-token
    std::optional<int> page_size;            // --page-size
    std::optional<std::uint64_t> max_items;  // --max-items
    std::optional<resume_token> starting;    // --starting-token, decoded
};

struct list_for_job_params {
    list_job_executions_for_job_request request;
    paging pages;
};
struct list_for_thing_params {
    list_job_executions_for_thing_request request;
    paging pages;
};

// 252 ("Parameter validation failed: ...") on bad values.
std::variant<list_for_job_params, failure> make_list_for_job_params(const parsed_options& o);
std::variant<list_for_thing_params, failure> make_list_for_thing_params(const parsed_options& o);
std::variant<describe_job_execution_request, failure> make_describe_request(const parsed_options& o);
std::variant<cancel_job_execution_request, failure> make_cancel_request(const parsed_options& o);

// --status-details: "K1=v1,K2=v2" (the AWS CLI's shorthand) or a JSON object of strings; nullopt
// when it is neither.
std::optional<std::map<std::string, std::string>> parse_status_details(std::string_view text);

}  // namespace iotjobs::cli
