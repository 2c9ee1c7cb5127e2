// The settings resolver (lib/endpoint/resolve.hpp): every kind of source for every setting, with
// the source it reports, the credential source it chooses, and the CLI's --debug lines built from
// it (never a secret). Files are written to a fresh temporary HOME; the environment is injected.
#include "cli/cli.hpp"
#include "endpoint/resolve.hpp"
#include "temp_dir.hpp"

#include <iotjobs/error.hpp>

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>

using namespace iotjobs;
using namespace iotjobs::detail;
namespace fs = std::filesystem;

namespace {

bool has(std::string_view s, std::string_view what) { return s.find(what) != std::string_view::npos; }

using home_dir = iotjobs_test::temp_dir;

// A request reading `vars` only (HOME is the temporary directory).
struct fixture {
    home_dir home;
    std::map<std::string, std::string> vars{{"HOME", home.path.string()}};
    settings_request request() const {
        settings_request r;
        r.env = [this](const char* n) -> const char* {
            auto it = vars.find(n);
            return it == vars.end() ? nullptr : it->second.c_str();
        };
        return r;
    }
    resolved_settings resolve() const { return resolve_settings(request()); }
    std::string resolve_error(const settings_request& r) const {
        try {
            (void)resolve_settings(r);
        } catch (const std::system_error& e) {
            CHECK(e.code() == std::error_code(make_error_code(client_errc::invalid_configuration)));
            return e.what();
        }
        FAIL_CHECK("no error");
        return {};
    }
};

using kind = setting_source::kind;
using cred = credential_choice::kind;

}  // namespace

TEST_CASE("resolve: each setting from the profile names the profile, the file and the line") {
    fixture f;
    const std::string cfg = f.home.write(".aws/config",
                                         "[profile prod]\n"
                                         "# a comment\n"
                                         "region = eu-west-3\n"
                                         "endpoint_url = http://127.0.0.1:7001\n"
                                         "use_dualstack_endpoint = true\n"
                                         "ca_bundle = /prod/ca.pem\n"
                                         "max_attempts = 7\n"
                                         "retry_mode = legacy\n");
    f.vars["AWS_PROFILE"] = "prod";
    const resolved_settings s = f.resolve();
    CHECK(s.region.value == "eu-west-3");
    CHECK(s.region.source.from == kind::profile);
    CHECK(s.region.source.describe() == "profile prod, " + cfg + " line 3");
    CHECK(s.endpoint_url.value == "http://127.0.0.1:7001");
    CHECK(s.endpoint_url.source.describe() == "profile prod, " + cfg + " line 4");
    CHECK(s.use_dualstack_endpoint.value);
    CHECK(s.use_dualstack_endpoint.source.line == 5);
    CHECK(s.ca_bundle.source.line == 6);
    CHECK(s.max_attempts.value == 7u);
    CHECK(s.max_attempts.source.line == 7);
    CHECK(s.retry.value == retry_mode::legacy);
    CHECK(s.retry.source.describe() == "profile prod, " + cfg + " line 8");
    CHECK_FALSE(s.use_fips_endpoint.value);
    CHECK(s.use_fips_endpoint.source.from == kind::fallback);
    CHECK(s.use_fips_endpoint.source.describe() == "default");
}

