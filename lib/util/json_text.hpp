// Writing JSON text by hand where a Boost.JSON value would cost an allocation per member (the
// bulk report, the CLI's output, the fake endpoint's answers): one string escaper for all.
#pragma once

#include "util/text.hpp"

#include <charconv>
#include <string>
#include <string_view>

namespace iotjobs::detail {

// Appends `s` as a JSON string, quotes included. Escapes " and \ and every byte below 0x20
// (\n, \t, \b, \f, \r or \u00XX with lower-case hex, as Python's json module writes them);
// valid UTF-8 passes through unchanged; each byte of an invalid UTF-8 sequence (a raw input line
// may hold anything) becomes \ufffd, so the output is always valid JSON.
void append_json_string(std::string& out, std::string_view s);

// Writes members of a JSON object into `out`: "key":value with a comma before each but the first
// (first = false goes on after members already written). Keys are plain ASCII names written as
// given; string values are escaped.
class json_members {
public:
    explicit json_members(std::string& out, bool first = true) noexcept : out_(out), first_(first) {}

    json_members& string(std::string_view key, std::string_view value) {
        this->key(key);
        append_json_string(out_, value);
        return *this;
    }
    template <class Int>
    json_members& integer(std::string_view key, Int value) {
        this->key(key);
        append_int(out_, value);
        return *this;
    }
    json_members& boolean(std::string_view key, bool value) {
        this->key(key);
        out_ += value ? "true" : "false";
        return *this;
    }

private:
    void key(std::string_view k) {
        if (!first_) out_ += ',';
        first_ = false;
        out_ += '"';
        out_ += k;
        out_ += "\":";
    }

    std::string& out_;
    bool first_;
};

}  // namespace iotjobs::detail
