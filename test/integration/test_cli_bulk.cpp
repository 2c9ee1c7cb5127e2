// iotjobs bulk-delete and purge end to end against the in-process fake endpoint: the report has
// every item exactly once with its outcome; invalid lines are reported with their line numbers;
// --skip-done resumes without repeating finished items; purge by --status with --force; --dry-run
// sends nothing; a wrong secret stops the run early (254, the rest not_attempted); SIGINT on the
// real binary finishes the requests in flight and exits 130 promptly; under a low descriptor
// limit (ulimit -n 40) a run of concurrency 128 deletes every item and warns once.
#include "cli/bulk.hpp"
#include "cli/cli.hpp"
#include "fake/server.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <spawn.h>
#include <sstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace fake = iotjobs::fake;
namespace json = boost::json;
using namespace iotjobs::cli;

namespace {

const std::string test_akid = "AKIDEXAMPLE";
const std::string test_secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

environment env_for(const fake::server& s) {
    return {{"AWS_REGION", "us-east-1"},
            {"AWS_ACCESS_KEY_ID", test_akid},
            {"AWS_SECRET_ACCESS_KEY", test_secret},
            {"AWS_ENDPOINT_URL_IOT", s.base_url()}};
}

struct result {
    int code;
    std::string out;
    std::string err;
};

result run(std::vector<std::string> args, const environment& env, std::istream* stdin_stream = nullptr) {
    std::ostringstream out, err;
    run_options ro;
    ro.handle_sigint = false;
    ro.progress = false;
    ro.standard_input = stdin_stream;
    const int code = run_cli(args, env, out, err, ro);
    return {code, out.str(), err.str()};
}

bool contains(std::string_view s, std::string_view what) { return s.find(what) != std::string_view::npos; }

// A fresh directory per test case, removed at the end.
struct temp_dir {
    std::filesystem::path path;
    temp_dir() {
        static int counter = 0;
        path = std::filesystem::temp_directory_path() /
               ("iotjobs-cli-bulk-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
        std::filesystem::create_directories(path);
    }
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    std::string file(const std::string& name) const { return (path / name).string(); }
    std::string write(const std::string& name, const std::string& text) const {
        const std::string p = file(name);
        std::ofstream(p, std::ios::binary) << text;
        return p;
    }
};

struct report_line {
    std::uint64_t line = 0;
    bool has_item = false;  // thingName, jobId and executionNumber are present
    std::string thing, job;
    std::int64_t number = 0;
    std::string outcome, error, message, input;
    std::string status, predicted;  // status: when known; predicted: dry runs
    bool carried = false;           // --skip-done: the line of an earlier report
    std::string verify, reason;     // purge verification lines
    unsigned attempts = 0;
};

std::string str(const json::value& v) { return std::string(v.as_string()); }

// Every line of a report (items and purge verification lines).
std::vector<report_line> read_all_lines(const std::string& path) {
    std::vector<report_line> out;
    std::ifstream f(path);
    std::string text;
    while (std::getline(f, text)) {
        json::value v = json::parse(text);  // throws (fails the test) on a bad line
        const json::object& o = v.as_object();
        report_line r;
        if (auto* x = o.if_contains("verify")) {
            r.verify = str(*x);
            r.reason = str(o.at("reason"));
        } else {
            r.line = o.at("line").to_number<std::uint64_t>();
            r.outcome = str(o.at("outcome"));
            if (auto* a = o.if_contains("attempts")) r.attempts = a->to_number<unsigned>();
        }
        r.has_item = o.contains("thingName") && o.contains("jobId") && o.contains("executionNumber");
        if (r.has_item) {
            r.thing = str(o.at("thingName"));
            r.job = str(o.at("jobId"));
            r.number = o.at("executionNumber").to_number<std::int64_t>();
        }
        if (auto* e = o.if_contains("error")) r.error = str(*e);
        if (auto* m = o.if_contains("message")) r.message = str(*m);
        if (auto* i = o.if_contains("input")) r.input = str(*i);
        if (auto* x = o.if_contains("status")) r.status = str(*x);
        if (auto* x = o.if_contains("predicted")) r.predicted = str(*x);
        if (auto* x = o.if_contains("carried")) r.carried = x->as_bool();
        out.push_back(std::move(r));
    }
    return out;
}

// The item lines of a report (no verification lines). Every invalid_input line has no item
// members, every other item line has them.
std::vector<report_line> read_report(const std::string& path) {
    std::vector<report_line> out;
    for (auto& l : read_all_lines(path)) {
        if (!l.verify.empty()) continue;
        CHECK_MESSAGE(l.has_item == (l.outcome != "invalid_input"), "line " << l.line << ": " << l.outcome);
        out.push_back(std::move(l));
    }
    return out;
}

// The purge verification lines of a report.
std::vector<report_line> read_verify(const std::string& path) {
    std::vector<report_line> out;
    for (auto& l : read_all_lines(path))
        if (!l.verify.empty()) out.push_back(std::move(l));
    return out;
}

std::map<std::uint64_t, report_line> by_line(const std::vector<report_line>& lines) {
    std::map<std::uint64_t, report_line> m;
    for (const auto& l : lines) {
        const bool inserted = m.emplace(l.line, l).second;
        CHECK_MESSAGE(inserted, "line " << l.line << " is in the report twice");
    }
    return m;
}

std::uint64_t count_op(const fake::server& s, const std::string& op) {
    std::uint64_t n = 0;
    const auto st = s.stats();
    auto it = st.requests.find(op);
    if (it != st.requests.end())
        for (const auto& [outcome, count] : it->second) n += count;
    return n;
}

std::size_t executions_of_job(const fake::server& s, const std::string& job) {
    std::size_t n = 0;
    for (const auto& e : s.executions()) n += e.job_id == job;
    return n;
}

std::uint64_t deletes_seen(const fake::server& s) {
    std::uint64_t n = 0;
    const auto st = s.stats();
    auto it = st.requests.find("DeleteJobExecution");
    if (it != st.requests.end())
        for (const auto& [outcome, count] : it->second) n += count;
    return n;
}

// A row of the summary, as format_summary writes it.
std::string summary_row(const char* name, std::uint64_t n) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "  %-15s%10llu", name, static_cast<unsigned long long>(n));
    return buf;
}

