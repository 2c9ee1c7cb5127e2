// Proxy URL parsing (Basic credentials, percent-decoding, redaction), NO_PROXY matching (curl's and
// the SDKs' rules), the addresses never proxied, which settings win, and the CONNECT exchange text.
#include "http/proxy.hpp"

#include <doctest/doctest.h>

#include <map>
#include <string>

using namespace iotjobs::detail;

namespace {
proxy_url parse(std::string_view url) {
    proxy_url p;
    std::string what;
    auto ec = parse_proxy_url(url, "HTTPS_PROXY", p, what);
    REQUIRE_MESSAGE(!ec, what);
    return p;
}
std::string parse_error(std::string_view url) {
    proxy_url p;
    std::string what;
    auto ec = parse_proxy_url(url, "HTTPS_PROXY", p, what);
    CHECK(ec == iotjobs::client_errc::invalid_configuration);
    return what;
}
}  // namespace

TEST_CASE("proxy URL: host, port, credentials (percent-decoded), display without the password") {
    auto p = parse("http://proxy.example.com:3128");
    CHECK(p.host == "proxy.example.com");
    CHECK(p.port == "3128");
    CHECK(p.user.empty());
    CHECK(p.authorization().empty());
    CHECK(p.display() == "http://proxy.example.com:3128");

    p = parse("http://user:pass@127.0.0.1:3128/");
    CHECK(p.host == "127.0.0.1");
    CHECK(p.user == "user");
    CHECK(p.password == "pass");
    CHECK(p.authorization() == "Basic dXNlcjpwYXNz");  // base64("user:pass")
    CHECK(p.display() == "http://user:***@127.0.0.1:3128");

    p = parse("http://us%65r:p%40ss%3Aw0rd@proxy:8080");
    CHECK(p.user == "user");
    CHECK(p.password == "p@ss:w0rd");
    CHECK(p.display().find("p@ss") == std::string::npos);

    p = parse("HTTP://[::1]:3128");
    CHECK(p.host == "::1");
    CHECK(p.display() == "http://[::1]:3128");
    CHECK(parse("proxy.local").port == "80");  // no scheme: http://, as curl
    CHECK(parse("http://proxy.local").port == "80");
    CHECK(parse("http://a:b@c@proxy:1").password == "b@c");  // the last '@' ends the credentials
}

TEST_CASE("proxy URL errors name the source, never the password") {
    for (const char* bad :
         {"https://u:secret-pw@proxy:443", "http://u:secret-pw@proxy:0", "http://u:secret-pw@proxy:x",
          "http://u:secret-pw@:3128", "http://u:secret-pw@proxy:3128/path", "http://u:secret%zz@proxy"}) {
        const std::string what = parse_error(bad);
        CHECK(what.find("HTTPS_PROXY") != std::string::npos);
        CHECK(what.find("secret") == std::string::npos);
    }
}

TEST_CASE("NO_PROXY: names and suffixes, leading dot, IPs, CIDR, ports, '*'") {
    CHECK(no_proxy_matches("example.com", "example.com", "443"));
    CHECK(no_proxy_matches("example.com", "iot.example.com", "443"));
    CHECK(no_proxy_matches(".example.com", "iot.example.com", "443"));
    CHECK(no_proxy_matches(".example.com", "example.com", "443"));
    CHECK(no_proxy_matches("*.example.com", "a.b.example.com", "443"));
    CHECK_FALSE(no_proxy_matches("example.com", "badexample.com", "443"));
    CHECK_FALSE(no_proxy_matches("iot.example.com", "example.com", "443"));
    CHECK(no_proxy_matches("EXAMPLE.com", "Iot.Example.COM", "443"));
    CHECK(no_proxy_matches("foo, bar.org ,example.com", "x.example.com", "443"));
    CHECK(no_proxy_matches("foo bar.org", "bar.org", "443"));
    CHECK(no_proxy_matches("*", "anything", "1"));
    CHECK_FALSE(no_proxy_matches("", "anything", "1"));
    CHECK_FALSE(no_proxy_matches(",,", "anything", "1"));
    // IP literals and blocks.
    CHECK(no_proxy_matches("127.0.0.1", "127.0.0.1", "443"));
    CHECK_FALSE(no_proxy_matches("127.0.0.1", "127.0.0.2", "443"));
    CHECK(no_proxy_matches("10.0.0.0/8", "10.1.2.3", "443"));
    CHECK_FALSE(no_proxy_matches("10.0.0.0/8", "11.1.2.3", "443"));
    CHECK_FALSE(no_proxy_matches("10.0.0.0/8", "ten.example", "443"));
    CHECK(no_proxy_matches("::1", "[::1]", "443"));
    CHECK(no_proxy_matches("[::1]", "::1", "443"));
    CHECK(no_proxy_matches("fd00::/8", "fd00:ec2::254", "80"));
    CHECK_FALSE(no_proxy_matches("1.2.3", "1.2.3.4", "80"));  // not a suffix match for addresses
    // Ports.
    CHECK(no_proxy_matches("example.com:443", "example.com", "443"));
    CHECK_FALSE(no_proxy_matches("example.com:8443", "example.com", "443"));
    CHECK(no_proxy_matches("127.0.0.1:5000", "127.0.0.1", "5000"));
    CHECK(no_proxy_matches("[::1]:5000", "::1", "5000"));
    CHECK_FALSE(no_proxy_matches("[::1]:5000", "::1", "5001"));
}

