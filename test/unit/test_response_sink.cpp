// response_sink (lib/http/response_sink.hpp): a whole response of the common shape fed at once is
// parsed by parse_simple_response, anything else by Beast's basic_parser; both must give the same.
// Fed one byte at a time, a response always goes to basic_parser: each case is parsed both ways.
#include "http/response_sink.hpp"

#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace iotjobs::detail;

struct parsed {
    bool ok = false;
    bool simple = false;  // parse_simple_response took it
    iotjobs::error_code ec;
    http_response resp;
    std::size_t rest = 0;  // bytes after the response, not parsed
};

// The pool's read loop (advance_response) over `in`, each read bringing at most `step` bytes.
parsed parse(std::string_view in, std::size_t step, bool head = false, const std::vector<std::string>* wanted = nullptr,
             const std::vector<std::string>* on_error = nullptr) {
    parsed r;
    response_sink parser(wanted, head, on_error);
    std::string buf;
    std::size_t begin = 0;
    std::size_t received = 0;
    for (;;) {
        if ((r.ec = parser.feed(buf.data(), begin, buf.size()))) return r;
        if (parser.is_done()) break;
        if (received == in.size()) {  // the peer closed
            if (!parser.got_some()) return r;
            parser.put_eof(r.ec);
            if (r.ec) return r;
            break;
        }
        const std::size_t n = std::min(step, in.size() - received);
        buf.append(in.data() + received, n);
        received += n;
    }
    r.ok = true;
    r.simple = parser.took_simple();
    r.resp.status = parser.status;
    r.resp.reason = parser.reason;
    r.resp.headers = parser.headers;
    r.resp.body = parser.body;
    r.resp.keep_alive = parser.keep_alive() && !parser.need_eof();
    r.rest = buf.size() - begin + (in.size() - received);
    return r;
}

// Parsed at once and byte by byte: the same outcome. Returns the at-once parse.
parsed parse_both_ways(std::string_view in, bool head = false, const std::vector<std::string>* wanted = nullptr,
                       const std::vector<std::string>* on_error = nullptr) {
    const parsed whole = parse(in, in.size() + 1, head, wanted, on_error);
    const parsed bytes = parse(in, 1, head, wanted, on_error);
    CHECK_FALSE(bytes.simple);
    CHECK(whole.ok == bytes.ok);  // (which error may depend on how the bytes arrived)
    CHECK(whole.rest == bytes.rest);
    CHECK(whole.resp.status == bytes.resp.status);
    CHECK(whole.resp.reason == bytes.resp.reason);
    CHECK(whole.resp.body == bytes.resp.body);
    CHECK(whole.resp.keep_alive == bytes.resp.keep_alive);
    REQUIRE(whole.resp.headers.size() == bytes.resp.headers.size());
    for (std::size_t i = 0; i < whole.resp.headers.size(); ++i) {
        CHECK(whole.resp.headers[i].name == bytes.resp.headers[i].name);
        CHECK(whole.resp.headers[i].value == bytes.resp.headers[i].value);
    }
    return whole;
}

const std::string nginx_ok =
    "HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: Mon, 07 Dec 2026 14:34:54 GMT\r\nContent-Type: application/json\r\n"
    "Content-Length: 2\r\nConnection: keep-alive\r\n\r\n{}";

}  // namespace

TEST_CASE("response_sink: the common shape is parsed without basic_parser, with the same result") {
    const parsed r = parse_both_ways(nginx_ok);
    CHECK(r.simple);
    CHECK(r.resp.status == 200);
    CHECK(r.resp.reason == "OK");
    CHECK(r.resp.body == "{}");
    CHECK(r.resp.keep_alive);
    REQUIRE(r.resp.headers.size() == 5);
    CHECK(r.resp.header("date") == "Mon, 07 Dec 2026 14:34:54 GMT");

    const std::vector<std::string> wanted{"x-amzn-requestid", "date"};
    const parsed w = parse_both_ways(nginx_ok, false, &wanted);
    CHECK(w.simple);
    CHECK(w.resp.headers.size() == 1);
}

TEST_CASE("response_sink: fields wanted only to judge an error are not copied from a 2xx") {
    const std::vector<std::string> wanted{"x-amzn-requestid"};
    const std::vector<std::string> on_error{"x-amzn-errortype", "date"};
    const std::string head =
        "Server: nginx\r\nDate: Mon, 07 Dec 2026 14:34:54 GMT\r\nx-amzn-RequestId: r-1\r\n"
        "x-amzn-ErrorType: ThrottlingException\r\nContent-Length: 2\r\n\r\n{}";
    for (const char* status : {"200 OK", "204 No Content", "299 Whatever"}) {
        CAPTURE(status);
        const std::string in = std::string("HTTP/1.1 ") + status + "\r\n" + head;
        const parsed r = parse_both_ways(in, false, &wanted, &on_error);
        REQUIRE(r.resp.headers.size() == 1);
        CHECK(r.resp.header("x-amzn-requestid") == "r-1");
    }
    for (const char* status :
         {"400 Bad Request", "429 Too Many Requests", "503 Service Unavailable", "199 Early", "302 Found"}) {
        CAPTURE(status);
        const std::string in = std::string("HTTP/1.1 ") + status + "\r\n" + head;
        const parsed r = parse_both_ways(in, false, &wanted, &on_error);
        CHECK(r.ok);
        REQUIRE(r.resp.headers.size() == 3);
        CHECK(r.resp.header("date") == "Mon, 07 Dec 2026 14:34:54 GMT");
        CHECK(r.resp.header("x-amzn-errortype") == "ThrottlingException");
        CHECK(r.resp.header("x-amzn-requestid") == "r-1");
    }
}