fake::fault_rule fault(const std::string& text) {
    std::string error;
    auto r = fake::parse_fault(text, error);
    REQUIRE_MESSAGE(r.has_value(), error);
    return *r;
}

}  // namespace

TEST_CASE("cli bulk e2e: CSV input, every item once in the report with its outcome, invalid lines by number") {
    fake::server s;
    s.start();
    for (int i = 1; i <= 20; ++i)
        s.add_execution(
            fake::make_execution("thing-" + std::to_string(i), "job-1", i, fake::execution_status::succeeded));
    s.add_execution(fake::make_execution("busy", "job-1", 1, fake::execution_status::in_progress));

    temp_dir dir;
    std::string csv = "jobId,thingName,executionNumber\n";  // any column order
    for (int i = 1; i <= 20; ++i) csv += "job-1,thing-" + std::to_string(i) + "," + std::to_string(i) + "\n";
    csv += "job-1,busy,1\n";       // line 22: refused (IN_PROGRESS, no force)
    csv += "job-1,gone,5\n";       // line 23: not_found
    csv += "\n";                   // line 24: blank, skipped
    csv += "job-1,bad thing,1\n";  // line 25: invalid thingName
    csv += "job-1,thing-1\n";      // line 26: a field short
    csv += "job-1,thing-9,x9\n";   // line 27: bad executionNumber
    const std::string input = dir.write("items.csv", csv);
    const std::string report = dir.file("report.jsonl");

    auto r = run({"bulk-delete", "--input", input, "--report", report, "--concurrency", "4"}, env_for(s));
    CHECK(r.code == 254);  // refused and invalid lines
    {
        // stdout: only the JSON summary (--output json, the default).
        const json::value summary = json::parse(r.out);
        CHECK(summary.at("items").as_int64() == 25);
        CHECK(summary.at("outcomes").at("invalid_input").as_int64() == 3);
        CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 1);
    }
    CHECK(contains(r.err, "bulk-delete: 25 items"));
    CHECK(contains(r.err, "Not every item was deleted: 1 refused, 3 invalid input."));
    CHECK(deletes_seen(s) == 22);

    const auto lines = by_line(read_report(report));
    CHECK(lines.size() == 25);
    for (int i = 1; i <= 20; ++i) {
        const auto& l = lines.at(static_cast<std::uint64_t>(i + 1));
        CHECK(l.outcome == "deleted");
        CHECK(l.thing == "thing-" + std::to_string(i));
        CHECK(l.number == i);
        CHECK_FALSE(s.find(l.thing, "job-1", i).has_value());
    }
    CHECK(lines.at(22).outcome == "refused");
    CHECK(lines.at(22).error == "InvalidStateTransitionException");
    CHECK(s.find("busy", "job-1", 1).has_value());
    CHECK(lines.at(23).outcome == "not_found");
    CHECK(lines.at(23).error == "ResourceNotFoundException");
    CHECK_FALSE(lines.count(24));
    for (std::uint64_t n : {25, 26, 27}) {
        CHECK(lines.at(n).outcome == "invalid_input");
        CHECK(lines.at(n).message.starts_with("line " + std::to_string(n) + ": "));
    }
    CHECK(lines.at(25).input == "job-1,bad thing,1");
    CHECK(contains(lines.at(25).message, "thingName"));
    CHECK(contains(lines.at(27).message, "executionNumber"));
}

TEST_CASE("cli bulk e2e: JSON Lines input, everything deleted or already gone: exit 0, defaults applied") {
    fake::server s;
    s.start();
    s.add_execution(fake::make_execution("t1", "j", 1, fake::execution_status::in_progress));
    s.add_execution(fake::make_execution("t2", "j", 2, fake::execution_status::failed));
    fake::execution ns = fake::make_execution("t3", "j", 3, fake::execution_status::succeeded);
    ns.namespace_id = "AWS";
    s.add_execution(ns);

    fake::execution other = fake::make_execution("t5", "j", 5, fake::execution_status::succeeded);
    other.namespace_id = "NS2";
    s.add_execution(other);

    temp_dir dir;
    const std::string input = dir.write("items.jsonl",
                                        "{\"thingName\":\"t1\",\"jobId\":\"j\",\"executionNumber\":1}\n"
                                        "{\"thingName\":\"t2\",\"jobId\":\"j\",\"executionNumber\":\"2\"}\n"
                                        "{\"thingName\":\"t3\",\"jobId\":\"j\",\"executionNumber\":3,"
                                        "\"namespaceId\":\"AWS\"}\n"
                                        "{\"thingName\":\"t4\",\"jobId\":\"j\",\"executionNumber\":4}\n");
    const std::string report = dir.file("report.jsonl");
    auto r = run({"bulk-delete", "--input", input, "--format", "jsonl", "--force", "--report", report, "--rate", "200"},
                 env_for(s));
    CHECK(r.code == 0);
    CHECK(contains(r.err, summary_row("deleted", 3)));
    CHECK(contains(r.err, summary_row("not_found", 1)));
    CHECK(s.execution_count() == 1);
    auto lines = by_line(read_report(report));
    REQUIRE(lines.size() == 4);
    CHECK(lines.at(1).outcome == "deleted");  // IN_PROGRESS: --force applied
    CHECK(lines.at(3).outcome == "deleted");  // the line's own namespace
    CHECK(lines.at(4).outcome == "not_found");

    // --namespace-id: the default namespace of the items.
    const std::string in2 = dir.write("ns.jsonl", "{\"thingName\":\"t5\",\"jobId\":\"j\",\"executionNumber\":5}\n");
    r = run({"bulk-delete", "--input", in2, "--namespace-id", "NS2", "--report", report}, env_for(s));
    CHECK(r.code == 0);
    CHECK(s.execution_count() == 0);
    lines = by_line(read_report(report));
    REQUIRE(lines.size() == 1);
    CHECK(lines.at(1).outcome == "deleted");

    // The report can go to standard output.
    s.add_execution(fake::make_execution("t1", "j", 1, fake::execution_status::succeeded));
    r = run({"bulk-delete", "--input", input, "--report", "-"}, env_for(s));
    CHECK(r.code == 0);
    CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 4);
    CHECK(contains(r.out, "\"outcome\":\"deleted\""));

    // And the input can come from standard input.
    s.add_execution(fake::make_execution("t2", "j", 2, fake::execution_status::succeeded));
    std::istringstream in("thingName,jobId,executionNumber\nt2,j,2\n");
    r = run({"bulk-delete", "--input", "-", "--report", "-"}, env_for(s), &in);
    CHECK(r.code == 0);
    CHECK(contains(r.out, "\"thingName\":\"t2\",\"jobId\":\"j\",\"executionNumber\":2,\"outcome\":\"deleted\""));
    CHECK_FALSE(s.find("t2", "j", 2).has_value());
}

