// Fan-out's pure parts: the region / profile columns of the input, the report members, purge's
// --region / --profile lists, the progress line's per-pair counts, to_string(client_key).
#include "bulk/report.hpp"
#include "cli/bulk.hpp"
#include "cli/cli.hpp"

#include <iotjobs/bulk_delete.hpp>
#include <iotjobs/client_registry.hpp>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/io_context.hpp>

#include <doctest/doctest.h>

#include <sstream>

namespace asio = boost::asio;
using namespace iotjobs::cli;
using iotjobs::bulk_source;

namespace {

struct answer {
    iotjobs::error_code ec;
    bulk_source::pull p;
};

std::vector<answer> read_all(const std::string& text) {
    std::istringstream in(text);
    auto src = iotjobs::make_stream_source(in);
    std::vector<answer> out;
    for (;;) {
        asio::io_context io;
        src->async_next(asio::bind_executor(io.get_executor(), [&](iotjobs::error_code ec, bulk_source::pull p) {
            out.push_back({ec, std::move(p)});
        }));
        io.run();
        REQUIRE_FALSE(out.empty());
        if (!out.back().p.item) return out;
    }
}

command_line parsed(const std::vector<std::string>& args) {
    auto r = parse_command_line(args);
    if (auto* f = std::get_if<failure>(&r)) FAIL("unexpected failure: " << f->message);
    return std::get<command_line>(r);
}

}  // namespace

TEST_CASE("input: region and profile columns (CSV) and members (JSON Lines)") {
    auto csv = read_all(
        "thingName,jobId,executionNumber,region,profile\n"
        "t1,j,1,eu-west-1,prod\n"
        "t2,j,2,,\n"
        "t3,j,3,not a region!,prod\n");
    REQUIRE(csv.size() == 4);
    CHECK_FALSE(csv[0].p.invalid);
    CHECK(csv[0].p.item->region == "eu-west-1");
    CHECK(csv[0].p.item->profile == "prod");
    CHECK_FALSE(csv[1].p.invalid);  // empty: the run's default
    CHECK(csv[1].p.item->region.empty());
    CHECK(csv[1].p.item->profile.empty());
    REQUIRE(csv[2].p.invalid);
    CHECK(csv[2].p.invalid->find("region") != std::string::npos);

    auto jsonl = read_all(R"({"thingName":"t1","jobId":"j","executionNumber":1,"region":"ap-south-1","profile":"dev"})"
                          "\n"
                          R"({"thingName":"t2","jobId":"j","executionNumber":2,"region":7})"
                          "\n");
    REQUIRE(jsonl.size() == 3);
    CHECK_FALSE(jsonl[0].p.invalid);
    CHECK(jsonl[0].p.item->region == "ap-south-1");
    CHECK(jsonl[0].p.item->profile == "dev");
    REQUIRE(jsonl[1].p.invalid);
    CHECK(jsonl[1].p.invalid->find("region must be a string") != std::string::npos);
}

TEST_CASE("report: profile and region members when the item names them, read back as input") {
    iotjobs::bulk_outcome o;
    o.item.request = iotjobs::delete_job_execution_request("t1", "j", 1);
    o.item.line = 2;
    o.kind = iotjobs::bulk_outcome_kind::deleted;
    std::string plain;
    iotjobs::detail::append_outcome_jsonl(plain, o);
    CHECK(plain.find("region") == std::string::npos);
    o.item.profile = "prod";
    o.item.region = "eu-west-1";
    std::string line;
    iotjobs::detail::append_outcome_jsonl(line, o);
    CHECK(line.find(R"("profile":"prod","region":"eu-west-1")") != std::string::npos);
    auto back = read_all(line);
    REQUIRE(back.size() == 2);
    CHECK(back[0].p.item->profile == "prod");
    CHECK(back[0].p.item->region == "eu-west-1");
}

TEST_CASE("purge: --region / --profile repeated and --regions / --profiles lists") {
    auto cl = parsed({"--region", "us-east-1", "--profile", "a", "--region", "eu-west-1", "purge", "--job-id", "j",
                      "--regions", "eu-west-1, ap-south-1", "--profiles", "b,a"});
    auto r = make_purge_settings(cl.options, &cl.globals);
    REQUIRE(std::holds_alternative<bulk_settings>(r));
    const auto& s = std::get<bulk_settings>(r);
    CHECK(s.regions == std::vector<std::string>{"us-east-1", "eu-west-1", "ap-south-1"});
    CHECK(s.profiles == std::vector<std::string>{"a", "b"});

    auto bad = parsed({"purge", "--job-id", "j", "--regions", "us-east-1,,eu-west-1"});
    auto f = make_purge_settings(bad.options, &bad.globals);
    REQUIRE(std::holds_alternative<failure>(f));
    CHECK(std::get<failure>(f).exit_code == exit_usage);

    auto plain = parsed({"--region", "us-east-1", "purge", "--job-id", "j"});
    auto p = make_purge_settings(plain.options, &plain.globals);
    REQUIRE(std::holds_alternative<bulk_settings>(p));
    CHECK(std::get<bulk_settings>(p).regions == std::vector<std::string>{"us-east-1"});

    const std::vector<std::string> args{"--region",    "us-east-1", "--region", "eu-west-1",
                                        "bulk-delete", "--input",   "x"};
    auto twice = parse_command_line(args);
    REQUIRE(std::holds_alternative<failure>(twice));
    CHECK(std::get<failure>(twice).message.find("--region: given more than once") != std::string::npos);
}

TEST_CASE("progress line: per-pair counts when fanned out") {
    progress_snapshot p;
    p.done = 30;
    p.rate = 200;
    CHECK(format_progress(p) == "30 done  200/s  throttled 0  retried 0  failed 0");
    p.pairs = {{"a/us-east-1", 10}, {"b/eu-west-1", 20}};
    CHECK(format_progress(p) == "30 done  200/s  throttled 0  retried 0  failed 0  |  a/us-east-1 10  b/eu-west-1 20");
}

TEST_CASE("client_key: ordered, printed with (default) for an empty member") {
    const iotjobs::client_key a{"", "us-east-1"}, b{"prod", ""};
    CHECK(a < b);
    CHECK(iotjobs::to_string(a) == "(default)/us-east-1");
    CHECK(iotjobs::to_string(b) == "prod/(default)");
}
