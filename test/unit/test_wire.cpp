// The pure wire layer (lib/jobs/wire.hpp): validation, encoding, request building,
// restJson1 error parsing and response parsing.
#include "jobs/wire.hpp"

#include <iotjobs/delete_job_execution.hpp>
#include <iotjobs/job_execution.hpp>

#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <string_view>

using namespace std::string_literals;
using namespace std::string_view_literals;
using iotjobs::client_errc;
using iotjobs::error_code;
using iotjobs::job_execution_status;
namespace detail = iotjobs::detail;
namespace json = boost::json;

namespace {

std::string repeat(char c, std::size_t n) { return std::string(n, c); }

// A valid name of exactly n characters drawn from the allowed set.
std::string name_of_length(std::size_t n) {
    static constexpr std::string_view alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-";
    std::string s;
    for (std::size_t i = 0; i < n; ++i) s += alphabet[i % alphabet.size()];
    return s;
}

bool no_raw_control_bytes(const std::string& s) {
    for (unsigned char c : s)
        if (c < 0x20 || c >= 0x7F) return false;
    return true;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string_view sv(const json::string& s) { return {s.data(), s.size()}; }

}  // namespace

// =============================================================================================
// Validation

TEST_CASE("thingName: length boundaries and character set") {
    std::string what;
    CHECK_FALSE(detail::validate_thing_name("a", &what));
    CHECK_FALSE(detail::validate_thing_name(name_of_length(128), &what));
    CHECK_FALSE(detail::validate_thing_name("factory:line-2:robot_7", &what));
    CHECK_FALSE(detail::validate_thing_name("::", &what));

    CHECK(detail::validate_thing_name(name_of_length(129), &what) == client_errc::invalid_thing_name);
    CHECK(what.find("thingName") == 0);
    CHECK(what.find("1-128 characters of [a-zA-Z0-9:_-]") != std::string::npos);
    CHECK(what.find("129") != std::string::npos);

    CHECK(detail::validate_thing_name("", &what) == client_errc::invalid_thing_name);
    CHECK(what.find("thingName '' is invalid") == 0);

    CHECK(detail::validate_thing_name("a b", &what) == client_errc::invalid_thing_name);
    CHECK(what.find("thingName 'a b' is invalid: must be 1-128 characters of [a-zA-Z0-9:_-]") == 0);

    for (std::string bad : {"a/b"s, "a b"s, "a.b"s, "th\xC3\xAFng"s, "a\0b"s, "\xFF"s, "a\nb"s, "%41"s, "a+b"s, "a#b"s,
                            "a'b"s, "a\\b"s, "\x80"s, "\xC3"s, "caf\xC3\xA9"s, "\x7F"s}) {
        CAPTURE(bad);
        CHECK(detail::validate_thing_name(bad, &what) == client_errc::invalid_thing_name);
        CHECK(what.find("thingName '") == 0);
        CHECK(no_raw_control_bytes(what));  // NUL, newline and non-UTF-8 are escaped
        CHECK(detail::validate_thing_name(bad, nullptr) == client_errc::invalid_thing_name);
    }
    // Huge values are cut in the message.
    CHECK(detail::validate_thing_name(repeat('x', 1'000'000), &what) == client_errc::invalid_thing_name);
    CHECK(what.size() < 400);
}

TEST_CASE("jobId: length boundaries and character set") {
    std::string what;
    CHECK_FALSE(detail::validate_job_id("j", &what));
    CHECK_FALSE(detail::validate_job_id(name_of_length(64), &what));
    CHECK_FALSE(detail::validate_job_id("job_A-1", &what));
    CHECK(detail::validate_job_id(name_of_length(65), &what) == client_errc::invalid_job_id);
    CHECK(what.find("jobId") == 0);
    CHECK(what.find("1-64 characters of [a-zA-Z0-9_-]") != std::string::npos);
    CHECK(detail::validate_job_id("", &what) == client_errc::invalid_job_id);
    for (std::string bad : {"job:1"s, "a/b"s, "a b"s, "a.b"s,
                            "j\xC3\xB6"
                            "b"s,
                            "a\0b"s, "\xFE\xFF"s, "job~1"s}) {
        CAPTURE(bad);
        CHECK(detail::validate_job_id(bad, &what) == client_errc::invalid_job_id);
        CHECK(no_raw_control_bytes(what));
    }
}

TEST_CASE("namespaceId: at least one character of [a-zA-Z0-9_-]") {
    std::string what;
    CHECK_FALSE(detail::validate_namespace_id("AWS", &what));
    CHECK_FALSE(detail::validate_namespace_id("ns-1_X", &what));
    CHECK_FALSE(detail::validate_namespace_id(repeat('n', 5000), &what));  // no length limit in the model
    CHECK(detail::validate_namespace_id("", &what) == client_errc::invalid_namespace_id);
    CHECK(what.find("namespaceId") == 0);
    for (std::string bad : {"a b"s, "a/b"s, "v1.2~x_y-z"s, "a:b"s, "\0"s, "\xE2\x82\xAC"s}) {
        CAPTURE(bad);
        CHECK(detail::validate_namespace_id(bad, &what) == client_errc::invalid_namespace_id);
        CHECK(what.find("[a-zA-Z0-9_-]") != std::string::npos);
    }
}

TEST_CASE("validate(delete_job_execution_request)") {
    iotjobs::delete_job_execution_request req{"MyThing", "job-1", 1, std::nullopt, std::nullopt};
    std::string what = "unchanged";
    CHECK_FALSE(iotjobs::validate(req, &what));
    CHECK_FALSE(iotjobs::validate(req));
    req.execution_number = std::numeric_limits<std::int64_t>::min();  // any long is allowed
    CHECK_FALSE(iotjobs::validate(req));
    req.force = true;
    req.namespace_id = "ns-1";
    CHECK_FALSE(iotjobs::validate(req));

    auto bad = req;
    bad.thing_name = "a b/c";
    CHECK(iotjobs::validate(bad, &what) == client_errc::invalid_thing_name);
    CHECK(what.find("thingName 'a b/c'") == 0);
    bad = req;
    bad.job_id = name_of_length(70);
    CHECK(iotjobs::validate(bad, &what) == client_errc::invalid_job_id);
    bad = req;
    bad.namespace_id = "";
    CHECK(iotjobs::validate(bad, &what) == client_errc::invalid_namespace_id);
    bad.namespace_id = "a b";
    CHECK(iotjobs::validate(bad) == client_errc::invalid_namespace_id);
    CHECK(iotjobs::is_validation_error(iotjobs::validate(bad)));
}

TEST_CASE("validate: list, describe and cancel requests") {
    std::string what;
    iotjobs::list_job_executions_for_job_request lj{"job-1", {}, {}, {}};
    CHECK_FALSE(iotjobs::validate(lj, &what));
    lj.status = job_execution_status::canceled;
    lj.next_token = "anything / at all = ok";
    for (int ok : {1, 2, 100, 250}) {
        lj.max_results = ok;
        CHECK_FALSE(iotjobs::validate(lj, &what));
    }
    for (int bad : {0, -1, 251, 1000, std::numeric_limits<int>::min(), std::numeric_limits<int>::max()}) {
        CAPTURE(bad);
        lj.max_results = bad;
        CHECK(iotjobs::validate(lj, &what) == client_errc::invalid_parameter);
        CHECK(what.find("maxResults") == 0);
        CHECK(what.find("1 to 250") != std::string::npos);
    }
    lj.max_results = 10;
    lj.status = static_cast<job_execution_status>(42);
    CHECK(iotjobs::validate(lj, &what) == client_errc::invalid_parameter);
    CHECK(what.find("status") == 0);
    lj.status.reset();
    lj.job_id = "job:1";
    CHECK(iotjobs::validate(lj, &what) == client_errc::invalid_job_id);

    iotjobs::list_job_executions_for_thing_request lt{"my:thing", {}, {}, {}, {}, {}};
    CHECK_FALSE(iotjobs::validate(lt, &what));
    lt.status = job_execution_status::queued;
    lt.namespace_id = "AWS";
    lt.max_results = 250;
    lt.next_token = "ab+c/d==";
    lt.job_id = "job-1";
    CHECK_FALSE(iotjobs::validate(lt, &what));
    auto b = lt;
    b.thing_name = "";
    CHECK(iotjobs::validate(b, &what) == client_errc::invalid_thing_name);
    b = lt;
    b.namespace_id = "a b";
    CHECK(iotjobs::validate(b, &what) == client_errc::invalid_namespace_id);
    b = lt;
    b.max_results = 251;
    CHECK(iotjobs::validate(b, &what) == client_errc::invalid_parameter);
    b = lt;
    b.job_id = name_of_length(65);
    CHECK(iotjobs::validate(b, &what) == client_errc::invalid_job_id);
    b = lt;
    b.job_id = "";
    CHECK(iotjobs::validate(b, &what) == client_errc::invalid_job_id);

    iotjobs::describe_job_execution_request d{"MyThing", "job-1", std::nullopt};
    CHECK_FALSE(iotjobs::validate(d, &what));
    d.execution_number = -5;
    CHECK_FALSE(iotjobs::validate(d, &what));
    d.thing_name = name_of_length(129);
    CHECK(iotjobs::validate(d, &what) == client_errc::invalid_thing_name);
    d.thing_name = "t";
    d.job_id = "a.b";
    CHECK(iotjobs::validate(d, &what) == client_errc::invalid_job_id);
}

TEST_CASE("validate(cancel_job_execution_request): statusDetails rules") {
    std::string what;
    iotjobs::cancel_job_execution_request c{"MyThing", "job-1", std::nullopt, std::nullopt, {}};
    CHECK_FALSE(iotjobs::validate(c, &what));
    c.force = true;
    c.expected_version = 7;
    c.status_details = {{"reason", "operator request"}, {"a:b_c-D9", "x"}};
    CHECK_FALSE(iotjobs::validate(c, &what));

    auto with = [&](std::string key, std::string value) {
        auto r = c;
        r.status_details = {{std::move(key), std::move(value)}};
        return iotjobs::validate(r, &what);
    };
    // Keys.
    CHECK_FALSE(with(name_of_length(128), "v"));
    CHECK(with(name_of_length(129), "v") == client_errc::invalid_parameter);
    CHECK(what.find("statusDetails key") == 0);
    CHECK(with("", "v") == client_errc::invalid_parameter);
    CHECK(with("a b", "v") == client_errc::invalid_parameter);
    CHECK(with("a/b", "v") == client_errc::invalid_parameter);
    CHECK(with("k\0"s, "v") == client_errc::invalid_parameter);
    // Values: non-empty, valid UTF-8, no category C code points.
    CHECK_FALSE(with("k", "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 spaces and \"quotes\" \\ ok"));
    CHECK(with("k", "") == client_errc::invalid_parameter);
    CHECK(what.find("statusDetails['k']") == 0);
    for (std::string bad :
         {"\x01"s, "a\nb"s, "tab\t"s, "\0"s, "\x7F"s, "\xC2\x85"s /* U+0085 */, "\xE2\x80\x8B"s /* U+200B */,
          "\xEF\xBB\xBF"s /* BOM */, "\xEE\x80\x80"s /* U+E000 */, "\xEF\xBF\xBE"s /* U+FFFE */,
          "\xF3\xA0\x80\x81"s /* U+E0001 */, "\xC3"s /* truncated */, "\xC0\xAF"s /* overlong */,
          "\xED\xA0\x80"s /* surrogate */, "\xF4\x90\x80\x80"s /* > U+10FFFF */, "\xFF"s, "\x80"s}) {
        CAPTURE(bad);
        CHECK(with("k", bad) == client_errc::invalid_parameter);
        CHECK(no_raw_control_bytes(what));
    }
    // At most 10 pairs.
    auto r = c;
    r.status_details.clear();
    for (int i = 0; i < 10; ++i) r.status_details["k" + std::to_string(i)] = "v";
    CHECK_FALSE(iotjobs::validate(r, &what));
    r.status_details["k10"] = "v";
    CHECK(iotjobs::validate(r, &what) == client_errc::invalid_parameter);
    CHECK(what.find("at most 10") != std::string::npos);
    // Thing and job are checked first.
    r.thing_name = "";
    CHECK(iotjobs::validate(r, &what) == client_errc::invalid_thing_name);
}

TEST_CASE("quote_for_message") {
    CHECK(detail::quote_for_message("abc") == "'abc'");
    CHECK(detail::quote_for_message("") == "''");
    CHECK(detail::quote_for_message("a\0b"s) == "'a\\x00b'");
    CHECK(detail::quote_for_message("it's") == "'it\\'s'");
    CHECK(detail::quote_for_message("\xC3\xA9") == "'\\xC3\\xA9'");
    CHECK(detail::quote_for_message(repeat('z', 65)) == "'" + repeat('z', 64) + "...'");
}

// =============================================================================================
// executionNumber text

TEST_CASE("parse_execution_number: accepted") {
    const std::pair<std::string_view, std::int64_t> ok[] = {
        {"0", 0},
        {"1", 1},
        {"-1", -1},
        {"-0", 0},
        {"007", 7},
        {"123", 123},
        {"9007199254740993", 9007199254740993},  // above 2^53: exact
        {"9223372036854775807", std::numeric_limits<std::int64_t>::max()},
        {"-9223372036854775808", std::numeric_limits<std::int64_t>::min()},
    };
    for (const auto& [text, expected] : ok) {
        CAPTURE(text);
        std::int64_t out = 42;
        std::string what;
        CHECK(detail::parse_execution_number(text, out, &what));
        CHECK(out == expected);
        CHECK(what.empty());
    }
}

TEST_CASE("parse_execution_number: rejected") {
    for (std::string_view text : {""sv,
                                  "9223372036854775808"sv,
                                  "-9223372036854775809"sv,
                                  "99999999999999999999999"sv,
                                  "1e3"sv,
                                  " 1"sv,
                                  "1 "sv,
                                  "+1"sv,
                                  "0x10"sv,
                                  "1.0"sv,
                                  "1.5"sv,
                                  "-"sv,
                                  "--1"sv,
                                  "-+1"sv,
                                  "abc"sv,
                                  "1_000"sv,
                                  "\xEF\xBC\x91"sv,
                                  "1\0"sv,
                                  "\0"sv,
                                  "inf"sv,
                                  "nan"sv,
                                  "1,000"sv,
                                  "\t1"sv}) {
        CAPTURE(text);
        std::int64_t out = 42;
        std::string what;
        CHECK_FALSE(detail::parse_execution_number(text, out, &what));
        CHECK(out == 42);
        CHECK(what.find("executionNumber") == 0);
        CHECK(no_raw_control_bytes(what));
        CHECK_FALSE(detail::parse_execution_number(text, out, nullptr));
    }
    std::int64_t out = 0;
    std::string what;
    CHECK_FALSE(detail::parse_execution_number("9223372036854775808", out, &what));
    CHECK(what.find("range") != std::string::npos);
}

// =============================================================================================
// Percent-encoding

TEST_CASE("percent-encoding of labels and query values") {
    CHECK(detail::encode_label("my:thing") == "my%3Athing");
    CHECK(detail::encode_label("factory:line-2:robot_7") == "factory%3Aline-2%3Arobot_7");
    CHECK(detail::encode_query_value("a b") == "a%20b");
    CHECK(detail::encode_query_value("a/b") == "a%2Fb");
    CHECK(detail::encode_query_value("ab+c/d==") == "ab%2Bc%2Fd%3D%3D");
    CHECK(detail::encode_query_value("v1.2~x_y-z") == "v1.2~x_y-z");
    CHECK(detail::encode_label("caf\xC3\xA9") == "caf%C3%A9");
    CHECK(detail::encode_label("100%") == "100%25");
    CHECK(detail::encode_label("a\0b"s) == "a%00b");
    CHECK(detail::encode_label("") == "");
    // Every byte: unreserved ones unchanged, all others %XX with uppercase hex.
    for (int b = 0; b < 256; ++b) {
        const char c = static_cast<char>(b);
        const std::string enc = detail::encode_label(std::string_view(&c, 1));
        const bool unreserved = (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') ||
                                b == '-' || b == '.' || b == '_' || b == '~';
        CAPTURE(b);
        if (unreserved) {
            CHECK(enc == std::string(1, c));
        } else {
            constexpr char hex[] = "0123456789ABCDEF";
            CHECK(enc == std::string{'%', hex[b >> 4], hex[b & 15]});
        }
    }
    std::string out = "x=";
    detail::append_percent_encoded(out, "a:b");
    CHECK(out == "x=a%3Ab");
}

// =============================================================================================
// Requests

TEST_CASE("DeleteJobExecution path and query match every SDK vector") {
    const char* dir = std::getenv("IOTJOBS_SHARED_DIR");
    REQUIRE_MESSAGE(dir != nullptr, "IOTJOBS_SHARED_DIR is not set");
    const std::string path = std::string(dir) + "/testdata/delete_job_execution/vectors.json";
    const std::string text = read_file(path);
    REQUIRE_MESSAGE(!text.empty(), "cannot read " << path);
    json::error_code ec;
    const json::value doc = json::parse(text, ec);
    REQUIRE_MESSAGE(!ec, "vectors.json is not JSON: " << ec.message());
    const json::array* cases = doc.if_array();
    REQUIRE(cases != nullptr);
    REQUIRE_MESSAGE(!cases->empty(), "vectors.json has no cases");

    std::size_t valid = 0, invalid = 0;
    for (const json::value& cv : *cases) {
        const json::object& c = cv.as_object();
        const std::string name(sv(c.at("name").as_string()));
        CAPTURE(name);
        const json::object& in = c.at("input").as_object();
        iotjobs::delete_job_execution_request req;
        req.thing_name = std::string(sv(in.at("thingName").as_string()));
        req.job_id = std::string(sv(in.at("jobId").as_string()));
        req.execution_number = in.at("executionNumber").to_number<std::int64_t>();
        if (const auto* f = in.if_contains("force")) req.force = f->as_bool();
        if (const auto* ns = in.if_contains("namespaceId")) req.namespace_id = std::string(sv(ns->as_string()));

        const detail::operation_request r = detail::build_request(req);
        CHECK(r.method == "DELETE");
        CHECK(r.operation_name == "DeleteJobExecution");
        CHECK(r.body.empty());
        CHECK(r.content_type.empty());
        for (const char* sdk : {"botocore", "aws_sdk_js_v3"}) {
            CAPTURE(sdk);
            const json::object& wire = c.at(sdk).as_object().at("request").as_object();
            CHECK(r.path == sv(wire.at("path").as_string()));
            CHECK(r.query == sv(wire.at("query").as_string()));
            CHECK(r.method == sv(wire.at("method").as_string()));
        }

        std::string what;
        const error_code v = iotjobs::validate(req, &what);
        if (c.at("model_violations").as_array().empty()) {
            CHECK_MESSAGE(!v, what);
            ++valid;
        } else {
            CHECK(v);
            CHECK(iotjobs::is_validation_error(v));
            CHECK(!what.empty());
            ++invalid;
        }
    }
    CHECK(valid > 0);
    MESSAGE(valid << " valid and " << invalid << " model-violating vectors checked");
}

TEST_CASE("DeleteJobExecution: query order and extreme execution numbers") {
    iotjobs::delete_job_execution_request req{"my:thing", "job-1", 7, true, "AWS"};
    auto r = detail::build_request(req);
    CHECK(r.path == "/things/my%3Athing/jobs/job-1/executionNumber/7");
    CHECK(r.query == "force=true&namespaceId=AWS");
    req.force.reset();
    CHECK(detail::build_request(req).query == "namespaceId=AWS");
    req.execution_number = std::numeric_limits<std::int64_t>::max();
    CHECK(detail::build_request(req).path == "/things/my%3Athing/jobs/job-1/executionNumber/9223372036854775807");
    req.execution_number = std::numeric_limits<std::int64_t>::min();
    CHECK(detail::build_request(req).path == "/things/my%3Athing/jobs/job-1/executionNumber/-9223372036854775808");
}

TEST_CASE("ListJobExecutionsForJob request") {
    iotjobs::list_job_executions_for_job_request req{"job-1", {}, {}, {}};
    auto r = detail::build_request(req);
    CHECK(r.method == "GET");
    CHECK(r.operation_name == "ListJobExecutionsForJob");
    CHECK(r.path == "/jobs/job-1/things");
    CHECK(r.query == "");
    CHECK(r.body.empty());
    req.status = job_execution_status::in_progress;
    req.max_results = 250;
    req.next_token = "ab+c/d== x";
    r = detail::build_request(req);
    CHECK(r.query == "status=IN_PROGRESS&maxResults=250&nextToken=ab%2Bc%2Fd%3D%3D%20x");
    req.status.reset();
    req.max_results.reset();
    CHECK(detail::build_request(req).query == "nextToken=ab%2Bc%2Fd%3D%3D%20x");
}

TEST_CASE("ListJobExecutionsForThing request (AWS-BEHAVIOUR c.3 example)") {
    iotjobs::list_job_executions_for_thing_request req{
        "my:thing", job_execution_status::queued, "AWS", 250, "ab+c/d==", std::nullopt};
    auto r = detail::build_request(req);
    CHECK(r.method == "GET");
    CHECK(r.operation_name == "ListJobExecutionsForThing");
    CHECK(r.path == "/things/my%3Athing/jobs");
    CHECK(r.query == "status=QUEUED&namespaceId=AWS&maxResults=250&nextToken=ab%2Bc%2Fd%3D%3D");
    req.job_id = "job-1";
    CHECK(detail::build_request(req).query ==
          "status=QUEUED&namespaceId=AWS&maxResults=250&nextToken=ab%2Bc%2Fd%3D%3D&jobId=job-1");
    iotjobs::list_job_executions_for_thing_request bare{"t", {}, {}, {}, {}, "j"};
    CHECK(detail::build_request(bare).query == "jobId=j");
    bare.job_id.reset();
    CHECK(detail::build_request(bare).query.empty());
}

TEST_CASE("DescribeJobExecution request") {
    iotjobs::describe_job_execution_request req{"my:thing", "job-1", std::nullopt};
    auto r = detail::build_request(req);
    CHECK(r.method == "GET");
    CHECK(r.operation_name == "DescribeJobExecution");
    CHECK(r.path == "/things/my%3Athing/jobs/job-1");
    CHECK(r.query.empty());
    req.execution_number = 123;
    CHECK(detail::build_request(req).query == "executionNumber=123");
    req.execution_number = std::numeric_limits<std::int64_t>::max();
    CHECK(detail::build_request(req).query == "executionNumber=9223372036854775807");
    req.execution_number = -1;
    CHECK(detail::build_request(req).query == "executionNumber=-1");
}

TEST_CASE("CancelJobExecution request and JSON body") {
    iotjobs::cancel_job_execution_request req{"my:thing", "job-1", std::nullopt, std::nullopt, {}};
    auto r = detail::build_request(req);
    CHECK(r.method == "PUT");
    CHECK(r.operation_name == "CancelJobExecution");
    CHECK(r.path == "/things/my%3Athing/jobs/job-1/cancel");
    CHECK(r.query.empty());
    CHECK(r.body == "{}");
    CHECK(r.content_type == "application/json");

    req.force = false;
    CHECK(detail::build_request(req).query == "force=false");
    req.force = true;
    req.expected_version = std::numeric_limits<std::int64_t>::max();
    r = detail::build_request(req);
    CHECK(r.query == "force=true");
    CHECK(r.body == R"({"expectedVersion":9223372036854775807})");

    req.status_details = {{"reason", "say \"hi\" \\ caf\xC3\xA9"}, {"a:b", "1"}};
    r = detail::build_request(req);
    json::error_code ec;
    const json::value body = json::parse(r.body, ec);
    REQUIRE(!ec);
    CHECK(body.at("expectedVersion").as_int64() == std::numeric_limits<std::int64_t>::max());
    const json::object& sd = body.at("statusDetails").as_object();
    CHECK(sd.size() == 2);
    CHECK(sv(sd.at("reason").as_string()) == "say \"hi\" \\ caf\xC3\xA9");
    CHECK(sv(sd.at("a:b").as_string()) == "1");
    // Model member order: expectedVersion before statusDetails.
    CHECK(r.body.find("expectedVersion") < r.body.find("statusDetails"));

    req.expected_version.reset();
    r = detail::build_request(req);
    CHECK(r.body == R"({"statusDetails":{"a:b":"1","reason":"say \"hi\" \\ café"}})");
}