TEST_CASE("cli bulk e2e: unusable inputs and files: 252 / 255, nothing sent") {
    fake::server s;
    s.start();
    temp_dir dir;
    const std::string bad_header = dir.write("bad.csv", "thing,job,number\nt,j,1\n");
    auto r = run({"bulk-delete", "--input", bad_header}, env_for(s));
    CHECK(r.code == 252);
    CHECK(contains(r.err, "cannot be used: line 1: the CSV header has an unknown column 'thing'"));

    const std::string all_bad = dir.write("allbad.jsonl", "{\"thingName\":1}\nnot json\n");
    r = run({"bulk-delete", "--input", all_bad}, env_for(s));
    CHECK(r.code == 252);
    CHECK(contains(r.err, "No line of the input"));
    CHECK(contains(r.err, "line 1: "));  // the first problems, without a report
    CHECK(contains(r.err, "line 2: "));

    r = run({"bulk-delete", "--input", dir.file("missing.csv")}, env_for(s));
    CHECK(r.code == 252);
    CHECK(contains(r.err, "The input file \"" + dir.file("missing.csv") + "\" cannot be read: No such file"));

    const std::string good = dir.write("good.csv", "thingName,jobId,executionNumber\nt,j,1\n");
    r = run({"bulk-delete", "--input", good, "--report", dir.file("no/such/dir/report.jsonl")}, env_for(s));
    CHECK(r.code == 255);
    CHECK(contains(r.err, "cannot be created"));

    r = run({"bulk-delete", "--input", good, "--skip-done", dir.file("missing.jsonl")}, env_for(s));
    CHECK(r.code == 252);

    const std::string not_report = dir.write("notreport.jsonl", "hello\nworld\n");
    r = run({"bulk-delete", "--input", good, "--skip-done", not_report}, env_for(s));
    CHECK(r.code == 252);
    CHECK(contains(r.err, "is not a report"));

    // The same file through another path.
    r = run({"bulk-delete", "--input", good, "--report", dir.path.string() + "/./good.csv"}, env_for(s));
    CHECK(r.code == 252);
    CHECK(contains(r.err, "is the --input file"));
    CHECK(s.stats().requests_total == 0);
    std::ifstream check(good);
    std::string first;
    std::getline(check, first);
    CHECK(first == "thingName,jobId,executionNumber");  // not truncated
}

TEST_CASE("cli bulk e2e: --skip-done resumes: done items carried, the rest tried again; repeated --skip-done") {
    fake::server s;
    s.start();
    constexpr int n = 60;
    std::string csv = "thingName,jobId,executionNumber\n";
    for (int i = 1; i <= n; ++i) {
        s.add_execution(fake::make_execution("t" + std::to_string(i), "j", i, fake::execution_status::succeeded));
        csv += "t" + std::to_string(i) + ",j," + std::to_string(i) + "\n";
    }
    s.add_execution(fake::make_execution("busy", "j", 1, fake::execution_status::in_progress));
    csv += "busy,j,1\n";  // line n+2: refused (no --force): tried again
    csv += "oops\n";      // line n+3: invalid: tried again (and invalid again)
    temp_dir dir;
    const std::string input = dir.write("items.csv", csv);
    const std::string r1 = dir.file("run1.jsonl");
    const std::string r2 = dir.file("run2.jsonl");
    const std::string r3 = dir.file("run3.jsonl");
    const std::string r4 = dir.file("run4.jsonl");

    // Every third delete answers 503 and is not retried: those fail.
    s.set_faults({fault("unavailable=every:3,op=DeleteJobExecution")});
    auto r = run({"bulk-delete", "--input", input, "--report", r1, "--max-attempts", "1"}, env_for(s));
    CHECK(r.code == 254);
    const auto first = by_line(read_report(r1));
    REQUIRE(first.size() == n + 2);
    std::uint64_t failed = 0, deleted = 0;
    for (const auto& [line, l] : first) {
        if (l.outcome == "failed") ++failed;
        if (l.outcome == "deleted") ++deleted;
    }
    CHECK(failed >= n / 3 - 1);
    CHECK(deleted + failed + 2 == n + 2);
    CHECK(first.at(n + 2).outcome == "refused");

    // Run 2: the failed ones and busy (refused) are sent again; the deleted ones are carried.
    s.set_faults({});
    std::uint64_t before = deletes_seen(s);
    r = run({"bulk-delete", "--input", input, "--report", r2, "--skip-done", r1}, env_for(s));
    CHECK(r.code == 254);  // busy refused again, the invalid line again
    CHECK(deletes_seen(s) - before == failed + 1);
    CHECK(contains(r.err, summary_row("skipped", deleted)));
    const auto second = by_line(read_report(r2));
    CHECK(second.size() == n + 2);  // a complete record of the input
    std::uint64_t carried = 0;
    for (const auto& [line, l] : second) {
        if (l.carried) {
            ++carried;
            CHECK(first.at(line).outcome == "deleted");
            CHECK(l.outcome == "deleted");
            CHECK(l.attempts == first.at(line).attempts);
        } else if (l.outcome != "invalid_input" && l.outcome != "refused") {
            CHECK(l.outcome == "deleted");
            CHECK(first.at(line).outcome == "failed");
        }
    }
    CHECK(carried == deleted);
    CHECK(second.at(n + 2).outcome == "refused");
    CHECK(second.at(n + 3).outcome == "invalid_input");
    CHECK(s.execution_count() == 1);  // only busy is left

    // Run 3, both reports and --force: only busy is sent.
    before = deletes_seen(s);
    r = run({"bulk-delete", "--input", input, "--report", r3, "--skip-done", r1, "--skip-done", r2, "--force"},
            env_for(s));
    CHECK(r.code == 254);  // the invalid line
    CHECK(deletes_seen(s) - before == 1);
    CHECK(s.execution_count() == 0);
    const auto third = by_line(read_report(r3));
    CHECK(third.size() == n + 2);
    for (const auto& [line, l] : third) {
        if (line == n + 3) continue;
        CHECK(l.outcome == "deleted");
        CHECK(l.carried == (line != n + 2));
    }

    // Run 4 from the newest report alone: nothing left to send.
    before = deletes_seen(s);
    r = run({"bulk-delete", "--input", input, "--report", r4, "--skip-done", r3}, env_for(s));
    CHECK(deletes_seen(s) - before == 0);
    CHECK(by_line(read_report(r4)).size() == n + 2);
    CHECK(contains(r.err, summary_row("skipped", n + 1)));

    // The report may not overwrite a report it resumes from.
    r = run({"bulk-delete", "--input", input, "--report", r1, "--skip-done", r2, "--skip-done", r1}, env_for(s));
    CHECK(r.code == 252);
    CHECK(std::filesystem::file_size(r1) > 0);
}

