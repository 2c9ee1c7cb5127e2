// The iotjobs CLI end to end against the in-process fake endpoint: success prints nothing and
// deletes; service errors as the AWS CLI prints them (254); TLS verification and --ca-bundle;
// transport failures (255); --debug shows the canonical request and string to sign but never a
// secret, token, signing key or Authorization value; SIGINT gives 130 (the real binary).
#include "cli/cli.hpp"
#include "fake/server.hpp"
#include "sigv4/sigv4.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <spawn.h>
#include <sstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace fake = iotjobs::fake;
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

result run(std::vector<std::string> args, const environment& env) {
    std::ostringstream out, err;
    run_options ro;
    ro.handle_sigint = false;
    const int code = run_cli(args, env, out, err, ro);
    return {code, out.str(), err.str()};
}

std::vector<std::string> delete_args(std::string thing, std::string job, std::string n,
                                     std::initializer_list<std::string_view> extra = {}) {
    std::vector<std::string> a{"delete-job-execution", "--thing-name",       std::move(thing), "--job-id",
                               std::move(job),         "--execution-number", std::move(n)};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
}

bool contains(std::string_view s, std::string_view what) { return s.find(what) != std::string_view::npos; }

std::string temp_path(const std::string& name) {
    auto dir = std::filesystem::temp_directory_path() / ("iotjobs-cli-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    return (dir / name).string();
}

std::string hex(const iotjobs::sigv4::key_bytes& k) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string s;
    for (unsigned char b : k) {
        s += digits[b >> 4];
        s += digits[b & 15];
    }
    return s;
}

}  // namespace

TEST_CASE("cli e2e: delete succeeds silently, then ResourceNotFoundException exactly as the AWS CLI prints it") {
    fake::server s;
    s.start();
    s.add_execution(fake::make_execution("my:thing", "job-1", 7, fake::execution_status::succeeded));

    auto r = run(delete_args("my:thing", "job-1", "7"), env_for(s));
    CHECK(r.code == 0);
    CHECK(r.out.empty());
    CHECK(r.err.empty());
    CHECK_FALSE(s.find("my:thing", "job-1", 7).has_value());

    r = run(delete_args("my:thing", "job-1", "7"), env_for(s));
    CHECK(r.code == 254);
    CHECK(r.out.empty());
    CHECK(r.err.starts_with(
        "\nAn error occurred (ResourceNotFoundException) when calling the DeleteJobExecution operation: "));
    CHECK(r.err.back() == '\n');
}

TEST_CASE("cli e2e: --force, --no-force and InvalidStateTransitionException") {
    fake::server s;
    s.start();
    s.add_execution(fake::make_execution("t1", "j1", 1, fake::execution_status::in_progress));
    auto r = run(delete_args("t1", "j1", "1"), env_for(s));
    CHECK(r.code == 254);
    CHECK(contains(r.err,
                   "An error occurred (InvalidStateTransitionException) when calling the DeleteJobExecution "
                   "operation: "));
    r = run(delete_args("t1", "j1", "1", {"--force", "--no-force"}), env_for(s));
    CHECK(r.code == 254);
    CHECK(s.find("t1", "j1", 1).has_value());
    r = run(delete_args("t1", "j1", "1", {"--no-force", "--force"}), env_for(s));
    CHECK(r.code == 0);
    CHECK_FALSE(s.find("t1", "j1", 1).has_value());
}

TEST_CASE("cli e2e: authentication errors and throttling after retries are service errors (254)") {
    fake::server s;
    s.start();
    s.add_execution(fake::make_execution("t", "j", 1, fake::execution_status::succeeded));
    auto env = env_for(s);
    env["AWS_SECRET_ACCESS_KEY"] = "not-the-right-secret-key-0000000000000000";
    auto r = run(delete_args("t", "j", "1"), env);
    CHECK(r.code == 254);
    CHECK(contains(r.err, "An error occurred (InvalidSignatureException) when calling the DeleteJobExecution"));
    CHECK_FALSE(contains(r.err, "not-the-right-secret-key"));

    env = env_for(s);
    env["AWS_ACCESS_KEY_ID"] = "AKIDUNKNOWN";
    r = run(delete_args("t", "j", "1"), env);
    CHECK(r.code == 254);
    CHECK(contains(r.err, "An error occurred (UnrecognizedClientException)"));

    std::string error;
    auto rule = fake::parse_fault("throttle=always", error);
    REQUIRE(rule.has_value());
    s.set_faults({*rule});
    r = run(delete_args("t", "j", "1", {"--max-attempts", "2"}), env_for(s));
    CHECK(r.code == 254);
    CHECK(contains(r.err,
                   "An error occurred (ThrottlingException) when calling the DeleteJobExecution operation "
                   "(reached max retries: 1): "));
    CHECK(s.find("t", "j", 1).has_value());
}

