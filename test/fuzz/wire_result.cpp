// Fuzz target: the JSON result parsers of a 2xx response (lib/jobs/wire.cpp):
// ListJobExecutionsForJob, ListJobExecutionsForThing and DescribeJobExecution.
//
// Input: byte 0 selects the parser (n % 3), the rest is the body.
#include "fuzz_input.hpp"
#include "jobs/wire.hpp"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace iotjobs;
    using namespace iotjobs::detail;
    std::string_view in = fuzz::as_text(data, size);
    const unsigned which = fuzz::next_byte(in) % 3;
    std::string what;
    error_code ec;
    if (which == 2) {
        job_execution out;
        ec = parse_describe_job_execution_response(in, out, &what);
    } else {
        list_job_executions_result out;
        ec = which == 0 ? parse_list_job_executions_for_job_response(in, out, &what)
                        : parse_list_job_executions_for_thing_response(in, out, &what);
        // An empty nextToken is reported as no token.
        if (!ec && out.next_token && out.next_token->empty()) std::abort();
    }
    if (ec && ec != make_error_code(client_errc::bad_response)) std::abort();
    if (ec && what.empty()) std::abort();
    return 0;
}