TEST_CASE("issue 11: a refused item is not done: the resumed run with --force deletes it, exit 0") {
    fake::server s;
    s.start();
    s.add_execution(fake::make_execution("ip-thing", "job-1", 1, fake::execution_status::in_progress));
    temp_dir dir;
    const std::string input = dir.write("ip.csv", "thingName,jobId,executionNumber\nip-thing,job-1,1\n");
    const std::string r1 = dir.file("r1.jsonl");
    const std::string r2 = dir.file("r2.jsonl");

    auto r = run({"bulk-delete", "--input", input, "--report", r1}, env_for(s));
    CHECK(r.code == 254);
    REQUIRE(read_report(r1).size() == 1);
    CHECK(read_report(r1)[0].outcome == "refused");
    CHECK(s.find("ip-thing", "job-1", 1).has_value());

    r = run({"bulk-delete", "--input", input, "--skip-done", r1, "--force", "--report", r2}, env_for(s));
    CHECK(r.code == 0);
    CHECK(contains(r.err, summary_row("skipped", 0)));
    CHECK(deletes_seen(s) == 2);
    CHECK_FALSE(s.find("ip-thing", "job-1", 1).has_value());  // gone, as exit 0 says
    const auto lines = read_report(r2);
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].outcome == "deleted");
    CHECK_FALSE(lines[0].carried);
}

TEST_CASE("issue 11: purge verifies: namespaced executions purged without --namespace-id remain, exit 254") {
    fake::server s;
    s.start();
    fake::generate_options g;
    g.count = 50;
    g.jobs = 2;
    g.namespace_id = "ns1";
    s.generate(g);
    REQUIRE(executions_of_job(s, "job-1") == 25);
    temp_dir dir;
    const std::string report = dir.file("purge.jsonl");

    auto r = run({"purge", "--job-id", "job-1", "--report", report}, env_for(s));
    CHECK(r.code == 254);
    CHECK(executions_of_job(s, "job-1") == 25);  // all still there
    const auto items = read_report(report);
    CHECK(items.size() == 25);
    for (const auto& l : items) CHECK(l.outcome == "not_found");
    const auto still = read_verify(report);
    REQUIRE(still.size() == 25);
    std::set<std::string> things;
    for (const auto& l : still) {
        CHECK(l.reason == "not_found");
        CHECK(l.status == "SUCCEEDED");
        CHECK(l.job == "job-1");
        CHECK(contains(l.message, "--namespace-id"));
        CHECK(s.find(l.thing, "job-1", l.number).has_value());
        things.insert(l.thing);
    }
    CHECK(things.size() == 25);
    CHECK(contains(r.err, "Verified: listed again, 25 executions remain:"));
    CHECK(contains(r.err, "Not every item was deleted: 25 executions still listed after the run."));

    // With the namespace: gone, verified, exit 0; the other job untouched.
    r = run({"purge", "--job-id", "job-1", "--namespace-id", "ns1", "--report", report}, env_for(s));
    CHECK(r.code == 0);
    CHECK(executions_of_job(s, "job-1") == 0);
    CHECK(executions_of_job(s, "job-0") == 25);
    CHECK(read_verify(report).empty());
    CHECK(contains(r.err, "Verified: listed again, none of the executions remains."));
}

