// Shared config / credentials files: the INI parser, profile selection, precedence in
// config_from_environment and the credentials chain. Every case writes its own files in a fresh
// temporary directory and points HOME, AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE there, so
// the host's ~/.aws is never read.
#include "credentials/provider.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/system/system_error.hpp>
#include "endpoint/profile.hpp"
#include "temp_dir.hpp"

#include <iotjobs/config.hpp>
#include <iotjobs/error.hpp>

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>

using namespace iotjobs;
using namespace iotjobs::detail;
namespace fs = std::filesystem;

namespace {

bool has(std::string_view s, std::string_view what) { return s.find(what) != std::string_view::npos; }

bool invalid_configuration(const std::system_error& e) {
    return e.code() == std::error_code(make_error_code(client_errc::invalid_configuration));
}

using iotjobs_test::temp_dir;

// An injected environment for load_profile / providers.
struct fake_env {
    std::map<std::string, std::string> vars;
    env_lookup lookup() const {
        return [this](const char* n) -> const char* {
            auto it = vars.find(n);
            return it == vars.end() ? nullptr : it->second.c_str();
        };
    }
};

std::string parse_error(std::string_view text, const std::string& path = "/x/config") {
    try {
        (void)parse_ini(text, path);
    } catch (const std::system_error& e) {
        CHECK(invalid_configuration(e));
        return e.what();
    }
    FAIL_CHECK("no error for: " << text);
    return {};
}

// Saves, clears and restores every variable config_from_environment and the providers read; HOME
// and the two file variables point into a temporary directory for the whole case.
class process_env_guard {
public:
    explicit process_env_guard(const temp_dir& dir) {
        for (const char* n : names) {
            if (const char* v = std::getenv(n)) saved_[n] = v;
            ::unsetenv(n);
        }
        ::setenv("HOME", dir.path.c_str(), 1);
        ::setenv("AWS_CONFIG_FILE", dir.file("config").c_str(), 1);
        ::setenv("AWS_SHARED_CREDENTIALS_FILE", dir.file("credentials").c_str(), 1);
    }
    ~process_env_guard() {
        for (const char* n : names) {
            auto it = saved_.find(n);
            if (it == saved_.end())
                ::unsetenv(n);
            else
                ::setenv(n, it->second.c_str(), 1);
        }
    }
    process_env_guard(const process_env_guard&) = delete;
    process_env_guard& operator=(const process_env_guard&) = delete;

private:
    static constexpr const char* names[] = {"HOME",
                                            "AWS_CONFIG_FILE",
                                            "AWS_SHARED_CREDENTIALS_FILE",
                                            "AWS_PROFILE",
                                            "AWS_DEFAULT_PROFILE",
                                            "AWS_REGION",
                                            "AWS_DEFAULT_REGION",
                                            "AWS_ACCESS_KEY_ID",
                                            "AWS_SECRET_ACCESS_KEY",
                                            "AWS_SESSION_TOKEN",
                                            "AWS_SECURITY_TOKEN",
                                            "AWS_ENDPOINT_URL",
                                            "AWS_ENDPOINT_URL_IOT",
                                            "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
                                            "AWS_CA_BUNDLE",
                                            "AWS_USE_FIPS_ENDPOINT",
                                            "AWS_USE_DUALSTACK_ENDPOINT",
                                            "AWS_MAX_ATTEMPTS",
                                            "AWS_RETRY_MODE"};
    std::map<std::string, std::string> saved_;
};

std::string config_error_text(const client_config& base = {}) {
    try {
        (void)config_from_environment(base);
    } catch (const boost::system::system_error& e) {  // the public exception type
        CHECK(e.code() == client_errc::invalid_configuration);
        return e.what();
    }
    FAIL_CHECK("config_from_environment did not throw");
    return {};
}

}  // namespace

