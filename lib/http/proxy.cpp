#include "http/proxy.hpp"

#include "http/message.hpp"
#include "util/encoding.hpp"

#include <boost/asio/ip/address.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <vector>

namespace iotjobs::detail {
namespace {

namespace ip = boost::asio::ip;

std::string_view unbracket(std::string_view h) {
    if (h.size() >= 2 && h.front() == '[' && h.back() == ']') return h.substr(1, h.size() - 2);
    return h;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool percent_decode(std::string_view in, std::string& out) {
    out.clear();
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i] != '%') {
            out += in[i];
            continue;
        }
        if (i + 2 >= in.size()) return false;
        const int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
        if (hi < 0 || lo < 0) return false;
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return true;
}

bool valid_port(std::string_view p) {
    unsigned v = 0;
    auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
    return !p.empty() && ec == std::errc{} && ptr == p.data() + p.size() && v > 0 && v <= 65535;
}

std::vector<unsigned char> address_bytes(const ip::address& a) {
    if (a.is_v4()) {
        const auto b = a.to_v4().to_bytes();
        return {b.begin(), b.end()};
    }
    const auto b = a.to_v6().to_bytes();
    return {b.begin(), b.end()};
}

// One NO_PROXY entry (already trimmed, lowercase) against a lowercase host without brackets.
bool entry_matches(std::string_view entry, std::string_view host, std::string_view port) {
    if (entry == "*") return true;
    // An optional ":port" (not inside an IPv6 literal: "[::1]:8080", or a name/IPv4 with one colon).
    std::string_view entry_port;
    if (entry.front() == '[') {
        const auto close = entry.find(']');
        if (close == std::string_view::npos) return false;
        if (close + 1 < entry.size() && entry[close + 1] == ':') entry_port = entry.substr(close + 2);
        entry = entry.substr(1, close - 1);
    } else if (std::count(entry.begin(), entry.end(), ':') == 1) {
        const auto colon = entry.find(':');
        entry_port = entry.substr(colon + 1);
        entry = entry.substr(0, colon);
    }
    if (!entry_port.empty() && entry_port != port) return false;
    boost::system::error_code ec;
    const ip::address host_ip = ip::make_address(std::string(host), ec);
    const bool host_is_ip = !ec;
    if (const auto slash = entry.find('/'); slash != std::string_view::npos) {  // CIDR block
        if (!host_is_ip) return false;
        const ip::address net = ip::make_address(std::string(entry.substr(0, slash)), ec);
        unsigned bits = 0;
        auto rest = entry.substr(slash + 1);
        auto [p, pec] = std::from_chars(rest.data(), rest.data() + rest.size(), bits);
        if (ec || pec != std::errc{} || p != rest.data() + rest.size() || net.is_v4() != host_ip.is_v4()) return false;
        const auto a = address_bytes(net);
        const auto b = address_bytes(host_ip);
        if (bits > a.size() * 8) return false;
        for (unsigned i = 0; i < bits; ++i) {
            const unsigned mask = 0x80u >> (i % 8);
            if ((a[i / 8] & mask) != (b[i / 8] & mask)) return false;
        }
        return true;
    }
    if (const ip::address entry_ip = ip::make_address(std::string(entry), ec); !ec)
        return host_is_ip && entry_ip == host_ip;
    // ".example.com", and "*.example.com" as some tools write it.
    while (!entry.empty() && (entry.front() == '.' || entry.front() == '*')) entry.remove_prefix(1);
    if (entry.empty()) return false;
    if (host == entry) return true;
    return host.size() > entry.size() && host.ends_with(entry) && host[host.size() - entry.size() - 1] == '.';
}

error_code bad_proxy(std::string& what, std::string_view source, std::string_view why) {
    what = "invalid proxy URL (from " + std::string(source) + "): " + std::string(why);
    return make_error_code(client_errc::invalid_configuration);
}

}  // namespace

std::string proxy_url::display() const {
    std::string s = "http://";
    if (!user.empty() || !password.empty()) s += user + ":***@";
    s += host.find(':') != std::string::npos ? "[" + host + "]" : host;
    s += ":" + port;
    return s;
}

std::string proxy_url::authorization() const {
    if (user.empty() && password.empty()) return {};
    return "Basic " + base64_encode(user + ":" + password);
}

