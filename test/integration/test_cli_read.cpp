// The read commands and cancel end to end against the in-process fake endpoint, output parsed with
// Boost.JSON: list-job-executions-for-job / -for-thing (every page, --max-items and
// --starting-token give every execution exactly once, --max-results makes one call),
// describe-job-execution, cancel-job-execution (nothing printed; the fake's state changes);
// --output text and table; exit codes 252 (nothing sent), 254, 255. bulk-delete and purge: the
// JSON summary on stdout (on stderr with --report -), requestId in the report, the item on each
// --debug line. SIGINT during a listing: 130, nothing on stdout (the real binary).
#include "cli/cli.hpp"
#include "cli/output.hpp"
#include "fake/server.hpp"

#include <doctest/doctest.h>

#include <boost/json.hpp>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
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

environment env_for(const fake::server& s) {
    return {{"AWS_REGION", "us-east-1"},
            {"AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"},
            {"AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"},
            {"AWS_ENDPOINT_URL_IOT", s.base_url()}};
}

struct result {
    int code;
    std::string out;
    std::string err;
};

result run(std::vector<std::string> args, const environment& env) {
    std::ostringstream out, err;
    run_options ro;
    ro.handle_sigint = false;
    ro.progress = false;
    const int code = run_cli(args, env, out, err, ro);
    return {code, out.str(), err.str()};
}

bool contains(std::string_view s, std::string_view what) { return s.find(what) != std::string_view::npos; }

std::uint64_t count_op(const fake::server& s, const std::string& op) {
    std::uint64_t n = 0;
    const auto st = s.stats();
    if (auto it = st.requests.find(op); it != st.requests.end())
        for (const auto& [outcome, count] : it->second) n += count;
    return n;
}

json::object parse_object(const std::string& text) {
    boost::system::error_code ec;
    json::value v = json::parse(text, ec);
    REQUIRE_MESSAGE(!ec, "not JSON: " << text);
    REQUIRE(v.is_object());
    return v.as_object();
}

std::string str(const json::value& v) { return std::string(v.as_string()); }

constexpr std::int64_t queued_epoch = 1795696901;

void seed_job(fake::server& s, const std::string& job, int n) {
    for (int i = 1; i <= n; ++i) {
        auto e = fake::make_execution("th-" + std::to_string(i), job, i,
                                      i % 2 ? fake::execution_status::succeeded : fake::execution_status::queued);
        e.queued_at = std::chrono::sys_seconds{std::chrono::seconds{queued_epoch + i}};
        s.add_execution(e);
    }
}

// thingName of each summary ("arn:...:thing/th-3" -> "th-3").
std::vector<std::string> things_of(const json::object& o) {
    std::vector<std::string> v;
    for (const auto& e : o.at("executionSummaries").as_array()) {
        const std::string arn = str(e.at("thingArn"));
        v.push_back(arn.substr(arn.rfind('/') + 1));
    }
    return v;
}

}  // namespace

TEST_CASE("cli read e2e: list-job-executions-for-job, every page, the AWS CLI's shape") {
    fake::server s;
    s.start();
    seed_job(s, "job-r", 30);
    s.add_execution(fake::make_execution("th-1", "other", 7, fake::execution_status::failed));

    auto r = run({"list-job-executions-for-job", "--job-id", "job-r", "--page-size", "7"}, env_for(s));
    REQUIRE_MESSAGE(r.code == 0, r.err);
    const auto o = parse_object(r.out);
    CHECK(o.size() == 1);  // executionSummaries only: no NextToken when everything was printed
    const auto& list = o.at("executionSummaries").as_array();
    REQUIRE(list.size() == 30);
    CHECK(count_op(s, "ListJobExecutionsForJob") == 5);  // 7 per page
    std::set<std::int64_t> numbers;
    for (const auto& e : list) {
        const auto& sum = e.at("jobExecutionSummary").as_object();
        const std::int64_t n = sum.at("executionNumber").as_int64();
        numbers.insert(n);
        CHECK(str(e.at("thingArn")).ends_with(":thing/th-" + std::to_string(n)));
        CHECK(str(sum.at("status")) == (n % 2 ? "SUCCEEDED" : "QUEUED"));
        CHECK(str(sum.at("queuedAt")) == iso8601_timestamp(static_cast<double>(queued_epoch + n)));
        CHECK(sum.contains("lastUpdatedAt"));
    }
    CHECK(numbers.size() == 30);

    // --status filters on the service.
    r = run({"list-job-executions-for-job", "--job-id", "job-r", "--status", "QUEUED"}, env_for(s));
    REQUIRE(r.code == 0);
    CHECK(parse_object(r.out).at("executionSummaries").as_array().size() == 15);
}