TEST_CASE("profile: INI syntax: sections, comments, trimming, lower-cased keys, CRLF, BOM") {
    auto s = parse_ini(
        "\xEF\xBB\xBF# leading comment\r\n"
        "; another\r\n"
        "\r\n"
        "[default]   # trailing comment\r\n"
        "  Region   =   us-west-2  \r\n"
        "output=json\r\n"
        "empty =\r\n"
        "hash = a#b ;c\r\n"
        "eq = x=y\r\n"
        "[ profile   dev ]\r\n"
        "region = eu-west-1\r\n",
        "/x/config");
    REQUIRE(s.contains("default"));
    CHECK(s["default"]["region"].value == "us-west-2");
    CHECK(s["default"]["region"].line == 5);
    CHECK(s["default"]["region"].file == "/x/config");
    CHECK(s["default"]["output"].value == "json");
    CHECK(s["default"]["empty"].value.empty());
    CHECK(s["default"]["hash"].value == "a#b ;c");  // no inline comments, as botocore
    CHECK(s["default"]["eq"].value == "x=y");       // split on the first '='
    REQUIRE(s.contains("profile   dev"));
    CHECK(s["profile   dev"]["region"].value == "eu-west-1");
    CHECK(parse_ini("", "/x").empty());
    CHECK(parse_ini("\n\n# only comments\n", "/x").empty());
    CHECK(parse_ini("[a]", "/x").at("a").empty());  // no final newline
}

TEST_CASE("profile: sub-sections, continuation lines, repeated sections and keys") {
    auto s = parse_ini(
        "[services local]\n"
        "iot =\n"
        "  endpoint_url = http://127.0.0.1:5000\n"
        "  Other = 1\n"
        "\n"
        "s3 =\n"
        "\tendpoint_url = http://s3.local\n"
        "[default]\n"
        "multi = first\n"
        "  second\n"
        "region = a\n"
        "[default]\n"
        "region = b\n",
        "/x/config");
    const auto& iot = s["services local"]["iot"];
    CHECK(iot.value.empty());
    CHECK(iot.sub.at("endpoint_url").value == "http://127.0.0.1:5000");
    CHECK(iot.sub.at("endpoint_url").line == 3);
    CHECK(iot.sub.at("other").value == "1");
    CHECK(s["services local"]["s3"].sub.at("endpoint_url").value == "http://s3.local");
    CHECK(s["default"]["multi"].value == "first\nsecond");
    CHECK(s["default"]["region"].value == "b");  // the later one wins
}

TEST_CASE("profile: malformed lines are errors naming the file and line, never the text") {
    CHECK(has(parse_error("region = x\n"), "/x/config line 1"));
    CHECK(has(parse_error("region = x\n"), "before any [section]"));
    std::string e = parse_error("[default]\nregion = x\nAKIDSECRETVALUE\n", "/x/credentials");
    CHECK(has(e, "/x/credentials line 3"));
    CHECK_FALSE(has(e, "AKIDSECRETVALUE"));
    CHECK(has(parse_error("[default\n"), "line 1"));
    CHECK(has(parse_error("# c\n[]\n"), "line 2"));
    CHECK(has(parse_error("[a] x\n"), "line 1"));
    CHECK(has(parse_error("[a]\n = x\n"), "line 2"));
    CHECK(has(parse_error("[a]\nk =\n  no equals sign\n"), "line 3"));
}

TEST_CASE("profile: files: missing is empty, unreadable is an error, ~ is HOME") {
    temp_dir d;
    CHECK(read_ini_file(d.file("nope/config")).empty());
    CHECK(read_ini_file("").empty());
    fs::create_directories(d.path / "adir");
    CHECK_THROWS_AS(read_ini_file(d.file("adir")), std::system_error);

    fake_env env;
    CHECK(shared_config_path(env.lookup()).empty());  // no HOME, no variable
    env.vars["HOME"] = "/home/u";
    CHECK(shared_config_path(env.lookup()) == "/home/u/.aws/config");
    CHECK(shared_credentials_path(env.lookup()) == "/home/u/.aws/credentials");
    env.vars["AWS_CONFIG_FILE"] = "~/alt/config";
    env.vars["AWS_SHARED_CREDENTIALS_FILE"] = "/etc/creds";
    CHECK(shared_config_path(env.lookup()) == "/home/u/alt/config");
    CHECK(shared_credentials_path(env.lookup()) == "/etc/creds");
    env.vars["AWS_CONFIG_FILE"] = "";  // empty counts as unset
    CHECK(shared_config_path(env.lookup()) == "/home/u/.aws/config");
}