TEST_CASE("issue 11: a dry run says what the real run then does (purge, and bulk-delete from a file)") {
    fake::server s;
    s.start();
    using st = fake::execution_status;
    const std::map<std::string, st> seeded{
        {"d1", st::succeeded}, {"d2", st::failed}, {"d3", st::canceled}, {"q1", st::queued}, {"p1", st::in_progress}};
    for (const auto& [thing, status] : seeded) s.add_execution(fake::make_execution(thing, "fw-42", 1, status));
    temp_dir dir;
    const std::string dry = dir.file("dry.jsonl");
    const std::string real = dir.file("real.jsonl");

    auto r = run({"purge", "--job-id", "fw-42", "--dry-run", "--report", dry}, env_for(s));
    CHECK(r.code == 254);  // two would be refused
    CHECK(contains(r.err, "Dry run: nothing was deleted; 3 items would be deleted, 2 would be refused."));
    CHECK(deletes_seen(s) == 0);
    CHECK(s.execution_count() == 5);
    std::map<std::string, report_line> predicted;
    for (auto& l : read_report(dry)) predicted[l.thing] = l;
    REQUIRE(predicted.size() == 5);
    CHECK(predicted["d1"].status == "SUCCEEDED");
    CHECK(predicted["q1"].status == "QUEUED");
    CHECK(predicted["p1"].status == "IN_PROGRESS");
    CHECK(predicted["q1"].predicted == "refused");
    CHECK(predicted["p1"].predicted == "refused");
    for (auto t : {"d1", "d2", "d3"}) CHECK(predicted[t].predicted == "deleted");

    r = run({"purge", "--job-id", "fw-42", "--report", real}, env_for(s));
    CHECK(r.code == 254);
    const auto lines = read_report(real);
    CHECK(lines.size() == 5);
    for (const auto& l : lines) {
        INFO(l.thing);
        CHECK(l.outcome == predicted[l.thing].predicted);
        CHECK(s.find(l.thing, "fw-42", 1).has_value() == (l.outcome == "refused"));
    }

    // bulk-delete --dry-run from a file: each item looked up (DescribeJobExecution).
    const std::string input = dir.write("items.csv",
                                        "thingName,jobId,executionNumber\n"
                                        "q1,fw-42,1\n"
                                        "p1,fw-42,1\n"
                                        "gone,fw-42,1\n");
    const std::uint64_t describes = count_op(s, "DescribeJobExecution");
    const std::uint64_t deletes = deletes_seen(s);
    r = run({"bulk-delete", "--input", input, "--dry-run", "--force", "--report", dry}, env_for(s));
    CHECK(r.code == 0);  // with --force both would be deleted; the third is already gone
    CHECK(contains(r.err, "Dry run: nothing was deleted; 2 items would be deleted, 1 not found."));
    CHECK(count_op(s, "DescribeJobExecution") - describes == 3);
    CHECK(deletes_seen(s) == deletes);
    auto file_dry = by_line(read_report(dry));
    REQUIRE(file_dry.size() == 3);
    CHECK(file_dry.at(2).status == "QUEUED");
    CHECK(file_dry.at(2).predicted == "deleted");
    CHECK(file_dry.at(3).status == "IN_PROGRESS");
    CHECK(file_dry.at(4).status.empty());
    CHECK(file_dry.at(4).predicted == "not_found");
    // Without --force the same file: refused predicted, exit 254.
    r = run({"bulk-delete", "--input", input, "--dry-run", "--report", dry}, env_for(s));
    CHECK(r.code == 254);
    CHECK(by_line(read_report(dry)).at(3).predicted == "refused");

    r = run({"bulk-delete", "--input", input, "--force", "--report", real}, env_for(s));
    CHECK(r.code == 0);
    const auto file_real = by_line(read_report(real));
    for (std::uint64_t line : {2, 3, 4}) CHECK(file_real.at(line).outcome == file_dry.at(line).predicted);
    CHECK(s.execution_count() == 0);
}

TEST_CASE("issue 11: a report as input: invalid_input lines stay invalid, whole, and send nothing") {
    fake::server s;
    s.start();
    s.add_execution(fake::make_execution("t1", "j", 1, fake::execution_status::succeeded));
    temp_dir dir;
    const std::string long_bad =
        R"({"thingName":"bad thing","jobId":"j","executionNumber":2,"note":")" + std::string(500, 'x') + "\"}";
    const std::string missing = R"({"thingName":"t2","jobId":"j"})";
    const std::string input =
        dir.write("items.jsonl",
                  "{\"thingName\":\"t1\",\"jobId\":\"j\",\"executionNumber\":1}\n" + long_bad + "\n" + missing + "\n");
    const std::string r1 = dir.file("r1.jsonl");
    const std::string r2 = dir.file("r2.jsonl");
    const std::string r3 = dir.file("r3.jsonl");

    auto r = run({"bulk-delete", "--input", input, "--report", r1}, env_for(s));
    CHECK(r.code == 254);
    CHECK(deletes_seen(s) == 1);
    auto first = by_line(read_report(r1));
    REQUIRE(first.size() == 3);
    CHECK(first.at(1).outcome == "deleted");
    CHECK(first.at(2).outcome == "invalid_input");
    CHECK(first.at(2).input == long_bad);  // whole, not cut short
    CHECK_FALSE(first.at(2).has_item);     // no placeholders
    CHECK(first.at(3).input == missing);

    // The report as input: the valid item is sent again (already gone: not_found), the invalid
    // lines are invalid again and never become requests. (A report's lines are in the order the
    // outcomes arrived, so the items are matched by content here, not by line.)
    auto check_fed_back = [&](const std::string& report) {
        std::map<std::string, int> outcomes;
        std::set<std::string> inputs;
        const auto lines = read_report(report);
        CHECK(lines.size() == 3);
        for (const auto& l : lines) {
            ++outcomes[l.outcome];
            if (l.outcome == "invalid_input")
                inputs.insert(l.input);
            else
                CHECK(l.thing == "t1");
        }
        CHECK(outcomes["not_found"] == 1);
        CHECK(outcomes["invalid_input"] == 2);
        CHECK(inputs == std::set<std::string>{long_bad, missing});  // the original lines, carried on
    };
    r = run({"bulk-delete", "--input", r1, "--report", r2}, env_for(s));
    CHECK(r.code == 254);
    CHECK(deletes_seen(s) == 2);
    CHECK(s.stats().count("DeleteJobExecution", "ResourceNotFoundException") == 1);
    check_fed_back(r2);

    // And once more: still the original lines, still nothing sent for them.
    r = run({"bulk-delete", "--input", r2, "--report", r3}, env_for(s));
    CHECK(deletes_seen(s) == 3);
    check_fed_back(r3);
}

