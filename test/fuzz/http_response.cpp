// Fuzz target: the HTTP response path of the connection pool (lib/http/connection_pool.cpp,
// lib/http/connection.cpp's advance_response): status line, headers, chunked, length-delimited and connection-delimited bodies,
// parsed by the pool's own parser (lib/http/response_sink.hpp: Beast's basic_parser subclass, with
// the pool's settings and its feed() loop), fed as advance_response feeds it: whatever a read brought
// appended after the unparsed rest, put_eof when the peer closes.
//
// The pool itself cannot run without a socket (a tcp::socket, non-blocking send, ::shutdown for
// deadlines), so this target drives the parser and its feeding, not the coroutine around them.
//
// Input: byte 0 = flags (bit 0: a HEAD request, so no body; bit 1: keep only some fields, as the
// client does; bits 2-7: bytes per read, 0 meaning all at once), then the bytes the server sends.
// Checks: parsed in one read or in reads of that size, the outcome is the same. (A whole response
// of the common shape in one read is parsed by parse_simple_response, in small reads by
// basic_parser: this compares the two.)
#include "fuzz_input.hpp"
#include "http/response_sink.hpp"

#include <boost/asio/buffer.hpp>

#include <cstdlib>
#include <string>
#include <vector>

namespace {

using namespace iotjobs;
using namespace iotjobs::detail;

struct result {
    bool ok = false;  // a complete response
    http_response resp;
};

// the pool's read loop (advance_response) over `in`, each read bringing at most `step` bytes.
result parse(std::string_view in, std::size_t step, const std::vector<std::string>* wanted, bool head) {
    result r;
    response_sink parser(wanted, head);
    std::string rbuf;  // [rbegin, size()): received, not parsed yet
    std::size_t rbegin = 0;
    std::size_t received = 0;
    error_code ec;
    for (;;) {
        ec = parser.feed(rbuf.data(), rbegin, rbuf.size());
        if (rbegin > rbuf.size()) std::abort();
        if (ec) return r;
        if (parser.is_done()) break;
        if (received == in.size()) {  // the peer closed
            if (!parser.got_some()) return r;
            parser.put_eof(ec);
            if (ec) return r;
            break;
        }
        const std::size_t n = std::min(step, in.size() - received);
        rbuf.append(in.data() + received, n);
        received += n;
    }
    // What take_response copies out.
    r.ok = true;
    r.resp.status = parser.status;
    r.resp.reason = std::move(parser.reason);
    r.resp.headers = std::move(parser.headers);
    r.resp.body = std::move(parser.body);
    r.resp.keep_alive = parser.keep_alive() && !parser.need_eof();
    return r;
}

bool same(const result& a, const result& b) {
    if (a.ok != b.ok) return false;
    if (!a.ok) return true;
    const auto &x = a.resp, &y = b.resp;
    if (x.status != y.status || x.reason != y.reason || x.body != y.body || x.keep_alive != y.keep_alive ||
        x.headers.size() != y.headers.size())
        return false;
    for (std::size_t i = 0; i < x.headers.size(); ++i)
        if (x.headers[i].name != y.headers[i].name || x.headers[i].value != y.headers[i].value) return false;
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view in = fuzz::as_text(data, size);
    const unsigned flags = fuzz::next_byte(in);
    const std::size_t step = flags >> 2;
    static const std::vector<std::string> all;
    static const std::vector<std::string> some{
        "x-amzn-RequestId", "x-amz-request-id", "x-amzn-ErrorType", "Date", "Age", "Retry-After"};
    const auto* wanted = (flags & 2) ? &some : &all;
    const bool head = flags & 1;

    const result whole = parse(in, in.size() + 1, wanted, head);
    if (whole.ok) {
        const auto& resp = whole.resp;
        if (resp.status > 999) std::abort();  // three digits
        if (resp.body.size() > response_sink::max_body) std::abort();
        if (head && !resp.body.empty()) std::abort();
        (void)resp.header("x-amzn-RequestId");
        (void)resp.header("Date");
    }
    // However the bytes are split into reads, the outcome is the same.
    if (step != 0 && !same(whole, parse(in, step, wanted, head))) std::abort();
    return 0;
}
