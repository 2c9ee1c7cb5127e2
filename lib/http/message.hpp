// Plain HTTP request/response values exchanged with the transport. No Beast here, so that
// only lib/http/*.cpp pays for Beast's headers.
#pragma once

#include "util/text.hpp"

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace iotjobs::detail {

struct http_header {
    std::string name;
    std::string value;
};

struct http_request {
    std::string method;                // "DELETE", "GET", "PUT"
    std::string target;                // path plus "?query" when there is one
    std::vector<http_header> headers;  // Host is added by the transport when absent
    std::string body;
};

// A request as views, for serialize_request.
struct http_field_view {
    std::string_view name;
    std::string_view value;
};

struct request_parts {
    std::string_view method;
    std::string_view path;   // after the endpoint's base path
    std::string_view query;  // without the '?'; empty: none
    std::span<const http_field_view> headers;
    std::string_view body;
};

// Where a request goes on the wire: what the transport adds to every request.
struct wire_target {
    std::string_view base_path;    // prefixed to every path
    std::string_view host_header;  // Host, when the request has none
    std::string_view user_agent;   // non-empty: User-Agent after the request's own headers
};

// Appends to `out` the bytes of `req` as Beast's serializer writes a request<string_body>
// (method_string, target where.base_path + path [+ '?' query], HTTP/1.1, each header in order
// with its value trimmed of spaces and tabs, Host set when absent, prepare_payload(),
// Content-Length: 0 for an empty PUT/POST/DELETE/OPTIONS), without building a Beast message: no
// per-request field allocations and one contiguous buffer to write. Content-Length is the
// transport's: a request header of that name is dropped, as set() would replace it.
// `where.user_agent` (non-empty) follows the request's own headers. Throws std::length_error
// where basic_fields would (name or value over 65533).
void serialize_request(std::string& out, const request_parts& req, const wire_target& where);

// What the pool sends. write() runs once a connection is leased, just before the request goes
// out, and again for a retry on a new connection (a stale kept-alive one): a signed request is
// signed with the time it is really sent, straight into the connection's reused buffer (no
// per-call copy of its headers).
class request_writer {
public:
    // Appends the whole request (serialize_request's bytes) to `out`. May throw.
    virtual void write(std::string& out, const wire_target& where) const = 0;
    // The response to a HEAD request has no body.
    virtual bool is_head() const noexcept = 0;

protected:
    ~request_writer() = default;
};

struct http_response {
    unsigned status = 0;
    std::string reason;
    std::vector<http_header> headers;
    std::string body;
    bool keep_alive = true;

    // Case-insensitive lookup; empty when absent.
    std::string_view header(std::string_view name) const noexcept;
    void clear() {
        status = 0;
        reason.clear();
        headers.clear();
        body.clear();
        keep_alive = true;
    }
};

// An http_request sent as it is.
class http_request_writer final : public request_writer {
public:
    explicit http_request_writer(const http_request& r) noexcept : req_(r) {}
    void write(std::string& out, const wire_target& where) const override;
    bool is_head() const noexcept override { return req_.method == "HEAD"; }

private:
    const http_request& req_;
};

}  // namespace iotjobs::detail