TEST_CASE("response_sink: simple responses, parsed both ways") {
    struct simple_case {
        std::string in;
        bool keep_alive;
        std::size_t rest;
    };
    const simple_case cases[] = {
        {"HTTP/1.1 404 Not Found\r\nx-amzn-ErrorType: ResourceNotFoundException:http://internal.amazon.com/\r\n"
         "x-amzn-RequestId: 4b1f\r\ncontent-type: application/json\r\ncontent-length: 23\r\n\r\n"
         "{\"message\":\"no thing\"}\n",
         true, 0},
        {"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", false, 0},
        {"HTTP/1.1 200 OK\r\nConnection: CLOSE\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", false, 0},
        {"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx", false, 0},
        {"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 1\r\n\r\nx", true, 0},
        {"HTTP/1.1 503 \r\nContent-Length: 0\r\n\r\n", true, 0},        // empty reason
        {"HTTP/1.1 200 OK\r\nContent-Length: 002\r\n\r\nab", true, 0},  // leading zeros
        {"HTTP/1.1 200 OK\r\nX-A:  a b \t\r\nX-Empty:\r\nX-Sp: \t \r\nContent-Length: 0\r\n\r\n", true, 0},
        {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}HTTP/1.1 200", true, 12},  // bytes after it
        {"HTTP/1.1 200 Fine\tthanks \r\ncontent-LENGTH: 3\r\n\r\nabc", true, 0},
    };
    for (const auto& c : cases) {
        CAPTURE(c.in);
        const parsed r = parse_both_ways(c.in);
        CHECK(r.ok);
        CHECK(r.simple);
        CHECK(r.resp.keep_alive == c.keep_alive);
        CHECK(r.rest == c.rest);
    }
    CHECK(parse_both_ways("HTTP/1.1 503 \r\nContent-Length: 0\r\n\r\n").resp.reason == "Service Unavailable");
    CHECK(parse_both_ways("HTTP/1.1 200 OK\r\nX-A:  a b \t\r\nContent-Length: 0\r\n\r\n").resp.header("x-a") == "a b");
}

TEST_CASE("response_sink: anything else goes to basic_parser, with the same result") {
    const std::string others[] = {
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nto the end",      // no length
        "HTTP/1.1 200 OK\r\nX-Folded: a\r\n b\r\nContent-Length: 0\r\n\r\n",  // obs-fold
        "HTTP/1.1 200 OK\r\nX-Folded:\r\n b\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nConnection: keep-alive, Upgrade\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nConnection: keep-alive,\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nConnection: ,,\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\n{}",
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}",
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}x",
        "HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\n{}",
        "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n{}",
        "HTTP/1.1 204 No Content\r\nContent-Length: 2\r\n\r\n",
        "HTTP/1.1 304 Not Modified\r\nContent-Length: 2\r\n\r\n",
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX-Text: caf\xc3\xa9\r\nContent-Length: 0\r\n\r\n",  // obs-text
        "HTTP/1.1 200 OK\r\nX.Dot: 1\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nUpgrade: h2c\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nProxy-Connection: close\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n{}",  // body cut short
        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n",        // header cut short
        "HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 20x OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nBad Name: x\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\n: x\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX: a\rb\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX: \x7f\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\r",
        "HTTP/1.1 200 OK\r\n" + std::string(5000, 'X') + ": y\r\nContent-Length: 0\r\n\r\n",
        "",
    };
    for (const auto& in : others) {
        CAPTURE(in);
        CHECK_FALSE(parse_both_ways(in).simple);
    }
    std::string many = "HTTP/1.1 200 OK\r\n";
    for (int i = 0; i < 30; ++i) many += "X-" + std::to_string(i) + ": v\r\n";
    many += "Content-Length: 0\r\n\r\n";
    const parsed m = parse_both_ways(many);
    CHECK_FALSE(m.simple);
    CHECK(m.resp.headers.size() == 31);
}

