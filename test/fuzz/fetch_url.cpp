// Fuzz target: the URLs the credential sources fetch from (lib/credentials/parse.cpp
// parse_fetch_url): AWS_CONTAINER_CREDENTIALS_FULL_URI, the IMDS endpoint, the STS and SSO
// endpoint URLs, all from the environment or the config file.
//
// Input: the URL.
#include "credentials/http_fetch.hpp"
#include "fuzz_input.hpp"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace iotjobs::detail;
    const std::string_view in = iotjobs::fuzz::as_text(data, size);
    http_fetch_request req;
    bool https = false;
    std::string why;
    if (!parse_fetch_url(in, req, https, why)) {
        if (why.empty() || !req.host.empty()) std::abort();
        return 0;
    }
    // Accepted: the scheme it says, a host, a port of 1-65535, a target starting with '/', and
    // nothing that could break the request line or the Host header.
    if (https != in.starts_with("https://") || req.host.empty() || req.target.empty() || req.target[0] != '/')
        std::abort();
    unsigned long port = 0;
    for (char c : req.port) {
        if (c < '0' || c > '9') std::abort();
        if (port <= 65535) port = port * 10 + static_cast<unsigned>(c - '0');
    }
    if (port < 1 || port > 65535) std::abort();
    for (const std::string* s : {&req.host, &req.target, &req.port})
        for (char c : *s)
            if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) std::abort();
    if (req.host.find('@') != std::string::npos || req.host.find_first_of("/?") != std::string::npos) std::abort();
    return 0;
}
