// The iotjobs CLI without a network: argument parsing, parameter validation, configuration,
// outcome messages, help/version, and the --debug redaction. Every case here stops before a client
// is built: run_cli is structured so that parsing (252) and configuration (253) return first, and the
// cases that go through run_cli assert on the exit code those layers produce.
#include "cli/cli.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

using namespace iotjobs;
using namespace iotjobs::cli;

namespace {

std::vector<std::string> words(std::initializer_list<std::string_view> w) { return {w.begin(), w.end()}; }

// The arguments of a valid call, plus `extra`.
std::vector<std::string> valid_args(std::initializer_list<std::string_view> extra = {}) {
    std::vector<std::string> a =
        words({"delete-job-execution", "--thing-name", "my:thing", "--job-id", "job-1", "--execution-number", "7"});
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
}

// An environment with everything a call needs, nothing from the host.
environment full_env() {
    return {{"AWS_REGION", "us-east-1"},
            {"AWS_ACCESS_KEY_ID", "AKIDEXAMPLE00001234"},
            {"AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}};
}

struct result {
    int code;
    std::string out;
    std::string err;
};

// run_cli with the network fenced off: if every check passes, before_call records what would have
// been sent and stops the program with exit 0 instead of building a client.
struct would_send {
    int calls = 0;
    std::optional<resolved_configuration> config;
    std::optional<delete_job_execution_request> request;
};

result run(const std::vector<std::string>& args, const environment& env, would_send& sent) {
    std::ostringstream out, err;
    run_options ro;
    ro.handle_sigint = false;
    ro.before_call = [&](const resolved_configuration& c, const delete_job_execution_request& r) -> std::optional<int> {
        ++sent.calls;
        sent.config = c;
        sent.request = r;
        return 0;
    };
    const int code = run_cli(args, env, out, err, ro);
    return {code, out.str(), err.str()};
}

// For cases that must stop before anything could be sent: fails the test if they get that far.
result run(const std::vector<std::string>& args, const environment& env = full_env()) {
    would_send sent;
    result r = run(args, env, sent);
    CHECK_MESSAGE(sent.calls == 0, "a request would have been sent");
    return r;
}

command_line parse_ok(const std::vector<std::string>& args) {
    auto r = parse_command_line(args);
    if (auto* f = std::get_if<failure>(&r)) FAIL_CHECK("unexpected failure: " << f->message);
    REQUIRE(std::holds_alternative<command_line>(r));
    return std::get<command_line>(r);
}

failure parse_fail(const std::vector<std::string>& args) {
    auto r = parse_command_line(args);
    REQUIRE(std::holds_alternative<failure>(r));
    return std::get<failure>(r);
}

delete_job_execution_request request_ok(const std::vector<std::string>& args) {
    auto cl = parse_ok(args);
    auto r = make_delete_job_execution_request(cl.options);
    if (auto* f = std::get_if<failure>(&r)) FAIL_CHECK("unexpected failure: " << f->message);
    REQUIRE(std::holds_alternative<delete_job_execution_request>(r));
    return std::get<delete_job_execution_request>(r);
}

// Parsing succeeds, parameter validation fails.
failure request_fail(const std::vector<std::string>& args) {
    auto cl = parse_ok(args);
    auto r = make_delete_job_execution_request(cl.options);
    REQUIRE(std::holds_alternative<failure>(r));
    return std::get<failure>(r);
}

resolved_configuration config_ok(const std::vector<std::string>& args, const environment& env) {
    auto cl = parse_ok(args);
    auto g = to_global_options(cl.globals);
    REQUIRE(std::holds_alternative<global_options>(g));
    auto r = resolve_configuration(std::get<global_options>(g), env);
    if (auto* f = std::get_if<failure>(&r)) FAIL_CHECK("unexpected failure: " << f->message);
    REQUIRE(std::holds_alternative<resolved_configuration>(r));
    return std::get<resolved_configuration>(r);
}

failure config_fail(const std::vector<std::string>& args, const environment& env) {
    auto cl = parse_ok(args);
    auto g = to_global_options(cl.globals);
    REQUIRE(std::holds_alternative<global_options>(g));
    auto r = resolve_configuration(std::get<global_options>(g), env);
    REQUIRE(std::holds_alternative<failure>(r));
    return std::get<failure>(r);
}

bool contains(std::string_view s, std::string_view what) { return s.find(what) != std::string_view::npos; }

}  // namespace

TEST_CASE("cli: a valid command line parses into the request") {
    auto req = request_ok(valid_args({"--namespace-id", "AWS"}));
    CHECK(req.thing_name == "my:thing");
    CHECK(req.job_id == "job-1");
    CHECK(req.execution_number == 7);
    CHECK_FALSE(req.force.has_value());
    REQUIRE(req.namespace_id.has_value());
    CHECK(*req.namespace_id == "AWS");
}

TEST_CASE("cli: --opt=value and options in any order, global options before or after the command") {
    auto cl = parse_ok(words({"--region=eu-west-1", "delete-job-execution", "--execution-number=-3", "--job-id=j",
                              "--debug", "--thing-name=t", "--endpoint-url=http://127.0.0.1:1"}));
    CHECK(cl.what == action::run);
    REQUIRE(cl.command != nullptr);
    CHECK(cl.command->name == "delete-job-execution");
    auto g = std::get<global_options>(to_global_options(cl.globals));
    CHECK(g.region == "eu-west-1");
    CHECK(g.debug);
    CHECK(g.endpoint_url == "http://127.0.0.1:1");
    auto req = std::get<delete_job_execution_request>(make_delete_job_execution_request(cl.options));
    CHECK(req.execution_number == -3);
    CHECK(req.thing_name == "t");
    CHECK(req.job_id == "j");
}

TEST_CASE("cli: an empty value through --opt= reaches validation and names the field") {
    auto f = request_fail(words({"delete-job-execution", "--thing-name=", "--job-id", "j", "--execution-number", "1"}));
    CHECK(f.exit_code == exit_usage);
    CHECK(contains(f.message, "Parameter validation failed:"));
    CHECK(contains(f.message, "thingName"));
    CHECK(contains(f.message, "--thing-name"));
}

TEST_CASE("cli: --force / --no-force, the last one wins (argparse store_true/store_false on one dest)") {
    CHECK(request_ok(valid_args({"--force"})).force == true);
    CHECK(request_ok(valid_args({"--no-force"})).force == false);
    CHECK(request_ok(valid_args({"--force", "--no-force"})).force == false);
    CHECK(request_ok(valid_args({"--no-force", "--force"})).force == true);
    CHECK(request_ok(valid_args({"--force", "--force"})).force == true);
    CHECK_FALSE(request_ok(valid_args()).force.has_value());
    // A flag takes no value.
    auto f = parse_fail(valid_args({"--force=true"}));
    CHECK(f.exit_code == exit_usage);
    CHECK(contains(f.message, "argument --force: ignored explicit argument 'true'"));
}

TEST_CASE("cli: missing required options are named, in the AWS CLI's order") {
    auto f = parse_fail(words({"delete-job-execution"}));
    CHECK(f.exit_code == exit_usage);
    CHECK(f.show_usage);
    CHECK(f.message == "the following arguments are required: --job-id, --thing-name, --execution-number");

    f = parse_fail(words({"delete-job-execution", "--job-id", "j", "--execution-number", "1"}));
    CHECK(f.message == "the following arguments are required: --thing-name");

    auto r = run(words({"delete-job-execution", "--job-id", "j", "--execution-number", "1"}));
    CHECK(r.code == 252);
    CHECK(contains(r.err, "usage: iotjobs"));
    CHECK(contains(r.err, "iotjobs: error: the following arguments are required: --thing-name\n"));
    CHECK(r.out.empty());
}

TEST_CASE("cli: unknown options, stray words and single-dash options are refused") {
    auto f = parse_fail(valid_args({"--bogus", "x"}));
    CHECK(f.exit_code == exit_usage);
    CHECK(f.message == "Unknown options: --bogus, x");
    f = parse_fail(valid_args({"-x"}));
    CHECK(f.message == "Unknown options: -x");
    // No abbreviations (argparse would take --thing for --thing-name; a delete must not guess).
    f = parse_fail(words({"delete-job-execution", "--thing", "t", "--job-id", "j", "--execution-number", "1"}));
    CHECK(contains(f.message, "--thing-name"));
    // A command option before the command is not known yet, as with the AWS CLI.
    f = parse_fail(words({"--job-id", "j", "delete-job-execution"}));
    CHECK(f.exit_code == exit_usage);
    CHECK(run(valid_args({"--bogus"})).code == 252);
}

TEST_CASE("cli: a value option given twice is refused, naming the option") {
    auto f = parse_fail(valid_args({"--thing-name", "other"}));
    CHECK(f.exit_code == exit_usage);
    CHECK(contains(f.message, "argument --thing-name: given more than once"));
    f = parse_fail(valid_args({"--region", "us-east-1", "--region=us-west-2"}));
    CHECK(contains(f.message, "argument --region: given more than once"));
    f = parse_fail(words({"--region", "a", "delete-job-execution", "--region", "b"}));
    CHECK(contains(f.message, "--region"));
}

TEST_CASE("cli: a missing value is refused, naming the option") {
    auto f = parse_fail(words({"delete-job-execution", "--job-id", "j", "--execution-number", "1", "--thing-name"}));
    CHECK(f.exit_code == exit_usage);
    CHECK(f.message == "argument --thing-name: expected one argument");
    // The next token is an option, not a value.
    f = parse_fail(words({"delete-job-execution", "--thing-name", "--job-id", "j", "--execution-number", "1"}));
    CHECK(f.message == "argument --thing-name: expected one argument");
    // A negative number is a value, as in argparse.
    CHECK(request_ok(words({"delete-job-execution", "--thing-name", "t", "--job-id", "j", "--execution-number", "-1"}))
              .execution_number == -1);
    // A name starting with '-' needs the --opt=value form, as in argparse.
    CHECK(request_ok(words({"delete-job-execution", "--thing-name=-t", "--job-id", "j", "--execution-number", "1"}))
              .thing_name == "-t");
    CHECK(run(words({"delete-job-execution", "--region"})).code == 252);
}

TEST_CASE("cli: commands: none, unknown, help and version") {
    auto f = parse_fail({});
    CHECK(f.exit_code == exit_usage);
    CHECK(f.message == "the following arguments are required: command");
    f = parse_fail(words({"delete-thing"}));
    CHECK(contains(f.message, "Invalid choice"));
    CHECK(contains(f.message, "delete-job-execution"));
    CHECK(run({}).code == 252);
    CHECK(run(words({"delete-thing"})).code == 252);

    for (auto args : {words({"--help"}), words({"help"}), words({"-h"})}) {
        auto r = run(args, {});
        CHECK(r.code == 0);
        CHECK(contains(r.out, "delete-job-execution"));
        CHECK(contains(r.out, "--endpoint-url"));
        CHECK(r.err.empty());
    }
    for (auto args : {words({"delete-job-execution", "help"}), words({"delete-job-execution", "--help"}),
                      valid_args({"help"}), words({"delete-job-execution", "--bogus", "help"})}) {
        auto r = run(args, {});
        CHECK(r.code == 0);
        CHECK(contains(r.out, "SYNOPSIS"));
        CHECK(contains(r.out, "--execution-number"));
        CHECK(contains(r.out, "[--force | --no-force]"));
        CHECK(contains(r.out, "252"));
    }
    auto r = run(words({"--version"}), {});
    CHECK(r.code == 0);
    CHECK(r.out.starts_with("iotjobs/"));
    CHECK(r.err.empty());
}

TEST_CASE("cli: executionNumber edge cases") {
    auto with = [](std::string_view n) {
        return words({"delete-job-execution", "--thing-name", "t", "--job-id", "j", "--execution-number", n});
    };
    CHECK(request_ok(with("9223372036854775807")).execution_number == 9223372036854775807LL);
    CHECK(request_ok(with("-9223372036854775808")).execution_number == (-9223372036854775807LL - 1));
    CHECK(request_ok(with("0")).execution_number == 0);
    CHECK(request_ok(with("-1")).execution_number == -1);
    for (std::string_view bad : {"9223372036854775808", "-9223372036854775809", "99999999999999999999", "1.5", "abc",
                                 "", "0x10", "+1", " 1", "1 ", "1e3", "-"}) {
        CAPTURE(bad);
        auto f = request_fail(with(bad));
        CHECK(f.exit_code == exit_usage);
        CHECK(contains(f.message, "Invalid value for parameter executionNumber (--execution-number)"));
        auto r = run(with(bad));
        CHECK(r.code == 252);
        CHECK(contains(r.err, "executionNumber"));
    }
}

TEST_CASE("cli: thingName, jobId and namespaceId are validated against the model, all problems at once") {
    auto with = [](std::string_view thing, std::string_view job) {
        return words({"delete-job-execution", "--thing-name", thing, "--job-id", job, "--execution-number", "1"});
    };
    CHECK(request_ok(with(std::string(128, 'a'), std::string(64, 'b'))).thing_name.size() == 128);
    struct bad_case {
        std::string thing, job;
        std::string_view field, option;
    };
    for (const auto& c :
         {bad_case{std::string(129, 'a'), "j", "thingName", "--thing-name"},
          bad_case{"a b", "j", "thingName", "--thing-name"}, bad_case{"a/b", "j", "thingName", "--thing-name"},
          bad_case{"t", std::string(65, 'j'), "jobId", "--job-id"}, bad_case{"t", "a:b", "jobId", "--job-id"},
          bad_case{"t", "", "jobId", "--job-id"}}) {
        CAPTURE(c.thing);
        CAPTURE(c.job);
        auto f = request_fail(with(c.thing, c.job));
        CHECK(f.exit_code == exit_usage);
        CHECK(contains(f.message,
                       "Invalid value for parameter " + std::string(c.field) + " (" + std::string(c.option) + ")"));
        CHECK(run(with(c.thing, c.job)).code == 252);
    }
    auto f = request_fail(valid_args({"--namespace-id", "a.b"}));
    CHECK(contains(f.message, "namespaceId (--namespace-id)"));
    f = request_fail(valid_args({"--namespace-id="}));
    CHECK(contains(f.message, "namespaceId"));

    f = request_fail(
        words({"delete-job-execution", "--thing-name", "a b", "--job-id", "a:b", "--execution-number", "x"}));
    CHECK(contains(f.message, "jobId"));
    CHECK(contains(f.message, "thingName"));
    CHECK(contains(f.message, "executionNumber"));
}

TEST_CASE("cli: bad input wins over missing configuration: 252 before any region or credentials check") {
    auto r =
        run(words({"delete-job-execution", "--thing-name", "a b", "--job-id", "j", "--execution-number", "1"}), {});
    CHECK(r.code == 252);
    CHECK(contains(r.err, "thingName"));
}

TEST_CASE("cli: global option values") {
    auto g = [](std::initializer_list<std::string_view> extra) {
        return to_global_options(parse_ok(valid_args(extra)).globals);
    };
    auto ok =
        std::get<global_options>(g({"--max-attempts", "5", "--cli-connect-timeout", "0", "--cli-read-timeout=12",
                                    "--output", "text", "--no-verify-ssl", "--ca-bundle", "/x.pem", "--no-cli-pager"}));
    CHECK(ok.max_attempts == 5u);
    CHECK(ok.connect_timeout_seconds == 0u);
    CHECK(ok.read_timeout_seconds == 12u);
    CHECK(ok.output == output_format::text);
    CHECK(ok.no_verify_ssl);
    CHECK(ok.ca_bundle == "/x.pem");

    struct bad_case {
        std::vector<std::string> args;
        std::string_view named;
    };
    for (const auto& c :
         {bad_case{{"--max-attempts", "abc"}, "--max-attempts"}, bad_case{{"--max-attempts", "0"}, "--max-attempts"},
          bad_case{{"--max-attempts=-1"}, "--max-attempts"},
          bad_case{{"--cli-read-timeout", "1.5"}, "--cli-read-timeout"},
          bad_case{{"--cli-connect-timeout", "x"}, "--cli-connect-timeout"}, bad_case{{"--output", "xml"}, "--output"},
          bad_case{{"--endpoint-url", "foo"}, "--endpoint-url"},
          bad_case{{"--endpoint-url", "ftp://h"}, "--endpoint-url"},
          bad_case{{"--endpoint-url", "https://h:99999"}, "--endpoint-url"},
          bad_case{{"--region", "bad region"}, "--region"}}) {
        CAPTURE(c.args[0]);
        auto args = valid_args();
        args.insert(args.end(), c.args.begin(), c.args.end());
        auto r = run(args);
        CHECK(r.code == 252);
        CHECK(contains(r.err, c.named));
    }
}

TEST_CASE("cli: region from --region, else AWS_REGION, else AWS_DEFAULT_REGION; none is 253") {
    environment env = full_env();
    env["AWS_DEFAULT_REGION"] = "eu-west-1";
    CHECK(config_ok(valid_args({"--region", "ap-south-1"}), env).config.region == "ap-south-1");
    CHECK(config_ok(valid_args(), env).config.region == "us-east-1");
    env.erase("AWS_REGION");
    CHECK(config_ok(valid_args(), env).config.region == "eu-west-1");
    env["AWS_DEFAULT_REGION"] = "";  // empty counts as unset
    auto f = config_fail(valid_args(), env);
    CHECK(f.exit_code == exit_config);
    CHECK(contains(f.message, "You must specify a region"));
    env.erase("AWS_DEFAULT_REGION");
    auto r = run(valid_args(), env);
    CHECK(r.code == 253);
    CHECK(contains(r.err, "You must specify a region"));
    env["AWS_REGION"] = "bad region";
    f = config_fail(valid_args(), env);
    CHECK(f.exit_code == exit_config);
    CHECK(contains(f.message, "AWS_REGION"));
}

TEST_CASE("cli: credentials from the environment; none or partial is 253") {
    environment env = full_env();
    auto rc = config_ok(valid_args(), env);
    CHECK(rc.config.static_credentials.access_key_id == "AKIDEXAMPLE00001234");
    CHECK(rc.config.static_credentials.session_token.empty());
    env["AWS_SESSION_TOKEN"] = "token-abc-123";
    CHECK(config_ok(valid_args(), env).config.static_credentials.session_token == "token-abc-123");
    env.erase("AWS_SESSION_TOKEN");
    env["AWS_SECURITY_TOKEN"] = "legacy-token";
    CHECK(config_ok(valid_args(), env).config.static_credentials.session_token == "legacy-token");

    env = full_env();
    env.erase("AWS_ACCESS_KEY_ID");
    env.erase("AWS_SECRET_ACCESS_KEY");
    auto r = run(valid_args(), env);
    CHECK(r.code == 253);
    CHECK(contains(r.err, "Unable to locate credentials"));
    env["AWS_PROFILE"] = "dev";  // no shared files in this environment (no HOME): unknown profile
    auto pf = config_fail(valid_args(), env);
    CHECK(pf.exit_code == exit_config);
    CHECK(contains(pf.message, "The config profile (dev) could not be found"));
    CHECK(contains(pf.message, "AWS_PROFILE"));

    env = full_env();
    env.erase("AWS_SECRET_ACCESS_KEY");
    auto f = config_fail(valid_args(), env);
    CHECK(f.exit_code == exit_config);
    CHECK(contains(f.message, "AWS_SECRET_ACCESS_KEY"));
    env = full_env();
    env.erase("AWS_ACCESS_KEY_ID");
    CHECK(contains(config_fail(valid_args(), env).message, "AWS_ACCESS_KEY_ID"));

    // Secrets never appear in the configuration notes shown by --debug.
    env = full_env();
    env["AWS_SESSION_TOKEN"] = "token-abc-123";
    for (const auto& line : config_ok(valid_args(), env).sources) {
        CHECK_FALSE(contains(line, "wJalrXUtnFEMI"));
        CHECK_FALSE(contains(line, "token-abc-123"));
        CHECK_FALSE(contains(line, "AKIDEXAMPLE00001234"));
    }
}

namespace {

// A temporary HOME with shared config files, and an environment pointing at it (never the host's ~/.aws).
struct profile_home {
    std::filesystem::path dir;
    profile_home() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "iotjobs-cli-profile-XXXXXX").string();
        if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
        dir = tmpl;
    }
    ~profile_home() {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
    std::string write(const std::string& name, std::string_view text) const {
        auto p = dir / name;
        std::filesystem::create_directories(p.parent_path());
        std::ofstream(p, std::ios::binary) << text;
        return p.string();
    }
    // Only HOME: the files are HOME/.aws/config and HOME/.aws/credentials.
    environment env() const { return {{"HOME", dir.string()}}; }
};

}  // namespace

TEST_CASE("cli: --profile and AWS_PROFILE select a profile of the shared files") {
    profile_home h;
    h.write(".aws/config",
            "[default]\nregion = eu-west-1\n"
            "[profile dev]\nregion = ap-south-1\nmax_attempts = 5\nretry_mode = adaptive\n"
            "[profile ops]\nregion = us-west-2\nservices = local\n"
            "[services local]\niot =\n  endpoint_url = http://127.0.0.1:5055\n"
            "[profile regiononly]\nregion = us-east-2\n");
    h.write(".aws/credentials",
            "[default]\naws_access_key_id = AKIDDEFAULT00001111\n"
            "aws_secret_access_key = defaultsecretvalue\n"
            "[dev]\naws_access_key_id = AKIDDEVPROFILE002222\naws_secret_access_key = devsecretvalue\n"
            "aws_session_token = devtokenvalue\n"
            "[ops]\naws_access_key_id = AKIDOPSPROFILE003333\naws_secret_access_key = opssecret\n");
    environment env = h.env();

    // Default profile: region and credentials from the files.
    auto rc = config_ok(valid_args(), env);
    CHECK(rc.config.region == "eu-west-1");
    CHECK(rc.config.static_credentials.access_key_id == "AKIDDEFAULT00001111");
    CHECK(rc.config.static_credentials.secret_access_key == "defaultsecretvalue");

    // --profile.
    rc = config_ok(valid_args({"--profile", "dev"}), env);
    CHECK(rc.config.region == "ap-south-1");
    CHECK(rc.config.retry.max_attempts == 5);
    CHECK(rc.config.retry.mode == retry_mode::adaptive);
    CHECK(rc.config.static_credentials.access_key_id == "AKIDDEVPROFILE002222");
    CHECK(rc.config.static_credentials.session_token == "devtokenvalue");
    bool noted = false;
    for (const auto& line : rc.sources) {
        CHECK_FALSE(contains(line, "devsecretvalue"));
        CHECK_FALSE(contains(line, "devtokenvalue"));
        CHECK_FALSE(contains(line, "AKIDDEVPROFILE002222"));
        noted = noted || contains(line, "profile: dev (from --profile)");
    }
    CHECK(noted);

    // AWS_PROFILE; the services section gives the endpoint.
    env["AWS_PROFILE"] = "ops";
    rc = config_ok(valid_args(), env);
    CHECK(rc.config.region == "us-west-2");
    CHECK(rc.config.endpoint_url == "http://127.0.0.1:5055");
    CHECK(rc.config.static_credentials.access_key_id == "AKIDOPSPROFILE003333");
    // --profile wins over AWS_PROFILE; options and the environment win over the profile.
    rc = config_ok(valid_args({"--profile", "dev", "--region", "ca-central-1", "--max-attempts", "2"}), env);
    CHECK(rc.config.region == "ca-central-1");
    CHECK(rc.config.retry.max_attempts == 2);
    env["AWS_REGION"] = "sa-east-1";
    env["AWS_ENDPOINT_URL"] = "http://env-endpoint:1";
    rc = config_ok(valid_args(), env);
    CHECK(rc.config.region == "sa-east-1");
    CHECK(rc.config.endpoint_url == "http://env-endpoint:1");
    env.erase("AWS_ENDPOINT_URL");
    env["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] = "true";
    CHECK(config_ok(valid_args(), env).config.endpoint_url.empty());

    // Credentials: the environment's keys beat AWS_PROFILE's, but not --profile's.
    env = full_env();
    env["HOME"] = h.dir.string();
    env["AWS_PROFILE"] = "dev";
    CHECK(config_ok(valid_args(), env).config.static_credentials.access_key_id == "AKIDEXAMPLE00001234");
    CHECK(config_ok(valid_args({"--profile", "dev"}), env).config.static_credentials.access_key_id ==
          "AKIDDEVPROFILE002222");
    // --profile with a profile without keys: the environment is not used (botocore).
    auto f = config_fail(valid_args({"--profile", "regiononly"}), env);
    CHECK(f.exit_code == exit_config);
    CHECK(contains(f.message, "Unable to locate credentials"));
    CHECK(contains(f.message, "regiononly"));

    // Through run_cli, as a user would: the call would be sent with the profile's settings.
    would_send sent;
    env = h.env();
    auto r = run(valid_args({"--profile", "dev"}), env, sent);
    CHECK(r.code == 0);
    REQUIRE(sent.config);
    CHECK(sent.config->config.region == "ap-south-1");
    CHECK(sent.config->config.static_credentials.access_key_id == "AKIDDEVPROFILE002222");
}

TEST_CASE("cli: AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE from the injected environment") {
    profile_home h;
    environment env;
    env["AWS_CONFIG_FILE"] = h.write("elsewhere/cfg", "[profile p]\nregion = eu-north-1\n");
    env["AWS_SHARED_CREDENTIALS_FILE"] =
        h.write("elsewhere/creds", "[p]\naws_access_key_id = AKIDFROMCREDFILE44\naws_secret_access_key = s3cr3t\n");
    env["AWS_DEFAULT_PROFILE"] = "p";
    auto rc = config_ok(valid_args(), env);
    CHECK(rc.config.region == "eu-north-1");
    CHECK(rc.config.static_credentials.access_key_id == "AKIDFROMCREDFILE44");
    CHECK(rc.config.static_credentials.secret_access_key == "s3cr3t");
}

TEST_CASE("cli: profile problems are 253 and name the problem") {
    profile_home h;
    environment env = full_env();
    env["HOME"] = h.dir.string();
    // Unknown profile, through run_cli.
    auto r = run(valid_args({"--profile", "nope"}), env);
    CHECK(r.code == 253);
    CHECK(contains(r.err, "The config profile (nope) could not be found"));
    // A bare [NAME] in the config file is not a profile.
    h.write(".aws/config", "[bare]\nregion = us-east-1\n");
    r = run(valid_args({"--profile", "bare"}), env);
    CHECK(r.code == 253);
    CHECK(contains(r.err, "could not be found"));

    // Malformed file: file and line.
    const std::string cfg = h.write(".aws/config", "[default]\nregion us-east-1\n");
    r = run(valid_args(), env);
    CHECK(r.code == 253);
    CHECK(contains(r.err, cfg + " line 2"));
    const std::string creds = h.write(".aws/credentials", "aws_secret_access_key = leakedsecret\n");
    h.write(".aws/config", "[default]\n");
    r = run(valid_args(), env);
    CHECK(r.code == 253);
    CHECK(contains(r.err, creds + " line 1"));
    CHECK_FALSE(contains(r.err, "leakedsecret"));

    // Malformed values: profile, file, line and key.
    h.write(".aws/credentials", "");
    for (std::string_view text :
         {"[default]\nregion = us-east-1\nmax_attempts = 0\n", "[default]\nregion = us-east-1\nretry_mode = fastest\n",
          "[default]\nregion = bad region\n", "[default]\nregion = us-east-1\nendpoint_url = ftp://x\n",
          "[default]\nregion = us-east-1\nservices = missing\n",
          "[default]\nregion = us-east-1\nignore_configured_endpoint_urls = perhaps\n",
          "[default]\nregion = us-east-1\nca_bundle = /nonexistent/ca.pem\n"}) {
        CAPTURE(text);
        const std::string path = h.write(".aws/config", text);
        env.erase("AWS_REGION");
        auto f = config_fail(valid_args(), env);
        CHECK(f.exit_code == exit_config);
        CHECK(contains(f.message, path));
        CHECK(contains(f.message, "default"));
    }

    // Partial profile credentials: names the missing key, never the value present.
    env = h.env();
    env["AWS_REGION"] = "us-east-1";
    h.write(".aws/config", "[default]\n");
    h.write(".aws/credentials", "[default]\naws_access_key_id = AKIDONLYHALF5555\n");
    auto f = config_fail(valid_args(), env);
    CHECK(contains(f.message, "Partial credentials"));
    CHECK(contains(f.message, "aws_secret_access_key"));
    CHECK_FALSE(contains(f.message, "AKIDONLYHALF5555"));
}

TEST_CASE("cli: endpoint from --endpoint-url, AWS_ENDPOINT_URL_IOT, AWS_ENDPOINT_URL; the ignore switch") {
    environment env = full_env();
    auto rc = config_ok(valid_args(), env);
    CHECK(rc.config.endpoint_url.empty());
    CHECK(rc.display_endpoint == "https://iot.us-east-1.amazonaws.com");
    env["AWS_REGION"] = "cn-north-1";
    CHECK(config_ok(valid_args(), env).display_endpoint == "https://iot.cn-north-1.amazonaws.com.cn");

    env = full_env();
    env["AWS_ENDPOINT_URL"] = "http://127.0.0.1:5001";
    CHECK(config_ok(valid_args(), env).config.endpoint_url == "http://127.0.0.1:5001");
    env["AWS_ENDPOINT_URL_IOT"] = "http://127.0.0.1:5002/";
    rc = config_ok(valid_args(), env);
    CHECK(rc.config.endpoint_url == "http://127.0.0.1:5002/");
    CHECK(rc.display_endpoint == "http://127.0.0.1:5002");
    CHECK(config_ok(valid_args({"--endpoint-url", "https://localhost:8443"}), env).config.endpoint_url ==
          "https://localhost:8443");
    env["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] = "true";
    CHECK(config_ok(valid_args(), env).config.endpoint_url.empty());
    // --endpoint-url wins even with the ignore switch.
    CHECK(config_ok(valid_args({"--endpoint-url", "https://localhost:8443"}), env).config.endpoint_url ==
          "https://localhost:8443");

    env = full_env();
    env["AWS_ENDPOINT_URL_IOT"] = "not a url";
    auto f = config_fail(valid_args(), env);
    CHECK(f.exit_code == exit_config);
    CHECK(contains(f.message, "AWS_ENDPOINT_URL_IOT"));
    env.erase("AWS_ENDPOINT_URL_IOT");
    env["AWS_ENDPOINT_URL"] = "https://";
    CHECK(contains(config_fail(valid_args(), env).message, "AWS_ENDPOINT_URL"));
    CHECK(run(valid_args(), env).code == 253);
}

TEST_CASE("cli: FIPS and dual-stack endpoints from the environment or the profile; an endpoint URL wins") {
    environment env = full_env();
    env["AWS_USE_FIPS_ENDPOINT"] = "true";
    auto rc = config_ok(valid_args(), env);
    CHECK(rc.config.use_fips_endpoint);
    CHECK(!rc.config.use_dualstack_endpoint);
    CHECK(rc.display_endpoint == "https://iot-fips.us-east-1.amazonaws.com");
    env["AWS_USE_FIPS_ENDPOINT"] = "FALSE";
    env["AWS_USE_DUALSTACK_ENDPOINT"] = "True";
    rc = config_ok(valid_args(), env);
    CHECK(!rc.config.use_fips_endpoint);
    CHECK(rc.display_endpoint == "https://iot.us-east-1.api.aws");
    env["AWS_ENDPOINT_URL"] = "http://127.0.0.1:5001";
    CHECK(config_ok(valid_args(), env).display_endpoint == "http://127.0.0.1:5001");

    env = full_env();
    env["AWS_USE_FIPS_ENDPOINT"] = "yes";
    auto f = config_fail(valid_args(), env);
    CHECK(f.exit_code == exit_config);
    CHECK(contains(f.message, "AWS_USE_FIPS_ENDPOINT"));
    CHECK(contains(f.message, "yes"));

    profile_home h;
    h.write(".aws/config",
            "[default]\nregion = eu-west-1\nuse_fips_endpoint = true\n"
            "[profile bad]\nregion = eu-west-1\nuse_dualstack_endpoint = maybe\n");
    h.write(".aws/credentials",
            "[default]\naws_access_key_id = AKIDDEFAULT00001111\n"
            "aws_secret_access_key = defaultsecretvalue\n"
            "[bad]\naws_access_key_id = AKIDDEFAULT00001111\naws_secret_access_key = s\n");
    env = h.env();
    rc = config_ok(valid_args(), env);
    CHECK(rc.config.use_fips_endpoint);
    CHECK(rc.display_endpoint == "https://iot-fips.eu-west-1.amazonaws.com");
    env["AWS_USE_FIPS_ENDPOINT"] = "false";  // the environment wins over the profile
    CHECK(!config_ok(valid_args(), env).config.use_fips_endpoint);
    env = h.env();
    env["AWS_PROFILE"] = "bad";
    f = config_fail(valid_args(), env);
    CHECK(f.exit_code == exit_config);
    CHECK(contains(f.message, "use_dualstack_endpoint"));
}

TEST_CASE("cli: CA bundle, retries and timeouts") {
    environment env = full_env();
    env["AWS_CA_BUNDLE"] = "/nonexistent/iotjobs-test/ca.pem";
    auto f = config_fail(valid_args(), env);
    CHECK(f.exit_code == exit_config);
    CHECK(contains(f.message, "AWS_CA_BUNDLE"));
    f = config_fail(valid_args({"--ca-bundle", "/nonexistent/other.pem"}), env);
    CHECK(contains(f.message, "--ca-bundle"));
    CHECK(run(valid_args(), env).code == 253);

    env = full_env();
    auto rc = config_ok(valid_args(), env);
    CHECK(rc.config.ca_bundle.empty());
    CHECK(rc.config.verify_peer);
    CHECK(rc.config.retry.max_attempts == 3u);
    CHECK(rc.config.retry.mode == retry_mode::standard);
    CHECK(rc.config.timeouts.connect == std::chrono::seconds(60));
    CHECK(rc.config.timeouts.attempt == std::chrono::seconds(60));

    env["AWS_MAX_ATTEMPTS"] = "7";
    env["AWS_RETRY_MODE"] = "adaptive";
    rc = config_ok(valid_args({"--cli-read-timeout", "0", "--cli-connect-timeout", "5", "--no-verify-ssl"}), env);
    CHECK(rc.config.retry.max_attempts == 7u);
    CHECK(rc.config.retry.mode == retry_mode::adaptive);
    CHECK(rc.config.timeouts.attempt == duration::zero());
    CHECK(rc.config.timeouts.connect == std::chrono::seconds(5));
    CHECK_FALSE(rc.config.verify_peer);
    CHECK(config_ok(valid_args({"--max-attempts", "2"}), env).config.retry.max_attempts == 2u);

    for (std::string_view bad : {"abc", "0", "-1", "1.5", "+3", "99999999999"}) {
        CAPTURE(bad);
        env["AWS_MAX_ATTEMPTS"] = std::string(bad);
        f = config_fail(valid_args(), env);
        CHECK(f.exit_code == exit_config);
        CHECK(contains(f.message, "AWS_MAX_ATTEMPTS"));
    }
    env["AWS_MAX_ATTEMPTS"] = "abc";
    CHECK(run(valid_args(), env).code == 253);
    // --max-attempts wins over a malformed variable (it is never read).
    CHECK(config_ok(valid_args({"--max-attempts", "2"}), env).config.retry.max_attempts == 2u);
    env.erase("AWS_MAX_ATTEMPTS");
    env["AWS_RETRY_MODE"] = "fast";
    CHECK(contains(config_fail(valid_args(), env).message, "AWS_RETRY_MODE"));
}

TEST_CASE("cli: service errors are printed as the AWS CLI does, exit 254") {
    call_outcome o;
    o.ec = make_error_code(service_errc::resource_not_found);
    o.aws_error_name = "ResourceNotFoundException";
    o.message = "Job execution not found";
    o.http_status = 404;
    o.attempts = 1;
    auto f = describe_outcome(o, "DeleteJobExecution", "https://x/things/t/jobs/j/executionNumber/1", 3);
    CHECK(f.exit_code == exit_service);
    CHECK(f.message ==
          "An error occurred (ResourceNotFoundException) when calling the DeleteJobExecution "
          "operation: Job execution not found");

    // moto's 500 HTML: no error name; the status stands in for it.
    o.ec = make_error_code(service_errc::internal_failure);
    o.aws_error_name.clear();
    o.message = "<!doctype html><title>500</title>";
    o.http_status = 500;
    f = describe_outcome(o, "DeleteJobExecution", "u", 3);
    CHECK(f.exit_code == exit_service);
    CHECK(f.message ==
          "An error occurred (500) when calling the DeleteJobExecution operation: "
          "<!doctype html><title>500</title>");

    // Retries used up on a retryable error.
    o.ec = make_error_code(service_errc::throttling);
    o.aws_error_name = "ThrottlingException";
    o.message = "Rate exceeded";
    o.http_status = 400;
    o.attempts = 3;
    f = describe_outcome(o, "DeleteJobExecution", "u", 3);
    CHECK(f.message ==
          "An error occurred (ThrottlingException) when calling the DeleteJobExecution operation "
          "(reached max retries: 2): Rate exceeded");

    o.ec = make_error_code(service_errc::unknown_service_error);
    o.aws_error_name = "WeirdException";
    o.attempts = 1;
    CHECK(describe_outcome(o, "DeleteJobExecution", "u", 3).exit_code == exit_service);
}

TEST_CASE("cli: transport, TLS, configuration and other outcomes") {
    const std::string url = "https://127.0.0.1:1/things/t/jobs/j/executionNumber/1";
    auto code_of = [&](error_code ec, std::string message = {}) {
        call_outcome o;
        o.ec = ec;
        o.message = std::move(message);
        return describe_outcome(o, "DeleteJobExecution", url, 3);
    };
    auto f = code_of(boost::asio::error::connection_refused);
    CHECK(f.exit_code == exit_other);
    CHECK(f.message == "Could not connect to the endpoint URL: \"" + url + "\"");
    CHECK(code_of(boost::asio::error::host_not_found).message == f.message);
    f = code_of(boost::beast::error::timeout, "reading the response");
    CHECK(f.exit_code == exit_other);
    CHECK(f.message == "Read timeout on endpoint URL: \"" + url + "\"");
    {  // the phase comes from diagnostics::timeout_phase(), never from the message's words
        call_outcome o;
        o.ec = boost::beast::error::timeout;
        o.message = "reading the response";
        o.timeout = iotjobs::timeout_phase::connect;
        CHECK(describe_outcome(o, "DeleteJobExecution", url, 3).message ==
              "Connect timeout on endpoint URL: \"" + url + "\"");
        o.timeout = iotjobs::timeout_phase::tls_handshake;
        CHECK(describe_outcome(o, "DeleteJobExecution", url, 3).message ==
              "TLS handshake timeout on endpoint URL: \"" + url + "\"");
        o.ec = make_error_code(iotjobs::client_errc::deadline_exceeded);
        o.timeout = iotjobs::timeout_phase::pool_wait;
        CHECK(describe_outcome(o, "DeleteJobExecution", url, 3).message ==
              "Timed out waiting for a connection to \"" + url + "\"");
        CHECK(code_of(boost::beast::error::timeout, "connect timed out").message ==
              "Read timeout on endpoint URL: \"" + url + "\"");
    }
    f = code_of(boost::asio::error::eof);
    CHECK(f.exit_code == exit_other);
    CHECK(contains(f.message, "Connection was closed"));
    f = code_of(error_code(0x0A000086, boost::asio::error::get_ssl_category()), "certificate verify failed");
    CHECK(f.exit_code == exit_other);
    CHECK(f.message == "SSL validation failed for " + url + " certificate verify failed");

    CHECK(code_of(make_error_code(client_errc::no_region)).exit_code == exit_config);
    CHECK(code_of(make_error_code(client_errc::no_credentials)).exit_code == exit_config);
    CHECK(code_of(make_error_code(client_errc::invalid_endpoint), "bad").exit_code == exit_config);
    CHECK(code_of(make_error_code(client_errc::tls_setup_failed), "bad").exit_code == exit_config);
    CHECK(code_of(make_error_code(client_errc::invalid_thing_name), "thingName ...").exit_code == exit_usage);
    CHECK(code_of(make_error_code(client_errc::bad_response), "not JSON").exit_code == exit_other);
    CHECK(code_of(make_error_code(client_errc::deadline_exceeded)).exit_code == exit_other);
    CHECK(code_of(boost::asio::error::operation_aborted).exit_code == exit_other);
    CHECK(code_of(make_error_code(boost::system::errc::permission_denied)).exit_code == exit_other);

    call_outcome o;
    o.ec = boost::asio::error::operation_aborted;
    o.interrupted = true;
    CHECK(describe_outcome(o, "DeleteJobExecution", url, 3).exit_code == exit_interrupted);
    o = {};
    CHECK(describe_outcome(o, "DeleteJobExecution", url, 3).exit_code == exit_success);
    CHECK(describe_outcome(o, "DeleteJobExecution", url, 3).message.empty());
}

TEST_CASE("cli: the request URL shown in messages") {
    delete_job_execution_request req;
    req.thing_name = "my:thing";
    req.job_id = "job-1";
    req.execution_number = 7;
    CHECK(request_url("https://iot.us-east-1.amazonaws.com", req) ==
          "https://iot.us-east-1.amazonaws.com/things/my%3Athing/jobs/job-1/executionNumber/7");
    req.force = true;
    req.namespace_id = "AWS";
    CHECK(request_url("http://127.0.0.1:5000/", req) ==
          "http://127.0.0.1:5000/things/my%3Athing/jobs/job-1/executionNumber/7?force=true&namespaceId=AWS");
}

TEST_CASE("cli: --debug redaction never lets a secret through") {
    const std::string secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const std::string token = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ+abc==";
    const std::vector<std::string> secrets{secret, token};

    const std::string canonical =
        "CanonicalRequest:\nDELETE\n/things/my%253Athing/jobs/job-1/executionNumber/7\n"
        "force=true\nhost:iot.us-east-1.amazonaws.com\nx-amz-date:20240102T030405Z\n"
        "x-amz-security-token:" +
        token + "\n\nhost;x-amz-date;x-amz-security-token\ne3b0c442";
    std::string r = redact(canonical, secrets);
    CHECK_FALSE(contains(r, token));
    CHECK(contains(r, "x-amz-security-token:<redacted>"));
    CHECK(contains(r, "host;x-amz-date;x-amz-security-token"));  // signed header names stay
    CHECK(contains(r, "/things/my%253Athing/jobs/job-1/executionNumber/7"));

    const std::string auth =
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240102/us-east-1/iot/"
        "aws4_request, SignedHeaders=host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba"
        "6789a8edb4c82c400e06b5924a6f2b5d7";
    r = redact(auth, secrets);
    CHECK(r == "Authorization: <redacted>");
    r = redact("headers: {'Authorization': 'AWS4-HMAC-SHA256 Credential=A/x, Signature=abcdef'}", secrets);
    CHECK_FALSE(contains(r, "abcdef"));
    r = redact("Credential=AKID/20240102/us-east-1/iot/aws4_request, SignedHeaders=host, Signature=0123abcd", {});
    CHECK(contains(r, "Signature=<redacted>"));
    CHECK(contains(r, "SignedHeaders=host"));
    r = redact("X-Amz-Signature=0123abcd&X-Amz-Security-Token=abc%2Fdef&X-Amz-Date=20240102T030405Z", {});
    CHECK_FALSE(contains(r, "0123abcd"));
    CHECK_FALSE(contains(r, "abc%2Fdef"));
    CHECK(contains(r, "X-Amz-Date=20240102T030405Z"));
    r = redact("signing key: 9aa1be6a4eb7facbca6f0f95da7a3c424cae4ab68ff899aa8abacfd0e1b77971", {});
    CHECK_FALSE(contains(r, "9aa1be6a"));
    // Literal secrets, raw and percent-encoded, wherever they appear.
    r = redact("the key is " + secret + " and encoded wJalrXUtnFEMI%2FK7MDENG%2BbPxRfiCYEXAMPLEKEY", secrets);
    CHECK_FALSE(contains(r, "wJalrXUtnFEMI"));
    // The string to sign has nothing secret and stays readable.
    const std::string sts =
        "StringToSign:\nAWS4-HMAC-SHA256\n20240102T030405Z\n20240102/us-east-1/iot/aws4_request\n"
        "ba32e57efc83a31d61a5cf1dbc565e54b9e358fd7128fb1dc2031a7d277471dc";
    CHECK(redact(sts, secrets) == sts);
    // Words that merely contain a label are left alone.
    CHECK(redact("InvalidSignatureException: bad", secrets) == "InvalidSignatureException: bad");
}

TEST_CASE("cli: debug_log prefixes lines, redacts, and is silent when off") {
    std::ostringstream err;
    debug_log log(err, true);
    log.add_secret("topsecretvalue");
    log.write("cli", "a topsecretvalue b");
    auto sink = log.sink("client");
    sink(log_level::debug, "Authorization: AWS4-HMAC-SHA256 Credential=A/x, Signature=ff");
    const std::string s = err.str();
    CHECK(contains(s, " iotjobs.cli DEBUG - a <redacted> b\n"));
    CHECK(contains(s, " iotjobs.client DEBUG - Authorization: <redacted>\n"));
    CHECK_FALSE(contains(s, "topsecretvalue"));
    CHECK_FALSE(contains(s, "Signature=ff"));

    std::ostringstream quiet;
    debug_log off(quiet, false);
    off.write("cli", "anything");
    CHECK(quiet.str().empty());
}

TEST_CASE("cli: the structured sink starts each client line with the item, redacted") {
    std::ostringstream err;
    debug_log log(err, true);
    log.add_secret("topsecretvalue");
    auto sink = log.record_sink("client");
    log_record r;
    r.level = log_level::debug;
    r.component = "client";
    r.operation = "DeleteJobExecution";
    r.thing_name = "thing-7";
    r.job_id = "job-1";
    r.execution_number = 7;
    r.message = "attempt 2: HTTP 200 request id abc topsecretvalue";
    sink(r);
    log_record p;
    p.level = log_level::warn;
    p.component = "credentials";
    p.message = "credentials: refresh failed";
    sink(p);
    const std::string s = err.str();
    CHECK(contains(s,
                   " iotjobs.client DEBUG - DeleteJobExecution thing=thing-7 job=job-1 execution=7: "
                   "attempt 2: HTTP 200 request id abc <redacted>\n"));
    CHECK(contains(s, " iotjobs.client.credentials WARNING - credentials: refresh failed\n"));
}

TEST_CASE("cli: --debug output before the client never shows the environment's secrets") {
    environment env = full_env();
    env["AWS_SESSION_TOKEN"] = "token-value-0123456789";
    env.erase("AWS_REGION");  // stop at the configuration step (253), after the debug notes
    auto r = run(valid_args({"--debug", "--endpoint-url", "http://127.0.0.1:1"}), env);
    CHECK(r.code == 253);
    CHECK(contains(r.err, "DEBUG"));
    CHECK_FALSE(contains(r.err, "wJalrXUtnFEMI"));
    CHECK_FALSE(contains(r.err, "token-value-0123456789"));

    env = full_env();
    env["AWS_SESSION_TOKEN"] = "token-value-0123456789";
    env["AWS_CA_BUNDLE"] = "/nonexistent/iotjobs-test/ca.pem";  // stop at 253 after the region
    r = run(valid_args({"--debug"}), env);
    CHECK(r.code == 253);
    CHECK_FALSE(contains(r.err, "wJalrXUtnFEMI"));
    CHECK_FALSE(contains(r.err, "token-value-0123456789"));
}

TEST_CASE("cli: a valid command line reaches the call with the right request and configuration") {
    would_send sent;
    environment env = full_env();
    env["AWS_ENDPOINT_URL"] = "http://127.0.0.1:5000";
    auto r = run(valid_args({"--force", "--namespace-id", "ns_1", "--region=eu-central-1", "--max-attempts", "1"}), env,
                 sent);
    CHECK(r.code == 0);
    CHECK(r.out.empty());
    CHECK(r.err.empty());
    REQUIRE(sent.calls == 1);
    CHECK(sent.request->thing_name == "my:thing");
    CHECK(sent.request->job_id == "job-1");
    CHECK(sent.request->execution_number == 7);
    CHECK(sent.request->force == true);
    CHECK(sent.request->namespace_id == "ns_1");
    CHECK(sent.config->config.region == "eu-central-1");
    CHECK(sent.config->config.endpoint_url == "http://127.0.0.1:5000");
    CHECK(sent.config->config.retry.max_attempts == 1u);
    CHECK(sent.config->config.static_credentials.secret_access_key == "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    CHECK(request_url(sent.config->display_endpoint, *sent.request) ==
          "http://127.0.0.1:5000/things/my%3Athing/jobs/job-1/executionNumber/7?force=true&namespaceId=ns_1");

    // Extremes of executionNumber get through too.
    for (std::string_view n : {"9223372036854775807", "-1", "-9223372036854775808"}) {
        would_send s2;
        auto r2 = run(words({"delete-job-execution", "--thing-name", "t", "--job-id", "j", "--execution-number", n}),
                      full_env(), s2);
        CHECK(r2.code == 0);
        CHECK(s2.calls == 1);
    }

    // --debug: the configuration notes are printed, the secret is not.
    would_send s3;
    env["AWS_SESSION_TOKEN"] = "token-value-0123456789";
    r = run(valid_args({"--debug"}), env, s3);
    CHECK(r.code == 0);
    CHECK(contains(r.err, "region: us-east-1 (from AWS_REGION)"));
    CHECK(contains(r.err, "endpoint: http://127.0.0.1:5000 (from AWS_ENDPOINT_URL)"));
    CHECK(contains(r.err, "max attempts: 3 (default)"));
    CHECK(contains(r.err, "credentials: environment variables"));
    CHECK_FALSE(contains(r.err, "wJalrXUtnFEMI"));
    CHECK_FALSE(contains(r.err, "token-value-0123456789"));
}

TEST_CASE("option tables: every attribute of the text form") {
    const option_table t{R"(
--thing-name <value> [required]
    The thing,
    on two lines.
--status <S> [list]
    Statuses.
--force
    Force.
--no-force [false:force]
    Do not force.
)",
                         "--extra <n>\n    From a second text.\n"};
    const auto s = t.specs();
    REQUIRE(s.size() == 5);
    CHECK(s[0].name == "--thing-name");
    CHECK(s[0].dest == "thing-name");
    CHECK(s[0].kind == option_kind::value);
    CHECK(s[0].required);
    CHECK(s[0].metavar == "<value>");
    CHECK(s[0].help == "The thing, on two lines.");
    CHECK(s[1].kind == option_kind::value_list);
    CHECK_FALSE(s[1].required);
    CHECK(s[2].kind == option_kind::flag_true);
    CHECK(s[2].dest == "force");
    CHECK(s[2].metavar.empty());
    CHECK(s[3].kind == option_kind::flag_false);
    CHECK(s[3].dest == "force");
    CHECK(s[3].help == "Do not force.");
    CHECK(s[4].name == "--extra");
    CHECK(s[4].help == "From a second text.");
}

TEST_CASE("option tables: a malformed table throws, naming the option") {
    const auto error_of = [](std::string_view text) -> std::string {
        try {
            option_table t{text};
        } catch (const std::logic_error& e) {
            return e.what();
        }
        return "";
    };
    CHECK(error_of("--a <v> [maybe]\n    help\n").find("--a has an unknown attribute [maybe]") != std::string::npos);
    CHECK(error_of("--a [list]\n    help\n").find("--a is a [list] without a <metavar>") != std::string::npos);
    CHECK(error_of("--a <v> [false:b]\n    help\n").find("--a is [false:...] with a <metavar>") != std::string::npos);
    CHECK(error_of("--a\n--b\n    help\n").find("--a has no help") != std::string::npos);
    CHECK(error_of("--a\n    help\n--b\n").find("has no help") != std::string::npos);
    CHECK(error_of("stray\n").find("unexpected line \"stray\"") != std::string::npos);
    CHECK(error_of("").find("no help") != std::string::npos);
    CHECK(error_of("--a\n    help\n").empty());
}