TEST_CASE("cli read e2e: --max-items and --starting-token print every execution exactly once") {
    fake::server s;
    s.start();
    seed_job(s, "job-p", 23);
    std::vector<std::string> seen;
    std::optional<std::string> token;
    int runs = 0;
    do {
        std::vector<std::string> args{
            "list-job-executions-for-job", "--job-id", "job-p", "--max-items", "4", "--page-size", "3"};
        if (token) {
            args.push_back("--starting-token");
            args.push_back(*token);
        }
        auto r = run(args, env_for(s));
        REQUIRE_MESSAGE(r.code == 0, r.err);
        const auto o = parse_object(r.out);
        const auto things = things_of(o);
        CHECK(things.size() <= 4);
        seen.insert(seen.end(), things.begin(), things.end());
        token.reset();
        if (const auto* t = o.if_contains("NextToken")) token = str(*t);
        ++runs;
    } while (token && runs < 20);
    CHECK(runs == 6);  // 4+4+4+4+4+3
    CHECK(seen.size() == 23);
    CHECK(std::set<std::string>(seen.begin(), seen.end()).size() == 23);

    // --max-results: one call, the service's own nextToken.
    auto r = run({"list-job-executions-for-job", "--job-id", "job-p", "--max-results", "5"}, env_for(s));
    REQUIRE(r.code == 0);
    auto o = parse_object(r.out);
    CHECK(o.at("executionSummaries").as_array().size() == 5);
    REQUIRE(o.contains("nextToken"));
    r = run({"list-job-executions-for-job", "--job-id", "job-p", "--max-results", "5", "--next-token",
             str(o.at("nextToken"))},
            env_for(s));
    REQUIRE(r.code == 0);
    const auto second = things_of(parse_object(r.out));
    CHECK(second.size() == 5);
    for (const auto& t : things_of(o)) CHECK(std::find(second.begin(), second.end(), t) == second.end());

    // A token that is not ours: 252, nothing sent.
    const auto before = count_op(s, "ListJobExecutionsForJob");
    r = run({"list-job-executions-for-job", "--job-id", "job-p", "--starting-token", "not a token"}, env_for(s));
    CHECK(r.code == 252);
    CHECK(contains(r.err, "--starting-token"));
    CHECK(count_op(s, "ListJobExecutionsForJob") == before);
}