TEST_CASE("cli bulk e2e: purge a job by --status, with and without --force") {
    fake::server s;
    s.start();
    using st = fake::execution_status;
    const st statuses[] = {st::queued, st::in_progress, st::succeeded, st::failed, st::canceled};
    std::map<st, int> seeded;
    for (int i = 1; i <= 300; ++i) {
        const st x = statuses[i % 5];
        ++seeded[x];
        s.add_execution(fake::make_execution("thing-" + std::to_string(i), "job-a", i, x));
    }
    s.add_execution(fake::make_execution("thing-1", "job-b", 1, st::succeeded));  // another job: untouched

    temp_dir dir;
    const std::string report = dir.file("purge.jsonl");
    auto r = run({"purge", "--job-id", "job-a", "--status", "SUCCEEDED,IN_PROGRESS", "--report", report}, env_for(s));
    CHECK(r.code == 254);  // IN_PROGRESS without --force: refused
    auto lines = read_report(report);
    CHECK(lines.size() == static_cast<std::size_t>(seeded[st::succeeded] + seeded[st::in_progress]));
    std::map<std::string, int> outcomes;
    for (const auto& l : lines) ++outcomes[l.outcome];
    CHECK(outcomes["deleted"] == seeded[st::succeeded]);
    CHECK(outcomes["refused"] == seeded[st::in_progress]);
    // The verification lists them again: each refused one is still there, with its status and why.
    const auto still = read_verify(report);
    CHECK(still.size() == static_cast<std::size_t>(seeded[st::in_progress]));
    for (const auto& l : still) {
        CHECK(l.verify == "still_present");
        CHECK(l.status == "IN_PROGRESS");
        CHECK(l.reason == "refused");
        CHECK(l.error == "InvalidStateTransitionException");
        CHECK(s.find(l.thing, "job-a", l.number).has_value());
    }
    CHECK(
        contains(r.err, "Verified: listed again, " + std::to_string(seeded[st::in_progress]) + " executions remain:"));

    r = run({"purge", "--job-id", "job-a", "--status", "IN_PROGRESS,FAILED", "--force", "--report", report,
             "--concurrency", "8"},
            env_for(s));
    CHECK(r.code == 0);
    CHECK(contains(r.err, "Verified: listed again, none of the executions remains."));
    CHECK(read_verify(report).empty());
    lines = read_report(report);
    CHECK(lines.size() == static_cast<std::size_t>(seeded[st::in_progress] + seeded[st::failed]));
    std::set<std::string> seen;
    for (const auto& l : lines) {
        CHECK(l.outcome == "deleted");
        CHECK(l.job == "job-a");
        CHECK(seen.insert(l.thing).second);
    }
    // Left: the QUEUED and CANCELED ones, and the other job.
    CHECK(s.execution_count() == static_cast<std::size_t>(seeded[st::queued] + seeded[st::canceled] + 1));
    for (const auto& e : s.executions())
        CHECK((e.job_id == "job-b" || e.status == st::queued || e.status == st::canceled));

    // By thing.
    r = run({"purge", "--thing-name", "thing-1", "--report", report}, env_for(s));
    CHECK(r.code == 0);
    CHECK_FALSE(s.find("thing-1", "job-b", 1).has_value());

    // A job that does not exist: the listing's error, as the AWS CLI prints it.
    r = run({"purge", "--job-id", "no-such-job"}, env_for(s));
    CHECK(r.code == 254);
    CHECK(contains(r.err,
                   "An error occurred (ResourceNotFoundException) when calling the ListJobExecutionsForJob "
                   "operation: "));
}

TEST_CASE("cli bulk e2e: --dry-run sends no delete and reports what would be deleted") {
    fake::server s;
    s.start();
    for (int i = 1; i <= 10; ++i)
        s.add_execution(fake::make_execution("t" + std::to_string(i), "j", i, fake::execution_status::failed));
    temp_dir dir;
    std::string csv = "thingName,jobId,executionNumber\n";
    for (int i = 1; i <= 10; ++i) csv += "t" + std::to_string(i) + ",j," + std::to_string(i) + "\n";
    const std::string input = dir.write("items.csv", csv);
    const std::string report = dir.file("dry.jsonl");
    auto r = run({"bulk-delete", "--input", input, "--dry-run", "--report", report}, env_for(s));
    CHECK(r.code == 0);
    CHECK(deletes_seen(s) == 0);
    CHECK(count_op(s, "DescribeJobExecution") == 10);  // each item looked up
    CHECK(contains(r.err, "Dry run: nothing was deleted; 10 items would be deleted."));
    auto lines = read_report(report);
    REQUIRE(lines.size() == 10);
    for (const auto& l : lines) {
        CHECK(l.outcome == "not_attempted");
        CHECK(l.status == "FAILED");
        CHECK(l.predicted == "deleted");
        CHECK(l.message == "dry run: would delete");
    }

    r = run({"purge", "--job-id", "j", "--dry-run", "--report", report}, env_for(s));
    CHECK(r.code == 0);
    CHECK(deletes_seen(s) == 0);  // only List calls
    CHECK(read_report(report).size() == 10);
    CHECK(s.execution_count() == 10);
}

TEST_CASE("cli bulk e2e: a wrong secret stops the run early: 254, AWS-style error, the rest not_attempted") {
    fake::server s;
    s.start();
    constexpr int n = 200;
    std::string csv = "thingName,jobId,executionNumber\n";
    for (int i = 1; i <= n; ++i) {
        s.add_execution(fake::make_execution("t" + std::to_string(i), "j", i, fake::execution_status::succeeded));
        csv += "t" + std::to_string(i) + ",j," + std::to_string(i) + "\n";
    }
    temp_dir dir;
    const std::string input = dir.write("items.csv", csv);
    const std::string report = dir.file("report.jsonl");
    auto env = env_for(s);
    env["AWS_SECRET_ACCESS_KEY"] = "not-the-right-secret-key-0000000000000000";
    auto r = run({"bulk-delete", "--input", input, "--report", report, "--concurrency", "2"}, env);
    CHECK(r.code == 254);
    CHECK(contains(r.err,
                   "An error occurred (InvalidSignatureException) when calling the DeleteJobExecution "
                   "operation: "));
    CHECK(contains(r.err, "Stopped early: InvalidSignatureException"));
    CHECK(contains(r.err, "The run stopped early: every remaining item would fail the same way"));
    CHECK_FALSE(contains(r.err, "not-the-right-secret-key"));
    CHECK(deletes_seen(s) <= 4);
    const auto lines = by_line(read_report(report));
    CHECK(lines.size() == n);
    std::uint64_t not_attempted = 0;
    for (const auto& [line, l] : lines) {
        if (l.outcome == "not_attempted")
            ++not_attempted;
        else
            CHECK(l.outcome == "failed");
    }
    CHECK(not_attempted + deletes_seen(s) == n);
    CHECK(s.execution_count() == n);

    // purge: the listing itself is refused.
    r = run({"purge", "--job-id", "j"}, env);
    CHECK(r.code == 254);
    CHECK(contains(r.err,
                   "An error occurred (InvalidSignatureException) when calling the ListJobExecutionsForJob "
                   "operation: "));
}

namespace {

// The real binary (build/bin/iotjobs), spawned with stderr to a file.
struct spawned {
    pid_t pid = 0;
    std::string err_file;

