// Fuzz target: the restJson1 error parser (lib/jobs/wire.cpp parse_error_response), which every
// non-2xx response reaches, and the error mapping that follows it (service_errc_from_response).
//
// Input: bytes 0-1 = the status (100 + n % 500), then '\n'-separated: reason, x-amzn-ErrorType,
// x-amzn-RequestId, x-amz-request-id, then the body (the rest, newlines included).
#include "fuzz_input.hpp"
#include "jobs/wire.hpp"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace iotjobs::detail;
    std::string_view in = iotjobs::fuzz::as_text(data, size);
    unsigned status = iotjobs::fuzz::next_byte(in);
    status = 100 + (status << 8 | iotjobs::fuzz::next_byte(in)) % 500;
    const auto reason = iotjobs::fuzz::next_line(in);
    const auto error_type = iotjobs::fuzz::next_line(in);
    const auto amzn_request_id = iotjobs::fuzz::next_line(in);
    const auto amz_request_id = iotjobs::fuzz::next_line(in);
    const parsed_error e = parse_error_response(status, reason, error_type, amzn_request_id, amz_request_id, in);
    if (e.http_status != status) std::abort();
    // The cleaned code has neither ':' nor '#' (step 4).
    if (e.code.find(':') != std::string::npos || e.code.find('#') != std::string::npos) std::abort();
    (void)clean_error_code(error_type);
    (void)iotjobs::service_errc_from_response(e.http_status, e.code);
    return 0;
}