TEST_CASE("cli read e2e: list-job-executions-for-thing, describe, cancel") {
    fake::server s;
    s.start();
    s.add_execution(fake::make_execution("dev-1", "job-a", 1, fake::execution_status::succeeded));
    s.add_execution(fake::make_execution("dev-1", "job-b", 2, fake::execution_status::queued));
    s.add_execution(fake::make_execution("dev-1", "job-c", 3, fake::execution_status::in_progress));
    s.add_execution(fake::make_execution("dev-1", "job-n", 4, fake::execution_status::failed, "NS_1"));

    auto r = run({"list-job-executions-for-thing", "--thing-name", "dev-1"}, env_for(s));
    REQUIRE_MESSAGE(r.code == 0, r.err);
    auto o = parse_object(r.out);
    std::set<std::string> jobs;
    for (const auto& e : o.at("executionSummaries").as_array()) {
        jobs.insert(str(e.at("jobId")));
        CHECK(e.at("jobExecutionSummary").as_object().contains("status"));
        CHECK(!e.as_object().contains("thingArn"));
    }
    // (whether a namespaced execution is listed without --namespace-id is the fake's choice)
    for (const char* j : {"job-a", "job-b", "job-c"}) CHECK(jobs.count(j) == 1);
    r = run({"list-job-executions-for-thing", "--thing-name", "dev-1", "--namespace-id", "NS_1"}, env_for(s));
    REQUIRE(r.code == 0);
    o = parse_object(r.out);
    REQUIRE(o.at("executionSummaries").as_array().size() == 1);
    CHECK(str(o.at("executionSummaries").as_array()[0].at("jobId")) == "job-n");
    r = run({"list-job-executions-for-thing", "--thing-name", "dev-1", "--job-id", "job-b"}, env_for(s));
    REQUIRE(r.code == 0);
    CHECK(parse_object(r.out).at("executionSummaries").as_array().size() == 1);

    r = run({"describe-job-execution", "--job-id", "job-b", "--thing-name", "dev-1", "--execution-number", "2"},
            env_for(s));
    REQUIRE_MESSAGE(r.code == 0, r.err);
    o = parse_object(r.out);
    const auto& e = o.at("execution").as_object();
    CHECK(str(e.at("jobId")) == "job-b");
    CHECK(str(e.at("status")) == "QUEUED");
    CHECK(e.at("executionNumber").as_int64() == 2);
    CHECK(str(e.at("thingArn")).ends_with(":thing/dev-1"));
    const std::int64_t version = e.at("versionNumber").as_int64();

    // cancel: nothing printed, the execution is CANCELED; a wrong --expected-version is refused.
    r = run({"cancel-job-execution", "--job-id", "job-b", "--thing-name", "dev-1", "--expected-version",
             std::to_string(version + 5)},
            env_for(s));
    CHECK(r.code == 254);
    CHECK(contains(r.err, "when calling the CancelJobExecution operation"));
    r = run({"cancel-job-execution", "--job-id", "job-b", "--thing-name", "dev-1", "--expected-version",
             std::to_string(version), "--status-details", "why=test"},
            env_for(s));
    CHECK_MESSAGE(r.code == 0, r.err);
    CHECK(r.out.empty());
    r = run({"describe-job-execution", "--job-id", "job-b", "--thing-name", "dev-1"}, env_for(s));
    REQUIRE(r.code == 0);
    CHECK(str(parse_object(r.out).at("execution").at("status")) == "CANCELED");
    // IN_PROGRESS needs --force.
    r = run({"cancel-job-execution", "--job-id", "job-c", "--thing-name", "dev-1"}, env_for(s));
    CHECK(r.code == 254);
    CHECK(contains(r.err, "InvalidStateTransitionException"));
    r = run({"cancel-job-execution", "--job-id", "job-c", "--thing-name", "dev-1", "--force"}, env_for(s));
    CHECK_MESSAGE(r.code == 0, r.err);

    // Not found: 254, the AWS CLI's message, nothing on stdout.
    r = run({"describe-job-execution", "--job-id", "job-b", "--thing-name", "nobody"}, env_for(s));
    CHECK(r.code == 254);
    CHECK(r.out.empty());
    CHECK(contains(r.err,
                   "An error occurred (ResourceNotFoundException) when calling the DescribeJobExecution "
                   "operation"));
}