// =============================================================================================
// restJson1 errors (AWS-BEHAVIOUR.md section b)

namespace {
detail::parsed_error parse(unsigned status, std::string_view body, std::string_view error_type = {},
                           std::string_view reason = {}, std::string_view rid = {}, std::string_view rid2 = {}) {
    return detail::parse_error_response(status, reason, error_type, rid, rid2, body);
}
}  // namespace

TEST_CASE("error probe table: header with suffix, message from body") {
    auto e = parse(400, R"({"message":"Rate exceeded"})",
                   "ThrottlingException:http://internal.amazon.com/coral/com.amazon.coral.availability/");
    CHECK(e.code == "ThrottlingException");
    CHECK(e.message == "Rate exceeded");
    CHECK(e.http_status == 400);
    CHECK(iotjobs::service_errc_from_response(e.http_status, e.code) == iotjobs::service_errc::throttling);
}

TEST_CASE("error probe table: __type with namespace prefix, Message") {
    auto e = parse(404, R"({"__type":"aws.iot#ResourceNotFoundException","Message":"Thing not found"})");
    CHECK(e.code == "ResourceNotFoundException");
    CHECK(e.message == "Thing not found");
}

TEST_CASE("error probe table: body code") {
    auto e = parse(400, R"({"code":"InvalidRequestException","message":"bad thing"})");
    CHECK(e.code == "InvalidRequestException");
    CHECK(e.message == "bad thing");
    e = parse(400, R"({"Code":"InvalidRequestException","Message":"bad"})");
    CHECK(e.code == "InvalidRequestException");
    CHECK(e.message == "bad");
}

TEST_CASE("error probe table: header wins over body __type") {
    auto e = parse(409, R"({"__type":"com.amazonaws.iot#Other","message":"m"})", "InvalidStateTransitionException");
    CHECK(e.code == "InvalidStateTransitionException");
    CHECK(e.message == "m");
}

TEST_CASE("error probe table: generic 503 <html> and 502 empty") {
    auto e = parse(503, "<html><body><b>Http/1.1 Service Unavailable</b></body></html>", {}, "Service Unavailable");
    CHECK(e.code == "503");
    CHECK(e.message == "Service Unavailable");
    e = parse(502, "", {}, "Bad Gateway");
    CHECK(e.code == "502");
    CHECK(e.message == "Bad Gateway");
    // Leading/trailing ASCII whitespace is stripped before the check (bytes.strip()).
    e = parse(504, " \r\n\t<html>x</html>\n", {}, "Gateway Timeout");
    CHECK(e.code == "504");
    CHECK(e.message == "Gateway Timeout");
    e = parse(500, " \n\t ", {}, "Internal Server Error");
    CHECK(e.code == "500");
    // Without a reason phrase, the standard one.
    e = parse(503, "");
    CHECK(e.code == "503");
    CHECK(e.message == "Service Unavailable");
    // The generic rule wins even over a header.
    e = parse(503, "", "ThrottlingException");
    CHECK(e.code == "503");
}

TEST_CASE("error probe table: moto's 500 <!doctype html> page is not generic") {
    const std::string html =
        "<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n<h1>Internal Server "
        "Error</h1>\n"
        "<p>The server encountered an internal error and was unable to complete your request. Either the "
        "server is "
        "overloaded or there is an error in the application.</p>\n";
    auto e = parse(500, html, {}, "INTERNAL SERVER ERROR");
    CHECK(e.code == "500");
    CHECK(e.message == html);
    CHECK(e.request_id.empty());
    CHECK(iotjobs::service_errc_from_response(e.http_status, e.code) == iotjobs::service_errc::internal_failure);
    // Case matters: "<HTML>" is not the generic marker either.
    e = parse(500, "<HTML><body>x</body></HTML>", {}, "Internal Server Error");
    CHECK(e.code == "500");
    CHECK(e.message == "<HTML><body>x</body></HTML>");
}

TEST_CASE("error: moto 404 raw response (AWS-BEHAVIOUR h.3)") {
    const std::string rid(52, 'R');
    auto e =
        parse(404, R"({"__type": "ResourceNotFoundException", "message": "The specified resource does not exist"})",
              "ResourceNotFoundException", "NOT FOUND", rid);
    CHECK(e.code == "ResourceNotFoundException");
    CHECK(e.message == "The specified resource does not exist");
    CHECK(e.request_id == rid);
    CHECK(e.http_status == 404);
}

TEST_CASE("error: precedence, cleaning and request ids") {
    // code before Code before __type; message before Message.
    auto e = parse(400, R"({"Code":"B","code":"A","__type":"C","Message":"M2","message":"M1"})");
    CHECK(e.code == "A");
    CHECK(e.message == "M1");
    e = parse(400, R"({"Code":"B","__type":"C"})");
    CHECK(e.code == "B");
    CHECK(e.message.empty());
    // Cleaning: cut at the first ':', then keep what follows the last '#'.
    CHECK(detail::clean_error_code("aws.iot#Foo:bar#baz") == "Foo");
    CHECK(detail::clean_error_code("a#b#C") == "C");
    CHECK(detail::clean_error_code("X:y:z") == "X");
    CHECK(detail::clean_error_code("Plain") == "Plain");
    CHECK(detail::clean_error_code("") == "");
    CHECK(detail::clean_error_code("#") == "");
    e = parse(400, "{}", "com.amazonaws.iot#InvalidRequestException:http://x#y");
    CHECK(e.code == "InvalidRequestException");
    // A candidate that cleans to nothing is skipped.
    e = parse(400, R"({"code":":x","__type":"aws#Real"})", ":nothing");
    CHECK(e.code == "Real");
    // No code anywhere: the status.
    e = parse(403, R"({"message":"denied"})");
    CHECK(e.code == "403");
    CHECK(e.message == "denied");
    e = parse(400, "");
    CHECK(e.code == "400");
    CHECK(e.message.empty());
    // Request id: x-amzn-RequestId, else x-amz-request-id.
    e = parse(400, "{}", {}, {}, "amzn-id", "amz-id");
    CHECK(e.request_id == "amzn-id");
    e = parse(400, "{}", {}, {}, {}, "amz-id");
    CHECK(e.request_id == "amz-id");
    e = parse(503, "", {}, {}, {}, "amz-id");
    CHECK(e.request_id == "amz-id");
    // A 500 with a JSON error is parsed normally.
    e = parse(500, R"({"__type":"InternalFailureException","message":"oops"})");
    CHECK(e.code == "InternalFailureException");
    CHECK(e.message == "oops");
}

TEST_CASE("error: garbage bodies never crash or throw") {
    // Non-JSON text (e.g. moto's XML SignatureDoesNotMatch) becomes the message.
    const std::string xml =
        "<?xml version=\"1.0\"?><ErrorResponse><Error><Code>SignatureDoesNotMatch</Code>"
        "</Error></ErrorResponse>";
    auto e = parse(403, xml);
    CHECK(e.code == "403");
    CHECK(e.message == xml);
    // Truncated JSON.
    e = parse(400, R"({"__type":"aws#ThrottlingException","message":"x")");
    CHECK(e.code == "400");
    CHECK(e.message == R"({"__type":"aws#ThrottlingException","message":"x")");
    // JSON that is not an object: treated as text.
    for (std::string_view body : {"[1,2,3]"sv, "null"sv, "42"sv, "\"ThrottlingException\""sv, "true"sv}) {
        CAPTURE(body);
        e = parse(400, body);
        CHECK(e.code == "400");
        CHECK(e.message == body);
    }
    // Non-string fields are ignored.
    e = parse(400, R"({"message":5,"Message":"M","code":7,"Code":null,"__type":{"a":1}})");
    CHECK(e.message == "M");
    CHECK(e.code == "400");
    e = parse(400, R"({"message":["x"],"code":"C"})");
    CHECK(e.message.empty());
    CHECK(e.code == "C");
    // Trailing garbage after an object is not JSON.
    e = parse(400, R"({"code":"C"} trailing)");
    CHECK(e.code == "400");
    // NUL and invalid UTF-8 bytes.
    const std::string binary = "\0\xFF\xFE{\"code\":\"X\"}\x80"s;
    e = parse(400, binary);
    CHECK(e.code == "400");
    CHECK(e.message == binary);
    e = parse(400, "{\"message\":\"a\xFF\"}"s);  // invalid UTF-8 inside a JSON string
    CHECK(e.code == "400");
    // Deep nesting and huge bodies.
    const std::string deep(200000, '[');
    e = parse(400, deep);
    CHECK(e.code == "400");
    CHECK(e.message.size() == deep.size());
    const std::string deep_obj = repeat('[', 300) + repeat(']', 300);
    e = parse(400, deep_obj);
    CHECK(e.code == "400");
    std::string huge = R"({"code":"BigOne","message":")" + repeat('m', 8 * 1024 * 1024) + "\"}";
    e = parse(400, huge);
    CHECK(e.code == "BigOne");
    CHECK(e.message.size() == 8u * 1024 * 1024);
    const std::string huge_text(16 * 1024 * 1024, 'x');
    e = parse(500, huge_text);
    CHECK(e.code == "500");
    CHECK(e.message.size() == huge_text.size());
    // Every single byte, and every 2-byte prefix of a real error body.
    const std::string real = R"({"__type":"aws.iot#ResourceNotFoundException","message":"gone"})";
    for (std::size_t n = 0; n <= real.size(); ++n) {
        e = parse(404, std::string_view(real).substr(0, n));
        CHECK(!e.code.empty());
    }
    for (int b = 0; b < 256; ++b) {
        const char c = static_cast<char>(b);
        e = parse(500, std::string_view(&c, 1));
        CHECK(!e.code.empty());
    }
}

// =============================================================================================
// Success bodies

TEST_CASE("ListJobExecutionsForJob response: page with token, fractional timestamps") {
    const std::string body = R"({
      "executionSummaries": [
        {"thingArn": "arn:aws:iot:us-east-1:123456789012:thing/t1",
         "jobExecutionSummary": {"status": "QUEUED", "queuedAt": 1795696901.038, "lastUpdatedAt": 1795696901.5,
                                 "executionNumber": 123, "retryAttempt": 0, "futureField": {"x": [1]}}},
        {"thingArn": "arn:aws:iot:us-east-1:123456789012:thing/t2",
         "jobExecutionSummary": {"status": "IN_PROGRESS", "queuedAt": 1700000000, "startedAt": 1700000001.25,
                                 "executionNumber": 9223372036854775807, "retryAttempt": 2147483647}}
      ],
      "nextToken": "eyJvZmZzZXQiOiAyfQ==",
      "somethingNew": true
    })";
    iotjobs::list_job_executions_result out;
    std::string what;
    REQUIRE_FALSE(detail::parse_list_job_executions_for_job_response(body, out, &what));
    REQUIRE(out.executions.size() == 2);
    const auto& a = out.executions[0];
    CHECK(a.thing_arn == "arn:aws:iot:us-east-1:123456789012:thing/t1");
    CHECK(a.job_id.empty());
    CHECK(a.status == job_execution_status::queued);
    CHECK(a.execution_number == 123);
    CHECK(a.retry_attempt == 0);
    REQUIRE(a.queued_at);
    REQUIRE(a.last_updated_at);
    CHECK(*a.queued_at == doctest::Approx(1795696901.038).epsilon(1e-15));
    CHECK(*a.queued_at - 1795696901.0 == doctest::Approx(0.038).epsilon(1e-4));
    CHECK_FALSE(a.started_at);
    CHECK(*a.last_updated_at == doctest::Approx(1795696901.5).epsilon(1e-15));
    const auto& b = out.executions[1];
    CHECK(b.status == job_execution_status::in_progress);
    CHECK(b.execution_number == std::numeric_limits<std::int64_t>::max());
    CHECK(b.retry_attempt == std::numeric_limits<std::int32_t>::max());
    CHECK(b.queued_at == 1700000000.0);
    REQUIRE(b.started_at);
    CHECK(*b.started_at == doctest::Approx(1700000001.25).epsilon(1e-15));
    CHECK_FALSE(b.last_updated_at);
    REQUIRE(out.next_token);
    CHECK(*out.next_token == "eyJvZmZzZXQiOiAyfQ==");
}

TEST_CASE("ListJobExecutionsForThing response: last page, minimal and null members") {
    const std::string body = R"({"executionSummaries":[
        {"jobId":"job-1","jobExecutionSummary":{"status":"CANCELED"}},
        {"jobId":"job-2","thingArn":"arn:x","jobExecutionSummary":{"status":"TIMED_OUT","executionNumber":null,
          "retryAttempt":null,"queuedAt":null}}],
      "nextToken":null})";
    iotjobs::list_job_executions_result out;
    REQUIRE_FALSE(detail::parse_list_job_executions_for_thing_response(body, out));
    REQUIRE(out.executions.size() == 2);
    CHECK(out.executions[0].job_id == "job-1");
    CHECK(out.executions[0].status == job_execution_status::canceled);
    CHECK_FALSE(out.executions[0].execution_number);
    CHECK_FALSE(out.executions[0].retry_attempt);
    CHECK(out.executions[1].job_id == "job-2");
    CHECK(out.executions[1].thing_arn == "arn:x");  // moto returns both
    CHECK(out.executions[1].status == job_execution_status::timed_out);
    CHECK_FALSE(out.executions[1].queued_at);
    CHECK_FALSE(out.next_token);

    // Empty object, empty list, empty token: an empty last page.
    for (std::string_view b :
         {"{}"sv, R"({"executionSummaries":[]})"sv, R"({"executionSummaries":[],"nextToken":""})"sv}) {
        CAPTURE(b);
        iotjobs::list_job_executions_result page;
        page.next_token = "stale";
        REQUIRE_FALSE(detail::parse_list_job_executions_for_thing_response(b, page));
        CHECK(page.executions.empty());
        CHECK_FALSE(page.next_token);
    }
}