TEST_CASE("response_sink: every byte of a line is checked, at any offset of a long line") {
    // The simple parser checks a line eight bytes at a time: a byte that is not text sends the
    // response to basic_parser wherever it sits in the line (status line, field value, the last
    // word or the tail); a tab, a space or '~' there does not.
    const auto with_byte = [](bool in_reason, std::size_t at, char b) {
        std::string line(21, 'v');
        line[at] = b;
        if (in_reason) return "HTTP/1.1 200 " + line + "\r\nContent-Length: 0\r\n\r\n";
        return "HTTP/1.1 200 OK\r\nX-Long: " + line + "\r\nContent-Length: 0\r\n\r\n";
    };
    for (const bool in_reason : {false, true}) {
        for (std::size_t at = 1; at + 1 < 21; ++at) {  // (trim_ows would take a tab or space at an end)
            for (const char bad : {'\x00', '\x01', '\n', '\r', '\x1f', '\x7f', '\x80', '\xc3', '\xff'}) {
                const std::string in = with_byte(in_reason, at, bad);
                CAPTURE(in_reason);
                CAPTURE(at);
                CAPTURE(static_cast<int>(static_cast<unsigned char>(bad)));
                CHECK_FALSE(parse_both_ways(in).simple);
            }
            for (const char good : {'\t', ' ', '~'}) {
                const std::string in = with_byte(in_reason, at, good);
                CAPTURE(in);
                CHECK(parse_both_ways(in).simple);
            }
        }
    }
}

TEST_CASE("response_sink: tabs anywhere in a value, then a byte that is not text after them") {
    // After a tab the scan goes on from the next byte: several in one word, a tab as the last byte
    // of a word, tabs up to the end of the line; a bad byte after any number of them is still seen.
    for (std::size_t tabs = 1; tabs <= 17; ++tabs) {
        for (std::size_t at = 0; at < 9; ++at) {
            std::string v = "v" + std::string(at, 'x') + std::string(tabs, '\t') + "w";
            CAPTURE(tabs);
            CAPTURE(at);
            const parsed good = parse_both_ways("HTTP/1.1 200 OK\r\nX-T: " + v + "\r\nContent-Length: 0\r\n\r\n");
            CHECK(good.simple);
            CHECK(good.resp.header("x-t") == v);
            CHECK_FALSE(parse_both_ways("HTTP/1.1 200 OK\r\nX-T: " + v + "\x01w\r\nContent-Length: 0\r\n\r\n").simple);
            CHECK_FALSE(parse_both_ways("HTTP/1.1 200 OK\r\nX-T: " + v + "\rw\r\nContent-Length: 0\r\n\r\n").simple);
        }
    }
}

TEST_CASE("response_sink: the fields with a meaning in any letter case, and names one byte off") {
    for (const std::string name : {"content-length", "CONTENT-LENGTH", "Content-length", "cONTENT-lENGTH"}) {
        const parsed p = parse_both_ways("HTTP/1.1 200 OK\r\n" + name + ": 2\r\n\r\n{}x");
        CAPTURE(name);
        CHECK(p.simple);
        CHECK(p.resp.body == "{}");
        CHECK(p.rest == 1);
    }
    for (const std::string value :
         {"close", "CLOSE", "Close", "keep-alive", "KEEP-ALIVE", "Keep-Alive", "kEEP-aLIVE"}) {
        for (const std::string name : {"connection", "CONNECTION", "Connection"}) {
            const parsed p =
                parse_both_ways("HTTP/1.1 200 OK\r\n" + name + ": " + value + "\r\nContent-Length: 0\r\n\r\n");
            CAPTURE(name);
            CAPTURE(value);
            CHECK(p.simple);
            CHECK(p.resp.keep_alive == (value.size() == 10));
        }
    }
    // One byte off (another letter, or '_' for '-'): an ordinary field. Taken for the real name,
    // each would send the response to basic_parser (a value that is not a length or a token, a
    // second length, a framing field).
    for (const std::string name :
         {"content-length", "connection", "transfer-encoding", "proxy-connection", "upgrade"}) {
        for (std::size_t k = 0; k < name.size(); ++k) {
            std::string off = name;
            off[k] = off[k] == '-' ? '_' : off[k] == 'z' ? 'a' : static_cast<char>(off[k] + 1);
            const parsed p = parse_both_ways("HTTP/1.1 200 OK\r\n" + off + ": bogus\r\nContent-Length: 0\r\n\r\n");
            CAPTURE(off);
            CHECK(p.simple);
            CHECK(p.resp.header(off) == "bogus");
        }
    }
}

TEST_CASE("response_sink: after a HEAD request basic_parser reads the header only") {
    const parsed r = parse_both_ways("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n", true);
    CHECK(r.ok);
    CHECK_FALSE(r.simple);
    CHECK(r.resp.body.empty());
}

TEST_CASE("response_sink: a body over the limit is basic_parser's error") {
    const std::string in =
        "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(response_sink::max_body + 1) + "\r\n\r\n";
    const parsed r = parse_both_ways(in);
    CHECK_FALSE(r.ok);
    CHECK(r.ec == boost::beast::http::error::body_limit);
}