TEST_CASE("profile: sections of each file, the profile name order, the credentials file winning") {
    temp_dir d;
    d.write(".aws/config",
            "[default]\nregion = us-east-1\n"
            "[profile dev]\nregion = eu-west-1\naws_access_key_id = CFGKEY\naws_secret_access_key = CFGSECRET\n"
            "aws_session_token = CFGTOKEN\nmax_attempts = 5\n"
            "[bare]\nregion = ap-south-1\n"
            "[profile envp]\nregion = ca-central-1\n"
            "[profile legacy]\nregion = sa-east-1\n");
    d.write(".aws/credentials",
            "[dev]\naws_access_key_id = CREDKEY\naws_secret_access_key = CREDSECRET\nmax_attempts = 7\n"
            "[credonly]\naws_access_key_id = K2\naws_secret_access_key = S2\nregion = us-west-1\n");
    fake_env env;
    env.vars["HOME"] = d.path.string();

    auto p = load_profile("", "x", env.lookup());
    CHECK(p.name == "default");
    CHECK(p.source == "default");
    CHECK_FALSE(p.explicit_choice);
    CHECK(p.found);
    CHECK(p.get("region")->value == "us-east-1");
    CHECK(p.get("region")->file == d.file(".aws/config"));
    CHECK(p.get("region")->line == 2);

    p = load_profile("dev", "--profile", env.lookup());
    CHECK(p.explicit_choice);
    CHECK(p.source == "--profile");
    CHECK(p.get("region")->value == "eu-west-1");
    CHECK(p.get("max_attempts")->value == "7");  // the credentials file wins for any key
    // Credential keys as one set from the credentials file: no token from the config file.
    CHECK(p.credential_values.at("aws_access_key_id").value == "CREDKEY");
    CHECK(p.credential_values.at("aws_secret_access_key").value == "CREDSECRET");
    CHECK_FALSE(p.credential_values.contains("aws_session_token"));

    p = load_profile("credonly", "--profile", env.lookup());
    CHECK(p.get("region")->value == "us-west-1");
    CHECK(p.credential_values.at("aws_access_key_id").value == "K2");

    // A bare [bare] in the config file is not a profile.
    try {
        (void)load_profile("bare", "--profile", env.lookup());
        FAIL_CHECK("no error");
    } catch (const std::system_error& e) {
        CHECK(invalid_configuration(e));
        CHECK(has(e.what(), "The config profile (bare) could not be found"));
        CHECK(has(e.what(), d.file(".aws/config")));
    }

    env.vars["AWS_DEFAULT_PROFILE"] = "legacy";
    p = load_profile("", "x", env.lookup());
    CHECK(p.name == "legacy");
    CHECK(p.source == "AWS_DEFAULT_PROFILE");
    env.vars["AWS_PROFILE"] = "envp";  // AWS_PROFILE before AWS_DEFAULT_PROFILE
    p = load_profile("", "x", env.lookup());
    CHECK(p.name == "envp");
    CHECK(p.source == "AWS_PROFILE");
    CHECK_FALSE(p.explicit_choice);
    CHECK(p.get("region")->value == "ca-central-1");
    p = load_profile("dev", "--profile", env.lookup());  // explicit before both
    CHECK(p.name == "dev");
    env.vars["AWS_PROFILE"] = "ghost";  // unknown from the environment: also an error (botocore)
    CHECK_THROWS_AS(load_profile("", "x", env.lookup()), std::system_error);
}

TEST_CASE(
    "profile: a missing default profile or missing files are empty; config keys used without a credentials file") {
    temp_dir d;
    fake_env env;
    env.vars["AWS_CONFIG_FILE"] = d.file("none/config");
    env.vars["AWS_SHARED_CREDENTIALS_FILE"] = d.file("none/credentials");
    auto p = load_profile("", "x", env.lookup());
    CHECK_FALSE(p.found);
    CHECK(p.values.empty());
    CHECK(p.get("region") == nullptr);

    env.vars["AWS_CONFIG_FILE"] = d.write("config",
                                          "[profile a]\naws_access_key_id = CK\naws_secret_access_key = CS\n"
                                          "aws_session_token = CT\n[default]\nregion = x\n");
    p = load_profile("a", "x", env.lookup());
    CHECK(p.credential_values.at("aws_session_token").value == "CT");
    // A [profile default] section is the default profile too.
    env.vars["AWS_CONFIG_FILE"] =
        d.write("config2", "[default]\nregion = a\noutput = j\n[profile default]\nregion = b\n");
    p = load_profile("", "x", env.lookup());
    CHECK(p.get("region")->value == "b");
    CHECK(p.get("output")->value == "j");
}