TEST_CASE("resolve: variables over the profile, given values over both, defaults last") {
    fixture f;
    f.home.write(".aws/config",
                 "[default]\nregion = eu-west-3\nmax_attempts = 7\nretry_mode = legacy\n"
                 "ca_bundle = /p/ca.pem\nuse_fips_endpoint = false\n");
    f.vars["AWS_DEFAULT_REGION"] = "ap-south-1";
    f.vars["AWS_ENDPOINT_URL"] = "http://127.0.0.1:7002";
    f.vars["AWS_MAX_ATTEMPTS"] = "4";
    f.vars["AWS_RETRY_MODE"] = "adaptive";
    f.vars["AWS_CA_BUNDLE"] = "/env/ca.pem";
    f.vars["AWS_USE_FIPS_ENDPOINT"] = "TRUE";
    resolved_settings s = f.resolve();
    CHECK(s.region.source.describe() == "AWS_DEFAULT_REGION");
    f.vars["AWS_REGION"] = "us-west-1";
    s = f.resolve();
    CHECK(s.region.value == "us-west-1");
    CHECK(s.region.source.from == kind::environment);
    CHECK(s.region.source.describe() == "AWS_REGION");
    CHECK(s.endpoint_url.source.describe() == "AWS_ENDPOINT_URL");
    f.vars["AWS_ENDPOINT_URL_IOT"] = "http://127.0.0.1:7003";
    CHECK(f.resolve().endpoint_url.source.describe() == "AWS_ENDPOINT_URL_IOT");
    CHECK(s.max_attempts.value == 4u);
    CHECK(s.max_attempts.source.describe() == "AWS_MAX_ATTEMPTS");
    CHECK(s.retry.source.describe() == "AWS_RETRY_MODE");
    CHECK(s.ca_bundle.source.describe() == "AWS_CA_BUNDLE");
    CHECK(s.use_fips_endpoint.value);
    CHECK(s.use_fips_endpoint.source.describe() == "AWS_USE_FIPS_ENDPOINT");

    settings_request r = f.request();
    r.given_names.region = "--region";
    r.region = "ca-central-1";
    r.endpoint_url = "https://localhost:1";
    r.ca_bundle = "/given/ca.pem";
    r.max_attempts = 9;
    s = resolve_settings(r);
    CHECK(s.region.value == "ca-central-1");
    CHECK(s.region.source.from == kind::given);
    CHECK(s.region.source.describe() == "--region");
    CHECK(s.endpoint_url.source.describe() == "client_config.endpoint_url");
    CHECK(s.ca_bundle.source.describe() == "client_config.ca_bundle");
    CHECK(s.max_attempts.value == 9u);
    CHECK(s.max_attempts.source.describe() == "client_config.retry.max_attempts");

    fixture empty;
    s = empty.resolve();
    CHECK(s.region.value.empty());
    CHECK(s.endpoint_url.value.empty());
    CHECK(s.max_attempts.value == 3u);
    CHECK(s.max_attempts.source.from == kind::fallback);
    CHECK(s.retry.value == retry_mode::standard);
    CHECK(s.retry.source.describe() == "default");
    CHECK(s.credentials.what == cred::none);
}