    std::string stderr_text() const {
        std::ifstream f(err_file);
        return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    }
    // Waits up to `limit`; kills the process (and returns nullopt) if it is still running then.
    std::optional<int> wait_exit(std::chrono::seconds limit) const {
        int status = 0;
        pid_t waited = 0;
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while ((waited = ::waitpid(pid, &status, WNOHANG)) == 0 && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        if (waited == 0) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            return std::nullopt;
        }
        if (!WIFEXITED(status)) return -1;
        return WEXITSTATUS(status);
    }
};

std::optional<std::string> iotjobs_binary() {
    const char* bin_dir = std::getenv("IOTJOBS_BIN_DIR");
    if (!bin_dir) {
        MESSAGE("IOTJOBS_BIN_DIR not set (run through ctest): SIGINT test skipped");
        return std::nullopt;
    }
    const std::string bin = std::string(bin_dir) + "/iotjobs";
    if (!std::filesystem::exists(bin)) {
        FAIL_CHECK("iotjobs binary not found at " << bin << " (build the iotjobs_cli_main target)");
        return std::nullopt;
    }
    return bin;
}

// Spawns the binary with stderr to a file and no descriptor of this process but 0 and 1;
// `max_files` non-zero: under that RLIMIT_NOFILE (through sh's ulimit -n).
spawned spawn_cli(const std::string& bin, std::vector<std::string> args, const fake::server& s, const temp_dir& dir,
                  unsigned max_files = 0) {
    args.insert(args.begin(), bin);
    if (max_files != 0)
        args.insert(args.begin(),
                    {"/bin/sh", "-c", "ulimit -n " + std::to_string(max_files) + " && exec \"$0\" \"$@\""});
    std::vector<std::string> envs{"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=" + test_akid,
                                  "AWS_SECRET_ACCESS_KEY=" + test_secret, "AWS_ENDPOINT_URL_IOT=" + s.base_url()};
    std::vector<char*> argv, envp;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& a : envs) envp.push_back(a.data());
    envp.push_back(nullptr);
    spawned p;
    p.err_file = dir.file("stderr.txt");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 2, p.err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);  // the fake server's sockets stay here
    const int rc = posix_spawn(&p.pid, argv[0], &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    REQUIRE(rc == 0);
    return p;
}

// A CSV of n items t<i>/j/<i>, all seeded as SUCCEEDED.
std::string seed_items(fake::server& s, int n) {
    std::string csv = "thingName,jobId,executionNumber\n";
    for (int i = 1; i <= n; ++i) {
        s.add_execution(fake::make_execution("t" + std::to_string(i), "j", i, fake::execution_status::succeeded));
        csv += "t" + std::to_string(i) + ",j," + std::to_string(i) + "\n";
    }
    return csv;
}

void wait_for_requests(const fake::server& s, std::uint64_t n) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (s.stats().requests_total < n && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    REQUIRE(s.stats().requests_total >= n);
}

}  // namespace

TEST_CASE("cli bulk e2e: SIGINT finishes the requests in flight, reports the rest, exits 130 (the real binary)") {
    const auto bin = iotjobs_binary();
    if (!bin) return;
    fake::server s;
    s.start();
    constexpr int n = 400;
    temp_dir dir;
    const std::string input = dir.write("items.csv", seed_items(s, n));
    const std::string report = dir.file("report.jsonl");
    s.set_faults({fault("latency=always,ms=400")});  // 4 in flight: 10 deletes/s, 40 s for all

    const spawned p =
        spawn_cli(*bin, {"bulk-delete", "--input", input, "--report", report, "--concurrency", "4"}, s, dir);
    wait_for_requests(s, 10);  // a few rounds of deletes
    ::kill(p.pid, SIGINT);
    const auto code = p.wait_exit(std::chrono::seconds(15));
    REQUIRE_MESSAGE(code.has_value(), "the process did not stop within 15 s of SIGINT");
    CHECK(*code == 130);

    const auto lines = by_line(read_report(report));
    CHECK(lines.size() == n);
    std::uint64_t deleted = 0;
    for (const auto& [line, l] : lines) {
        if (l.outcome == "deleted")
            ++deleted;
        else
            CHECK(l.outcome == "not_attempted");
    }
    // Every request sent was finished and reported: what the server deleted is what the report says.
    CHECK(deleted == s.stats().executions_deleted);
    CHECK(deleted >= 10);
    CHECK(deleted < n);
    const std::string err = p.stderr_text();
    CHECK(contains(err, "Interrupted: finishing the requests in flight"));
    CHECK(contains(err, "Stopped early: interrupted (SIGINT)"));
    CHECK_FALSE(contains(err, "\r"));  // stderr is not a terminal: no progress line
}

TEST_CASE("cli bulk e2e: a second SIGINT aborts the requests in flight; the report still has every item") {
    const auto bin = iotjobs_binary();
    if (!bin) return;
    fake::server s;
    s.start();
    constexpr int n = 100;
    temp_dir dir;
    const std::string input = dir.write("items.csv", seed_items(s, n));
    const std::string report = dir.file("report.jsonl");
    s.set_faults({fault("stall=always")});  // no answer, ever

    const spawned p =
        spawn_cli(*bin, {"bulk-delete", "--input", input, "--report", report, "--concurrency", "4"}, s, dir);
    wait_for_requests(s, 4);
    ::kill(p.pid, SIGINT);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    CHECK(::waitpid(p.pid, nullptr, WNOHANG) == 0);  // still waiting for the stalled calls
    ::kill(p.pid, SIGINT);
    const auto code = p.wait_exit(std::chrono::seconds(10));
    REQUIRE_MESSAGE(code.has_value(), "the process did not stop within 10 s of the second SIGINT");
    CHECK(*code == 130);
    const auto lines = by_line(read_report(report));
    CHECK(lines.size() == n);
    std::map<std::string, int> outcomes;
    for (const auto& [line, l] : lines) ++outcomes[l.outcome];
    CHECK(outcomes["failed"] == 4);  // aborted: the service may have processed them
    CHECK(outcomes["not_attempted"] == n - 4);
    CHECK(contains(p.stderr_text(), "Interrupted again: aborting the requests in flight"));
}

