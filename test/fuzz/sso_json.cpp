// Fuzz target: the IAM Identity Center (SSO) inputs (lib/credentials/parse.cpp): the token cache
// file that "aws sso login" writes (parse_sso_token_cache: accessToken, expiresAt) and the portal's
// GetRoleCredentials answer (parse_role_credentials_json: roleCredentials, expiration in ms).
//
// Input: byte 0 bit 0 picks the parser (0: token cache, 1: GetRoleCredentials), then the JSON.
#include "credentials/parse.hpp"
#include "fuzz_input.hpp"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace std::chrono;
    using namespace iotjobs::detail;
    std::string_view in = iotjobs::fuzz::as_text(data, size);
    const bool portal = iotjobs::fuzz::next_byte(in) & 1;
    if (!portal) {
        std::string token = "untouched";
        std::optional<system_clock::time_point> expires;
        if (!parse_sso_token_cache(in, token, expires)) {
            if (token != "untouched" || expires) std::abort();
            return 0;
        }
        if (expires) {
            if (*expires < iso8601_min || *expires >= iso8601_max) std::abort();
            if (parse_iso8601(iotjobs::fuzz::iso8601_utc(*expires)) != expires) std::abort();
        }
        return 0;
    }
    resolved_credentials out;
    out.source = "untouched";
    if (!parse_role_credentials_json(in, out)) {
        if (!out.value.access_key_id.empty() || out.expiration || out.source != "untouched") std::abort();
        return 0;
    }
    // Accepted: non-empty keys, an expiration of whole milliseconds within the accepted years.
    if (out.value.access_key_id.empty() || out.value.secret_access_key.empty() || !out.expiration ||
        out.source != "untouched")
        std::abort();
    if (*out.expiration < iso8601_min || *out.expiration >= iso8601_max) std::abort();
    if (out.expiration->time_since_epoch() % milliseconds(1) != system_clock::duration::zero()) std::abort();
    return 0;
}