TEST_CASE("profile: services sections for the iot endpoint") {
    temp_dir d;
    fake_env env;
    env.vars["AWS_CONFIG_FILE"] = d.write("config",
                                          "[default]\nservices = local\nendpoint_url = http://profile:1\n"
                                          "[services local]\niot =\n  endpoint_url = http://iot-local:5000\n"
                                          "[profile nosvc]\nservices = other\n"
                                          "[services other]\ns3 =\n  endpoint_url = http://s3\n"
                                          "[profile broken]\nservices = missing\n");
    auto p = load_profile("", "x", env.lookup());
    const ini_value* v = services_endpoint_url(p, "iot");
    REQUIRE(v);
    CHECK(v->value == "http://iot-local:5000");
    CHECK(v->line == 6);
    p = load_profile("nosvc", "x", env.lookup());
    CHECK(services_endpoint_url(p, "iot") == nullptr);
    p = load_profile("broken", "x", env.lookup());
    CHECK_THROWS_AS(services_endpoint_url(p, "iot"), std::system_error);
}

TEST_CASE("profile: config_from_environment precedence: client_config > environment > profile") {
    temp_dir d;
    process_env_guard guard(d);
    d.write("config",
            "[default]\nregion = eu-central-1\nmax_attempts = 6\nretry_mode = adaptive\n"
            "endpoint_url = http://profile-endpoint:9\nca_bundle = /profile/ca.pem\n"
            "use_fips_endpoint = TRUE\nuse_dualstack_endpoint = false\n"
            "aws_access_key_id = PROFILEKEY\naws_secret_access_key = PROFILESECRET\n"
            "[profile named]\nregion = ap-northeast-1\n"
            "[services svc]\niot =\n  endpoint_url = http://svc-endpoint:7\n"
            "[profile withsvc]\nservices = svc\nendpoint_url = http://not-this:1\n");
    d.write("credentials",
            "[named]\naws_access_key_id = NAMEDKEY\naws_secret_access_key = NAMEDSECRET\n"
            "aws_session_token = NAMEDTOKEN\n");

    // Profile only.
    auto cfg = config_from_environment();
    CHECK(cfg.region == "eu-central-1");
    CHECK(cfg.retry.max_attempts == 6);
    CHECK(cfg.retry.mode == retry_mode::adaptive);
    CHECK(cfg.endpoint_url == "http://profile-endpoint:9");
    CHECK(cfg.ca_bundle == "/profile/ca.pem");
    CHECK(cfg.use_fips_endpoint);
    CHECK_FALSE(cfg.use_dualstack_endpoint);
    CHECK(cfg.static_credentials.access_key_id == "PROFILEKEY");
    CHECK(cfg.static_credentials.secret_access_key == "PROFILESECRET");
    CHECK(cfg.profile.empty());  // the choice is not written back

    // The environment wins over the profile.
    ::setenv("AWS_DEFAULT_REGION", "us-west-2", 1);
    ::setenv("AWS_MAX_ATTEMPTS", "2", 1);
    ::setenv("AWS_RETRY_MODE", "legacy", 1);
    ::setenv("AWS_ENDPOINT_URL", "http://env-endpoint:8", 1);
    ::setenv("AWS_CA_BUNDLE", "/env/ca.pem", 1);
    ::setenv("AWS_USE_FIPS_ENDPOINT", "false", 1);
    ::setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);
    ::setenv("AWS_SECRET_ACCESS_KEY", "ENVSECRET", 1);
    cfg = config_from_environment();
    CHECK(cfg.region == "us-west-2");
    CHECK(cfg.retry.max_attempts == 2);
    CHECK(cfg.retry.mode == retry_mode::legacy);
    CHECK(cfg.endpoint_url == "http://env-endpoint:8");
    CHECK(cfg.ca_bundle == "/env/ca.pem");
    CHECK_FALSE(cfg.use_fips_endpoint);
    CHECK(cfg.static_credentials.access_key_id == "ENVKEY");

    // client_config wins over both.
    client_config base;
    base.region = "sa-east-1";
    base.endpoint_url = "http://base:1";
    base.ca_bundle = "/base/ca.pem";
    base.static_credentials = {"BASEKEY", "BASESECRET", ""};
    cfg = config_from_environment(base);
    CHECK(cfg.region == "sa-east-1");
    CHECK(cfg.endpoint_url == "http://base:1");
    CHECK(cfg.ca_bundle == "/base/ca.pem");
    CHECK(cfg.static_credentials.access_key_id == "BASEKEY");

    // AWS_PROFILE selects a profile, but the environment's keys still win over its keys...
    ::setenv("AWS_PROFILE", "named", 1);
    cfg = config_from_environment();
    CHECK(cfg.static_credentials.access_key_id == "ENVKEY");
    CHECK(cfg.static_credentials.session_token.empty());
    // ...while an explicitly named profile's keys win over them (botocore).
    base = {};
    base.profile = "named";
    cfg = config_from_environment(base);
    CHECK(cfg.static_credentials.access_key_id == "NAMEDKEY");
    CHECK(cfg.static_credentials.session_token == "NAMEDTOKEN");
    CHECK(cfg.region == "us-west-2");  // AWS_DEFAULT_REGION still wins over the profile's region
    CHECK(cfg.profile == "named");
    ::unsetenv("AWS_DEFAULT_REGION");
    CHECK(config_from_environment(base).region == "ap-northeast-1");
    ::unsetenv("AWS_ACCESS_KEY_ID");
    ::unsetenv("AWS_SECRET_ACCESS_KEY");
    cfg = config_from_environment();  // AWS_PROFILE=named, no env keys: the profile's keys
    CHECK(cfg.static_credentials.access_key_id == "NAMEDKEY");

    // Endpoint: the services section before the profile's endpoint_url; the ignore switches.
    ::unsetenv("AWS_ENDPOINT_URL");
    ::setenv("AWS_PROFILE", "withsvc", 1);
    CHECK(config_from_environment().endpoint_url == "http://svc-endpoint:7");
    ::setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true", 1);
    CHECK(config_from_environment().endpoint_url.empty());
    ::setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "false", 1);
    CHECK(config_from_environment().endpoint_url == "http://svc-endpoint:7");
}

