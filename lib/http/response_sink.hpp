// The response parser of the connection pool (lib/http/connection_pool.cpp): Beast's basic_parser
// subclass that parses a response straight into plain values. Private to lib/http (Beast); here
// rather than in connection_pool.cpp so that the fuzz target test/fuzz/http_response.cpp feeds it
// the bytes a connection reads (the pool itself needs a real socket).
#pragma once

#include "http/message.hpp"

#include <iotjobs/error.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/optional/optional.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace iotjobs::detail {

namespace beast_http = boost::beast::http;

// Beast's field-value trim (basic_fields stores values without leading/trailing spaces and tabs).
inline std::string_view trim_ows(std::string_view v) { return trim_blanks(v); }

// The common shape of a response, every byte of it at hand: "HTTP/1.1 200 OK", fields of plain
// names and printable values, one Content-Length, no Transfer-Encoding, Upgrade or folded line,
// Connection (if any) "keep-alive" or "close", a status with a body, and the whole body.
struct simple_response {
    static constexpr std::size_t max_fields = 24;
    static constexpr std::size_t max_header = 4096;
    int version = 11;
    unsigned status = 0;
    std::string_view reason;
    std::array<std::pair<std::string_view, std::string_view>, max_fields> fields;  // [0, field_count); value trimmed
    std::size_t field_count = 0;
    enum : unsigned char { close = 1, keep_alive = 2 };
    unsigned char first_connection = 0;  // the first Connection field: close or keep_alive; 0: none
    bool has_length = false;
    std::uint64_t content_length = 0;
    std::size_t header_size = 0;  // up to and including the empty line; the body follows
};

// Parses `in` when it starts with a whole response of that shape, for which basic_parser gives the
// same (a subset of what it accepts: it only ever declines, never rejects). False: anything else,
// an incomplete response included; nothing is decided and basic_parser parses it.
bool parse_simple_response(std::string_view in, simple_response& out) noexcept;

// Parses a response straight into plain values, giving what response_parser<string_body> plus the
// copy into http_response gave (status; reason, or its standard phrase when empty, as
// header::reason(); every field as received, in order, value trimmed; the body;
// message::keep_alive() from the first Connection field) without building a Beast message.
// Errors, limits (body_limit), skip() and got_some() are basic_parser's, as before.
class response_sink final : public beast_http::basic_parser<false> {
public:
    // The pool's settings: Beast's eager parsing, a 16 MiB body limit, no body after HEAD.
    static constexpr std::size_t max_body = 16 * 1024 * 1024;
    // `error_fields`: with `wanted_fields`, more fields kept when the status is not 2xx.
    explicit response_sink(const std::vector<std::string>* wanted_fields = nullptr, bool head = false,
                           const std::vector<std::string>* error_fields = nullptr)
        : wanted(wanted_fields), wanted_on_error(error_fields), head_(head) {
        body_limit(max_body);
        eager(true);
        if (head) skip(true);
    }

    // Parses what `buf` holds in [begin, end), advancing `begin` past what was used: until the
    // message is done, the bytes run out (need_more is not an error: read more, append at `end`,
    // call again) or an error, which is returned. The pool's read loop (advance_response) calls this
    // after every read.
    //
    // Boost 1.81's basic_parser asserts (BOOST_ASSERT(n >= 5) in parse_chunk_header) when, having
    // answered need_more to the 3 bytes "0\r\n" of a last chunk, it is called with 4 (a server's
    // "0\r\n" and "\r" arriving in separate reads; found by test/fuzz/http_response.cpp). Its code
    // after the assertion is right (boostorg/beast#2861 corrected the assertion, Boost 1.86), but a
    // build with assertions on would abort. After a need_more in a chunked body the unparsed bytes
    // start at a chunk header (or the CRLF before it: basic_parser consumes no part of a chunk header
    // until it has the whole line), and the shortest end of the message from there is the last
    // chunk "0\r\n\r\n": feed() waits for 5 bytes before calling put() again, which changes
    // nothing else (eof included). Not in the header: basic_parser consumes it line by line, so a
    // header may end with only "\r\n" unparsed (test/fuzz/http_response.cpp checks that reads of any
    // size give the same outcome).
    //
    // A whole response of the common shape in the first bytes fed is parsed by
    // parse_simple_response instead, with the same callbacks (no field-name lookup per field).
    error_code feed(const char* buf, std::size_t& begin, std::size_t end) {
        error_code ec;
        if (fast_done_) return {};
        if (!basic_parser::got_some() && take_simple(std::string_view(buf + begin, end - begin), begin, ec)) return ec;
        if (end - begin < resume_at_) return {};
        resume_at_ = 0;
        while (end > begin) {
            const std::size_t used = put(boost::asio::const_buffer(buf + begin, end - begin), ec);
            begin += used;
            if (ec == beast_http::error::need_more) {
                if (is_header_done() && chunked()) resume_at_ = 5;
                return {};
            }
            if (ec) return ec;
            if (is_done() || used == 0) break;
        }
        return {};
    }

