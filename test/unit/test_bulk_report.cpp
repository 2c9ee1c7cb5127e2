// The bulk-delete report (lib/bulk/report.hpp): JSON Lines writing with escaping, and the
// --skip-done reader (done_set).
#include "bulk/report.hpp"

#include <iotjobs/bulk_delete.hpp>
#include <iotjobs/error.hpp>

#include <boost/asio/error.hpp>
#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

using namespace std::string_literals;
using iotjobs::bulk_outcome;
using iotjobs::bulk_outcome_kind;
using iotjobs::client_errc;
using iotjobs::service_errc;
namespace detail = iotjobs::detail;
namespace json = boost::json;

namespace {

std::string quoted(std::string_view s) {
    std::string out;
    detail::append_json_string(out, s);
    return out;
}

// Parses the JSON text of one string and returns its value.
std::string unquoted(const std::string& json_text) {
    const json::value v = json::parse(json_text);
    REQUIRE(v.is_string());
    return std::string(v.as_string().data(), v.as_string().size());
}

bulk_outcome outcome(std::string thing, std::string job, std::int64_t n, bulk_outcome_kind kind,
                     std::uint64_t line = 1) {
    bulk_outcome o;
    o.item.request.thing_name = std::move(thing);
    o.item.request.job_id = std::move(job);
    o.item.request.execution_number = n;
    o.item.line = line;
    o.kind = kind;
    o.attempts = kind == bulk_outcome_kind::not_attempted || kind == bulk_outcome_kind::invalid_input ? 0 : 1;
    return o;
}

std::string line_of(const bulk_outcome& o) {
    std::string s;
    detail::append_outcome_jsonl(s, o);
    return s;
}

json::object parsed(const std::string& line) {
    REQUIRE(!line.empty());
    REQUIRE(line.back() == '\n');
    REQUIRE(line.find('\n') == line.size() - 1);  // exactly one line
    const json::value v = json::parse(line);
    REQUIRE(v.is_object());
    return v.as_object();
}

std::string member(const json::object& j, std::string_view key) {
    const json::value* v = j.if_contains(key);
    REQUIRE(v);
    REQUIRE(v->is_string());
    return std::string(v->as_string().data(), v->as_string().size());
}

std::string report_of(const std::vector<bulk_outcome>& outcomes) {
    std::ostringstream os;
    for (const auto& o : outcomes) detail::write_outcome_jsonl(os, o);
    return os.str();
}

detail::done_set::load_result load(detail::done_set& d, const std::string& text) {
    std::istringstream in(text);
    return d.load(in);
}

}  // namespace

TEST_CASE("JSON string escaping") {
    CHECK(quoted("") == R"("")");
    CHECK(quoted("plain thing-1:x_y") == R"("plain thing-1:x_y")");
    CHECK(quoted("a\"b") == R"("a\"b")");
    CHECK(quoted("a\\b") == R"("a\\b")");
    CHECK(quoted("\n\r\t\b\f") == R"("\n\r\t\b\f")");
    CHECK(quoted("a"s + '\0' + "b") == R"("a\u0000b")");
    CHECK(quoted("\x01\x1f") == R"("\u0001\u001f")");
    CHECK(quoted("\x7f") == "\"\x7f\"");  // DEL is allowed in JSON strings
    CHECK(quoted("/") == R"("/")");
    // Valid UTF-8 passes through: 2, 3 and 4 byte sequences, U+FFFF, U+10FFFF, U+2028.
    for (std::string s : {"caf\xC3\xA9"s, "\xE2\x82\xAC"s, "\xF0\x9F\x98\x80"s, "\xEF\xBF\xBF"s, "\xF4\x8F\xBF\xBF"s,
                          "\xE2\x80\xA8"s, "\xED\x9F\xBF"s}) {
        INFO(s);
        CHECK(quoted(s) == "\"" + s + "\"");
        CHECK(unquoted(quoted(s)) == s);
    }
    // Invalid UTF-8: every offending byte becomes U+FFFD.
    CHECK(quoted("\x80") == R"("\ufffd")");
    CHECK(quoted("a\xFF") == R"("a\ufffd")");
    CHECK(quoted("\xC3") == R"("\ufffd")");                                // cut sequence at the end
    CHECK(quoted("\xC3z") == R"("\ufffdz")");                              // cut sequence in the middle
    CHECK(quoted("\xC0\xAF") == R"("\ufffd\ufffd")");                      // overlong
    CHECK(quoted("\xE0\x80\xAF") == R"("\ufffd\ufffd\ufffd")");            // overlong
    CHECK(quoted("\xED\xA0\x80") == R"("\ufffd\ufffd\ufffd")");            // UTF-16 surrogate
    CHECK(quoted("\xF4\x90\x80\x80") == R"("\ufffd\ufffd\ufffd\ufffd")");  // past U+10FFFF
    CHECK(quoted("\xF8\x88\x80\x80\x80") == R"("\ufffd\ufffd\ufffd\ufffd\ufffd")");
    CHECK(quoted("\xE2\x82") == R"("\ufffd\ufffd")");
    // Whatever the bytes, the result is valid JSON, and ASCII text survives unchanged.
    std::string every_byte;
    for (int c = 0; c < 256; ++c) every_byte += static_cast<char>(c);
    const std::string back = unquoted(quoted(every_byte + every_byte));
    CHECK(back.substr(0, 128) == every_byte.substr(0, 128));
}

