// --output json|text|table (the expected texts are Python's json.dumps and awscli's text
// formatter, run on the same data), ISO 8601 timestamps (datetime.isoformat), the AWS CLI's
// resume tokens, the read commands' arguments, the bulk JSON summary and debug line, the
// report's requestId, and the bash completion script (and its copy in tools/).
#include "bulk/report.hpp"
#include "cli/bulk.hpp"
#include "cli/cli.hpp"
#include "cli/output.hpp"
#include "cli/read_commands.hpp"

#include <doctest/doctest.h>

#include <boost/json.hpp>

#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>

namespace json = boost::json;
using namespace iotjobs;
using namespace iotjobs::cli;

namespace {

bool contains(std::string_view s, std::string_view what) { return s.find(what) != std::string_view::npos; }

// Sets TZ for the scope (the process's time zone, as the CLI reads it).
struct tz_scope {
    std::optional<std::string> old;
    explicit tz_scope(const char* tz) {
        if (const char* o = std::getenv("TZ")) old = o;
        ::setenv("TZ", tz, 1);
        ::tzset();
    }
    ~tz_scope() {
        if (old)
            ::setenv("TZ", old->c_str(), 1);
        else
            ::unsetenv("TZ");
        ::tzset();
    }
};

parsed_options options_of(const std::string& command, std::vector<std::string> args) {
    args.insert(args.begin(), command);
    auto cl = parse_command_line(args);
    REQUIRE(std::holds_alternative<command_line>(cl));
    return std::get<command_line>(cl).options;
}

}  // namespace

TEST_CASE("output: timestamps as the AWS CLI v2's iso8601 (datetime.fromtimestamp(t, tzlocal()).isoformat())") {
    {
        tz_scope tz("UTC");
        CHECK(iso8601_timestamp(1795696901.038) == "2026-11-26T12:41:41.038000+00:00");
        CHECK(iso8601_timestamp(0.5) == "1970-01-01T00:00:00.500000+00:00");
        CHECK(iso8601_timestamp(1795696901) == "2026-11-26T12:41:41+00:00");
    }
    {
        tz_scope tz("EST5");
        CHECK(iso8601_timestamp(1795696901) == "2026-11-26T07:41:41-05:00");
    }
    {
        tz_scope tz("UTC-05:30");
        CHECK(iso8601_timestamp(1795696901) == "2026-11-26T18:11:41+05:30");
    }
}

TEST_CASE("output: json as json.dumps(indent=4, ensure_ascii=False)") {
    json::object o;
    o["a"] = json::array{1, json::object{{"b", "x\"\n\xc3\xa9"}}};
    o["c"] = json::object{};
    o["d"] = json::array{};
    o["e"] = nullptr;
    o["f"] = true;
    o["g"] = 1.5;
    CHECK(format_json(o) ==
          "{\n    \"a\": [\n        1,\n        {\n            \"b\": \"x\\\"\\n\xc3\xa9\"\n        }\n    ],\n"
          "    \"c\": {},\n    \"d\": [],\n    \"e\": null,\n    \"f\": true,\n    \"g\": 1.5\n}\n");
    // An empty response prints nothing (the AWS CLI for CancelJobExecution's {}).
    CHECK(format_response(json::object{}, output_format::json, "X").empty());
    CHECK(format_response(json::object{}, output_format::text, "X").empty());
}

TEST_CASE("output: text as awscli's text formatter") {
    json::object d;
    d["Name"] = "n";
    d["Count"] = 3;
    d["Flag"] = false;
    d["Items"] = json::array{json::object{{"K", "a"}, {"V", 1}, {"Sub", json::object{{"X", "y"}}}},
                             json::object{{"K", "b"}, {"W", 2}}};
    d["Tags"] = json::array{"t1", "t2"};
    d["Empty"] = json::array{};
    d["Nested"] = json::object{{"Deep", json::object{{"Z", nullptr}}}};
    CHECK(format_text(d) == "3\tFalse\tn\nITEMS\ta\t1\t\nSUB\ty\nITEMS\tb\t\t2\nDEEP\tNone\nTAGS\tt1\nTAGS\tt2\n");
    // The resume token last, as awscli's paginated text output.
    json::object page{{"executionSummaries", json::array{json::object{{"jobId", "j"}}}}, {"NextToken", "T"}};
    CHECK(format_response(page, output_format::text, "X") == "EXECUTIONSUMMARIES\tj\nNEXTTOKEN\tT\n");
}