    unsigned status = 0;
    std::string reason;
    std::vector<http_header> headers;
    std::string body;
    const std::vector<std::string>* wanted = nullptr;           // null or empty: keep every field
    const std::vector<std::string>* wanted_on_error = nullptr;  // also kept when the status is not 2xx

    // basic_parser's, counting a response parse_simple_response took.
    bool is_done() const noexcept { return fast_done_ || basic_parser::is_done(); }
    bool got_some() const noexcept { return fast_done_ || basic_parser::got_some(); }
    bool need_eof() const noexcept { return !fast_done_ && basic_parser::need_eof(); }
    bool took_simple() const noexcept { return fast_done_; }  // for tests

    bool keep_alive() const noexcept {
        if (version_ < 11) return connection_seen_ && connection_keep_alive_;
        return !(connection_seen_ && connection_close_);
    }

private:
    void on_request_impl(beast_http::verb, boost::beast::string_view, boost::beast::string_view, int,
                         error_code&) override {}
    void on_response_impl(int code, boost::beast::string_view r, int version, error_code&) override {
        status = static_cast<unsigned>(code);
        version_ = version;
        if (r.empty()) r = beast_http::obsolete_reason(static_cast<beast_http::status>(code));
        reason.assign(r.data(), r.size());
    }
    void on_field_impl(beast_http::field name, boost::beast::string_view name_string, boost::beast::string_view value,
                       error_code&) override {
        std::string_view v = trim_ows(std::string_view(value.data(), value.size()));
        add_field(std::string_view(name_string.data(), name_string.size()), v);
        if (name == beast_http::field::connection && !connection_seen_) {
            connection_seen_ = true;
            beast_http::token_list tokens(boost::beast::string_view(v.data(), v.size()));
            connection_close_ = tokens.exists("close");
            connection_keep_alive_ = tokens.exists("keep-alive");
        }
    }
    void on_header_impl(error_code& ec) override { ec = {}; }
    void on_body_init_impl(const boost::optional<std::uint64_t>& length, error_code& ec) override {
        if (length) {
            if (*length > body.max_size()) {
                ec = beast_http::error::buffer_overflow;
                return;
            }
            body.reserve(static_cast<std::size_t>(*length));
        }
        ec = {};
    }
    std::size_t on_body_impl(boost::beast::string_view b, error_code& ec) override { return append_body(b, ec); }
    void on_chunk_header_impl(std::uint64_t, boost::beast::string_view, error_code&) override {}
    std::size_t on_chunk_body_impl(std::uint64_t, boost::beast::string_view b, error_code& ec) override {
        return append_body(b, ec);
    }
    void on_finish_impl(error_code& ec) override { ec = {}; }

    // The callbacks basic_parser would make for a response parse_simple_response takes.
    bool take_simple(std::string_view in, std::size_t& begin, error_code& ec) {
        simple_response r;
        if (head_ || !parse_simple_response(in, r) || r.content_length > max_body) return false;
        on_response_impl(static_cast<int>(r.status), {r.reason.data(), r.reason.size()}, r.version, ec);
        for (std::size_t i = 0; i < r.field_count; ++i) add_field(r.fields[i].first, r.fields[i].second);
        if (r.first_connection != 0) {  // one token: what on_field_impl finds in it
            connection_seen_ = true;
            connection_close_ = r.first_connection == simple_response::close;
            connection_keep_alive_ = r.first_connection == simple_response::keep_alive;
        }
        const auto length = static_cast<std::size_t>(r.content_length);
        if (!ec && length > 0) {
            on_body_init_impl(r.content_length, ec);
            if (!ec) append_body({in.data() + r.header_size, length}, ec);
        }
        fast_done_ = true;
        begin += r.header_size + length;
        return true;
    }

    void add_field(std::string_view name, std::string_view value) {
        if (!keep(name)) return;
        if (headers.empty())
            headers.reserve(
                wanted && !wanted->empty() ? wanted->size() + (wanted_on_error ? wanted_on_error->size() : 0) : 8);
        headers.push_back({std::string(name), std::string(value)});
    }

    static bool listed(const std::vector<std::string>& names, std::string_view name) noexcept {
        for (const auto& w : names)
            if (iequals(name, w)) return true;
        return false;
    }

    // (The status is known: basic_parser and take_simple report it before the fields.)
    bool keep(std::string_view name) const noexcept {
        if (!wanted || wanted->empty()) return true;
        if (listed(*wanted, name)) return true;
        return wanted_on_error && (status < 200 || status >= 300) && listed(*wanted_on_error, name);
    }

    std::size_t append_body(boost::beast::string_view b, error_code& ec) {
        if (b.size() > body.max_size() - body.size()) {
            ec = beast_http::error::buffer_overflow;
            return 0;
        }
        body.append(b.data(), b.size());
        ec = {};
        return b.size();
    }

    bool head_ = false;
    bool fast_done_ = false;     // parse_simple_response took the response
    std::size_t resume_at_ = 0;  // after need_more in a chunked body: unparsed bytes wanted before the next put()
    int version_ = 11;
    bool connection_seen_ = false;
    bool connection_close_ = false;
    bool connection_keep_alive_ = false;
};

}  // namespace iotjobs::detail
