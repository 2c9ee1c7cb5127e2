// Fuzz target: the shared config / credentials file parser (lib/endpoint/profile.cpp parse_ini) and
// the checked profile values read from it (profile_bool, profile_positive, services_endpoint_url).
//
// Input: byte 0 bit 0 picks the file (config or credentials; only the messages differ), then the
// file's text.
#include "endpoint/profile.hpp"
#include "fuzz_input.hpp"

#include <iotjobs/error.hpp>

#include <cstdlib>
#include <system_error>

namespace {
bool invalid_configuration(const std::system_error& e) {
    return e.code() == std::error_code(make_error_code(iotjobs::client_errc::invalid_configuration));
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace iotjobs::detail;
    std::string_view in = iotjobs::fuzz::as_text(data, size);
    const bool credentials = iotjobs::fuzz::next_byte(in) & 1;
    const std::string path = credentials ? "/fuzz/.aws/credentials" : "/fuzz/.aws/config";
    ini_sections sections;
    try {
        sections = parse_ini(in, path);
    } catch (const std::system_error& e) {
        if (!invalid_configuration(e)) std::abort();
        return 0;
    }
    for (const auto& [name, section] : sections) {
        profile_settings p;
        p.name = name;
        p.found = true;
        p.config_path = path;
        p.values = section;
        for (const auto& [section_name, s] : sections) {
            if (section_name.starts_with("services ")) p.services.emplace(section_name.substr(9), s);
        }
        for (const auto& [key, value] : section) {
            if (key.empty()) std::abort();  // keys are trimmed and never empty
            if (value.line == 0 || value.file != path) std::abort();
            try {
                (void)profile_bool(p, key, value);
            } catch (const std::system_error& e) {
                if (!invalid_configuration(e)) std::abort();
            }
            try {
                (void)profile_positive(p, key, value);
            } catch (const std::system_error& e) {
                if (!invalid_configuration(e)) std::abort();
            }
        }
        (void)p.get("region");
        try {
            (void)services_endpoint_url(p, "iot");
        } catch (const std::system_error& e) {
            if (!invalid_configuration(e)) std::abort();
        }
    }
    return 0;
}