TEST_CASE("cli read e2e: --output text and table; 252 sends nothing; 255 on a closed port") {
    fake::server s;
    s.start();
    seed_job(s, "job-t", 3);
    auto r = run({"--output", "text", "list-job-executions-for-job", "--job-id", "job-t"}, env_for(s));
    REQUIRE_MESSAGE(r.code == 0, r.err);
    // awscli's text: an EXECUTIONSUMMARIES line (the scalar thingArn), then a JOBEXECUTIONSUMMARY line
    // (its scalars sorted by key: executionNumber, lastUpdatedAt, queuedAt, retryAttempt, startedAt, status).
    std::istringstream lines(r.out);
    std::string line;
    int summaries = 0, details = 0;
    while (std::getline(lines, line)) {
        if (line.starts_with("EXECUTIONSUMMARIES\tarn:")) ++summaries;
        if (line.starts_with("JOBEXECUTIONSUMMARY\t")) {
            ++details;
            CHECK((line.ends_with("\tSUCCEEDED") || line.ends_with("\tQUEUED")));
        }
    }
    CHECK(summaries == 3);
    CHECK(details == 3);

    r = run({"--output", "table", "describe-job-execution", "--job-id", "job-t", "--thing-name", "th-1"}, env_for(s));
    REQUIRE(r.code == 0);
    CHECK(contains(r.out, "DescribeJobExecution"));
    CHECK(contains(r.out, "| execution.jobId "));
    CHECK(contains(r.out, "job-t"));

    const auto before = s.stats().requests_total;
    r = run({"list-job-executions-for-job", "--job-id", "bad id"}, env_for(s));
    CHECK(r.code == 252);
    CHECK(contains(r.err, "Invalid value for parameter jobId (--job-id)"));
    r = run({"list-job-executions-for-thing", "--thing-name", "dev", "--status", "DONE"}, env_for(s));
    CHECK(r.code == 252);
    r = run({"list-job-executions-for-job", "--job-id", "j", "--max-results", "251"}, env_for(s));
    CHECK(r.code == 252);
    r = run({"cancel-job-execution", "--job-id", "j", "--thing-name", "t", "--status-details", "novalue"}, env_for(s));
    CHECK(r.code == 252);
    r = run({"describe-job-execution", "--job-id", "j"}, env_for(s));
    CHECK(r.code == 252);
    CHECK(contains(r.err, "the following arguments are required: --thing-name"));
    CHECK(s.stats().requests_total == before);

    const std::string url = s.base_url();
    s.stop();
    r = run({"list-job-executions-for-job", "--job-id", "job-t", "--max-attempts", "1"},
            {{"AWS_REGION", "us-east-1"},
             {"AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"},
             {"AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"},
             {"AWS_ENDPOINT_URL_IOT", url}});
    CHECK(r.code == 255);
    CHECK(r.out.empty());
}