TEST_CASE("report lines") {
    SUBCASE("deleted: the exact line") {
        auto o = outcome("thing-1", "job-1", 42, bulk_outcome_kind::deleted, 7);
        CHECK(
            line_of(o) ==
            R"({"line":7,"thingName":"thing-1","jobId":"job-1","executionNumber":42,"outcome":"deleted","attempts":1})"
            "\n");
    }
    SUBCASE("force, namespaceId, extremes") {
        auto o = outcome("t", "j", std::numeric_limits<std::int64_t>::min(), bulk_outcome_kind::deleted,
                         std::numeric_limits<std::uint64_t>::max());
        o.item.request.force = false;
        o.item.request.namespace_id = "ns";
        o.attempts = 3;
        CHECK(line_of(o) == R"({"line":18446744073709551615,"thingName":"t","jobId":"j",)"
                            R"("executionNumber":-9223372036854775808,"force":false,"namespaceId":"ns",)"
                            R"("outcome":"deleted","attempts":3})"
                            "\n");
    }
    SUBCASE("refused: the AWS error name and the message, escaped") {
        auto o = outcome("t", "j", 1, bulk_outcome_kind::refused);
        o.ec = service_errc::invalid_state_transition;
        o.aws_error_name = "InvalidStateTransitionException";
        o.message = "Cannot delete \"IN_PROGRESS\"\nexecution \\ \xC3\xA9";
        auto j = parsed(line_of(o));
        CHECK(j.at("outcome") == "refused");
        CHECK(j.at("error") == "InvalidStateTransitionException");
        CHECK(j.at("message") == "Cannot delete \"IN_PROGRESS\"\nexecution \\ \xC3\xA9");
        CHECK_FALSE(j.contains("input"));
        CHECK_FALSE(j.contains("possiblyDeletedEarlier"));
    }
    SUBCASE("failed without an AWS name: the error code's message") {
        auto o = outcome("t", "j", 1, bulk_outcome_kind::failed);
        o.ec = boost::asio::error::connection_reset;
        o.attempts = 4;
        auto j = parsed(line_of(o));
        CHECK(member(j, "error") == o.ec.message());
        CHECK(j.at("attempts") == 4);
        CHECK_FALSE(j.contains("message"));
    }
    SUBCASE("not_found after a possibly processed attempt") {
        auto o = outcome("t", "j", 1, bulk_outcome_kind::not_found);
        o.ec = service_errc::resource_not_found;
        o.aws_error_name = "ResourceNotFoundException";
        o.earlier_attempt_may_have_succeeded = true;
        o.attempts = 2;
        auto j = parsed(line_of(o));
        CHECK(j.at("possiblyDeletedEarlier") == true);
        CHECK(j.at("error") == "ResourceNotFoundException");
    }
    SUBCASE("not_attempted: no error member when there is none") {
        auto o = outcome("t", "j", 1, bulk_outcome_kind::not_attempted);
        o.message = "the run stopped before this item";
        auto j = parsed(line_of(o));
        CHECK(j.at("outcome") == "not_attempted");
        CHECK_FALSE(j.contains("error"));
        CHECK(j.at("message") == "the run stopped before this item");
        CHECK(j.at("attempts") == 0);
    }
    SUBCASE("a deleted outcome never has an error member") {
        auto o = outcome("t", "j", 1, bulk_outcome_kind::deleted);
        o.aws_error_name = "leftover";
        CHECK_FALSE(parsed(line_of(o)).contains("error"));
    }
    SUBCASE("invalid_input: the raw input, whatever its bytes, and no item members") {
        auto o = outcome("bad\xFF", "", 0, bulk_outcome_kind::invalid_input, 12);
        o.ec = client_errc::invalid_parameter;
        o.message = "line 12: thingName 'bad\\xFF' is invalid";
        o.raw_input = "bad\xFF,\"x\"\t"s + '\0' + "\x1b[31m";
        const std::string line = line_of(o);
        auto j = parsed(line);
        CHECK(j.at("line") == 12);
        // No placeholders a reader could take for a request.
        CHECK_FALSE(j.contains("thingName"));
        CHECK_FALSE(j.contains("jobId"));
        CHECK_FALSE(j.contains("executionNumber"));
        CHECK(j.at("outcome") == "invalid_input");
        CHECK(member(j, "input") == "bad\xEF\xBF\xBD,\"x\"\t"s + '\0' + "\x1b[31m");
        CHECK(j.at("error").is_string());
    }
    SUBCASE("invalid_input: a long input line is kept whole") {
        auto o = outcome("", "", 0, bulk_outcome_kind::invalid_input, 3);
        o.raw_input = "{\"thingName\":\"" + std::string(5000, 't') + "\"}";
        CHECK(member(parsed(line_of(o)), "input") == o.raw_input);
    }
    SUBCASE("invalid_input from no input line (a vector source): the item as the input") {
        auto o = outcome("bad thing", "j", 4, bulk_outcome_kind::invalid_input, 2);
        auto j = parsed(line_of(o));
        CHECK_FALSE(j.contains("thingName"));
        const json::value in = json::parse(member(j, "input"));
        CHECK(in.at("thingName") == "bad thing");
        CHECK(in.at("executionNumber") == 4);
    }
    SUBCASE("status and predicted (dry runs)") {
        auto o = outcome("t", "j", 1, bulk_outcome_kind::not_attempted);
        o.item.status = iotjobs::job_execution_status::in_progress;
        o.predicted = bulk_outcome_kind::refused;
        o.message = "dry run: would be refused (IN_PROGRESS without force)";
        CHECK(line_of(o) == R"({"line":1,"thingName":"t","jobId":"j","executionNumber":1,"status":"IN_PROGRESS",)"
                            R"("outcome":"not_attempted","predicted":"refused",)"
                            R"x("message":"dry run: would be refused (IN_PROGRESS without force)","attempts":0})x"
                            "\n");
    }
    SUBCASE("a purge verification line") {
        detail::still_present p;
        p.request = {"t", "j", 9, true, "ns"};
        p.status = iotjobs::job_execution_status::queued;
        p.reason = "refused";
        p.error = "InvalidStateTransitionException";
        std::string line;
        detail::append_still_present_jsonl(line, p);
        CHECK(line == R"({"verify":"still_present","thingName":"t","jobId":"j","executionNumber":9,"namespaceId":"ns",)"
                      R"("status":"QUEUED","reason":"refused","error":"InvalidStateTransitionException"})"
                      "\n");
    }
    SUBCASE("write_outcome_jsonl writes the same line") {
        auto o = outcome("t", "j", 5, bulk_outcome_kind::refused);
        o.message = std::string(100'000, 'm');  // a big one, then a small one: same buffer logic
        std::ostringstream os;
        detail::write_outcome_jsonl(os, o);
        detail::write_outcome_jsonl(os, outcome("t", "j", 6, bulk_outcome_kind::deleted));
        CHECK(os.str() == line_of(o) + line_of(outcome("t", "j", 6, bulk_outcome_kind::deleted)));
    }
}

TEST_CASE("done_set: round trip from a report") {
    std::vector<bulk_outcome> outs;
    outs.push_back(outcome("t-deleted", "j", 1, bulk_outcome_kind::deleted));
    outs.push_back(outcome("t-not-found", "j", 2, bulk_outcome_kind::not_found));
    outs.push_back(outcome("t-refused", "j", 3, bulk_outcome_kind::refused));
    outs.push_back(outcome("t-failed", "j", 4, bulk_outcome_kind::failed));
    outs.push_back(outcome("t-not-attempted", "j", 5, bulk_outcome_kind::not_attempted));
    outs.push_back(outcome("t-invalid", "j", 6, bulk_outcome_kind::invalid_input));
    outs.push_back(outcome("t:neg", "j_x", std::numeric_limits<std::int64_t>::min(), bulk_outcome_kind::deleted));
    outs[2].message = "contains \"quotes\" and\nnewlines";
    outs[5].raw_input = "{\"thingName\":\"t-invalid\"";

    detail::done_set d;
    const auto r = load(d, report_of(outs));
    CHECK(r.lines == 7);
    CHECK(r.finished == 3);
    CHECK(r.malformed == 0);  // the invalid_input line (no item members) is a report line too
    CHECK_FALSE(r.truncated_last_line);
    CHECK(d.size() == 3);
    CHECK(d.contains("t-deleted", "j", 1));
    CHECK(d.contains("t-not-found", "j", 2));
    CHECK_FALSE(d.contains("t-refused", "j", 3));  // refused is tried again (with --force, say)
    CHECK_FALSE(d.contains("t-failed", "j", 4));
    CHECK_FALSE(d.contains("t-not-attempted", "j", 5));
    CHECK_FALSE(d.contains("t-invalid", "j", 6));
    CHECK(d.contains(outs[6].item.request));
    // The key is the whole (thing, job, number) triple.
    CHECK_FALSE(d.contains("t-deleted", "j", 2));
    CHECK_FALSE(d.contains("t-deleted", "k", 1));
    CHECK_FALSE(d.contains("t-deletedj", "", 1));
    CHECK_FALSE(d.contains("t-delete", "dj", 1));
    CHECK_FALSE(d.contains("", "", 0));
}

TEST_CASE("done_set: damaged reports") {
    const std::string a = line_of(outcome("a", "j", 1, bulk_outcome_kind::deleted));
    const std::string b = line_of(outcome("b", "j", 2, bulk_outcome_kind::deleted));
    SUBCASE("a truncated last line (a crash mid-write) is tolerated, not counted as malformed") {
        for (std::size_t cut = 1; cut < b.size() - 1; ++cut) {
            detail::done_set d;
            const auto r = load(d, a + b.substr(0, cut));
            INFO("cut " << cut);
            CHECK(r.truncated_last_line);
            CHECK(r.malformed == 0);
            CHECK(d.contains("a", "j", 1));
            CHECK_FALSE(d.contains("b", "j", 2));
        }
    }
    SUBCASE("a complete last line without its newline counts") {
        detail::done_set d;
        const auto r = load(d, a + b.substr(0, b.size() - 1));
        CHECK_FALSE(r.truncated_last_line);
        CHECK(d.contains("b", "j", 2));
    }
    SUBCASE("malformed lines are counted and skipped; blank lines and CRLF are fine") {
        detail::done_set d;
        const std::string text = "\n" + a + "not json\n" +
                                 R"({"thingName":"x","jobId":"j","outcome":"deleted"})"
                                 "\n" +
                                 R"({"thingName":"x","jobId":"j","executionNumber":"1","outcome":"deleted"})"
                                 "\n" +
                                 R"({"thingName":"x","jobId":"j","executionNumber":1,"outcome":"vanished"})"
                                 "\n" +
                                 R"({"thingName":"x","jobId":"j","executionNumber":1})"
                                 "\n" +
                                 "[1,2]\n" + "  \r\n" + b.substr(0, b.size() - 1) + "\r\n" +
                                 "{\"thingName\":\"x\xFF\"}\n";
        const auto r = load(d, text);
        CHECK(r.lines == 9);
        CHECK(r.malformed == 7);
        CHECK(r.finished == 2);
        CHECK_FALSE(r.truncated_last_line);
        CHECK(d.size() == 2);
        CHECK(d.contains("b", "j", 2));
        CHECK(d.malformed_lines() == 7);
        // A second report adds to the set and to the totals.
        const auto r2 = load(d, line_of(outcome("c", "j", 3, bulk_outcome_kind::not_found)) + "junk\n" + a);
        CHECK(r2.malformed == 1);
        CHECK(d.malformed_lines() == 8);
        CHECK(d.size() == 3);  // `a` again is not counted twice
        CHECK(d.contains("c", "j", 3));
    }
    SUBCASE("an empty report") {
        detail::done_set d;
        const auto r = load(d, "");
        CHECK(r.lines == 0);
        CHECK(d.size() == 0);
        CHECK_FALSE(d.contains("a", "j", 1));
    }
}

TEST_CASE("done_set: the earlier lines, carried into the new report") {
    auto del = outcome("a", "j", 1, bulk_outcome_kind::deleted, 2);
    del.attempts = 3;
    auto nf = outcome("b", "j", 2, bulk_outcome_kind::not_found, 3);
    nf.aws_error_name = "ResourceNotFoundException";
    nf.message = "gone \"already\"";
    auto refused = outcome("c", "j", 3, bulk_outcome_kind::refused, 4);
    // Two reports, kept alive and seekable (as the CLI keeps its --skip-done files open).
    std::istringstream first(report_of({del, refused}) + "junk\n");
    std::istringstream second(line_of(outcome("a", "j", 1, bulk_outcome_kind::not_found, 9)) + report_of({nf}));
    detail::done_set d;
    d.load(first);
    d.load(second);
    CHECK(d.size() == 2);

    const auto la = d.earlier_line(del.item.request);
    REQUIRE(la.has_value());
    CHECK(*la + "\n" == line_of(del));  // the first report's line wins
    const auto lb = d.earlier_line(nf.item.request);
    REQUIRE(lb.has_value());
    CHECK(*lb + "\n" == line_of(nf));
    CHECK_FALSE(d.earlier_line(refused.item.request).has_value());
    CHECK_FALSE(d.earlier_line({"zz", "j", 1, std::nullopt, std::nullopt}).has_value());
    // Read back in any order, any number of times.
    CHECK(d.earlier_line(del.item.request) == la);

    std::string out;
    bulk_outcome_kind kind = bulk_outcome_kind::failed;
    REQUIRE(detail::carried_line(*lb, 17, out, kind));
    CHECK(kind == bulk_outcome_kind::not_found);
    auto j = parsed(out);
    CHECK(j.at("line") == 17);
    CHECK(j.at("carried") == true);
    CHECK(j.at("outcome") == "not_found");
    CHECK(j.at("error") == "ResourceNotFoundException");
    CHECK(j.at("message") == "gone \"already\"");
    CHECK(j.at("attempts") == 1);
    CHECK(j.at("thingName") == "b");
    // Carried twice: still one carried member.
    std::string again;
    REQUIRE(detail::carried_line(out.substr(0, out.size() - 1), 17, again, kind));
    CHECK(again == out);
    CHECK_FALSE(detail::carried_line("not json", 1, again, kind));
    CHECK_FALSE(detail::carried_line(R"({"outcome":"vanished"})", 1, again, kind));
}

TEST_CASE("done_set: a line that changed under it is not taken for the item") {
    auto del = outcome("a", "j", 1, bulk_outcome_kind::deleted);
    std::istringstream report(line_of(del));
    detail::done_set d;
    d.load(report);
    REQUIRE(d.contains(del.item.request));
    // The stream now holds another item at that offset (the file was rewritten).
    report.str(line_of(outcome("x", "j", 1, bulk_outcome_kind::deleted)));
    CHECK_FALSE(d.earlier_line(del.item.request).has_value());
}

TEST_CASE("done_set: many items, no false positives among as many others") {
    detail::done_set d;
    constexpr int n = 200'000;
    for (int i = 0; i < n; ++i)
        d.insert_hash(detail::done_set::key_hash("thing-" + std::to_string(i), "job-" + std::to_string(i % 100), i));
    CHECK(d.size() == n);
    int present = 0, false_positives = 0;
    for (int i = 0; i < n; ++i) {
        present += d.contains("thing-" + std::to_string(i), "job-" + std::to_string(i % 100), i);
        false_positives += d.contains("thing-" + std::to_string(i), "job-" + std::to_string(i % 100), i + n);
        false_positives += d.contains("thing-" + std::to_string(i), "job-" + std::to_string((i + 1) % 100), i);
    }
    CHECK(present == n);
    CHECK(false_positives == 0);
    // Hash 0 is stored like any other.
    d.insert_hash(0);
    CHECK(d.size() == n + 1);
    // Long names (past the key's stack buffer) hash too.
    const std::string long_thing(5000, 't');
    d.insert_hash(detail::done_set::key_hash(long_thing, "j", 1));
    CHECK(d.contains(long_thing, "j", 1));
    CHECK_FALSE(d.contains(long_thing, "j", 2));
}