TEST_CASE("output: table, boxed, every row as wide as the title row") {
    job_execution_summary a;
    a.thing_arn = "arn:aws:iot:us-east-1:1:thing/t1";
    a.status = job_execution_status::succeeded;
    a.execution_number = 7;
    job_execution_summary b = a;
    b.thing_arn = "arn:aws:iot:us-east-1:1:thing/t2";
    b.retry_attempt = 2;
    json::object o{{"executionSummaries", json::array{summary_json(a, true), summary_json(b, true)}}};
    const std::string t = format_response(o, output_format::table, "ListJobExecutionsForJob");
    CHECK(contains(t, "ListJobExecutionsForJob"));
    CHECK(contains(t, "| thingArn "));
    CHECK(contains(t, "jobExecutionSummary.retryAttempt"));
    CHECK(contains(t, "thing/t2"));
    std::istringstream lines(t);
    std::string line;
    std::size_t width = 0, rows = 0;
    bool after_title = false;
    while (std::getline(lines, line)) {
        CHECK((line.front() == '+' || line.front() == '|'));
        if (contains(line, "executionSummaries")) after_title = true;
        if (!after_title) continue;
        if (width == 0) width = line.size();
        CHECK(line.size() == width);
        rows += line.starts_with("| arn:");
    }
    CHECK(rows == 2);
}

TEST_CASE("output: the response JSON in the model's member order") {
    job_execution_summary s;
    s.job_id = "j";
    s.status = job_execution_status::in_progress;
    s.queued_at = 10;
    s.execution_number = 3;
    const auto o = summary_json(s, false);
    REQUIRE(o.size() == 2);
    CHECK(o.begin()->key() == "jobId");
    const auto& inner = o.at("jobExecutionSummary").as_object();
    std::vector<std::string> keys;
    for (const auto& kv : inner) keys.emplace_back(kv.key());
    CHECK(keys == std::vector<std::string>{"status", "queuedAt", "executionNumber"});
    CHECK(inner.at("status").as_string() == "IN_PROGRESS");

    job_execution e;
    e.job_id = "j";
    e.thing_arn = "arn";
    e.status_details = {{"k", "v"}};
    e.version_number = 4;
    const auto x = execution_json(e);
    keys.clear();
    for (const auto& kv : x) keys.emplace_back(kv.key());
    CHECK(keys ==
          std::vector<std::string>{"jobId", "status", "forceCanceled", "statusDetails", "thingArn", "versionNumber"});
    CHECK(x.at("statusDetails").at("detailsMap").at("k").as_string() == "v");
}

TEST_CASE("output: resume tokens are botocore's") {
    // Printed by awscli 1.45 for --max-items 2 from the start of a listing.
    auto t = decode_resume_token("eyJuZXh0VG9rZW4iOiBudWxsLCAiYm90b190cnVuY2F0ZV9hbW91bnQiOiAyfQ==");
    REQUIRE(t);
    CHECK(!t->next_token);
    CHECK(t->truncate_amount == 2);
    CHECK(encode_resume_token(*t) == "eyJuZXh0VG9rZW4iOiBudWxsLCAiYm90b190cnVuY2F0ZV9hbW91bnQiOiAyfQ==");
    const resume_token mid{std::string("abc/+=\"x"), 5};
    auto back = decode_resume_token(encode_resume_token(mid));
    REQUIRE(back);
    CHECK(back->next_token == mid.next_token);
    CHECK(back->truncate_amount == 5);
    auto legacy = decode_resume_token("tok___3");
    REQUIRE(legacy);
    CHECK(legacy->next_token == "tok");
    CHECK(legacy->truncate_amount == 3);
    CHECK(!decode_resume_token("not a token"));
    CHECK(!decode_resume_token(""));
}