TEST_CASE("cli bulk e2e: the JSON summary, requestId in the report, the item on each --debug line") {
    fake::server s;
    s.start();
    for (int i = 1; i <= 6; ++i)
        s.add_execution(fake::make_execution("b-" + std::to_string(i), "job-s", i, fake::execution_status::succeeded));
    s.add_execution(fake::make_execution("busy", "job-s", 9, fake::execution_status::in_progress));
    const auto dir = std::filesystem::temp_directory_path() / ("iotjobs-cli-read-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const std::string input = (dir / "in.csv").string();
    {
        std::ofstream f(input);
        f << "thingName,jobId,executionNumber\nb-1,job-s,1\nb-2,job-s,2\nbusy,job-s,9\ngone,job-s,4\n";
    }
    const std::string report = (dir / "report.jsonl").string();
    auto r = run({"bulk-delete", "--input", input, "--report", report, "--concurrency", "3", "--debug"}, env_for(s));
    CHECK(r.code == 254);
    auto o = parse_object(r.out);  // stdout: the summary only
    CHECK(str(o.at("command")) == "bulk-delete");
    CHECK(o.at("items").as_int64() == 4);
    const auto& oc = o.at("outcomes").as_object();
    CHECK(oc.at("deleted").as_int64() == 2);
    CHECK(oc.at("refused").as_int64() == 1);
    CHECK(oc.at("not_found").as_int64() == 1);
    CHECK(str(o.at("report")) == report);
    CHECK(o.at("stoppedEarly").as_bool() == false);
    CHECK(o.at("stopReason").is_null());
    CHECK(o.at("exitCode").as_int64() == 254);
    // Each answered item has the service's request id in the report.
    std::ifstream rep(report);
    std::string line;
    int lines = 0;
    while (std::getline(rep, line)) {
        ++lines;
        const auto l = parse_object(line);
        REQUIRE(l.contains("requestId"));
        CHECK(!l.at("requestId").as_string().empty());
        // --debug: a line naming the item, with the same request id.
        CHECK(contains(r.err, "thing=" + str(l.at("thingName")) + " job=job-s execution=" +
                                  std::to_string(l.at("executionNumber").as_int64()) + "): " + str(l.at("outcome"))));
        CHECK(contains(r.err, "request id " + str(l.at("requestId"))));
    }
    CHECK(lines == 4);

    // --report -: stdout stays JSON Lines (the report), the summary goes to stderr.
    r = run({"purge", "--job-id", "job-s", "--report", "-"}, env_for(s));
    CHECK(r.code == 254);  // busy is IN_PROGRESS: refused, still listed
    std::istringstream out(r.out);
    int report_lines = 0;
    while (std::getline(out, line)) {
        const auto l = parse_object(line);
        CHECK(!l.contains("command"));
        ++report_lines;
    }
    CHECK(report_lines >= 5);
    const auto last = r.err.rfind("{\"command\"");
    REQUIRE(last != std::string::npos);
    o = parse_object(r.err.substr(last));
    CHECK(str(o.at("command")) == "purge");
    CHECK(str(o.at("report")) == "-");
    CHECK(o.at("verification").at("verified").as_bool());
    CHECK(o.at("verification").at("remaining").as_int64() == 1);

    // --output text: the human summary on stderr only, nothing on stdout.
    r = run({"--output", "text", "purge", "--job-id", "job-s", "--status", "SUCCEEDED"}, env_for(s));
    CHECK(r.code == 0);
    CHECK(r.out.empty());
    CHECK(contains(r.err, "purge: "));
    std::filesystem::remove_all(dir);
}

TEST_CASE("cli read e2e: SIGINT during a listing exits 130 and prints nothing (the real binary)") {
    const char* bin_dir = std::getenv("IOTJOBS_BIN_DIR");
    if (!bin_dir) {
        MESSAGE("IOTJOBS_BIN_DIR not set (run through ctest): SIGINT test skipped");
        return;
    }
    const std::string bin = std::string(bin_dir) + "/iotjobs";
    REQUIRE_MESSAGE(std::filesystem::exists(bin), "iotjobs binary not found at " << bin);
    fake::server s;
    s.start();
    seed_job(s, "job-i", 3);
    std::string error;
    auto stall = fake::parse_fault("stall=always", error);
    REQUIRE_MESSAGE(stall.has_value(), error);
    s.set_faults({*stall});

    const auto dir = std::filesystem::temp_directory_path() / ("iotjobs-cli-read-int-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const std::string out_file = (dir / "stdout").string();
    std::vector<std::string> args{bin, "list-job-executions-for-job", "--job-id", "job-i", "--max-attempts",
                                  "1", "--cli-read-timeout",          "30"};
    std::vector<std::string> envs{"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=AKIDEXAMPLE",
                                  "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                  "AWS_ENDPOINT_URL_IOT=" + s.base_url()};
    std::vector<char*> argv, envp;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& a : envs) envp.push_back(a.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid = 0;
    REQUIRE(posix_spawn(&pid, bin.c_str(), &actions, nullptr, argv.data(), envp.data()) == 0);
    posix_spawn_file_actions_destroy(&actions);

    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (s.stats().requests_total == 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    CHECK(s.stats().requests_total >= 1);
    ::kill(pid, SIGINT);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 130);
    CHECK(std::filesystem::file_size(out_file) == 0);
    std::filesystem::remove_all(dir);
}