error_code parse_proxy_url(std::string_view url, std::string_view source, proxy_url& out, std::string& what) {
    std::string_view rest = url;
    if (const auto scheme = rest.find("://"); scheme != std::string_view::npos) {
        if (!iequals(rest.substr(0, scheme), "http"))
            return bad_proxy(what, source, "the scheme must be http:// (https:// proxies are not supported)");
        rest.remove_prefix(scheme + 3);
    }
    if (const auto end = rest.find_first_of("/?#"); end != std::string_view::npos) {
        if (rest.substr(end).find_first_not_of('/') != std::string_view::npos)
            return bad_proxy(what, source, "a proxy URL has no path, query or fragment");
        rest = rest.substr(0, end);
    }
    proxy_url r;
    if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
        const std::string_view info = rest.substr(0, at);
        const auto colon = info.find(':');
        if (!percent_decode(info.substr(0, colon), r.user) ||
            (colon != std::string_view::npos && !percent_decode(info.substr(colon + 1), r.password)))
            return bad_proxy(what, source, "bad percent-encoding in the user name or password");
        rest.remove_prefix(at + 1);
    }
    std::string_view host = rest, port;
    if (!rest.empty() && rest.front() == '[') {
        const auto close = rest.find(']');
        if (close == std::string_view::npos) return bad_proxy(what, source, "unterminated IPv6 literal");
        host = rest.substr(1, close - 1);
        if (close + 1 < rest.size()) {
            if (rest[close + 1] != ':') return bad_proxy(what, source, "unexpected text after the IPv6 literal");
            port = rest.substr(close + 2);
        }
    } else if (const auto colon = rest.rfind(':'); colon != std::string_view::npos) {
        host = rest.substr(0, colon);
        port = rest.substr(colon + 1);
    }
    if (host.empty()) return bad_proxy(what, source, "the host is missing");
    if (port.empty()) port = "80";
    if (!valid_port(port)) return bad_proxy(what, source, "the port must be a number from 1 to 65535");
    r.host = std::string(host);
    r.port = std::string(port);
    out = std::move(r);
    return {};
}

bool no_proxy_matches(std::string_view no_proxy, std::string_view host, std::string_view port) {
    const std::string h = to_lower(unbracket(host));
    std::size_t i = 0;
    while (i < no_proxy.size()) {
        const auto end = std::min(no_proxy.find_first_of(", \t", i), no_proxy.size());
        const std::string entry = to_lower(no_proxy.substr(i, end - i));
        i = end + 1;
        if (!entry.empty() && entry_matches(entry, h, port)) return true;
    }
    return false;
}

bool never_proxied(std::string_view host) {
    return iequals(host, "localhost") ||
           no_proxy_matches("127.0.0.0/8,::1,169.254.169.254,169.254.170.2,169.254.170.23,fd00:ec2::254,fd00:ec2::23",
                            host, "");
}

proxy_choice choose_proxy(const proxy_config& config, const std::function<const char*(const char*)>& env, bool tls) {
    proxy_choice c;
    auto from_env = [&](std::initializer_list<const char*> names, std::string& value, std::string& source) {
        for (const char* n : names)
            if (const char* v = env ? env(n) : nullptr; v && *v) {
                value = v;
                source = n;
                return;
            }
    };
    if (!config.url.empty()) {
        c.url = config.url;
        c.source = "client_config.proxy.url";
    } else if (config.from_environment) {
        if (tls)
            from_env({"https_proxy", "HTTPS_PROXY"}, c.url, c.source);
        else
            from_env({"http_proxy", "HTTP_PROXY"}, c.url, c.source);
    }
    if (!config.no_proxy.empty()) {
        c.no_proxy = config.no_proxy;
        c.no_proxy_source = "client_config.proxy.no_proxy";
    } else if (config.from_environment) {
        from_env({"no_proxy", "NO_PROXY"}, c.no_proxy, c.no_proxy_source);
    }
    return c;
}

error_code proxy_for(const proxy_choice& choice, std::string_view host, std::string_view port,
                     std::optional<proxy_url>& out, std::string& what) {
    out.reset();
    if (choice.url.empty()) return {};
    proxy_url p;
    if (auto ec = parse_proxy_url(choice.url, choice.source, p, what)) return ec;
    if (no_proxy_matches(choice.no_proxy, host, port)) return {};
    out = std::move(p);
    return {};
}

std::string connect_request(const proxy_url& proxy, std::string_view host, std::string_view port) {
    std::string authority =
        host.find(':') != std::string_view::npos ? "[" + std::string(host) + "]" : std::string(host);
    authority += ':';
    authority += port;
    std::string r = "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n";
    if (auto a = proxy.authorization(); !a.empty()) r += "Proxy-Authorization: " + a + "\r\n";
    r += "\r\n";
    return r;
}

bool parse_connect_response(std::string_view head, unsigned& status, std::string& reason) {
    const auto eol = head.find("\r\n");
    std::string_view line = head.substr(0, eol);
    if (line.size() < 12 || !line.starts_with("HTTP/1.") || line[8] != ' ') return false;
    auto [p, ec] = std::from_chars(line.data() + 9, line.data() + 12, status);
    if (ec != std::errc{} || p != line.data() + 12 || status < 100 || status > 999) return false;
    reason = std::string(line.size() > 13 ? line.substr(13) : std::string_view());
    return true;
}

std::string connect_refused_message(const proxy_url& proxy, std::string_view host, std::string_view port,
                                    unsigned status, std::string_view reason) {
    std::string m = "the proxy " + proxy.display() + " refused CONNECT " + std::string(host) + ":" + std::string(port) +
                    ": HTTP " + std::to_string(status);
    if (!reason.empty()) m += " " + std::string(reason);
    if (status == 407)
        m += proxy.user.empty() ? " (the proxy wants credentials: http://user:password@host:port)"
                                : " (the proxy did not accept the credentials)";
    return m;
}

}  // namespace iotjobs::detail
