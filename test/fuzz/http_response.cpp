// Fuzz target: the HTTP response path of the connection pool (lib/http/connection_pool.cpp,
// send_receive): status line, headers, chunked, length-delimited and connection-delimited bodies,
// parsed by the pool's own parser (response_sink: Beast's basic_parser subclass) with the pool's
// settings, fed the way send_receive feeds it (whatever a read brought, the unparsed rest kept;
// put_eof when the peer closes).
//
// The pool itself cannot run without a socket (a tcp::socket, non-blocking send, ::shutdown for
// deadlines), so this target drives the parser and the feeding loop, not the coroutine around them.
//
// Input: byte 0 = flags (bit 0: a HEAD request, so no body; bit 1: keep only some fields, as the
// client does; bits 2-7: bytes per read, 0 meaning all at once), then the bytes the server sends.
#include "fuzz_input.hpp"
#include "http/response_sink.hpp"

#include <boost/asio/buffer.hpp>

#include <cstdlib>
#include <string>
#include <vector>

namespace {
constexpr std::size_t max_response_body = 16 * 1024 * 1024;  // as connection_pool.cpp
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace iotjobs;
    using namespace iotjobs::detail;
    std::string_view in = fuzz::as_text(data, size);
    const unsigned flags = fuzz::next_byte(in);
    const std::size_t step = (flags >> 2) == 0 ? (in.empty() ? 1 : in.size()) : (flags >> 2);
    static const std::vector<std::string> all;
    static const std::vector<std::string> some{"x-amzn-RequestId", "x-amz-request-id", "x-amzn-ErrorType", "Date",
                                               "Age", "Retry-After"};

    response_sink parser;
    parser.wanted = (flags & 2) ? &some : &all;
    parser.body_limit(max_response_body);
    parser.eager(true);
    if (flags & 1) parser.skip(true);

    std::string rbuf;  // [rbegin, size()): received, not parsed yet
    std::size_t rbegin = 0;
    std::size_t received = 0;
    error_code ec;
    for (;;) {
        while (rbuf.size() > rbegin) {
            const std::size_t used =
                parser.put(boost::asio::const_buffer(rbuf.data() + rbegin, rbuf.size() - rbegin), ec);
            if (used > rbuf.size() - rbegin) std::abort();
            rbegin += used;
            if (ec == beast_http::error::need_more) {
                ec = {};
                break;
            }
            if (ec) return 0;
            if (parser.is_done() || used == 0) break;
        }
        if (parser.is_done()) break;
        if (received == in.size()) {  // the peer closed
            if (!parser.got_some()) return 0;
            parser.put_eof(ec);
            if (ec) return 0;
            break;
        }
        const std::size_t n = std::min(step, in.size() - received);
        rbuf.append(in.data() + received, n);
        received += n;
    }
    // What send_receive copies out.
    http_response resp;
    resp.status = parser.status;
    resp.reason = std::move(parser.reason);
    resp.headers = std::move(parser.headers);
    resp.body = std::move(parser.body);
    resp.keep_alive = parser.keep_alive() && !parser.need_eof();
    if (resp.status > 999) std::abort();  // three digits
    if (resp.body.size() > max_response_body) std::abort();
    if ((flags & 1) && !resp.body.empty()) std::abort();
    (void)resp.header("x-amzn-RequestId");
    (void)resp.header("Date");
    return 0;
}