TEST_CASE("list responses: every status name") {
    for (int i = 0; i < 8; ++i) {
        const auto s = static_cast<job_execution_status>(i);
        const std::string name(iotjobs::to_string(s));
        CAPTURE(name);
        const std::string body =
            R"({"executionSummaries":[{"jobId":"j","jobExecutionSummary":{"status":")" + name + R"("}}]})";
        iotjobs::list_job_executions_result out;
        REQUIRE_FALSE(detail::parse_list_job_executions_for_thing_response(body, out));
        CHECK(out.executions.at(0).status == s);
    }
}

TEST_CASE("list responses: malformed bodies give bad_response and leave the output alone") {
    const std::string_view bad_bodies[] = {
        ""sv,
        "not json"sv,
        "<!doctype html>"sv,
        "[]"sv,
        "null"sv,
        "42"sv,
        R"({"executionSummaries":{}})"sv,
        R"({"executionSummaries":"x"})"sv,
        R"({"executionSummaries":[1]})"sv,
        R"({"executionSummaries":[null]})"sv,
        R"({"executionSummaries":[{"jobId":"j"}]})"sv,  // no summary
        R"({"executionSummaries":[{"jobId":"j","jobExecutionSummary":[]}]})"sv,
        R"({"executionSummaries":[{"jobId":"j","jobExecutionSummary":{}}]})"sv,  // no status
        R"({"executionSummaries":[{"jobId":"j","jobExecutionSummary":{"status":"PAUSED"}}]})"sv,
        R"({"executionSummaries":[{"jobId":"j","jobExecutionSummary":{"status":"queued"}}]})"sv,
        R"({"executionSummaries":[{"jobId":"j","jobExecutionSummary":{"status":5}}]})"sv,
        R"({"executionSummaries":[{"jobId":7,"jobExecutionSummary":{"status":"QUEUED"}}]})"sv,
        R"({"executionSummaries":[{"jobId":"j","jobExecutionSummary":{"status":"QUEUED","executionNumber":9223372036854775808}}]})"sv,
        R"({"executionSummaries":[{"jobId":"j","jobExecutionSummary":{"status":"QUEUED","executionNumber":1e30}}]})"sv,
        R"({"executionSummaries":[{"jobId":"j","jobExecutionSummary":{"status":"QUEUED","executionNumber":1.5}}]})"sv,
        R"({"executionSummaries":[{"jobId":"j","jobExecutionSummary":{"status":"QUEUED","executionNumber":"12"}}]})"sv,
        R"({"executionSummaries":[{"jobId":"j","jobExecutionSummary":{"status":"QUEUED","retryAttempt":2147483648}}]})"sv,
        R"({"executionSummaries":[{"jobId":"j","jobExecutionSummary":{"status":"QUEUED","queuedAt":"2024-01-01T00:00:00Z"}}]})"sv,
        R"({"executionSummaries":[{"jobId":"j","jobExecutionSummary":{"status":"QUEUED","queuedAt":true}}]})"sv,
        R"({"executionSummaries":[],"nextToken":5})"sv,
        R"({"executionSummaries":[]} x)"sv,
        R"({"executionSummaries":[)"sv,
    };
    for (std::string_view body : bad_bodies) {
        CAPTURE(body);
        iotjobs::list_job_executions_result out;
        out.next_token = "keep";
        std::string what;
        CHECK(detail::parse_list_job_executions_for_thing_response(body, out, &what) == client_errc::bad_response);
        CHECK(detail::parse_list_job_executions_for_job_response(body, out, nullptr) == client_errc::bad_response);
        CHECK(!what.empty());
        CHECK(out.next_token == "keep");
        CHECK(out.executions.empty());
    }
    // The message points at the entry.
    iotjobs::list_job_executions_result out;
    std::string what;
    CHECK(
        detail::parse_list_job_executions_for_thing_response(
            R"({"executionSummaries":[{"jobId":"a","jobExecutionSummary":{"status":"QUEUED"}},{"jobId":"b","jobExecutionSummary":{"status":"NOPE"}}]})",
            out, &what) == client_errc::bad_response);
    CHECK(what.find("executionSummaries[1]") == 0);
    CHECK(what.find("NOPE") != std::string::npos);
    // Integral doubles are accepted for longs; negative numbers are kept.
    CHECK_FALSE(detail::parse_list_job_executions_for_thing_response(
        R"({"executionSummaries":[{"jobId":"a","jobExecutionSummary":{"status":"QUEUED","executionNumber":5.0,"retryAttempt":-1}}]})",
        out));
    CHECK(out.executions.at(0).execution_number == 5);
    CHECK(out.executions.at(0).retry_attempt == -1);
}

