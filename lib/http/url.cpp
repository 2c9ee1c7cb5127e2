#include "http/url.hpp"
#include "http/message.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace iotjobs::detail {

std::string_view http_response::header(std::string_view name) const noexcept {
    for (const auto& h : headers)
        if (iequals(h.name, name)) return h.value;
    return {};
}

std::string endpoint_url::text() const {
    std::string s = tls ? "https://" : "http://";
    s += host_header;
    s += base_path;
    return s;
}

namespace {
error_code fail(std::string* what, std::string_view url, std::string_view why) {
    if (what) {
        *what = "invalid endpoint URL \"";
        *what += url;
        *what += "\": ";
        *what += why;
    }
    return make_error_code(client_errc::invalid_endpoint);
}

bool valid_host_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_'; }
}  // namespace

error_code parse_endpoint_url(std::string_view url, endpoint_url& out, std::string* what) {
    endpoint_url r;
    std::string_view rest;
    auto starts = [&](std::string_view p) { return url.size() >= p.size() && iequals(url.substr(0, p.size()), p); };
    if (starts("https://")) {
        r.tls = true;
        rest = url.substr(8);
    } else if (starts("http://")) {
        r.tls = false;
        rest = url.substr(7);
    } else {
        return fail(what, url, "the scheme must be https:// or http://");
    }
    auto slash = rest.find_first_of("/?#");
    std::string_view authority = rest.substr(0, slash);
    std::string_view path = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
    if (!path.empty() && path.front() != '/') return fail(what, url, "query strings and fragments are not allowed");
    if (path.find_first_of("?#") != std::string_view::npos)
        return fail(what, url, "query strings and fragments are not allowed");
    if (authority.find('@') != std::string_view::npos) return fail(what, url, "user information is not allowed");
    if (authority.empty()) return fail(what, url, "the host is missing");

    std::string_view host, port;
    if (authority.front() == '[') {
        auto close = authority.find(']');
        if (close == std::string_view::npos) return fail(what, url, "unterminated IPv6 literal");
        host = authority.substr(1, close - 1);
        auto after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') return fail(what, url, "unexpected text after the IPv6 literal");
            port = after.substr(1);
        }
        if (host.empty() || host.find_first_not_of("0123456789abcdefABCDEF:.") != std::string_view::npos)
            return fail(what, url, "invalid IPv6 literal");
    } else {
        auto colon = authority.rfind(':');
        host = authority.substr(0, colon);
        if (colon != std::string_view::npos) port = authority.substr(colon + 1);
        if (host.empty()) return fail(what, url, "the host is missing");
        if (!std::all_of(host.begin(), host.end(), valid_host_char))
            return fail(what, url, "the host contains characters not allowed in a host name");
    }
    if (!port.empty() || authority.back() == ':') {
        unsigned p = 0;
        auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
        if (port.empty() || ec != std::errc{} || ptr != port.data() + port.size() || p == 0 || p > 65535)
            return fail(what, url, "the port must be a number from 1 to 65535");
    }
    r.host = std::string(host);
    std::string default_port = r.tls ? "443" : "80";
    r.port = port.empty() ? default_port : std::string(port);
    bool bracket = authority.front() == '[';
    r.host_header = bracket ? "[" + r.host + "]" : r.host;
    if (r.port != default_port) r.host_header += ":" + r.port;
    while (!path.empty() && path.back() == '/') path.remove_suffix(1);
    r.base_path = std::string(path);
    out = std::move(r);
    return {};
}

}  // namespace iotjobs::detail