TEST_CASE("profile: config_from_environment errors name the profile, the file, the line and the key") {
    temp_dir d;
    process_env_guard guard(d);
    const std::string cfg_path =
        d.write("config",
                "[default]\nregion = us-east-1\nmax_attempts = lots\n"
                "[profile mode]\nretry_mode = fast\n"
                "[profile fips]\nuse_fips_endpoint = yes\n"
                "[profile ignore]\nignore_configured_endpoint_urls = maybe\nendpoint_url = http://x:1\n"
                "[profile svc]\nservices = nowhere\n");
    std::string e = config_error_text();
    CHECK(has(e, "max_attempts"));
    CHECK(has(e, "profile default"));
    CHECK(has(e, cfg_path + " line 3"));
    client_config base;
    base.profile = "mode";
    e = config_error_text(base);
    CHECK(has(e, "retry_mode"));
    CHECK(has(e, "profile mode"));
    base.profile = "fips";
    CHECK(has(config_error_text(base), "use_fips_endpoint"));
    base.profile = "ignore";
    CHECK(has(config_error_text(base), "ignore_configured_endpoint_urls"));
    base.profile = "svc";
    CHECK(has(config_error_text(base), "[services nowhere]"));
    base.profile = "ghost";
    CHECK(has(config_error_text(base), "The config profile (ghost) could not be found"));

    // Partial credentials: names the missing key, never the value present.
    const std::string creds_path = d.write("credentials", "[default]\naws_access_key_id = AKIDPARTIAL\n");
    d.write("config", "[default]\nregion = us-east-1\n");
    e = config_error_text();
    CHECK(has(e, "aws_secret_access_key"));
    CHECK(has(e, creds_path));
    CHECK_FALSE(has(e, "AKIDPARTIAL"));

    // A malformed line in the credentials file: file and line, not the text.
    d.write("credentials", "[default]\naws_access_key_id AKIDNOEQUALS\n");
    e = config_error_text();
    CHECK(has(e, creds_path + " line 2"));
    CHECK_FALSE(has(e, "AKIDNOEQUALS"));
}

