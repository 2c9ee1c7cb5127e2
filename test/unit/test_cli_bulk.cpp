// bulk-delete and purge without a network: the option tables and help, argument errors (252,
// nothing sent), --status parsing, the progress line, the summary and the exit code of a run.
#include "diagnostics_access.hpp"
#include "cli/bulk.hpp"
#include "cli/cli.hpp"

#include <boost/asio/error.hpp>
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

using namespace iotjobs;
using namespace iotjobs::cli;

namespace {

std::vector<std::string> words(std::initializer_list<std::string_view> w) { return {w.begin(), w.end()}; }

environment full_env() {
    return {{"AWS_REGION", "us-east-1"},
            {"AWS_ACCESS_KEY_ID", "AKIDEXAMPLE00001234"},
            {"AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}};
}

bool contains(std::string_view s, std::string_view what) { return s.find(what) != std::string_view::npos; }

struct result {
    int code;
    std::string out;
    std::string err;
    std::optional<bulk_settings> settings;  // set when every check passed (nothing is run)
};

// run_cli with the network fenced off: before_bulk records the settings and stops with 0.
result run(const std::vector<std::string>& args, const environment& env = full_env()) {
    std::ostringstream out, err;
    result r{};
    run_options ro;
    ro.handle_sigint = false;
    ro.progress = false;
    ro.before_bulk = [&](const resolved_configuration&, const bulk_settings& s) -> std::optional<int> {
        r.settings = s;
        return 0;
    };
    ro.before_call = [](const resolved_configuration&, const delete_job_execution_request&) -> std::optional<int> {
        FAIL_CHECK("a single delete would have been sent");
        return 0;
    };
    r.code = run_cli(args, env, out, err, ro);
    r.out = out.str();
    r.err = err.str();
    return r;
}

parsed_options options_of(const std::vector<std::string>& args) {
    auto r = parse_command_line(args);
    if (auto* f = std::get_if<failure>(&r)) FAIL_CHECK("unexpected failure: " << f->message);
    REQUIRE(std::holds_alternative<command_line>(r));
    return std::get<command_line>(r).options;
}

bulk_settings delete_ok(const std::vector<std::string>& args) {
    auto r = make_bulk_delete_settings(options_of(args));
    if (auto* f = std::get_if<failure>(&r)) FAIL_CHECK("unexpected failure: " << f->message);
    REQUIRE(std::holds_alternative<bulk_settings>(r));
    return std::get<bulk_settings>(r);
}

failure delete_fail(const std::vector<std::string>& args) {
    auto r = make_bulk_delete_settings(options_of(args));
    REQUIRE(std::holds_alternative<failure>(r));
    return std::get<failure>(r);
}

bulk_settings purge_ok(const std::vector<std::string>& args) {
    auto r = make_purge_settings(options_of(args));
    if (auto* f = std::get_if<failure>(&r)) FAIL_CHECK("unexpected failure: " << f->message);
    REQUIRE(std::holds_alternative<bulk_settings>(r));
    return std::get<bulk_settings>(r);
}

failure purge_fail(const std::vector<std::string>& args) {
    auto r = make_purge_settings(options_of(args));
    REQUIRE(std::holds_alternative<failure>(r));
    return std::get<failure>(r);
}

std::vector<std::string> bulk(std::initializer_list<std::string_view> extra = {}) {
    std::vector<std::string> a = words({"bulk-delete", "--input", "items.csv"});
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
}

}  // namespace

TEST_CASE("cli bulk: the command table has bulk-delete and purge with their options and help") {
    const command_spec* b = find_command("bulk-delete");
    const command_spec* p = find_command("purge");
    REQUIRE(b != nullptr);
    REQUIRE(p != nullptr);
    auto has = [](const command_spec* c, std::string_view name) {
        for (const auto& o : c->options)
            if (o.name == name) return true;
        return false;
    };
    for (auto name : {"--input", "--format", "--concurrency", "--rate", "--force", "--no-force", "--namespace-id",
                      "--report", "--skip-done", "--dry-run"})
        CHECK_MESSAGE(has(b, name), name);
    for (auto name : {"--job-id", "--thing-name", "--status", "--force", "--namespace-id", "--concurrency", "--rate",
                      "--report", "--dry-run"})
        CHECK_MESSAGE(has(p, name), name);
    CHECK_FALSE(has(p, "--input"));

    const std::string top = help_text();
    CHECK(contains(top, "  bulk-delete "));
    CHECK(contains(top, "  purge "));

    auto r = run(words({"bulk-delete", "help"}));
    CHECK(r.code == 0);
    CHECK(contains(r.out, "iotjobs bulk-delete\n    --input <file|->\n"));
    CHECK(contains(r.out, "REPORT (--report FILE)"));
    CHECK(contains(r.out, "RESUMING (--skip-done REPORT, may be repeated)"));
    CHECK(contains(r.out, "[--skip-done <report>]...\n"));
    CHECK(contains(r.out, "Only deleted and not_found count as done."));
    CHECK(contains(r.out, "\"carried\":true"));
    CHECK(contains(r.out, "DRY RUN (--dry-run)"));
    CHECK(contains(r.out, "An invalid_input line has no thingName, jobId or executionNumber"));
    CHECK(contains(r.out, "  254  not every item was deleted"));
    CHECK(contains(r.out, "--region <region>"));  // the global options
    r = run(words({"purge", "--help"}));
    CHECK(r.code == 0);
    CHECK(contains(r.out, "[--status <S[,S...]>]"));
    CHECK(contains(r.out, "  130  interrupted (SIGINT)"));
    CHECK(contains(r.out, "VERIFICATION\n"));
    CHECK(contains(r.out, "lists again\n  what it was asked to purge"));
    CHECK(contains(r.out, "\"verify\":\"still_present\""));
    CHECK(contains(r.out, "DRY RUN (--dry-run)"));
    CHECK(contains(r.out, "purge: some executions are\n       still listed after the run"));
    // The single-call command keeps its own exit codes.
    r = run(words({"delete-job-execution", "help"}));
    CHECK(contains(r.out, "  254  the service answered with an error\n"));
}

TEST_CASE("cli bulk: defaults and values of bulk-delete") {
    auto s = delete_ok(bulk());
    CHECK(s.kind == bulk_kind::input);
    CHECK(s.input == "items.csv");
    CHECK(s.format == input_format::automatic);
    CHECK(s.concurrency == 16);
    CHECK(s.rate == 0);
    CHECK_FALSE(s.force.has_value());
    CHECK_FALSE(s.namespace_id.has_value());
    CHECK_FALSE(s.report.has_value());
    CHECK(s.skip_done.empty());
    CHECK_FALSE(s.dry_run);

    s = delete_ok(bulk({"--format", "jsonl", "--concurrency", "64", "--rate", "12.5", "--force", "--namespace-id",
                        "AWS", "--report", "r.jsonl", "--skip-done", "old.jsonl", "--dry-run"}));
    CHECK(s.format == input_format::jsonl);
    CHECK(s.concurrency == 64);
    CHECK(s.rate == 12.5);
    CHECK(s.force == true);
    CHECK(s.namespace_id == "AWS");
    CHECK(s.report == "r.jsonl");
    CHECK(s.skip_done == std::vector<std::string>{"old.jsonl"});
    CHECK(s.dry_run);
    // --skip-done may be repeated: every report, in order.
    s = delete_ok(bulk({"--skip-done", "r1.jsonl", "--skip-done=r2.jsonl", "--skip-done", "r3.jsonl"}));
    CHECK(s.skip_done == std::vector<std::string>{"r1.jsonl", "r2.jsonl", "r3.jsonl"});
    CHECK(delete_ok(bulk({"--format", "csv"})).format == input_format::csv);
    CHECK(delete_ok(bulk({"--force", "--no-force"})).force == false);
    CHECK(delete_ok(bulk({"--concurrency", "1"})).concurrency == 1);
    CHECK(delete_ok(bulk({"--concurrency", "1024"})).concurrency == 1024);
    CHECK(delete_ok(bulk({"--rate", "0"})).rate == 0);
    CHECK(delete_ok(bulk({"--report", "-"})).report == "-");
    CHECK(delete_ok(words({"bulk-delete", "--input", "-"})).input == "-");
}

TEST_CASE("cli bulk: bad bulk-delete arguments are 252, naming the option, and nothing is sent") {
    struct bad_case {
        std::vector<std::string> args;
        std::string_view message;
    };
    const bad_case cases[] = {
        {bulk({"--concurrency", "0"}), "argument --concurrency: invalid value '0'"},
        {bulk({"--concurrency", "1025"}), "argument --concurrency: invalid value '1025'"},
        {bulk({"--concurrency", "ten"}), "argument --concurrency: invalid value 'ten'"},
        {bulk({"--concurrency", "-4"}), "argument --concurrency: invalid value '-4'"},
        {bulk({"--rate", "-1"}), "argument --rate: invalid value '-1'"},
        {bulk({"--rate", "fast"}), "argument --rate: invalid value 'fast'"},
        {bulk({"--rate", "inf"}), "argument --rate: invalid value 'inf'"},
        {bulk({"--rate", "1e3"}), "argument --rate: invalid value '1e3'"},
        {bulk({"--rate", "2000000"}), "argument --rate: invalid value '2000000'"},
        {bulk({"--format", "xml"}), "argument --format: Invalid choice 'xml', valid choices are:\n\ncsv | jsonl"},
        {bulk({"--report", "a.jsonl", "--skip-done", "a.jsonl"}), "is the --skip-done file"},
        {bulk({"--report", "items.csv"}), "is the --input file"},
        {bulk({"--skip-done", "-"}), "argument --skip-done: expected the file name of an earlier report"},
        {words({"bulk-delete", "--input="}), "argument --input: expected a file name"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.message);
        const failure f = delete_fail(c.args);
        CHECK(f.exit_code == exit_usage);
        CHECK(f.show_usage);
        CHECK(contains(f.message, c.message));
        const auto r = run(c.args);
        CHECK(r.code == 252);
        CHECK_FALSE(r.settings.has_value());
        CHECK(contains(r.err, "iotjobs: error: "));
    }
    auto f = delete_fail(bulk({"--namespace-id", "a b"}));
    CHECK(f.exit_code == exit_usage);
    CHECK(
        contains(f.message, "Parameter validation failed:\nInvalid value for parameter namespaceId (--namespace-id)"));

    // Parser-level problems.
    auto r = run(words({"bulk-delete"}));
    CHECK(r.code == 252);
    CHECK(contains(r.err, "the following arguments are required: --input"));
    r = run(bulk({"--job-id", "j"}));
    CHECK(r.code == 252);
    CHECK(contains(r.err, "Unknown options: --job-id, j"));
    r = run(bulk({"--rate", "1", "--rate", "2"}));
    CHECK(r.code == 252);
    CHECK(contains(r.err, "argument --rate: given more than once"));
    r = run(bulk({"--dry-run=yes"}));
    CHECK(r.code == 252);
}

TEST_CASE("cli bulk: purge needs exactly one of --job-id / --thing-name, valid names and statuses") {
    auto s = purge_ok(words({"purge", "--job-id", "job-1"}));
    CHECK(s.kind == bulk_kind::purge);
    CHECK(s.job_id == "job-1");
    CHECK_FALSE(s.thing_name.has_value());
    CHECK(s.statuses.empty());
    s = purge_ok(words({"purge", "--thing-name", "my:thing", "--status", "FAILED,SUCCEEDED", "--force"}));
    CHECK(s.thing_name == "my:thing");
    CHECK(s.statuses == std::vector{job_execution_status::failed, job_execution_status::succeeded});
    CHECK(s.force == true);

    auto f = purge_fail(words({"purge"}));
    CHECK(f.exit_code == exit_usage);
    CHECK(f.message == "one of the arguments --job-id --thing-name is required");
    f = purge_fail(words({"purge", "--job-id", "j", "--thing-name", "t"}));
    CHECK(f.message == "argument --thing-name: not allowed with argument --job-id");
    f = purge_fail(words({"purge", "--job-id", "bad job"}));
    CHECK(f.exit_code == exit_usage);
    CHECK(contains(f.message, "Parameter validation failed:\nInvalid value for parameter jobId (--job-id): "));
    f = purge_fail(words({"purge", "--thing-name", "bad/thing"}));
    CHECK(contains(f.message, "Invalid value for parameter thingName (--thing-name): "));
    f = purge_fail(words({"purge", "--job-id", "j", "--status", "DONE"}));
    CHECK(f.exit_code == exit_usage);
    CHECK(contains(f.message, "argument --status: Invalid choice 'DONE'"));

    auto r = run(words({"purge", "--job-id", "j", "--status", "SUCCEEDED,NOPE"}));
    CHECK(r.code == 252);
    CHECK(contains(r.err, "argument --status"));
    CHECK(contains(r.err, "QUEUED | IN_PROGRESS | SUCCEEDED | FAILED | TIMED_OUT | REJECTED | REMOVED | CANCELED"));
    CHECK_FALSE(r.settings.has_value());
    r = run(words({"purge", "--job-id", "j", "--skip-done", "x"}));
    CHECK(r.code == 252);
    CHECK(contains(r.err, "Unknown options: --skip-done, x"));
}

TEST_CASE("cli bulk: --status parsing") {
    using st = job_execution_status;
    auto ok = [](std::string_view text) {
        auto r = parse_status_list(text);
        if (auto* f = std::get_if<failure>(&r)) FAIL_CHECK("unexpected failure: " << f->message);
        REQUIRE(std::holds_alternative<std::vector<st>>(r));
        return std::get<std::vector<st>>(r);
    };
    auto bad = [](std::string_view text) {
        auto r = parse_status_list(text);
        REQUIRE(std::holds_alternative<failure>(r));
        const failure f = std::get<failure>(r);
        CHECK(f.exit_code == exit_usage);
        CHECK(contains(f.message, "argument --status"));
        return f.message;
    };
    CHECK(ok("QUEUED") == std::vector{st::queued});
    CHECK(ok("QUEUED,IN_PROGRESS,SUCCEEDED,FAILED,TIMED_OUT,REJECTED,REMOVED,CANCELED").size() == 8);
    CHECK(ok("FAILED, SUCCEEDED ,FAILED") == std::vector{st::failed, st::succeeded});  // blanks, repeats
    CHECK(contains(bad("succeeded"), "(status names are upper case: SUCCEEDED)"));
    CHECK(contains(bad("CANCELLED"), "Invalid choice 'CANCELLED'"));
    CHECK(contains(bad(""), "an empty status name"));
    CHECK(contains(bad("FAILED,,QUEUED"), "an empty status name"));
    CHECK(contains(bad("FAILED,"), "an empty status name"));
}

TEST_CASE("cli bulk: configuration problems are 253 after the arguments are checked, before anything runs") {
    auto env = full_env();
    env.erase("AWS_REGION");
    auto r = run(bulk(), env);
    CHECK(r.code == 253);
    CHECK(contains(r.err, "You must specify a region"));
    CHECK_FALSE(r.settings.has_value());
    // Bad arguments win over missing configuration.
    r = run(bulk({"--concurrency", "0"}), env);
    CHECK(r.code == 252);
    r = run(words({"purge", "--job-id", "j"}));
    CHECK(r.code == 0);
    REQUIRE(r.settings.has_value());
    CHECK(r.settings->command == "purge");
}

TEST_CASE("cli bulk: counting the items of an input file for the progress line") {
    const auto dir = std::filesystem::temp_directory_path() / ("iotjobs-cli-bulk-unit-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    auto write = [&](const std::string& name, const std::string& text) {
        const std::string p = (dir / name).string();
        std::ofstream(p, std::ios::binary) << text;
        return p;
    };
    CHECK(count_input_items(write("a.csv", "thingName,jobId,executionNumber\nt,j,1\n\n  \nt,j,2"),
                            input_format::automatic) == 2u);
    CHECK(count_input_items(write("b.jsonl", "{\"a\":1}\n{\"a\":2}\r\n\n{\"a\":3}\n"), input_format::automatic) == 3u);
    CHECK(count_input_items(write("c.jsonl", "\xEF\xBB\xBF{\"a\":1}\n"), input_format::automatic) == 1u);
    CHECK(count_input_items(write("d.csv", "h\n1\n"), input_format::jsonl) == 2u);
    CHECK(count_input_items(write("e.csv", ""), input_format::csv) == 0u);
    CHECK_FALSE(count_input_items((dir / "missing").string(), input_format::csv).has_value());
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
}

TEST_CASE("cli bulk: the progress line") {
    progress_snapshot p;
    p.done = 1234;
    p.total = 30000;
    p.rate = 1520.4;
    p.throttled = 3;
    p.retried = 5;
    CHECK(format_progress(p) == "1234/30000 4%  1520/s  ETA 19s  throttled 3  retried 5  failed 0");
    p.total.reset();
    p.failed = 2;
    p.refused = 1;
    p.invalid = 4;
    p.stopping = true;
    CHECK(format_progress(p) == "1234 done  1520/s  throttled 3  retried 5  failed 2  refused 1  invalid 4  stopping");
    progress_snapshot q;
    q.total = 10;
    CHECK(format_progress(q) == "0/10 0%  -/s  ETA ?  throttled 0  retried 0  failed 0");
    q.done = 10;
    q.rate = 2.5;
    CHECK(format_progress(q) == "10/10 100%  2.5/s  ETA 0s  throttled 0  retried 0  failed 0");
    q.total = 0;
    q.done = 0;
    CHECK(contains(format_progress(q), "0/0 100%"));

    CHECK(format_eta(0) == "0s");
    CHECK(format_eta(45.4) == "45s");
    CHECK(format_eta(125) == "2:05");
    CHECK(format_eta(3725) == "1:02:05");
    CHECK(format_eta(-1) == "?");
}

TEST_CASE("cli bulk: the exit code and message of a finished run") {
    bulk_settings s;
    s.command = "bulk-delete";
    s.input = "items.csv";
    const std::string endpoint = "https://iot.us-east-1.amazonaws.com";
    auto code = [&](const bulk_result& r) { return bulk_result_failure(r, s, endpoint, 3).exit_code; };

    bulk_result r;
    CHECK(code(r) == 0);  // an empty input
    r.summary.items = 5;
    r.summary.deleted = 3;
    r.summary.not_found = 2;
    CHECK(code(r) == 0);
    r.skipped = 7;
    CHECK(code(r) == 0);

    bulk_result refused = r;
    refused.summary.refused = 1;
    refused.summary.items = 6;
    auto f = bulk_result_failure(refused, s, endpoint, 3);
    CHECK(f.exit_code == 254);
    CHECK(f.message == "Not every item was deleted: 1 refused.");

    bulk_result invalid;
    invalid.summary.items = 2;
    invalid.summary.invalid_input = 2;
    f = bulk_result_failure(invalid, s, endpoint, 3);
    CHECK(f.exit_code == 252);  // nothing could be parsed
    CHECK(contains(f.message, "No line of the input \"items.csv\" could be used (2 invalid lines)"));
    invalid.skipped = 1;  // a valid item, skipped: not "nothing parsed"
    CHECK(code(invalid) == 254);
    invalid.skipped = 0;
    invalid.summary.items = 3;
    invalid.summary.deleted = 1;
    CHECK(code(invalid) == 254);

    bulk_result dry;
    dry.summary.items = 4;
    dry.summary.not_attempted = 4;
    dry.predicted_deleted = 3;
    dry.predicted_not_found = 1;
    s.dry_run = true;
    CHECK(code(dry) == 0);
    bulk_result dry_refused = dry;  // a real run would end with refused items: not 0
    dry_refused.predicted_deleted = 2;
    dry_refused.predicted_refused = 1;
    f = bulk_result_failure(dry_refused, s, endpoint, 3);
    CHECK(f.exit_code == 254);
    CHECK(f.message == "Not every item would be deleted: 1 would be refused.");
    bulk_result dry_unknown = dry;
    dry_unknown.predicted_not_found = 0;
    dry_unknown.predicted_unknown = 1;
    CHECK(code(dry_unknown) == 254);
    s.dry_run = false;
    CHECK(code(dry) == 254);

    // purge: executions still listed after the run are not "gone", whatever their outcome was.
    bulk_result remains;
    remains.summary.items = 25;
    remains.summary.not_found = 25;
    remains.verified = true;
    remains.remaining = 25;
    s.kind = bulk_kind::purge;
    f = bulk_result_failure(remains, s, endpoint, 3);
    CHECK(f.exit_code == 254);
    CHECK(f.message == "Not every item was deleted: 25 executions still listed after the run.");
    remains.remaining = 0;
    CHECK(code(remains) == 0);
    remains.verified = false;
    remains.verify_error = "ThrottlingException Rate exceeded";
    CHECK(code(remains) == 255);
    s.kind = bulk_kind::input;

    bulk_result interrupted = refused;
    interrupted.interrupted = true;
    CHECK(code(interrupted) == 130);
    interrupted.report_error = "No space left on device";
    s.report = "r.jsonl";
    f = bulk_result_failure(interrupted, s, endpoint, 3);
    CHECK(f.exit_code == 255);
    CHECK(contains(f.message, "The report \"r.jsonl\" could not be written (No space left on device)"));

    bulk_result fatal;
    fatal.summary.items = 10;
    fatal.summary.failed = 1;
    fatal.summary.not_attempted = 9;
    fatal.summary.stopped_early = true;
    fatal.ec = make_error_code(service_errc::invalid_signature);
    fatal.summary.stop_error = fatal.ec;
    bulk_outcome o;
    o.item.request.thing_name = "t";
    o.item.request.job_id = "j";
    o.item.request.execution_number = 1;
    o.kind = bulk_outcome_kind::failed;
    o.ec = fatal.ec;
    o.aws_error_name = "InvalidSignatureException";
    o.message = "The request signature we calculated does not match";
    o.attempts = 1;
    fatal.fatal = o;
    f = bulk_result_failure(fatal, s, endpoint, 3);
    CHECK(f.exit_code == 254);
    CHECK(f.message ==
          "An error occurred (InvalidSignatureException) when calling the DeleteJobExecution operation: The request "
          "signature we calculated does not match\nThe run stopped early: every remaining item would fail the same "
          "way (9 not attempted).");

    bulk_result header;
    header.ec = make_error_code(client_errc::invalid_parameter);
    header.summary.stopped_early = true;
    header.summary.stop_kind = iotjobs::bulk_stop_reason::source_failed;
    header.summary.stop_reason = "the input failed: line 1: the CSV header has no jobId column";
    header.summary.stop_detail = "line 1: the CSV header has no jobId column";
    f = bulk_result_failure(header, s, endpoint, 3);
    CHECK(f.exit_code == 252);
    CHECK(f.message == "The input \"items.csv\" cannot be used: line 1: the CSV header has no jobId column");

    bulk_result other_stop;
    other_stop.ec = make_error_code(client_errc::invalid_parameter);
    other_stop.summary.stopped_early = true;
    other_stop.summary.stop_kind = iotjobs::bulk_stop_reason::outcome_handler_threw;
    // The display text is never parsed: words that look like a source failure change nothing.
    other_stop.summary.stop_reason = "the outcome handler threw: bad_alloc";
    other_stop.summary.stop_detail = "bad_alloc";
    f = bulk_result_failure(other_stop, s, endpoint, 3);
    CHECK(f.exit_code == 255);
    CHECK(f.message == "The run stopped early: the outcome handler threw: bad_alloc");

    bulk_result io = header;
    io.ec = boost::system::errc::make_error_code(boost::system::errc::io_error);
    CHECK(code(io) == 255);

    bulk_settings p;
    p.kind = bulk_kind::purge;
    p.command = "purge";
    p.job_id = "job-1";
    bulk_result listing;
    listing.ec = make_error_code(service_errc::access_denied);
    listing.summary.stopped_early = true;
    listing.summary.stop_kind = iotjobs::bulk_stop_reason::source_failed;
    listing.summary.stop_reason = "(display text, never parsed)";
    iotjobs::detail::access::aws_error_name(listing.summary.stop_diagnostics) = "AccessDeniedException";
    iotjobs::detail::access::message(listing.summary.stop_diagnostics) = "User is not authorized";
    f = bulk_result_failure(listing, p, endpoint, 3);
    CHECK(f.exit_code == 254);
    CHECK(f.message ==
          "An error occurred (AccessDeniedException) when calling the ListJobExecutionsForJob operation: "
          "User is not authorized");
    listing.ec = boost::asio::error::connection_refused;
    listing.summary.stop_diagnostics.clear();
    iotjobs::detail::access::message(listing.summary.stop_diagnostics) = "Connection refused";
    f = bulk_result_failure(listing, p, endpoint, 3);
    CHECK(f.exit_code == 255);
    CHECK(f.message == "Could not connect to the endpoint URL: \"" + endpoint + "/jobs/job-1/things\"");
}

TEST_CASE("cli bulk: the summary") {
    bulk_settings s;
    s.command = "bulk-delete";
    s.input = "items.csv";
    bulk_result r;
    r.summary.items = 10;
    r.summary.deleted = 6;
    r.summary.not_found = 2;
    r.summary.possibly_deleted_earlier = 1;
    r.summary.refused = 1;
    r.summary.invalid_input = 1;
    r.summary.seconds = 2;
    r.stats.requests = 11;
    r.stats.retries = 2;
    r.stats.throttled = 1;
    r.stats.connects = 4;
    bulk_outcome bad;
    bad.item.line = 7;
    bad.kind = bulk_outcome_kind::invalid_input;
    bad.message = "line 7: executionNumber is missing";
    r.problems.push_back(bad);
    bulk_outcome refused;
    refused.item.line = 3;
    refused.item.request = {"t3", "j", 3, std::nullopt, std::nullopt};
    refused.kind = bulk_outcome_kind::refused;
    refused.aws_error_name = "InvalidStateTransitionException";
    refused.message = "in status IN_PROGRESS";
    refused.attempts = 1;
    r.problems.push_back(refused);

    std::string text = format_summary(r, s);
    CHECK(
        text.starts_with("bulk-delete: 10 items in 2.00 s, 4.5 deletes/s; 11 requests sent, 2 retries, 1 throttled, "
                         "4 connections opened\n"));
    CHECK(contains(text, "  deleted                 6\n"));
    CHECK(contains(text, "  not_found               2  (1 possibly deleted by an earlier attempt"));
    CHECK(contains(text, "  refused                 1\n"));
    CHECK(contains(text, "  invalid_input           1\n"));
    CHECK_FALSE(contains(text, "skipped"));
    CHECK(contains(text, "First problems (--report FILE keeps every item's outcome):\n"));
    CHECK(contains(text, "  line 7: executionNumber is missing (invalid_input)\n"));
    CHECK(contains(text, "  line 3 (t3 j 3): refused: InvalidStateTransitionException: in status IN_PROGRESS\n"));

    s.report = "out.jsonl";
    s.skip_done = {"old.jsonl", "older.jsonl"};
    r.skipped = 40;
    r.carried_deleted = 38;
    r.carried_not_found = 2;
    r.interrupted = true;
    r.summary.stopped_early = true;
    r.summary.stop_reason = "cancelled";
    text = format_summary(r, s);
    CHECK(contains(
        text, "  skipped                40  (done in old.jsonl, older.jsonl, carried: 38 deleted, 2 not_found)\n"));
    CHECK(contains(text, "Stopped early: interrupted (SIGINT)\n"));
    CHECK(contains(text, "Report: out.jsonl\n"));
    CHECK_FALSE(contains(text, "First problems"));

    s.dry_run = true;
    r = bulk_result{};
    r.summary.items = 3;
    r.summary.not_attempted = 3;
    r.predicted_deleted = 3;
    text = format_summary(r, s);
    CHECK(contains(text, "  not_attempted           3  (dry run)\n"));
    CHECK(contains(text, "Dry run: nothing was deleted; 3 items would be deleted.\n"));
    r.summary.not_attempted = 7;
    r.predicted_refused = 2;
    r.predicted_not_found = 1;
    r.predicted_unknown = 1;
    text = format_summary(r, s);
    CHECK(contains(text,
                   "Dry run: nothing was deleted; 3 items would be deleted, 2 would be refused, 1 not found, "
                   "1 could not be looked up.\n"));

    // purge's verification.
    s.dry_run = false;
    s.kind = bulk_kind::purge;
    s.command = "purge";
    s.report.reset();
    r = bulk_result{};
    r.verified = true;
    CHECK(contains(format_summary(r, s), "Verified: listed again, none of the executions remains.\n"));
    r.remaining = 12;
    for (int i = 0; i < 10; ++i) {
        iotjobs::detail::still_present p;
        p.request = {"t" + std::to_string(i), "j", static_cast<std::int64_t>(i), std::nullopt, std::nullopt};
        p.status = iotjobs::job_execution_status::succeeded;
        p.reason = "not_found";
        p.error = "ResourceNotFoundException";
        r.remaining_samples.push_back(p);
    }
    text = format_summary(r, s);
    CHECK(contains(text, "Verified: listed again, 12 executions remain:\n"));
    CHECK(contains(text, "  t3 j 3 SUCCEEDED: not_found: ResourceNotFoundException\n"));
    CHECK(contains(text, "  ... (2 more)\n"));
    CHECK(contains(text, "may belong to a namespace: purge them with --namespace-id"));
    r = bulk_result{};
    r.verify_error = "Connection refused";
    CHECK(contains(format_summary(r, s), "Not verified: listing again failed: Connection refused\n"));
}