TEST_CASE("cli bulk e2e: the progress line when asked for, and --debug never shows the secret") {
    fake::server s;
    s.start();
    temp_dir dir;
    const std::string input = dir.write("items.csv", seed_items(s, 20));
    std::ostringstream out, err;
    run_options ro;
    ro.handle_sigint = false;
    ro.progress = true;
    const int code =
        run_cli(std::vector<std::string>{"bulk-delete", "--input", input, "--rate", "30"}, env_for(s), out, err, ro);
    CHECK(code == 0);
    const std::string e = err.str();
    CHECK(contains(e, "\r0/20 0%  -/s  ETA ?  throttled 0  retried 0  failed 0\x1b[K"));
    CHECK(contains(e, "/20 "));
    CHECK(contains(e, "\r\x1b[Kbulk-delete: 20 items"));  // the line is cleared before the summary

    s.add_execution(fake::make_execution("t1", "j", 1, fake::execution_status::succeeded));
    auto r = run({"bulk-delete", "--input", input, "--debug", "--concurrency", "2"}, env_for(s));
    CHECK(r.code == 0);
    CHECK(contains(r.err, "bulk-delete: input " + input));
    CHECK(contains(r.err, "CanonicalRequest"));
    CHECK_FALSE(contains(r.err, test_secret));
    CHECK_FALSE(contains(r.err, "\r"));
}

TEST_CASE("issue 11: a bulk delete interrupted twice (SIGINT) and finished by a third run sends nothing twice") {
    const auto bin = iotjobs_binary();
    if (!bin) return;
    fake::server s;
    s.start();
    constexpr int n = 300;
    temp_dir dir;
    const std::string input = dir.write("items.csv", seed_items(s, n));
    const std::string r1 = dir.file("r1.jsonl");
    const std::string r2 = dir.file("r2.jsonl");
    const std::string r3 = dir.file("r3.jsonl");
    s.set_faults({fault("latency=always,ms=300")});  // 4 in flight: about 13 deletes/s

    // Run 1, interrupted after a few deletes.
    spawned p = spawn_cli(*bin, {"bulk-delete", "--input", input, "--report", r1, "--concurrency", "4"}, s, dir);
    wait_for_requests(s, 8);
    ::kill(p.pid, SIGINT);
    auto code = p.wait_exit(std::chrono::seconds(20));
    REQUIRE(code.has_value());
    CHECK(*code == 130);
    const std::uint64_t after1 = s.stats().executions_deleted;
    CHECK(after1 >= 8);
    CHECK(after1 < n);
    CHECK(by_line(read_report(r1)).size() == n);

    // Run 2, resumed from run 1, interrupted again.
    const std::uint64_t requests1 = s.stats().requests_total;
    p = spawn_cli(*bin, {"bulk-delete", "--input", input, "--skip-done", r1, "--report", r2, "--concurrency", "4"}, s,
                  dir);
    wait_for_requests(s, requests1 + 8);
    ::kill(p.pid, SIGINT);
    code = p.wait_exit(std::chrono::seconds(20));
    REQUIRE(code.has_value());
    CHECK(*code == 130);
    const std::uint64_t after2 = s.stats().executions_deleted;
    CHECK(after2 > after1);
    CHECK(after2 < n);
    const auto second = by_line(read_report(r2));
    CHECK(second.size() == n);  // complete: the items of run 1 carried, the rest deleted or not_attempted
    std::uint64_t carried2 = 0;
    for (const auto& [line, l] : second) carried2 += l.carried;
    CHECK(carried2 == after1);

    // Run 3 finishes, from both reports (repeated --skip-done), in-process and without latency.
    s.set_faults({});
    auto r = run({"bulk-delete", "--input", input, "--skip-done", r1, "--skip-done", r2, "--report", r3}, env_for(s));
    CHECK(r.code == 0);
    CHECK(contains(r.err, summary_row("skipped", after2)));
    const auto third = by_line(read_report(r3));  // every input item exactly once
    CHECK(third.size() == n);
    std::uint64_t carried3 = 0;
    for (const auto& [line, l] : third) {
        CHECK(l.outcome == "deleted");
        carried3 += l.carried;
    }
    CHECK(carried3 == after2);
    // The fake's counters: every execution deleted, and no delete was sent twice (a second
    // delete of the same execution would have been answered ResourceNotFoundException).
    CHECK(s.execution_count() == 0);
    CHECK(s.stats().executions_deleted == n);
    CHECK(deletes_seen(s) == n);
    CHECK(s.stats().count("DeleteJobExecution", "ResourceNotFoundException") == 0);
}

TEST_CASE("issue 13: out of file descriptors (ulimit -n 40, concurrency 128): every item deleted, said once") {
    // The real binary under a limit of 40 descriptors (about ten of them the process's own) asks
    // for 128 connections: the pool goes on with the ones it gets, the items wait for them, and
    // the CLI prints the pool's warning once.
    const auto bin = iotjobs_binary();
    if (!bin) return;
    fake::server s;
    s.start();
    // Each answer takes 20 ms, so the 128 calls in flight really need 128 connections at once (an
    // instant answer lets a fast start reuse the first connections and never run out).
    std::string fault_error;
    auto slow = fake::parse_fault("latency=always,ms=20", fault_error);
    REQUIRE(slow);
    s.set_faults({*slow});
    constexpr int n = 2000;
    temp_dir dir;
    const std::string input = dir.write("items.csv", seed_items(s, n));
    const std::string report = dir.file("report.jsonl");

    const spawned p =
        spawn_cli(*bin, {"bulk-delete", "--input", input, "--report", report, "--concurrency", "128"}, s, dir, 40);
    const auto code = p.wait_exit(std::chrono::seconds(120));
    const std::string err = p.stderr_text();
    REQUIRE_MESSAGE(code.has_value(), "the run did not finish within 120 s; stderr: " << err);
    CHECK_MESSAGE(*code == 0, "stderr: " << err);

    const auto lines = read_report(report);
    CHECK(lines.size() == n);
    std::map<std::string, int> outcomes;
    for (const auto& l : lines) ++outcomes[l.outcome + (l.error.empty() ? "" : " " + l.error)];
    CHECK_MESSAGE(
        outcomes["deleted"] == n, "outcomes: " << [&] {
            std::string t;
            for (const auto& [k, v] : outcomes) t += k + "=" + std::to_string(v) + " ";
            return t;
        }());
    CHECK(s.execution_count() == 0);

    std::size_t warnings = 0;
    for (std::size_t at = 0; (at = err.find("warning: out of file descriptors", at)) != std::string::npos; ++at)
        ++warnings;
    CHECK_MESSAGE(warnings == 1, "stderr: " << err);
}