TEST_CASE("read commands: arguments") {
    auto p =
        make_list_for_job_params(options_of("list-job-executions-for-job", {"--job-id", "j1", "--status", "QUEUED",
                                                                            "--max-items", "10", "--page-size", "50"}));
    REQUIRE(std::holds_alternative<list_for_job_params>(p));
    const auto& lp = std::get<list_for_job_params>(p);
    CHECK(lp.request.job_id == "j1");
    CHECK(lp.request.status == job_execution_status::queued);
    CHECK(lp.pages.max_items == 10u);
    CHECK(lp.pages.page_size == 50);
    CHECK(!lp.request.max_results);

    auto bad = make_list_for_job_params(
        options_of("list-job-executions-for-job",
                   {"--job-id", "bad id", "--status", "queued", "--max-results", "0", "--max-items", "-1"}));
    REQUIRE(std::holds_alternative<failure>(bad));
    const auto& f = std::get<failure>(bad);
    CHECK(f.exit_code == exit_usage);
    CHECK(contains(f.message, "jobId (--job-id)"));
    CHECK(contains(f.message, "status (--status)"));
    CHECK(contains(f.message, "--max-results"));
    CHECK(contains(f.message, "--max-items"));

    auto t = make_list_for_thing_params(options_of(
        "list-job-executions-for-thing",
        {"--thing-name", "a:b", "--namespace-id", "NS", "--job-id", "j", "--max-results", "250", "--next-token", "x"}));
    REQUIRE(std::holds_alternative<list_for_thing_params>(t));
    const auto& tp = std::get<list_for_thing_params>(t);
    CHECK(tp.request.namespace_id == "NS");
    CHECK(tp.request.job_id == "j");
    CHECK(tp.request.max_results == 250);
    CHECK(tp.request.next_token == "x");

    auto d = make_describe_request(
        options_of("describe-job-execution", {"--job-id", "j", "--thing-name", "t", "--execution-number", "-3"}));
    REQUIRE(std::holds_alternative<describe_job_execution_request>(d));
    CHECK(std::get<describe_job_execution_request>(d).execution_number == -3);
    d = make_describe_request(
        options_of("describe-job-execution", {"--job-id", "j", "--thing-name", "t", "--execution-number", "1.5"}));
    CHECK(std::holds_alternative<failure>(d));

    auto c = make_cancel_request(options_of(
        "cancel-job-execution",
        {"--job-id", "j", "--thing-name", "t", "--force", "--expected-version", "4", "--status-details", "a=1,b=x=y"}));
    REQUIRE(std::holds_alternative<cancel_job_execution_request>(c));
    const auto& cr = std::get<cancel_job_execution_request>(c);
    CHECK(cr.force == true);
    CHECK(cr.expected_version == 4);
    CHECK(cr.status_details == std::map<std::string, std::string>{{"a", "1"}, {"b", "x=y"}});
    CHECK(parse_status_details(R"({"k": "v"})") == std::map<std::string, std::string>{{"k", "v"}});
    CHECK(!parse_status_details(R"({"k": 1})"));
    CHECK(!parse_status_details("a=1,,b=2"));
    CHECK(!parse_status_details("=1"));
}

TEST_CASE("global options: --output table and --no-paginate; a bad --output is 252") {
    auto g = to_global_options([] {
        parsed_options p;
        p.values["output"] = "table";
        p.flags["no-paginate"] = true;
        return p;
    }());
    REQUIRE(std::holds_alternative<global_options>(g));
    CHECK(std::get<global_options>(g).output == output_format::table);
    CHECK(std::get<global_options>(g).no_paginate);
    std::ostringstream out, err;
    CHECK(run_cli(std::vector<std::string>{"--output", "yaml", "describe-job-execution", "--job-id", "j",
                                           "--thing-name", "t"},
                  {}, out, err) == exit_usage);
    CHECK(contains(err.str(), "json | text | table"));
}

