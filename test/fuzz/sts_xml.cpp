// Fuzz target: the STS answers of AssumeRole / AssumeRoleWithWebIdentity (lib/credentials/parse.cpp):
// the <Credentials> of a 200 (parse_sts_credentials_xml, with xml_text / xml_unescape and the ISO
// 8601 Expiration) and the Code / Message of an error (sts_error_summary).
//
// Input: the XML body.
#include "credentials/parse.hpp"
#include "fuzz_input.hpp"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace iotjobs::detail;
    const std::string_view in = iotjobs::fuzz::as_text(data, size);
    const std::string summary = sts_error_summary(in);
    if (!summary.empty() && summary[0] != ' ' && summary[0] != ':') std::abort();

    resolved_credentials out;
    out.source = "untouched";
    std::string why;
    if (!parse_sts_credentials_xml(in, out, why)) {
        if (why.empty() || !out.value.access_key_id.empty() || out.expiration || out.source != "untouched")
            std::abort();
        return 0;
    }
    // Accepted: non-empty keys, an expiration that reads back the same, and a <Credentials> element.
    if (out.value.access_key_id.empty() || out.value.secret_access_key.empty() || !out.expiration ||
        out.source != "untouched" || in.find("<Credentials>") == std::string_view::npos)
        std::abort();
    if (*out.expiration < iso8601_min || *out.expiration >= iso8601_max) std::abort();
    if (parse_iso8601(iotjobs::fuzz::iso8601_utc(*out.expiration)) != out.expiration) std::abort();
    // The key is the first AccessKeyId after <Credentials>, unescaped.
    if (const auto raw = xml_text(in.substr(in.find("<Credentials>")), "AccessKeyId");
        !raw || *raw != out.value.access_key_id)
        std::abort();
    return 0;
}
