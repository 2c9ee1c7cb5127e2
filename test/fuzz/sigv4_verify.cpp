// Fuzz target: the SigV4 verifier the fake endpoint runs on every request (lib/sigv4/sigv4.cpp):
// parse_authorization, verify (canonical URI, canonical query, header canonicalisation, the date
// checks), parse_amz_date; and a round trip: what sign_headers signs, verify accepts.
//
// Input, '\n'-separated: method, path, query, Authorization value, X-Amz-Date value, then header
// lines "name:value" up to an empty line, then the body (the rest).
#include "fuzz_input.hpp"
#include "sigv4/sigv4.hpp"

#include <cstdlib>
#include <string>
#include <vector>

namespace {

// A header name the round trip can use: a token of lowercase letters, digits and '-', not one of
// those the signer leaves out or adds itself.
bool plain_name(std::string_view n) {
    if (n.empty()) return false;
    for (char c : n)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
    static constexpr std::string_view special[] = {"authorization",
                                                   "connection",
                                                   "expect",
                                                   "keep-alive",
                                                   "proxy-authenticate",
                                                   "proxy-authorization",
                                                   "te",
                                                   "trailer",
                                                   "transfer-encoding",
                                                   "upgrade",
                                                   "user-agent",
                                                   "x-amzn-trace-id",
                                                   "x-amz-date",
                                                   "x-amz-security-token",
                                                   "x-amz-content-sha256"};
    for (auto s : special)
        if (n == s) return false;
    return true;
}

// Visible ASCII and spaces, no leading/trailing space (values the signer and the verifier see alike).
bool plain_value(std::string_view v) {
    for (char c : v)
        if (c < 0x20 || c > 0x7e) return false;
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace iotjobs;
    std::string_view in = fuzz::as_text(data, size);
    const auto method = fuzz::next_line(in);
    const auto path = fuzz::next_line(in);
    const auto query = fuzz::next_line(in);
    const auto authorization = fuzz::next_line(in);
    const auto amz_date = fuzz::next_line(in);
    std::vector<sigv4::header> headers;
    while (!in.empty()) {
        const auto line = fuzz::next_line(in);
        if (line.empty()) break;
        const auto colon = line.find(':');
        headers.push_back(
            {line.substr(0, colon), colon == std::string_view::npos ? std::string_view{} : line.substr(colon + 1)});
    }
    const std::string_view body = in;
    const std::string_view secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    sigv4::sys_seconds t{};
    (void)sigv4::parse_amz_date(amz_date, t);
    (void)sigv4::canonical_uri(path, true);
    (void)sigv4::canonical_query(query);

    sigv4::request_view req{method, path, query, headers, body, {}};
    sigv4::parsed_authorization auth;
    if (sigv4::parse_authorization(authorization, auth)) {
        (void)sigv4::verify(req, auth, amz_date, secret, nullptr, true);
        (void)sigv4::verify(req, auth, amz_date, secret, nullptr, false);
    }

    // Round trip over a request the client could send: a host header, distinct plain names.
    std::vector<sigv4::header> plain;
    bool has_host = false;
    for (const auto& h : headers) {
        if (!plain_name(h.name) || !plain_value(h.value)) continue;
        bool dup = false;
        for (const auto& p : plain) dup = dup || p.name == h.name;
        if (dup) continue;
        has_host = has_host || h.name == "host";
        plain.push_back(h);
    }
    if (!has_host) plain.push_back({"host", "iot.us-east-1.amazonaws.com"});
    if (method.empty() || !plain_value(method) || method.find(' ') != std::string_view::npos) return 0;
    if (!plain_value(path) || !plain_value(query)) return 0;
    const sigv4::sys_seconds when{std::chrono::seconds(1765065600)};  // 2025-12-07T00:00:00Z
    sigv4::signing_input si;
    si.request = sigv4::request_view{method, path.empty() ? std::string_view("/") : path, query, plain, body, {}};
    si.credentials = {"AKIDEXAMPLE", secret, {}};
    si.region = "us-east-1";
    si.service = "iot";
    si.time = when;
    const auto signed_req = sigv4::sign_headers(si);
    std::vector<sigv4::header> all = plain;
    for (const auto& a : signed_req.added_headers) all.push_back({a.name, a.value});
    sigv4::parsed_authorization back;
    if (!sigv4::parse_authorization(signed_req.authorization, back)) std::abort();
    const std::string date = sigv4::amz_date(when);
    sigv4::request_view vreq = si.request;
    vreq.headers = all;
    if (!sigv4::verify(vreq, back, date, secret)) std::abort();
    return 0;
}
