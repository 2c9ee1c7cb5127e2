// Fan-out across accounts and regions against one fake endpoint that limits each access key
// separately (--rate-limit-scope account): the fake's per-account buckets, the library's client
// registry and bulk_delete_fanout, and the CLI's bulk-delete (region / profile columns) and purge
// (several --profile / --region) with profiles of a test config file.
#include "cli/bulk.hpp"
#include "cli/cli.hpp"
#include "fake/server.hpp"

#include <iotjobs/client_registry.hpp>
#include <iotjobs/delete_job_execution.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <unistd.h>

namespace asio = boost::asio;
namespace fake = iotjobs::fake;
namespace json = boost::json;
using iotjobs::client_key;
using iotjobs::error_code;

namespace {

// Three accounts: a profile each, with its own key.
const std::map<std::string, std::pair<std::string, std::string>> accounts = {
    {"alpha", {"AKIDALPHA", "alphaSecretKey/0123456789abcdefghijklmnop"}},
    {"beta", {"AKIDBETA", "betaSecretKey/0123456789abcdefghijklmnopq"}},
    {"gamma", {"AKIDGAMMA", "gammaSecretKey/0123456789abcdefghijklmnop"}},
};

fake::server_options account_scoped(double per_second, double burst) {
    fake::server_options o;
    for (const auto& [profile, key] : accounts) o.credentials[key.first] = fake::credential{key.second, ""};
    o.rate_limits = {fake::rate_limit{fake::operation::delete_job_execution, per_second, burst}};
    o.rate_scope = fake::rate_limit_scope::account;
    return o;
}

iotjobs::client_config config_for(const fake::server& s, const std::string& profile, const std::string& region) {
    iotjobs::client_config cfg;
    cfg.region = region;
    cfg.endpoint_url = s.base_url();
    const auto& key = accounts.at(profile);
    cfg.static_credentials = {key.first, key.second, ""};
    cfg.retry.max_attempts = 1;
    return cfg;
}

// One DeleteJobExecution; the error (ThrottlingException maps to service_errc::throttling).
error_code delete_one(asio::io_context& ioc, iotjobs::client& c, const std::string& thing) {
    iotjobs::delete_job_execution_request req(thing, "job-1", 1);
    error_code result = make_error_code(boost::system::errc::operation_in_progress);
    iotjobs::delete_job_execution(c, std::move(req), [&](error_code ec) { result = ec; });
    ioc.restart();
    ioc.run();
    return result;
}

// A fresh directory per test case, removed at the end.
struct temp_dir {
    std::filesystem::path path;
    temp_dir() {
        static int counter = 0;
        path = std::filesystem::temp_directory_path() /
               ("iotjobs-fanout-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
        std::filesystem::create_directories(path);
    }
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    std::string write(const std::string& name, const std::string& text) const {
        const std::string p = (path / name).string();
        std::ofstream(p, std::ios::binary) << text;
        return p;
    }
};

// The shared config and credentials files of the three profiles (endpoint: the fake), and an
// environment that names them and nothing else.
iotjobs::cli::environment profiles_env(const fake::server& s, const temp_dir& dir) {
    std::string config = "[default]\nregion = us-east-1\nendpoint_url = " + s.base_url() + "\n";
    std::string credentials =
        "[default]\naws_access_key_id = AKIDALPHA\naws_secret_access_key = " + accounts.at("alpha").second + "\n";
    for (const auto& [profile, key] : accounts) {
        config += "[profile " + profile + "]\nregion = us-east-1\nendpoint_url = " + s.base_url() + "\n";
        credentials +=
            "[" + profile + "]\naws_access_key_id = " + key.first + "\naws_secret_access_key = " + key.second + "\n";
    }
    return {{"AWS_CONFIG_FILE", dir.write("config", config)},
            {"AWS_SHARED_CREDENTIALS_FILE", dir.write("credentials", credentials)},
            {"HOME", dir.path.string()}};
}

struct cli_result {
    int code;
    std::string out, err;
};

cli_result run_cli(std::vector<std::string> args, const iotjobs::cli::environment& env) {
    std::ostringstream out, err;
    iotjobs::cli::run_options ro;
    ro.handle_sigint = false;
    ro.progress = false;
    const int code = iotjobs::cli::run_cli(args, env, out, err, ro);
    return {code, out.str(), err.str()};
}

// "profile/region" -> the pair's entry of the JSON summary.
std::map<std::string, json::object> pairs_of(const json::value& summary) {
    std::map<std::string, json::object> out;
    for (const auto& p : summary.at("pairs").as_array()) {
        const auto& o = p.as_object();
        out[std::string(o.at("profile").as_string()) + "/" + std::string(o.at("region").as_string())] = o;
    }
    return out;
}

std::int64_t outcome(const json::object& pair, const char* kind) { return pair.at("outcomes").at(kind).as_int64(); }

}  // namespace

TEST_CASE("fake: --rate-limit-scope account gives every access key its own buckets") {
    // A bucket of 2 that does not refill within the test: the third request of a key is throttled.
    for (const bool per_account : {true, false}) {
        CAPTURE(per_account);
        auto opts = account_scoped(0.001, 2);
        if (!per_account) opts.rate_scope = fake::rate_limit_scope::server;
        fake::server s(opts);
        s.start();
        for (const char* t : {"a1", "a2", "a3", "b1", "b2"})
            s.add_execution(fake::make_execution(t, "job-1", 1, fake::execution_status::succeeded));
        asio::io_context ioc;
        iotjobs::client alpha(ioc.get_executor(), config_for(s, "alpha", "us-east-1"));
        iotjobs::client beta(ioc.get_executor(), config_for(s, "beta", "eu-west-1"));
        CHECK_FALSE(delete_one(ioc, alpha, "a1"));
        CHECK_FALSE(delete_one(ioc, alpha, "a2"));
        CHECK(delete_one(ioc, alpha, "a3") == iotjobs::service_errc::throttling);
        if (per_account) {
            CHECK_FALSE(delete_one(ioc, beta, "b1"));
            CHECK_FALSE(delete_one(ioc, beta, "b2"));
            const auto st = s.stats();
            REQUIRE(st.accounts.size() == 2);
            CHECK(st.accounts.at("AKIDALPHA").admitted == 2);
            CHECK(st.accounts.at("AKIDALPHA").throttled == 1);
            CHECK(st.accounts.at("AKIDBETA").admitted == 2);
            CHECK(st.accounts.at("AKIDBETA").throttled == 0);
            CHECK(json::parse(s.stats_json()).at("accounts").at("AKIDBETA").at("admitted").as_int64() == 2);
        } else {
            CHECK(delete_one(ioc, beta, "b1") == iotjobs::service_errc::throttling);
            CHECK(s.stats().accounts.empty());
        }
    }
}

TEST_CASE("library: bulk_delete_fanout routes each item to its (profile, region) client") {
    fake::server s(account_scoped(1000, 1000));
    s.start();
    std::string input = "thingName,jobId,executionNumber,profile,region\n";
    int n = 0;
    for (const char* profile : {"alpha", "beta"})
        for (const char* region : {"us-east-1", "eu-west-1"})
            for (int i = 0; i < 5; ++i) {
                const std::string thing = std::string(profile) + "-" + region + "-" + std::to_string(i);
                s.add_execution(fake::make_execution(thing, "job-1", 1, fake::execution_status::succeeded));
                input += thing + ",job-1,1," + profile + "," + region + "\n";
                ++n;
            }
    input += "t-unknown,job-1,1,nobody,us-east-1\n";  // no such profile: failed, nothing sent
    input += "bad thing,job-1,1,alpha,us-east-1\n";   // invalid line: delivered by the fan-out
    std::istringstream in(input);
    auto src = iotjobs::make_stream_source(in);

    asio::io_context ioc;
    iotjobs::client_registry reg(ioc.get_executor(), [&](const client_key& k) {
        if (!accounts.count(k.profile)) throw std::runtime_error("unknown profile " + k.profile);
        return config_for(s, k.profile, k.region);
    });
    iotjobs::bulk_fanout_options opt;
    opt.per_key.max_in_flight = 2;
    std::map<std::string, int> outcomes_by_key;
    std::optional<std::pair<error_code, iotjobs::bulk_fanout_summary>> done;
    iotjobs::bulk_delete_fanout(
        reg, *src, opt,
        [&](const iotjobs::bulk_outcome& o) {
            if (o.kind != iotjobs::bulk_outcome_kind::invalid_input)
                ++outcomes_by_key[o.item.profile + "/" + o.item.region];
        },
        [&](error_code ec, iotjobs::bulk_fanout_summary m) { done.emplace(ec, std::move(m)); });
    ioc.run();
    REQUIRE(done);
    auto& [ec, summary] = *done;
    CHECK_FALSE(ec);
    CHECK(s.execution_count() == 0);
    CHECK(reg.size() == 4);
    CHECK(summary.total.deleted == static_cast<std::uint64_t>(n));
    CHECK(summary.total.failed == 1);
    CHECK(summary.total.invalid_input == 1);
    REQUIRE(summary.keys.size() == 5);  // the four runs, and the key without a client
    for (const auto& [key, m] : summary.keys) {
        CAPTURE(iotjobs::to_string(key));
        if (key.profile == "nobody") {  // its item failed, counted under it; nothing sent
            CHECK(m.items == 1);
            CHECK(m.failed == 1);
            CHECK(m.deleted == 0);
            continue;
        }
        CHECK(m.deleted == 5);
        CHECK(m.items == 5);
        CHECK(outcomes_by_key[key.profile + "/" + key.region] == 5);
    }
    CHECK(outcomes_by_key["nobody/us-east-1"] == 1);  // failed: no client
    CHECK(s.stats().accounts.at("AKIDALPHA").admitted == 10);
    CHECK(s.stats().accounts.at("AKIDBETA").admitted == 10);
}

TEST_CASE("cli: bulk-delete with profile and region columns fans out, counts per pair") {
    fake::server s(account_scoped(20, 5));
    s.start();
    temp_dir dir;
    std::string csv = "thingName,jobId,executionNumber,region,profile\n";
    for (const auto& [profile, key] : accounts)
        for (const char* region : {"us-east-1", "eu-west-1"})
            for (int i = 0; i < 4; ++i) {
                const std::string thing = profile + "-" + region + "-" + std::to_string(i);
                s.add_execution(fake::make_execution(thing, "job-1", 1, fake::execution_status::succeeded));
                csv += thing + ",job-1,1," + region + "," + profile + "\n";
            }
    const std::string input = dir.write("items.csv", csv);
    const std::string report = (dir.path / "report.jsonl").string();
    auto env = profiles_env(s, dir);
    env["AWS_MAX_ATTEMPTS"] = "20";  // throttled deletes are retried until admitted
    auto r = run_cli({"bulk-delete", "--input", input, "--report", report, "--concurrency", "2"}, env);
    INFO(r.err);
    CHECK(r.code == 0);
    CHECK(s.execution_count() == 0);
    const json::value summary = json::parse(r.out);
    CHECK(summary.at("outcomes").at("deleted").as_int64() == 24);
    const auto pairs = pairs_of(summary);
    CHECK(pairs.size() == 6);
    for (const auto& [name, p] : pairs) {
        CAPTURE(name);
        CHECK(p.at("items").as_int64() == 4);
        CHECK(outcome(p, "deleted") == 4);
    }
    CHECK(r.err.find("By profile/region:") != std::string::npos);
    CHECK(r.err.find("beta/eu-west-1: 4 items, 4 deleted") != std::string::npos);
    // The report says which pair each item went to.
    std::ifstream f(report);
    std::string line;
    int lines = 0;
    while (std::getline(f, line)) {
        const auto o = json::parse(line).as_object();
        const std::string thing(o.at("thingName").as_string());
        CHECK(thing.starts_with(std::string(o.at("profile").as_string()) + "-" +
                                std::string(o.at("region").as_string()) + "-"));
        ++lines;
    }
    CHECK(lines == 24);
    // Every account was limited on its own: each key admitted its own 8 deletes (and retried its
    // own throttled ones).
    const auto st = s.stats();
    REQUIRE(st.accounts.size() == 3);
    for (const auto& [profile, key] : accounts) CHECK(st.accounts.at(key.first).admitted == 8);
}

TEST_CASE(
    "cli: bulk-delete rows naming a profile that does not exist fail naming the input, counted under their pair") {
    fake::server s(account_scoped(1000, 1000));
    s.start();
    temp_dir dir;
    std::string csv = "thingName,jobId,executionNumber,profile\n";
    for (int i = 0; i < 3; ++i) {
        const std::string thing = "t" + std::to_string(i);
        s.add_execution(fake::make_execution(thing, "job-1", 1, fake::execution_status::succeeded));
        csv += thing + ",job-1,1," + (i == 1 ? "nobody" : "beta") + "\n";
    }
    const std::string input = dir.write("items.csv", csv);
    const std::string report = (dir.path / "report.jsonl").string();
    auto r = run_cli({"bulk-delete", "--input", input, "--report", report}, profiles_env(s, dir));
    INFO(r.err);
    CHECK(r.code == 254);
    CHECK(s.execution_count() == 1);  // t1, whose row names no profile that exists
    const json::value summary = json::parse(r.out);
    CHECK(summary.at("outcomes").at("deleted").as_int64() == 2);
    CHECK(summary.at("outcomes").at("failed").as_int64() == 1);
    const auto pairs = pairs_of(summary);
    REQUIRE(pairs.count("nobody/us-east-1"));
    CHECK(pairs.at("nobody/us-east-1").at("items").as_int64() == 1);
    CHECK(outcome(pairs.at("nobody/us-east-1"), "failed") == 1);
    CHECK(pairs.at("nobody/us-east-1").at("requests").as_int64() == 0);
    REQUIRE(pairs.count("beta/us-east-1"));
    CHECK(outcome(pairs.at("beta/us-east-1"), "deleted") == 2);
    CHECK(r.err.find("nobody/us-east-1: 1 item, 0 deleted, 0 not_found, 1 failed") != std::string::npos);
    // The failed row's report line says where the profile came from: the input, not --profile.
    std::ifstream f(report);
    std::string line, failed_message;
    while (std::getline(f, line)) {
        const auto o = json::parse(line).as_object();
        if (o.at("outcome").as_string() == "failed") failed_message = std::string(o.at("message").as_string());
    }
    CAPTURE(failed_message);
    CHECK(failed_message.find("no client for nobody/us-east-1") != std::string::npos);
    CHECK(failed_message.find("The config profile (nobody) could not be found") != std::string::npos);
    CHECK(failed_message.find("from the input's profile column") != std::string::npos);
    CHECK(failed_message.find("--profile") == std::string::npos);
}

TEST_CASE("cli: without region / profile columns the run is the configured pair's alone, with no per-pair output") {
    fake::server s(account_scoped(1000, 1000));
    s.start();
    temp_dir dir;
    for (int i = 0; i < 3; ++i)
        s.add_execution(fake::make_execution("t" + std::to_string(i), "job-1", 1, fake::execution_status::succeeded));
    const std::string input =
        dir.write("items.csv", "thingName,jobId,executionNumber\nt0,job-1,1\nt1,job-1,1\nt2,job-1,1\n");
    auto r = run_cli({"bulk-delete", "--input", input}, profiles_env(s, dir));
    CHECK(r.code == 0);
    const json::value summary = json::parse(r.out);
    CHECK_FALSE(summary.as_object().contains("pairs"));
    CHECK(r.err.find("By profile/region") == std::string::npos);
    CHECK(s.stats().accounts.at("AKIDALPHA").admitted == 3);  // the default profile's key
}

TEST_CASE("cli: purge across profiles and regions (--profiles list, --region repeated)") {
    // The listings are counted per account too: a pair may find nothing left to delete (another
    // pair got there first), but it lists with its own key.
    auto opts = account_scoped(1000, 1000);
    opts.rate_limits.push_back(fake::rate_limit{fake::operation::list_job_executions_for_job, 1000, 1000});
    fake::server s(opts);
    s.start();
    temp_dir dir;
    for (int i = 0; i < 30; ++i)
        s.add_execution(fake::make_execution("t" + std::to_string(i), "job-1", 1, fake::execution_status::succeeded));
    const std::string report = (dir.path / "report.jsonl").string();
    auto r = run_cli({"--region", "us-east-1", "--region", "eu-west-1", "purge", "--job-id", "job-1", "--profiles",
                      "beta,gamma", "--report", report},
                     profiles_env(s, dir));
    INFO(r.err);
    CHECK(r.code == 0);
    CHECK(s.execution_count() == 0);
    const json::value summary = json::parse(r.out);
    // One fake store behind every pair: each execution is deleted once, by whichever pair got to
    // it first; the others find it gone.
    CHECK(summary.at("outcomes").at("deleted").as_int64() == 30);
    CHECK(summary.at("verification").at("verified").as_bool());
    const auto pairs = pairs_of(summary);
    CHECK(pairs.size() == 4);
    CHECK(pairs.count("beta/us-east-1"));
    CHECK(pairs.count("gamma/eu-west-1"));
    std::int64_t deleted = 0;
    for (const auto& [name, p] : pairs) deleted += outcome(p, "deleted");
    CHECK(deleted == 30);
    const auto st = s.stats();
    CHECK(st.accounts.count("AKIDBETA"));
    CHECK(st.accounts.count("AKIDGAMMA"));
    CHECK_FALSE(st.accounts.count("AKIDALPHA"));
}

TEST_CASE("cli: --region twice is refused by commands other than purge") {
    fake::server s;
    s.start();
    temp_dir dir;
    auto r = run_cli({"--region", "us-east-1", "--region", "eu-west-1", "describe-job-execution", "--thing-name", "t",
                      "--job-id", "j"},
                     profiles_env(s, dir));
    CHECK(r.code == 252);
    CHECK(r.err.find("--region: given more than once") != std::string::npos);
}

TEST_CASE("cli: purge with a profile that does not exist: 253 naming it, the other pairs still purge") {
    fake::server s(account_scoped(1000, 1000));
    s.start();
    temp_dir dir;
    for (int i = 0; i < 5; ++i)
        s.add_execution(fake::make_execution("t" + std::to_string(i), "job-1", 1, fake::execution_status::succeeded));
    auto r =
        run_cli({"purge", "--job-id", "job-1", "--profiles", "beta,nobody", "--output", "text"}, profiles_env(s, dir));
    CHECK(r.code == 253);
    CHECK(r.err.find("no client for nobody/us-east-1") != std::string::npos);
    CHECK(r.err.find("beta/us-east-1: 5 items, 5 deleted") != std::string::npos);
    CHECK(s.execution_count() == 0);
}