TEST_CASE("resolve: the ignore switch lists what it ignores; bad values name their source") {
    fixture f;
    const std::string cfg = f.home.write(".aws/config", "[default]\nregion = us-east-1\nendpoint_url = http://p:1\n");
    f.vars["AWS_ENDPOINT_URL_IOT"] = "http://127.0.0.1:7003";
    f.vars["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] = "true";
    resolved_settings s = f.resolve();
    CHECK(s.endpoint_url.value.empty());
    REQUIRE(s.ignored.size() == 2);
    CHECK(s.ignored[0] == "AWS_ENDPOINT_URL_IOT ignored (AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true)");
    CHECK(has(s.ignored[1], "profile endpoint settings ignored"));

    f.vars.erase("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
    f.vars["AWS_ENDPOINT_URL_IOT"] = "ftp://x";
    CHECK(has(f.resolve_error(f.request()), "Bad value for AWS_ENDPOINT_URL_IOT"));
    f.vars.erase("AWS_ENDPOINT_URL_IOT");
    f.vars["AWS_REGION"] = "bad region";
    CHECK(has(f.resolve_error(f.request()), "(from AWS_REGION)"));
    f.vars.erase("AWS_REGION");
    f.home.write(".aws/config", "[default]\nregion = us-east-1\nmax_attempts = 0\n");
    const std::string e = f.resolve_error(f.request());
    CHECK(has(e, "max_attempts"));
    CHECK(has(e, cfg + " line 3"));
    f.home.write(".aws/config", "[default]\n");
    f.vars["AWS_MAX_ATTEMPTS"] = "+2";
    CHECK(has(f.resolve_error(f.request()), "AWS_MAX_ATTEMPTS"));
}

TEST_CASE("resolve: the credential source in the chain's order, with its source and never a value") {
    fixture f;
    const std::string cfg =
        f.home.write(".aws/config",
                     "[profile keys]\naws_access_key_id = AKIDPROFILEKEY0001\naws_secret_access_key = profilesecret\n"
                     "aws_session_token = profiletoken\n"
                     "[profile role]\nrole_arn = arn:aws:iam::123456789012:role/r\nsource_profile = keys\n"
                     "[profile web]\nrole_arn = arn:aws:iam::123456789012:role/w\nweb_identity_token_file = /t/token\n"
                     "[profile sso]\nsso_session = s\nsso_account_id = 123456789012\nsso_role_name = Admin\n"
                     "[profile proc]\ncredential_process = /bin/echo x\n"
                     "[profile none]\nregion = us-east-1\n");
    auto with_profile = [&](const char* name) {
        settings_request r = f.request();
        r.profile = name;
        return resolve_settings(r).credentials;
    };
    credential_choice c = with_profile("keys");
    CHECK(c.what == cred::profile_keys);
    CHECK(c.keys.access_key_id == "AKIDPROFILEKEY0001");
    CHECK(c.token_source.line == 4);
    CHECK(c.describe() == "profile keys, " + cfg + " line 2");
    CHECK_FALSE(c.deferred());
    c = with_profile("role");
    CHECK(c.what == cred::assume_role);
    CHECK(c.describe() == "assume-role of profile role, " + cfg + " line 7");
    CHECK(c.deferred());
    CHECK(with_profile("web").describe() == "web identity of profile web, " + cfg + " line 10");
    c = with_profile("sso");
    CHECK(c.what == cred::sso);
    CHECK(c.source.name == "sso_role_name");
    CHECK(with_profile("proc").describe() == "credential_process of profile proc, " + cfg + " line 16");
    CHECK(with_profile("none").what == cred::none);

    // No profile named: the environment's keys, web identity, container credentials.
    f.vars["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://127.0.0.1:1/creds";
    c = f.resolve().credentials;
    CHECK(c.what == cred::container);
    CHECK(c.describe() == "container provider (AWS_CONTAINER_CREDENTIALS_FULL_URI)");
    CHECK(with_profile("none").what == cred::none);  // a named profile never reaches the container
    f.vars["AWS_WEB_IDENTITY_TOKEN_FILE"] = "/t/token";
    CHECK(f.resolve().credentials.describe() == "web identity (AWS_WEB_IDENTITY_TOKEN_FILE)");
    f.vars["AWS_ACCESS_KEY_ID"] = "AKIDENVIRONMENT001";
    f.vars["AWS_SECRET_ACCESS_KEY"] = "envsecret";
    f.vars["AWS_SECURITY_TOKEN"] = "envtoken";
    c = f.resolve().credentials;
    CHECK(c.what == cred::environment);
    CHECK(c.keys.session_token == "envtoken");
    CHECK(c.token_source.describe() == "AWS_SECURITY_TOKEN");
    CHECK(c.describe() == "environment variables");
    // A named profile: the environment's keys are noted as ignored (web identity from the
    // variables would still come before the profile's keys, as in the chain).
    f.vars.erase("AWS_WEB_IDENTITY_TOKEN_FILE");
    settings_request r = f.request();
    r.profile = "keys";
    const resolved_settings s = resolve_settings(r);
    CHECK(s.credentials.what == cred::profile_keys);
    REQUIRE(s.ignored.size() == 1);
    CHECK(s.ignored[0] == "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY ignored (client_config.profile given)");
    // Given keys win over everything.
    r.static_credentials = {"AKIDGIVEN000000001", "givensecret", ""};
    c = resolve_settings(r).credentials;
    CHECK(c.what == cred::given);
    CHECK(c.describe() == "static (client_config.static_credentials)");

    // Partial environment keys name the missing variable.
    f.vars.erase("AWS_SECRET_ACCESS_KEY");
    const std::string e = f.resolve_error(f.request());
    CHECK(has(e, "missing: AWS_SECRET_ACCESS_KEY"));
    CHECK_FALSE(has(e, "AKIDENVIRONMENT001"));
    for (const credential_choice& any : {with_profile("keys"), with_profile("role")}) {
        CHECK_FALSE(has(any.describe(), "profilesecret"));
        CHECK_FALSE(has(any.describe(), "AKIDPROFILEKEY0001"));
    }
}

TEST_CASE("config_from_environment: client_config::environment is where it reads variables") {
    home_dir h;
    const std::string cfg = h.write("cfg", "[default]\nregion = eu-north-1\n");
    std::map<std::string, std::string> vars{{"AWS_CONFIG_FILE", cfg},
                                            {"AWS_SHARED_CREDENTIALS_FILE", (h.path / "none").string()},
                                            {"AWS_MAX_ATTEMPTS", "6"}};
    client_config base;
    base.environment = [&vars](const char* n) -> const char* {
        auto it = vars.find(n);
        return it == vars.end() ? nullptr : it->second.c_str();
    };
    const client_config c = config_from_environment(base);
    CHECK(c.region == "eu-north-1");
    CHECK(c.retry.max_attempts == 6u);
}

namespace {

// run_cli with --debug, stopped before a client is built; the standard error.
std::string debug_output(const std::vector<std::string>& extra, const cli::environment& env, int& code) {
    std::vector<std::string> args{
        "delete-job-execution", "--thing-name", "t", "--job-id", "j", "--execution-number", "1", "--debug"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::ostringstream out, err;
    cli::run_options ro;
    ro.handle_sigint = false;
    ro.before_call = [](const cli::resolved_configuration&, const delete_job_execution_request&) -> std::optional<int> {
        return 0;
    };
    code = cli::run_cli(args, env, out, err, ro);
    return err.str();
}

}  // namespace

TEST_CASE("cli --debug: the source of each value, never a secret") {
    home_dir h;
    const std::string cfg = h.write(".aws/config",
                                    "[profile prod]\nregion = eu-west-3\nretry_mode = adaptive\n"
                                    "[profile proc]\nregion = eu-west-1\n"
                                    "credential_process = /bin/false\n");
    h.write(".aws/credentials",
            "[prod]\naws_access_key_id = AKIDPRODKEY0000001\n"
            "aws_secret_access_key = prodsecretvalue99\naws_session_token = prodtokenvalue99\n");
    const std::vector<std::string> secrets{"prodsecretvalue99", "prodtokenvalue99", "AKIDPRODKEY0000001",
                                           "containertoken99",  "envsecretvalue99", "envtokenvalue99"};
    cli::environment env{{"HOME", h.path.string()},
                         {"AWS_ENDPOINT_URL_IOT", "http://127.0.0.1:5000"},
                         {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "containertoken99"}};
    int code = -1;
    std::string e = debug_output({"--profile", "prod"}, env, code);
    CHECK(code == 0);
    CHECK(has(e, "region: eu-west-3 (from profile prod, " + cfg + " line 2)"));
    CHECK(has(e, "endpoint: http://127.0.0.1:5000 (from AWS_ENDPOINT_URL_IOT)"));
    CHECK(has(e, "retry mode: adaptive (from profile prod, " + cfg + " line 3)"));
    CHECK(has(e, "max attempts: 3 (default)"));
    CHECK(has(e, "credentials: profile prod, " + (h.path / ".aws/credentials").string() + " line 2 (access key AKID"));
    CHECK(has(e, "session token <redacted>"));

    e = debug_output({"--profile", "proc", "--region", "us-east-2", "--max-attempts", "2"}, env, code);
    CHECK(code == 0);
    CHECK(has(e, "region: us-east-2 (from --region)"));
    CHECK(has(e, "max attempts: 2 (from --max-attempts)"));
    CHECK(has(e, "credentials: credential_process of profile proc, " + cfg + " line 6"));

    env["AWS_REGION"] = "us-east-1";
    env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://127.0.0.1:1/creds";
    e = debug_output({}, env, code);
    CHECK(code == 0);
    CHECK(has(e, "credentials: container provider (AWS_CONTAINER_CREDENTIALS_FULL_URI)"));
    std::string all = e;

    env["AWS_ACCESS_KEY_ID"] = "AKIDENVKEY00000001";
    env["AWS_SECRET_ACCESS_KEY"] = "envsecretvalue99";
    env["AWS_SESSION_TOKEN"] = "envtokenvalue99";
    e = debug_output({"--profile", "prod"}, env, code);
    CHECK(has(e, "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY ignored (--profile given)"));
    all += e;
    e = debug_output({}, env, code);
    CHECK(has(e, "credentials: environment variables (access key AKID"));
    CHECK(has(e, "session token <redacted> from AWS_SESSION_TOKEN"));
    all += e;
    for (const std::string& s : secrets) {
        CAPTURE(s);
        CHECK_FALSE(has(all, s));
    }
}

TEST_CASE("resolve: profile keys this client does not read are listed by name and line, never by value") {
    fixture f;
    const std::string cfg = f.home.write(".aws/config",
                                         "[default]\nregion = us-east-1\noutput = json\n"
                                         "cli_pager = secretish-value\n");
    const resolved_settings s = f.resolve();
    REQUIRE(s.ignored.size() == 1);
    CHECK(s.ignored[0] ==
          "profile default keys not used by iotjobs: cli_pager (" + cfg + " line 4), output (" + cfg + " line 3)");
    CHECK(profile_key_known("credential_process"));
    CHECK(profile_key_known("metadata_service_num_attempts"));
    CHECK_FALSE(profile_key_known("output"));
}

TEST_CASE("cli: with nothing configured, the message names every credential source looked at") {
    home_dir h;
    int code = -1;
    std::string e = debug_output({}, {{"HOME", h.path.string()}, {"AWS_REGION", "us-east-1"}}, code);
    CHECK(code == 253);
    for (const char* source : {"environment variables: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set",
                               "assume-role:", "web identity:", "IAM Identity Center (SSO):", "shared files:",
                               "credential_process:", "container provider:", "EC2 instance metadata: not used"}) {
        CAPTURE(source);
        CHECK(has(e, source));
    }
    h.write(".aws/config", "[profile named]\nregion = us-east-1\n");
    e = debug_output({"--profile", "named"}, {{"HOME", h.path.string()}}, code);
    CHECK(code == 253);
    CHECK(has(e, "environment variables: not used with --profile"));
    CHECK(has(e, "container provider: not used with --profile"));
}

TEST_CASE("README's configuration table names every profile key the client reads") {
    const char* src = std::getenv("IOTJOBS_SOURCE_DIR");
    REQUIRE_MESSAGE(src, "IOTJOBS_SOURCE_DIR is not set (ctest sets it)");
    std::ifstream f(fs::path(src) / "README.md");
    REQUIRE(f);
    std::stringstream text;
    text << f.rdbuf();
    const std::string readme = text.str();
    for (std::string_view key : profile_keys_read()) {
        CAPTURE(key);
        CHECK((has(readme, "`" + std::string(key) + "`") || has(readme, "`" + std::string(key) + " =")));
    }
}

TEST_CASE("resolve: an assume-role profile with mfa_serial is refused by name (no prompt)") {
    fixture f;
    const std::string cfg =
        f.home.write(".aws/config",
                     "[profile base]\naws_access_key_id = AKIDBASE0000000001\naws_secret_access_key = basesecret\n"
                     "[profile mfa]\nrole_arn = arn:aws:iam::123456789012:role/r\nsource_profile = base\n"
                     "mfa_serial = arn:aws:iam::123456789012:mfa/u\n");
    settings_request r = f.request();
    r.profile = "mfa";
    const std::string e = f.resolve_error(r);
    CHECK(has(e, "profile mfa, " + cfg + " line 7 uses mfa_serial"));
    CHECK(has(e, "cannot prompt"));
    CHECK_FALSE(has(e, "basesecret"));
    // The CLI: 253 with the same message.
    int code = -1;
    const std::string err =
        debug_output({"--profile", "mfa", "--region", "us-east-1"}, {{"HOME", f.home.path.string()}}, code);
    CHECK(code == 253);
    CHECK(has(err, "uses mfa_serial"));
}
