// serialize_request (lib/http/message.hpp): the bytes Beast's serializer writes for the same
// request<string_body>, for requests given as views (request_parts, what the signer writes) and as
// an http_request (http_request_writer).
#include "http/message.hpp"

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <doctest/doctest.h>

#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using namespace iotjobs::detail;
namespace http = boost::beast::http;

struct request_case {
    std::string method;
    std::string path;
    std::string query;
    std::vector<http_header> headers;
    std::string body;
    wire_target where;
};

std::string trimmed(std::string_view v) {
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    return std::string(v);
}

// What Beast writes: the fields in order (values trimmed), User-Agent, Host when absent, then
// prepare_payload() (which sets Content-Length, replacing one the request carried), and
// Content-Length: 0 for an empty DELETE too (as the AWS SDKs send it).
std::string beast_bytes(const request_case& c) {
    http::request<http::string_body> req;
    req.method_string(c.method);
    std::string target = std::string(c.where.base_path) + c.path;
    if (!c.query.empty()) target += "?" + c.query;
    req.target(target);
    req.version(11);
    for (const auto& h : c.headers)
        if (!boost::beast::iequals(h.name, "content-length")) req.insert(h.name, trimmed(h.value));
    if (!c.where.user_agent.empty()) req.insert(http::field::user_agent, trimmed(c.where.user_agent));
    if (req.find(http::field::host) == req.end()) req.set(http::field::host, trimmed(c.where.host_header));
    req.body() = c.body;
    req.prepare_payload();
    if (c.body.empty() && req.method() == http::verb::delete_) req.content_length(0);
    std::ostringstream os;
    os << req;
    return os.str();
}

std::string from_parts(const request_case& c) {
    std::vector<http_field_view> fields;
    for (const auto& h : c.headers) fields.push_back({h.name, h.value});
    request_parts p;
    p.method = c.method;
    p.path = c.path;
    p.query = c.query;
    p.headers = fields;
    p.body = c.body;
    std::string out = "kept|";  // appended to, never replaced
    serialize_request(out, p, c.where);
    REQUIRE(out.rfind("kept|", 0) == 0);
    return out.substr(5);
}

std::string from_http_request(const request_case& c) {
    http_request r{c.method, c.query.empty() ? c.path : c.path + "?" + c.query, c.headers, c.body};
    const http_request_writer w(r);
    CHECK(w.is_head() == (c.method == "HEAD"));
    std::string out;
    w.write(out, c.where);
    return out;
}

}  // namespace

TEST_CASE("serialize_request: the bytes Beast's serializer writes") {
    const std::vector<request_case> cases = {
        {"DELETE",
         "/things/t/jobs/j/executionNumber/1",
         "force=true&namespaceId=AWS",
         {{"Host", "iot.us-east-1.amazonaws.com"},
          {"X-Amz-Date", "20261207T120000Z"},
          {"Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20261207/us-east-1/iot/aws4_request, Signature=ab"}},
         "",
         {"", "ignored.example", "iotjobs/1.0"}},
        // No Host: the transport's; a base path; a body (Content-Length); a Content-Length of the
        // request's own is dropped.
        {"PUT",
         "/things/t/jobs/j/cancel",
         "",
         {{"Content-Type", "application/json"}, {"content-length", "99"}, {"X-Amz-Date", "  padded\t"}},
         "{\"expectedVersion\":3}",
         {"/base", "127.0.0.1:8443", ""}},
        // GET without a body: no Content-Length.
        {"GET", "/jobs/j/things", "maxResults=5", {}, "", {"", "localhost", ""}},
        // POST and OPTIONS without a body: Content-Length: 0.
        {"POST", "/x", "", {{"host", "given"}}, "", {"", "h", "ua"}},
        {"OPTIONS", "/", "", {}, "", {"", "h", ""}},
        {"HEAD", "/h", "", {}, "", {"", "h", ""}},
    };
    for (const auto& c : cases) {
        CAPTURE(c.method);
        CAPTURE(c.path);
        const std::string want = beast_bytes(c);
        CHECK(from_parts(c) == want);
        CHECK(from_http_request(c) == want);
    }
}

TEST_CASE("serialize_request: a field Beast would refuse throws std::length_error") {
    request_case c{"GET", "/", "", {{"X-Long", std::string(70000, 'a')}}, "", {"", "h", ""}};
    CHECK_THROWS_AS(from_parts(c), std::length_error);
    c.headers = {{std::string(70000, 'n'), "v"}};
    CHECK_THROWS_AS(from_http_request(c), std::length_error);
    c.headers = {};
    c.where.user_agent = std::string(70000, 'u');
    CHECK_THROWS_AS(from_parts(c), std::length_error);
}
