// Endpoint URLs: "https://host[:port][/base]" or "http://...".
#pragma once

#include <iotjobs/error.hpp>

#include <string>
#include <string_view>

namespace iotjobs::detail {

struct endpoint_url {
    bool tls = true;
    std::string host;          // without brackets for IPv6 literals
    std::string port;          // "443" / "80" when not given
    std::string host_header;   // host[:port] as the Host header and SigV4 want it (no default port)
    std::string base_path;     // "" or "/prefix" (no trailing slash)
    std::string text() const;  // normalised URL
};

// Parses an endpoint URL; on failure returns client_errc::invalid_endpoint and a message in `what`.
error_code parse_endpoint_url(std::string_view url, endpoint_url& out, std::string* what = nullptr);

}  // namespace iotjobs::detail