TEST_CASE("list responses: huge and deeply nested garbage") {
    iotjobs::list_job_executions_result out;
    CHECK(detail::parse_list_job_executions_for_job_response(repeat('[', 100000), out) == client_errc::bad_response);
    CHECK(detail::parse_list_job_executions_for_job_response(repeat('x', 4 * 1024 * 1024), out) ==
          client_errc::bad_response);
    CHECK(detail::parse_list_job_executions_for_job_response("\0\xFF"s, out) == client_errc::bad_response);
    // A big valid page.
    std::string body = R"({"executionSummaries":[)";
    for (int i = 0; i < 250; ++i) {
        if (i) body += ',';
        body += R"({"thingArn":"arn:t)" + std::to_string(i) +
                R"(","jobExecutionSummary":{"status":"SUCCEEDED","executionNumber":)" + std::to_string(i) + "}}";
    }
    body += R"(],"nextToken":"n"})";
    REQUIRE_FALSE(detail::parse_list_job_executions_for_job_response(body, out));
    CHECK(out.executions.size() == 250);
    CHECK(out.executions.back().execution_number == 249);
    CHECK(out.next_token == "n");
}

TEST_CASE("DescribeJobExecution response") {
    const std::string body = R"({"execution":{
        "jobId":"job-1","status":"QUEUED","forceCanceled":true,
        "statusDetails":{"detailsMap":{"reason":"operator","step":"3"}},
        "thingArn":"arn:aws:iot:us-east-1:123456789012:thing/my:thing",
        "queuedAt":1795696901.038,"startedAt":1795696902,"lastUpdatedAt":1795696903.999,
        "executionNumber":123,"versionNumber":4,"approximateSecondsBeforeTimedOut":600,
        "unknownMember":[1,2,3]}})";
    iotjobs::job_execution x;
    std::string what;
    REQUIRE_FALSE(detail::parse_describe_job_execution_response(body, x, &what));
    REQUIRE(x.queued_at);
    REQUIRE(x.last_updated_at);
    CHECK(x.job_id == "job-1");
    CHECK(x.status == job_execution_status::queued);
    CHECK(x.force_canceled);
    CHECK(x.status_details.size() == 2);
    CHECK(x.status_details.at("reason") == "operator");
    CHECK(x.status_details.at("step") == "3");
    CHECK(x.thing_arn == "arn:aws:iot:us-east-1:123456789012:thing/my:thing");
    CHECK(*x.queued_at == doctest::Approx(1795696901.038).epsilon(1e-15));
    CHECK(x.started_at == 1795696902.0);
    CHECK(*x.last_updated_at == doctest::Approx(1795696903.999).epsilon(1e-15));
    CHECK(x.execution_number == 123);
    CHECK(x.version_number == 4);
    CHECK(x.approximate_seconds_before_timed_out == 600);

    // Minimal.
    iotjobs::job_execution m;
    REQUIRE_FALSE(detail::parse_describe_job_execution_response(
        R"({"execution":{"status":"SUCCEEDED","statusDetails":{},"forceCanceled":null}})", m));
    CHECK(m.status == job_execution_status::succeeded);
    CHECK_FALSE(m.force_canceled);
    CHECK(m.status_details.empty());
    CHECK_FALSE(m.execution_number);
    CHECK_FALSE(m.queued_at);
    CHECK(m.job_id.empty());

    // Malformed.
    for (std::string_view bad :
         {""sv, "{}"sv, R"({"execution":null})"sv, R"({"execution":[]})"sv, R"({"execution":{}})"sv,
          R"({"execution":{"status":"QUEUED","forceCanceled":"yes"}})"sv,
          R"({"execution":{"status":"QUEUED","statusDetails":[]}})"sv,
          R"({"execution":{"status":"QUEUED","statusDetails":{"detailsMap":"x"}}})"sv,
          R"({"execution":{"status":"QUEUED","statusDetails":{"detailsMap":{"k":1}}}})"sv,
          R"({"execution":{"status":"QUEUED","versionNumber":18446744073709551615}})"sv,
          R"({"execution":{"status":"QUEUED","approximateSecondsBeforeTimedOut":"600"}})"sv,
          R"({"execution":{"status":"QUEUED","thingArn":{}}})"sv, "<html>"sv}) {
        CAPTURE(bad);
        iotjobs::job_execution keep;
        keep.job_id = "keep";
        CHECK(detail::parse_describe_job_execution_response(bad, keep, &what) == client_errc::bad_response);
        CHECK(!what.empty());
        CHECK(keep.job_id == "keep");
    }
}

