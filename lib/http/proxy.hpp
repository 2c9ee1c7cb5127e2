// HTTP proxies: the proxy URL (with Basic credentials), NO_PROXY matching as curl and the AWS
// SDKs do it, which proxy (if any) a connection uses, and the CONNECT request/response. No Beast.
// Every connection goes through the proxy with CONNECT host:port (https and http endpoints alike).
#pragma once

#include <iotjobs/config.hpp>
#include <iotjobs/error.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace iotjobs::detail {

struct proxy_url {
    std::string host;      // without brackets for IPv6 literals
    std::string port;      // "80" when not given (http://), as curl does
    std::string user;      // percent-decoded; empty: no credentials
    std::string password;  // percent-decoded; a secret: never printed
    // "http://host:port", with "user:***@" when there are credentials: the only form in messages.
    std::string display() const;
    // "Basic base64(user:password)"; empty without credentials.
    std::string authorization() const;
};

// "http://[user[:password]@]host[:port][/]" (a URL without a scheme is taken as http://, as curl
// does). https:// proxies are not supported. On failure: client_errc::invalid_configuration and a
// message in `what` naming `source` and never the password.
error_code parse_proxy_url(std::string_view url, std::string_view source, proxy_url& out, std::string& what);

// True when `host` (a name or an IP literal, IPv6 with or without brackets) and `port` match one
// entry of a NO_PROXY list: entries separated by commas (and/or spaces), compared without case;
// "*" matches everything; a name matches itself and its subdomains, with or without a leading dot
// (".example.com" and "example.com" both match example.com and a.example.com, never
// badexample.com); an IP literal matches that address; "10.0.0.0/8" or "fd00::/8" match a CIDR
// block; an entry with ":port" matches that port only.
bool no_proxy_matches(std::string_view no_proxy, std::string_view host, std::string_view port);

// The addresses the SDKs never send through a proxy: instance metadata (169.254.169.254,
// fd00:ec2::254), container credentials (169.254.170.2, 169.254.170.23, fd00:ec2::23) and
// loopback (127.0.0.0/8, ::1, localhost).
bool never_proxied(std::string_view host);

// The proxy settings in force: config.url (and config.no_proxy) when set, else, with
// from_environment, https_proxy / HTTPS_PROXY (tls) or http_proxy / HTTP_PROXY (plain http;
// lowercase first, as curl and Python do) and no_proxy / NO_PROXY, read through `env`.
struct proxy_choice {
    std::string url;     // empty: no proxy configured
    std::string source;  // "client_config.proxy.url", "HTTPS_PROXY", ...
    std::string no_proxy;
    std::string no_proxy_source;
};
proxy_choice choose_proxy(const proxy_config& config, const std::function<const char*(const char*)>& env, bool tls);

// The proxy for a connection to host:port, or nullopt for a direct one (none configured, or
// NO_PROXY matches). A malformed proxy URL is an error (see parse_proxy_url).
error_code proxy_for(const proxy_choice& choice, std::string_view host, std::string_view port,
                     std::optional<proxy_url>& out, std::string& what);

// "CONNECT host:port HTTP/1.1" with Host and, with credentials, Proxy-Authorization.
std::string connect_request(const proxy_url& proxy, std::string_view host, std::string_view port);

// Parses the head of the proxy's answer to CONNECT (up to and including the blank line):
// false when it is not an HTTP/1.x status line.
bool parse_connect_response(std::string_view head, unsigned& status, std::string& reason);

// The message for a refused CONNECT: names the proxy (display()), the target and the status.
std::string connect_refused_message(const proxy_url& proxy, std::string_view host, std::string_view port,
                                    unsigned status, std::string_view reason);

}  // namespace iotjobs::detail
