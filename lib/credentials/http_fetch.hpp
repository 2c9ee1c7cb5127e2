// One HTTP request for the credential providers: plain HTTP to loopback and link-local addresses
// (container, IMDS), HTTPS to STS (verified against the system store or a CA bundle); small
// bodies, a deadline, no keep-alive. The only credentials file that includes Beast is
// http_fetch.cpp.
#pragma once

#include <iotjobs/error.hpp>

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace iotjobs::detail {

struct http_fetch_request {
    std::string method = "GET";
    std::string host;  // name or IP literal (IPv6 without brackets)
    std::string port = "80";
    std::string target;                                        // path and query
    std::vector<std::pair<std::string, std::string>> headers;  // Host and Connection are added
    std::string body;                                          // sent with Content-Length (methods other than GET)
    std::chrono::milliseconds timeout{1000};                   // resolve + connect + (TLS) + write + read, together
    bool tls = false;                                          // https: verified (peer certificate and host name)
    std::string ca_bundle;                                     // PEM file; empty: the system trust store
    // Set: the proxy variables (https_proxy / HTTPS_PROXY, http_proxy / HTTP_PROXY, no_proxy /
    // NO_PROXY) are read through it, and a proxied request goes through CONNECT host:port. Hosts
    // that are never proxied (http/proxy.hpp never_proxied: IMDS, container, loopback) go direct.
    const std::function<const char*(const char*)>* env = nullptr;
};

struct http_fetch_response {
    unsigned status = 0;
    std::string body;          // at most 64 KiB
    std::string error_detail;  // with some errors: the proxy's refusal or why it could not be reached
};

// The words for a failed http_fetch: error_detail when there is one, else ec.message().
inline std::string fetch_error_text(const error_code& ec, const http_fetch_response& r) {
    return r.error_detail.empty() ? ec.message() : r.error_detail;
}

// Runs on the awaiting coroutine's executor. A proxy that refuses the tunnel: client_errc::proxy_error
// (`out.status` is the proxy's); a malformed proxy URL: client_errc::invalid_configuration. Errors: Asio/Beast codes (beast::error::timeout for
// the deadline), client_errc::bad_response for an unparsable or oversized answer.
boost::asio::awaitable<error_code> http_fetch(const http_fetch_request& req, http_fetch_response& out);

// http_fetch, tried up to three times while it fails or the server answers 5xx (the STS and SSO
// portal calls); a proxy's 4xx refusal of the tunnel is not tried again. `out` holds the last
// attempt's answer.
boost::asio::awaitable<error_code> http_fetch_retrying(const http_fetch_request& req, http_fetch_response& out);

// "http://host[:port][/path[?query]]" (also https, reported in `https`). The target is "/" when
// the URL has no path (credentials/parse.cpp). False with `why` on anything else: user information, a port outside
// 1-65535, a space or a control character anywhere.
bool parse_fetch_url(std::string_view url, http_fetch_request& out, bool& https, std::string& why);

}  // namespace iotjobs::detail