TEST_CASE("job_execution_status names") {
    const std::pair<job_execution_status, std::string_view> names[] = {
        {job_execution_status::queued, "QUEUED"},       {job_execution_status::in_progress, "IN_PROGRESS"},
        {job_execution_status::succeeded, "SUCCEEDED"}, {job_execution_status::failed, "FAILED"},
        {job_execution_status::timed_out, "TIMED_OUT"}, {job_execution_status::rejected, "REJECTED"},
        {job_execution_status::removed, "REMOVED"},     {job_execution_status::canceled, "CANCELED"},
    };
    for (const auto& [s, n] : names) {
        CAPTURE(n);
        CHECK(iotjobs::to_string(s) == n);
        job_execution_status parsed = job_execution_status::queued;
        CHECK(iotjobs::from_string(n, parsed));
        CHECK(parsed == s);
    }
    job_execution_status keep = job_execution_status::failed;
    for (std::string_view bad : {""sv, "queued"sv, "CANCELLED"sv, "QUEUED "sv, "IN-PROGRESS"sv, "QUEUED\0"sv}) {
        CAPTURE(bad);
        CHECK_FALSE(iotjobs::from_string(bad, keep));
        CHECK(keep == job_execution_status::failed);
    }
    CHECK(iotjobs::to_string(static_cast<job_execution_status>(8)).empty());
    CHECK(iotjobs::to_string(static_cast<job_execution_status>(-1)).empty());
}