TEST_CASE("bulk: the JSON summary and the --debug line of an outcome") {
    bulk_settings s;
    s.kind = bulk_kind::purge;
    s.command = "purge";
    s.report = "-";
    bulk_result r;
    r.summary.items = 5;
    r.summary.deleted = 3;
    r.summary.refused = 2;
    r.summary.seconds = 1.5;
    r.verified = true;
    r.remaining = 2;
    r.stats.requests = 7;
    auto o = bulk_summary_json(r, s, 254);
    CHECK(o.at("outcomes").at("deleted").as_uint64() == 3);
    CHECK(o.at("outcomes").at("refused").as_uint64() == 2);
    CHECK(o.at("stoppedEarly").as_bool() == false);
    CHECK(o.at("report").as_string() == "-");
    CHECK(o.at("verification").at("remaining").as_uint64() == 2);
    CHECK(o.at("requests").as_uint64() == 7);
    CHECK(o.at("exitCode").as_int64() == 254);
    CHECK(!o.contains("dryRun"));
    r.interrupted = true;
    CHECK(bulk_summary_json(r, s, 130).at("stopReason").as_string() == "interrupted (SIGINT)");

    // The summary's stream: stdout, unless the report is there; nothing with text.
    command_line cl;
    global_options g;
    environment env;
    std::ostringstream out, err, sink;
    debug_log log(sink, false);
    run_options ro;
    const command_context ctx{cl, g, env, log, out, err, ro};
    print_bulk_json_summary(ctx, r, s, 130);
    CHECK(out.str().empty());
    CHECK(json::parse(err.str()).at("command").as_string() == "purge");
    s.report = "file.jsonl";
    print_bulk_json_summary(ctx, r, s, 130);
    CHECK(json::parse(out.str()).at("report").as_string() == "file.jsonl");
    g.output = output_format::text;
    const auto before = out.str().size() + err.str().size();
    print_bulk_json_summary(ctx, r, s, 130);
    CHECK(out.str().size() + err.str().size() == before);

    bulk_outcome b;
    b.item.line = 12;
    b.item.request.thing_name = "sensor-1";
    b.item.request.job_id = "fw-42";
    b.item.request.execution_number = 3;
    b.kind = bulk_outcome_kind::refused;
    b.aws_error_name = "InvalidStateTransitionException";
    b.request_id = "req-1";
    b.attempts = 1;
    const std::string line = outcome_debug_line(b, false);
    CHECK(line ==
          "line 12 (thing=sensor-1 job=fw-42 execution=3): refused, error InvalidStateTransitionException, "
          "request id req-1, attempts 1");
    CHECK(outcome_debug_line(b, true).starts_with("item 12 "));

    std::string report;
    iotjobs::detail::append_outcome_jsonl(report, b);
    CHECK(json::parse(report).at("requestId").as_string() == "req-1");
    b.request_id.clear();
    report.clear();
    iotjobs::detail::append_outcome_jsonl(report, b);
    CHECK(!json::parse(report).as_object().contains("requestId"));
}

TEST_CASE("completion: every command and option; tools/iotjobs/completion.bash is up to date") {
    const std::string script = completion_script();
    for (const auto& c : command_specs()) {
        CHECK(contains(script, " " + std::string(c.name) + ") opts=\""));
        for (const auto& o : c.options) CHECK(contains(script, std::string(o.name)));
    }
    for (const auto& o : global_option_specs()) CHECK(contains(script, std::string(o.name)));
    const char* src = std::getenv("IOTJOBS_SOURCE_DIR");
    REQUIRE_MESSAGE(src, "IOTJOBS_SOURCE_DIR is not set (ctest sets it)");
    std::ifstream f(std::string(src) + "/tools/iotjobs/completion.bash");
    REQUIRE(f);
    std::stringstream file;
    file << f.rdbuf();
    CHECK_MESSAGE(file.str() == script,
                  "tools/iotjobs/completion.bash is stale: regenerate it with build/bin/iotjobs --completion bash "
                  "> tools/iotjobs/completion.bash");
    std::ostringstream out, err;
    CHECK(run_cli(std::vector<std::string>{"--completion", "bash"}, {}, out, err) == exit_success);
    CHECK(out.str() == script);
}