TEST_CASE("cli e2e: TLS is verified; --ca-bundle and AWS_CA_BUNDLE; --no-verify-ssl") {
    fake::server_options o;
    o.tls = true;
    fake::server s(o);
    s.start();
    const std::string ca = temp_path("ca.pem");
    s.write_ca_file(ca);
    s.add_execution(fake::make_execution("t", "j", 1, fake::execution_status::succeeded));
    s.add_execution(fake::make_execution("t", "j", 2, fake::execution_status::succeeded));
    s.add_execution(fake::make_execution("t", "j", 3, fake::execution_status::succeeded));

    // The system trust store does not know the fake's CA.
    auto r = run(delete_args("t", "j", "1", {"--max-attempts", "1"}), env_for(s));
    CHECK(r.code == 255);
    CHECK(contains(r.err, "SSL validation failed for " + s.base_url() + "/things/t/jobs/j/executionNumber/1"));
    CHECK(s.find("t", "j", 1).has_value());

    r = run(delete_args("t", "j", "1", {"--ca-bundle", ca}), env_for(s));
    CHECK(r.code == 0);
    CHECK(r.err.empty());

    auto env = env_for(s);
    env["AWS_CA_BUNDLE"] = ca;
    r = run(delete_args("t", "j", "2"), env);
    CHECK(r.code == 0);

    r = run(delete_args("t", "j", "3", {"--no-verify-ssl"}), env_for(s));
    CHECK(r.code == 0);
    CHECK(contains(r.err, "--no-verify-ssl"));
    CHECK_FALSE(s.find("t", "j", 3).has_value());
    std::error_code ignored;
    std::filesystem::remove_all(std::filesystem::path(ca).parent_path(), ignored);
}

TEST_CASE("cli e2e: transport failures are 255 with the AWS CLI's wording") {
    std::string base;
    {
        fake::server gone;
        gone.start();
        base = gone.base_url();
    }
    environment env{
        {"AWS_REGION", "us-east-1"}, {"AWS_ACCESS_KEY_ID", test_akid}, {"AWS_SECRET_ACCESS_KEY", test_secret}};
    auto r = run(delete_args("t", "j", "1", {"--endpoint-url", base, "--max-attempts", "1"}), env);
    CHECK(r.code == 255);
    CHECK(r.err == "\nCould not connect to the endpoint URL: \"" + base + "/things/t/jobs/j/executionNumber/1\"\n");

    fake::server s;
    s.start();
    s.add_execution(fake::make_execution("t", "j", 1, fake::execution_status::succeeded));
    std::string error;
    auto stall = fake::parse_fault("stall=always", error);
    REQUIRE(stall.has_value());
    s.set_faults({*stall});
    r = run(delete_args("t", "j", "1", {"--cli-read-timeout", "1", "--max-attempts", "1"}), env_for(s));
    CHECK(r.code == 255);
    CHECK(contains(r.err, "timeout on endpoint URL: \"" + s.base_url() + "/things/t/jobs/j/executionNumber/1\""));
}

TEST_CASE("cli e2e: --debug shows the signing steps and never a secret") {
    fake::server_options o;
    o.credentials["ASIAEXAMPLETEMP"] = fake::credential{"tempSecretKeyValue/0123456789+abcdefghijklmn",
                                                        "FwoGZXIvYXdzEJr//////////wEaDOtokenvalue+xyz=="};
    fake::server s(o);
    s.start();
    s.add_execution(fake::make_execution("my:thing", "job-1", 7, fake::execution_status::succeeded));
    auto env = env_for(s);
    env["AWS_ACCESS_KEY_ID"] = "ASIAEXAMPLETEMP";
    env["AWS_SECRET_ACCESS_KEY"] = "tempSecretKeyValue/0123456789+abcdefghijklmn";
    env["AWS_SESSION_TOKEN"] = "FwoGZXIvYXdzEJr//////////wEaDOtokenvalue+xyz==";

    const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    auto r = run(delete_args("my:thing", "job-1", "7", {"--debug"}), env);
    CHECK(r.code == 0);
    CHECK(r.out.empty());
    const std::string& e = r.err;
    CHECK(contains(e, "CanonicalRequest"));
    CHECK(contains(e, "/things/my%253Athing/jobs/job-1/executionNumber/7"));
    CHECK(contains(e, "StringToSign"));
    CHECK(contains(e, "aws4_request"));
    CHECK(contains(e, "region: us-east-1 (from AWS_REGION)"));
    CHECK(contains(e, "(from AWS_ENDPOINT_URL_IOT)"));
    CHECK(contains(e, "HTTP 200"));
    CHECK(contains(e, "attempts 1"));
    CHECK(contains(e, "x-amz-security-token:<redacted>"));

    CHECK_FALSE(contains(e, "tempSecretKeyValue"));
    CHECK_FALSE(contains(e, "0123456789+abcdefghijklmn"));
    CHECK_FALSE(contains(e, "FwoGZXIvYXdz"));
    CHECK_FALSE(contains(e, "tokenvalue"));
    CHECK_FALSE(contains(e, "AWS4-HMAC-SHA256 Credential="));  // the Authorization value
    CHECK_FALSE(contains(e, "Signature="));
    for (auto day : {now - std::chrono::hours(24), now, now + std::chrono::hours(24)}) {
        const auto key = iotjobs::sigv4::derive_signing_key("tempSecretKeyValue/0123456789+abcdefghijklmn",
                                                            iotjobs::sigv4::date_stamp(day), "us-east-1", "iot");
        CHECK_FALSE(contains(e, hex(key)));
    }
}

