// Writing JSON text by hand where a Boost.JSON value would cost an allocation per member (the
// bulk report, the CLI's output, the fake endpoint's answers): one string escaper for all.
#pragma once

#include <string>
#include <string_view>

namespace iotjobs::detail {

// Appends `s` as a JSON string, quotes included. Escapes " and \ and every byte below 0x20
// (\n, \t, \b, \f, \r or \u00XX with lower-case hex, as Python's json module writes them);
// valid UTF-8 passes through unchanged; each byte of an invalid UTF-8 sequence (a raw input line
// may hold anything) becomes \ufffd, so the output is always valid JSON.
void append_json_string(std::string& out, std::string_view s);

}  // namespace iotjobs::detail