TEST_CASE("never proxied: IMDS, container and loopback addresses") {
    for (const char* h : {"169.254.169.254", "fd00:ec2::254", "169.254.170.2", "169.254.170.23", "fd00:ec2::23",
                          "127.0.0.1", "127.1.2.3", "::1", "localhost", "LOCALHOST"})
        CHECK_MESSAGE(never_proxied(h), h);
    for (const char* h : {"sts.us-east-1.amazonaws.com", "10.0.0.1", "169.254.169.253"})
        CHECK_MESSAGE(!never_proxied(h), h);
}

TEST_CASE("which proxy: client_config first, then lowercase, then uppercase variables; https vs http") {
    std::map<std::string, std::string> vars;
    auto env = [&](const char* n) -> const char* {
        auto it = vars.find(n);
        return it == vars.end() ? nullptr : it->second.c_str();
    };
    iotjobs::proxy_config cfg;
    CHECK(choose_proxy(cfg, env, true).url.empty());
    vars["HTTPS_PROXY"] = "http://upper:1";
    vars["HTTP_PROXY"] = "http://plain:2";
    vars["NO_PROXY"] = "example.com";
    auto c = choose_proxy(cfg, env, true);
    CHECK(c.url == "http://upper:1");
    CHECK(c.source == "HTTPS_PROXY");
    CHECK(c.no_proxy == "example.com");
    CHECK(choose_proxy(cfg, env, false).url == "http://plain:2");
    vars["https_proxy"] = "http://lower:3";
    vars["no_proxy"] = "lower.example";
    c = choose_proxy(cfg, env, true);
    CHECK(c.url == "http://lower:3");
    CHECK(c.no_proxy == "lower.example");
    cfg.url = "http://configured:4";
    c = choose_proxy(cfg, env, true);
    CHECK(c.url == "http://configured:4");
    CHECK(c.source == "client_config.proxy.url");
    CHECK(c.no_proxy == "lower.example");
    cfg = {};
    cfg.from_environment = false;
    CHECK(choose_proxy(cfg, env, true).url.empty());
    CHECK(choose_proxy(cfg, env, true).no_proxy.empty());

    // proxy_for: NO_PROXY turns it off for matching hosts.
    cfg = {};
    vars.erase("no_proxy");
    c = choose_proxy(cfg, env, true);
    std::optional<proxy_url> p;
    std::string what;
    CHECK(!proxy_for(c, "iot.us-east-1.amazonaws.com", "443", p, what));
    REQUIRE(p);
    CHECK(p->host == "lower");
    CHECK(!proxy_for(c, "iot.example.com", "443", p, what));
    CHECK(!p);
    vars["https_proxy"] = "ftp://x";
    CHECK(proxy_for(choose_proxy(cfg, env, true), "h", "443", p, what) == iotjobs::client_errc::invalid_configuration);
}

TEST_CASE("CONNECT request and the proxy's answer") {
    auto p = parse("http://user:pass@proxy:3128");
    CHECK(connect_request(p, "iot.us-east-1.amazonaws.com", "443") ==
          "CONNECT iot.us-east-1.amazonaws.com:443 HTTP/1.1\r\nHost: iot.us-east-1.amazonaws.com:443\r\n"
          "Proxy-Authorization: Basic dXNlcjpwYXNz\r\n\r\n");
    CHECK(connect_request(parse("http://proxy:3128"), "::1", "8443") ==
          "CONNECT [::1]:8443 HTTP/1.1\r\nHost: [::1]:8443\r\n\r\n");
    unsigned status = 0;
    std::string reason;
    CHECK(parse_connect_response("HTTP/1.1 200 Connection established\r\n\r\n", status, reason));
    CHECK(status == 200);
    CHECK(reason == "Connection established");
    CHECK(parse_connect_response("HTTP/1.0 407 Proxy Authentication Required\r\nX: y\r\n\r\n", status, reason));
    CHECK(status == 407);
    CHECK(parse_connect_response("HTTP/1.1 200\r\n\r\n", status, reason));
    CHECK(reason.empty());
    CHECK_FALSE(parse_connect_response("SSH-2.0-OpenSSH\r\n\r\n", status, reason));
    CHECK_FALSE(parse_connect_response("HTTP/1.1 2x0 OK\r\n\r\n", status, reason));
    const std::string m = connect_refused_message(p, "127.0.0.1", "443", 407, "Proxy Authentication Required");
    CHECK(m ==
          "the proxy http://user:***@proxy:3128 refused CONNECT 127.0.0.1:443: HTTP 407 Proxy Authentication "
          "Required (the proxy did not accept the credentials)");
    CHECK(m.find("pass") == std::string::npos);
}