TEST_CASE("cli e2e: SIGINT during a call exits 130 (the real binary)") {
    const char* bin_dir = std::getenv("IOTJOBS_BIN_DIR");
    if (!bin_dir) {
        MESSAGE("IOTJOBS_BIN_DIR not set (run through ctest): SIGINT test skipped");
        return;
    }
    const std::string bin = std::string(bin_dir) + "/iotjobs";
    if (!std::filesystem::exists(bin)) {
        FAIL_CHECK("iotjobs binary not found at " << bin << " (build the iotjobs_cli_main target)");
        return;
    }
    fake::server s;
    s.start();
    s.add_execution(fake::make_execution("t", "j", 1, fake::execution_status::succeeded));
    std::string error;
    auto stall = fake::parse_fault("stall=always", error);
    REQUIRE(stall.has_value());
    s.set_faults({*stall});

    std::vector<std::string> args{bin,
                                  "delete-job-execution",
                                  "--thing-name",
                                  "t",
                                  "--job-id",
                                  "j",
                                  "--execution-number",
                                  "1",
                                  "--max-attempts",
                                  "1",
                                  "--cli-read-timeout",
                                  "30"};
    std::vector<std::string> envs{"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=" + test_akid,
                                  "AWS_SECRET_ACCESS_KEY=" + test_secret, "AWS_ENDPOINT_URL_IOT=" + s.base_url()};
    std::vector<char*> argv, envp;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& a : envs) envp.push_back(a.data());
    envp.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid = 0;
    REQUIRE(posix_spawn(&pid, bin.c_str(), &actions, nullptr, argv.data(), envp.data()) == 0);
    posix_spawn_file_actions_destroy(&actions);

    // Wait until the request has reached the server, then interrupt.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (s.stats().requests_total == 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    CHECK(s.stats().requests_total >= 1);
    ::kill(pid, SIGINT);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 130);
}

TEST_CASE("cli e2e: credential_process of the profile signs the call; --debug never shows its secrets") {
    fake::server_options o;
    o.credentials["ASIAPROCESSCLI"] = fake::credential{"processSecretValue/abcdef", "processSessionTokenValue=="};
    fake::server s(o);
    s.start();
    s.add_execution(fake::make_execution("thing-p", "job-1", 1, fake::execution_status::succeeded));
    const std::string script = temp_path("cli-creds.sh");
    std::ofstream(script) << "#!/bin/sh\necho '{\"Version\": 1, \"AccessKeyId\": \"ASIAPROCESSCLI\", "
                             "\"SecretAccessKey\": \"processSecretValue/abcdef\", "
                             "\"SessionToken\": \"processSessionTokenValue==\"}'\n";
    const std::string config = temp_path("cli-config");
    std::ofstream(config) << "[profile proc]\ncredential_process = /bin/sh " << script << "\n";
    environment env{{"AWS_REGION", "us-east-1"},
                    {"AWS_ENDPOINT_URL_IOT", s.base_url()},
                    {"AWS_CONFIG_FILE", config},
                    {"AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/iotjobs-test/credentials"},
                    {"AWS_EC2_METADATA_DISABLED", "true"}};
    auto r = run(delete_args("thing-p", "job-1", "1", {"--profile", "proc", "--debug"}), env);
    INFO(r.err);
    CHECK(r.code == 0);
    CHECK_FALSE(s.find("thing-p", "job-1", 1).has_value());
    CHECK(contains(r.err, "credentials: credential_process of profile proc"));
    CHECK_FALSE(contains(r.err, "processSecretValue"));
    CHECK_FALSE(contains(r.err, "processSessionTokenValue"));
    CHECK(s.stats().signature_failures == 0);

    // Without a credential_process nor keys: the AWS CLI's message, exit 253.
    std::ofstream(config) << "[profile proc]\nregion = us-east-1\n";
    r = run(delete_args("thing-p", "job-1", "1", {"--profile", "proc"}), env);
    CHECK(r.code == 253);
    CHECK(contains(r.err, "Unable to locate credentials"));
}