// Runs the chain's asynchronous get to completion (the synchronous providers need no I/O; the
// others find nothing here or are disabled).
static error_code chain_get(credentials_chain& chain, resolved_credentials& c, std::string& why) {
    boost::asio::io_context ctx;
    error_code result = make_error_code(client_errc::bad_response);
    boost::asio::co_spawn(ctx, chain.async_get(c, why), [&](std::exception_ptr ep, error_code ec) {
        REQUIRE_FALSE(ep);
        result = ec;
    });
    ctx.run();
    return result;
}

TEST_CASE("profile: the credentials chain reads the profile after the environment") {
    temp_dir d;
    fake_env env;
    env.vars["HOME"] = d.path.string();
    env.vars["AWS_EC2_METADATA_DISABLED"] = "true";  // never the real metadata address
    d.write(".aws/credentials",
            "[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = FILESECRET\n"
            "aws_session_token = FILETOKEN\n"
            "[other]\naws_access_key_id = OTHERKEY\naws_secret_access_key = OTHERSECRET\n"
            "[partial]\naws_secret_access_key = PARTIALSECRET\n"
            "[empty]\n");
    client_config cfg;
    cfg.region = "us-east-1";
    resolved_credentials c;
    std::string why;

    // No environment keys: the default profile of ~/.aws/credentials.
    auto chain = default_chain(cfg, env.lookup());
    REQUIRE_FALSE(chain_get(chain, c, why));
    CHECK(c.value.access_key_id == "FILEKEY");
    CHECK(c.value.session_token == "FILETOKEN");

    // The environment's keys first.
    env.vars["AWS_ACCESS_KEY_ID"] = "ENVKEY";
    env.vars["AWS_SECRET_ACCESS_KEY"] = "ENVSECRET";
    chain = default_chain(cfg, env.lookup());
    REQUIRE_FALSE(chain_get(chain, c, why));
    CHECK(c.value.access_key_id == "ENVKEY");
    env.vars["AWS_PROFILE"] = "other";  // AWS_PROFILE does not beat the environment's keys
    chain = default_chain(cfg, env.lookup());
    REQUIRE_FALSE(chain_get(chain, c, why));
    CHECK(c.value.access_key_id == "ENVKEY");

    // An explicit profile: only the profile.
    cfg.profile = "other";
    chain = default_chain(cfg, env.lookup());
    REQUIRE_FALSE(chain_get(chain, c, why));
    CHECK(c.value.access_key_id == "OTHERKEY");
    CHECK(c.value.session_token.empty());
    cfg.profile = "empty";
    chain = default_chain(cfg, env.lookup());
    CHECK(chain_get(chain, c, why) == client_errc::no_credentials);
    CHECK(has(why, "profile empty"));
    cfg.profile = "partial";
    chain = default_chain(cfg, env.lookup());
    CHECK(chain_get(chain, c, why) == client_errc::credentials_error);
    CHECK(has(why, "aws_access_key_id"));
    CHECK_FALSE(has(why, "PARTIALSECRET"));
    cfg.profile = "ghost";
    chain = default_chain(cfg, env.lookup());
    CHECK(chain_get(chain, c, why) == client_errc::credentials_error);
    CHECK(has(why, "The config profile (ghost) could not be found"));

    // Nothing anywhere: both providers explain.
    cfg.profile.clear();
    fake_env none;
    none.vars["HOME"] = (d.path / "nohome").string();
    none.vars["AWS_EC2_METADATA_DISABLED"] = "true";
    chain = default_chain(cfg, none.lookup());
    CHECK(chain_get(chain, c, why) == client_errc::no_credentials);
    CHECK(has(why, "environment"));
    CHECK(has(why, "shared-config-files"));
    CHECK(has(why, "credential_process: profile default"));
    CHECK(has(why,
              "container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and AWS_CONTAINER_CREDENTIALS_FULL_URI are not set"));
    CHECK(has(why, "imds: disabled by AWS_EC2_METADATA_DISABLED"));
    CHECK_FALSE(has(why, "FILESECRET"));

    // Static credentials still win over everything.
    cfg.static_credentials = {"STATICKEY", "STATICSECRET", ""};
    chain = default_chain(cfg, env.lookup());
    REQUIRE_FALSE(chain_get(chain, c, why));
    CHECK(c.value.access_key_id == "STATICKEY");
}
