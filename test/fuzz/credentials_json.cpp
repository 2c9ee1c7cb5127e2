// Fuzz target: the JSON a credential source answers with (lib/credentials/parse.cpp
// parse_credentials_json): credential_process's output (Version 1, SessionToken) and the container
// and IMDS answers (Token), with their ISO 8601 Expiration (parse_iso8601).
//
// Input: byte 0 bit 0 picks the source (1: credential_process, 0: container / IMDS), then the body.
#include "credentials/parse.hpp"
#include "credentials/provider.hpp"
#include "fuzz_input.hpp"

#include <iotjobs/error.hpp>

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace iotjobs::detail;
    std::string_view in = iotjobs::fuzz::as_text(data, size);
    const bool process = iotjobs::fuzz::next_byte(in) & 1;
    resolved_credentials out;
    out.source = "untouched";
    std::string why;
    const auto ec = parse_credentials_json(in, process ? "SessionToken" : "Token", process, out, why);
    if (ec) {
        // A credentials error with a reason; nothing of the answer kept.
        if (ec != iotjobs::error_code(make_error_code(iotjobs::client_errc::credentials_error))) std::abort();
        if (why.empty() || !out.value.access_key_id.empty() || !out.value.secret_access_key.empty() || out.expiration ||
            out.source != "untouched")
            std::abort();
        return 0;
    }
    if (out.value.access_key_id.empty() || out.value.secret_access_key.empty() || out.source != "untouched")
        std::abort();
    if (out.expiration) {
        // Within the accepted years, and the same instant once written back as ISO 8601.
        if (*out.expiration < iso8601_min || *out.expiration >= iso8601_max) std::abort();
        if (parse_iso8601(iotjobs::fuzz::iso8601_utc(*out.expiration)) != out.expiration) std::abort();
    }
    return 0;
}
