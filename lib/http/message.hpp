// Plain HTTP request/response values exchanged with the transport. No Beast here, so that
// only lib/http/*.cpp pays for Beast's headers.
#pragma once

#include "util/text.hpp"

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

}  // namespace iotjobs::detail
