// The client and the CLI through an HTTP CONNECT proxy that the test runs on loopback: the tunnel
// in the proxy's log and TLS to the fake endpoint through it; NO_PROXY going direct; a proxy that
// wants Basic credentials (407 without them, success with them); a refused CONNECT (403) and an
// unreachable proxy as clear errors naming the proxy; the password never in a message or a debug
// line. Also: a FIPS pseudo-region signs for the real region (the fake echoes the scope's region).
#include "cli/cli.hpp"
#include "connect_proxy.hpp"
#include "credentials/http_fetch.hpp"
#include "fake/server.hpp"

#include <iotjobs/client.hpp>
#include <iotjobs/delete_job_execution.hpp>
#include <iotjobs/describe_job_execution.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>

#include <boost/system/system_error.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <spawn.h>
#include <sys/wait.h>
#include <filesystem>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace asio = boost::asio;
namespace fake = iotjobs::fake;
using tcp = asio::ip::tcp;
using iotjobs::error_code;

namespace {

using iotjobs::test::connect_proxy;
using iotjobs::test::proxy_password;

// base64("proxy-user:S3cr3t-proxy-pw")
const std::string expected_auth = "cHJveHktdXNlcjpTM2NyM3QtcHJveHktcHc=";

struct tls_fake {
    tls_fake() : server(options()) {
        server.start();
        auto dir = std::filesystem::temp_directory_path() / ("iotjobs-proxy-test-" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir);
        ca = (dir / "ca.pem").string();
        server.write_ca_file(ca);
    }
    static fake::server_options options() {
        fake::server_options o;
        o.tls = true;
        return o;
    }
    fake::server server;
    std::string ca;
};

struct debug_log {
    std::shared_ptr<std::string> text = std::make_shared<std::string>();
    void attach(iotjobs::client_config& cfg) const {
        cfg.level = iotjobs::log_level::debug;
        cfg.log = [t = text](iotjobs::log_level, std::string_view m) {
            t->append(m);
            t->push_back('\n');
        };
    }
};

iotjobs::client_config config_for(const tls_fake& f) {
    iotjobs::client_config cfg;
    cfg.region = "us-east-1";
    cfg.endpoint_url = f.server.base_url();
    cfg.ca_bundle = f.ca;
    cfg.static_credentials = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
    cfg.retry.max_attempts = 1;
    cfg.proxy.from_environment = false;  // the test's own settings only
    return cfg;
}

error_code run_delete(iotjobs::client_config cfg, std::int64_t number, iotjobs::diagnostics& diag) {
    asio::io_context ctx;
    iotjobs::client c(ctx.get_executor(), std::move(cfg));
    error_code result = make_error_code(iotjobs::client_errc::bad_response);
    iotjobs::delete_job_execution(c, iotjobs::delete_job_execution_request{"thing-1", "job-1", number, {}, {}}, diag,
                                  [&](error_code ec) { result = ec; });
    ctx.run();
    return result;
}

bool contains(std::string_view s, std::string_view what) { return s.find(what) != std::string_view::npos; }

}  // namespace

TEST_CASE("proxy: TLS to the fake endpoint through CONNECT; NO_PROXY goes direct") {
    tls_fake f;
    for (int i = 1; i <= 3; ++i)
        f.server.add_execution(fake::make_execution("thing-1", "job-1", i, fake::execution_status::succeeded));
    connect_proxy proxy;
    iotjobs::diagnostics diag;

    auto cfg = config_for(f);
    cfg.proxy.url = proxy.url();
    debug_log dbg;
    dbg.attach(cfg);
    CHECK(!run_delete(cfg, 1, diag));
    CHECK_FALSE(f.server.find("thing-1", "job-1", 1).has_value());
    const std::string target = "CONNECT 127.0.0.1:" + std::to_string(f.server.port());
    CHECK(proxy.log() == std::vector<std::string>{target});
    CHECK(contains(*dbg.text, "proxy: " + proxy.url() + " (from client_config.proxy.url), CONNECT 127.0.0.1:"));

    // NO_PROXY matches: direct (the proxy sees nothing more).
    for (const char* no_proxy : {"127.0.0.1", "127.0.0.0/8", "*"}) {
        cfg.proxy.no_proxy = no_proxy;
        CHECK(!run_delete(cfg, 2, diag));
        f.server.add_execution(fake::make_execution("thing-1", "job-1", 2, fake::execution_status::succeeded));
    }
    CHECK(proxy.log().size() == 1);

    // From the (injected) environment: HTTPS_PROXY, and NO_PROXY for another host only.
    cfg = config_for(f);
    cfg.proxy.from_environment = true;
    const std::string proxy_url = proxy.url();
    cfg.environment = [proxy_url](const char* n) -> const char* {
        if (std::string_view(n) == "HTTPS_PROXY") return proxy_url.c_str();
        if (std::string_view(n) == "NO_PROXY") return "example.com,.amazonaws.com";
        return nullptr;
    };
    CHECK(!run_delete(cfg, 3, diag));
    CHECK(proxy.log().size() == 2);
}

TEST_CASE("proxy: Basic credentials; 407 without them, a refused CONNECT and an unreachable proxy are clear errors") {
    tls_fake f;
    f.server.add_execution(fake::make_execution("thing-1", "job-1", 1, fake::execution_status::succeeded));
    connect_proxy proxy(expected_auth);
    iotjobs::diagnostics diag;

    auto cfg = config_for(f);
    cfg.proxy.url = proxy.url();
    error_code ec = run_delete(cfg, 1, diag);
    CHECK(ec == iotjobs::client_errc::proxy_error);
    CHECK(diag.message() == "the proxy " + proxy.url() +
                                " refused CONNECT 127.0.0.1:" + std::to_string(f.server.port()) +
                                ": HTTP 407 Proxy Authentication Required (the proxy wants credentials: "
                                "http://user:password@host:port)");
    CHECK(diag.attempts() == 1);  // not retried
    CHECK(f.server.find("thing-1", "job-1", 1).has_value());

    // With credentials (percent-encoded in the URL): success; the password appears nowhere.
    cfg.proxy.url = "http://proxy-user:S3cr3t%2Dproxy%2Dpw@127.0.0.1:" + std::to_string(proxy.port());
    debug_log dbg;
    dbg.attach(cfg);
    CHECK(!run_delete(cfg, 1, diag));
    CHECK_FALSE(f.server.find("thing-1", "job-1", 1).has_value());
    CHECK(proxy.log().size() == 2);
    CHECK(contains(*dbg.text, "proxy: http://proxy-user:***@127.0.0.1:"));
    CHECK_FALSE(contains(*dbg.text, proxy_password));
    CHECK_FALSE(contains(*dbg.text, "S3cr3t"));
    CHECK_FALSE(contains(*dbg.text, expected_auth));

    // Wrong credentials: 407, the message masks the password.
    cfg.proxy.url = "http://proxy-user:wrong-" + proxy_password + "@127.0.0.1:" + std::to_string(proxy.port());
    f.server.add_execution(fake::make_execution("thing-1", "job-1", 2, fake::execution_status::succeeded));
    ec = run_delete(cfg, 2, diag);
    CHECK(ec == iotjobs::client_errc::proxy_error);
    CHECK(contains(diag.message(), "http://proxy-user:***@127.0.0.1:"));
    CHECK(contains(diag.message(), "(the proxy did not accept the credentials)"));
    CHECK_FALSE(contains(diag.message(), proxy_password));
    CHECK_FALSE(contains(*dbg.text, proxy_password));

    // Refused with 403.
    connect_proxy refusing({}, 403);
    cfg.proxy.url = refusing.url(true);
    ec = run_delete(cfg, 2, diag);
    CHECK(ec == iotjobs::client_errc::proxy_error);
    CHECK(contains(diag.message(), "HTTP 403 Refused By Test Proxy"));
    CHECK_FALSE(contains(diag.message(), proxy_password));

    // Nobody listening: a connect error naming the proxy.
    unsigned short dead_port = 0;
    {
        asio::io_context ctx;
        tcp::acceptor a(ctx, {asio::ip::make_address("127.0.0.1"), 0});
        dead_port = a.local_endpoint().port();
    }
    cfg.proxy.url = "http://proxy-user:" + proxy_password + "@127.0.0.1:" + std::to_string(dead_port);
    ec = run_delete(cfg, 2, diag);
    CHECK(ec == asio::error::connection_refused);
    CHECK(contains(diag.message(),
                   "could not connect to the proxy http://proxy-user:***@127.0.0.1:" + std::to_string(dead_port)));
    CHECK_FALSE(contains(diag.message(), proxy_password));
    CHECK_FALSE(contains(*dbg.text, proxy_password));
    CHECK(f.server.find("thing-1", "job-1", 2).has_value());
}

TEST_CASE("credential fetches (STS, SSO portal): a CONNECT refused with 4xx is not retried, 5xx is") {
    // The host is never resolved: the request goes to the loopback proxy as CONNECT host:443.
    for (unsigned refuse : {0u, 403u, 502u}) {
        CAPTURE(refuse);
        connect_proxy proxy(expected_auth, refuse);  // 0: 407 (credentials missing from the URL)
        const std::string url = proxy.url();
        const std::function<const char*(const char*)> env = [&url](const char* n) -> const char* {
            return std::string_view(n) == "HTTPS_PROXY" ? url.c_str() : nullptr;
        };
        iotjobs::detail::http_fetch_request req;
        req.method = "POST";
        req.host = "sts.us-east-1.amazonaws.com";
        req.port = "443";
        req.target = "/";
        req.tls = true;
        req.env = &env;
        iotjobs::detail::http_fetch_response resp;
        error_code ec;
        asio::io_context ctx;
        asio::co_spawn(
            ctx, [&]() -> asio::awaitable<void> { ec = co_await iotjobs::detail::http_fetch_retrying(req, resp); },
            asio::detached);
        ctx.run();
        CHECK(ec == iotjobs::client_errc::proxy_error);
        CHECK(contains(resp.error_detail, refuse ? std::to_string(refuse) : "407"));
        const std::size_t tries = refuse >= 500 ? 3 : 1;
        CHECK(proxy.log() == std::vector<std::string>(tries, "CONNECT sts.us-east-1.amazonaws.com:443"));
    }
}

TEST_CASE("proxy: a malformed proxy URL fails when the client is built, without the password") {
    tls_fake f;
    auto cfg = config_for(f);
    cfg.proxy.url = "https://user:" + proxy_password + "@127.0.0.1:1";
    asio::io_context ctx;
    try {
        iotjobs::client c(ctx.get_executor(), cfg);
        FAIL("no exception");
    } catch (const boost::system::system_error& e) {
        CHECK(e.code().value() == static_cast<int>(iotjobs::client_errc::invalid_configuration));
        CHECK(contains(e.what(), "client_config.proxy.url"));
        CHECK_FALSE(contains(e.what(), proxy_password));
    }
}

TEST_CASE("cli: delete-job-execution --debug through the proxy from HTTPS_PROXY; NO_PROXY direct") {
    tls_fake f;
    f.server.add_execution(fake::make_execution("thing-1", "job-1", 1, fake::execution_status::succeeded));
    f.server.add_execution(fake::make_execution("thing-1", "job-1", 2, fake::execution_status::succeeded));
    connect_proxy proxy(expected_auth);
    iotjobs::cli::environment env{{"AWS_REGION", "us-east-1"},
                                  {"AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"},
                                  {"AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"},
                                  {"AWS_ENDPOINT_URL_IOT", f.server.base_url()},
                                  {"AWS_CA_BUNDLE", f.ca},
                                  {"HTTPS_PROXY", proxy.url(true)}};
    auto run = [&](std::string n) {
        std::ostringstream out, err;
        iotjobs::cli::run_options ro;
        ro.handle_sigint = false;
        const std::vector<std::string> args{
            "delete-job-execution", "--thing-name", "thing-1", "--job-id", "job-1", "--execution-number", n, "--debug"};
        const int code = iotjobs::cli::run_cli(args, env, out, err, ro);
        return std::pair{code, out.str() + err.str()};
    };
    auto [code, text] = run("1");
    CHECK(code == 0);
    CHECK_FALSE(f.server.find("thing-1", "job-1", 1).has_value());
    CHECK(proxy.log() == std::vector<std::string>{"CONNECT 127.0.0.1:" + std::to_string(f.server.port())});
    CHECK(contains(text,
                   "proxy: http://proxy-user:***@127.0.0.1:" + std::to_string(proxy.port()) + " (from HTTPS_PROXY)"));
    CHECK_FALSE(contains(text, proxy_password));
    CHECK_FALSE(contains(text, expected_auth));

    env["NO_PROXY"] = "localhost,127.0.0.1";
    std::tie(code, text) = run("2");
    CHECK(code == 0);
    CHECK(proxy.log().size() == 1);
    CHECK(contains(text, "proxy: none for 127.0.0.1 (NO_PROXY matches)"));

    // Without credentials: the CLI's error names the proxy and the status.
    env.erase("NO_PROXY");
    env["HTTPS_PROXY"] = proxy.url();
    f.server.add_execution(fake::make_execution("thing-1", "job-1", 3, fake::execution_status::succeeded));
    std::tie(code, text) = run("3");
    CHECK(code == 255);
    CHECK(contains(text, "Proxy error on the way to endpoint URL"));
    CHECK(contains(text, "HTTP 407 Proxy Authentication Required"));
}

TEST_CASE("fips pseudo-region: signed for the real region (the fake reports the scope's region)") {
    fake::server s;
    s.start();
    s.add_execution(fake::make_execution("thing-1", "job-1", 1, fake::execution_status::succeeded));
    for (const char* region : {"fips-us-east-1", "us-east-1-fips"}) {
        iotjobs::client_config cfg;
        cfg.region = region;
        cfg.endpoint_url = s.base_url();  // a configured endpoint is used as given (botocore)
        cfg.static_credentials = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
        cfg.proxy.from_environment = false;
        debug_log dbg;
        dbg.attach(cfg);
        asio::io_context ctx;
        iotjobs::client c(ctx.get_executor(), cfg);
        iotjobs::diagnostics diag;
        error_code result = make_error_code(iotjobs::client_errc::bad_response);
        iotjobs::job_execution got;
        iotjobs::describe_job_execution(c, {"thing-1", "job-1", 1}, diag, [&](error_code ec, iotjobs::job_execution e) {
            result = ec;
            got = std::move(e);
        });
        ctx.run();
        CHECK_MESSAGE(!result, diag.message());
        CHECK(got.thing_arn.starts_with("arn:aws:iot:us-east-1:"));
        CHECK(contains(*dbg.text, "/us-east-1/iot/aws4_request"));
        CHECK_FALSE(contains(*dbg.text, "fips"));
    }
}

TEST_CASE("cli: the real binary, delete-job-execution --debug with HTTPS_PROXY: tunnel logged, no password") {
    const char* bin_dir = std::getenv("IOTJOBS_BIN_DIR");
    if (!bin_dir) {
        MESSAGE("IOTJOBS_BIN_DIR not set (run through ctest): real-binary proxy test skipped");
        return;
    }
    const std::string bin = std::string(bin_dir) + "/iotjobs";
    REQUIRE_MESSAGE(std::filesystem::exists(bin), "build the iotjobs_cli_main target: " << bin);
    tls_fake f;
    f.server.add_execution(fake::make_execution("thing-1", "job-1", 1, fake::execution_status::succeeded));
    connect_proxy proxy(expected_auth);
    const std::string out_file =
        (std::filesystem::temp_directory_path() / ("iotjobs-proxy-cli-" + std::to_string(::getpid()) + ".txt"))
            .string();
    std::vector<std::string> args{
        bin,      "delete-job-execution", "--thing-name", "thing-1", "--job-id", "job-1", "--execution-number", "1",
        "--debug"};
    std::vector<std::string> envs{"AWS_REGION=us-east-1",
                                  "AWS_ACCESS_KEY_ID=AKIDEXAMPLE",
                                  "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                  "AWS_ENDPOINT_URL_IOT=" + f.server.base_url(),
                                  "AWS_CA_BUNDLE=" + f.ca,
                                  "AWS_EC2_METADATA_DISABLED=true",
                                  "AWS_CONFIG_FILE=/nonexistent/iotjobs-test/config",
                                  "AWS_SHARED_CREDENTIALS_FILE=/nonexistent/iotjobs-test/credentials",
                                  "HTTPS_PROXY=" + proxy.url(true)};
    std::vector<char*> argv, envp;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : envs) envp.push_back(e.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    pid_t pid = 0;
    REQUIRE(posix_spawn(&pid, bin.c_str(), &actions, nullptr, argv.data(), envp.data()) == 0);
    posix_spawn_file_actions_destroy(&actions);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    std::ifstream in(out_file);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::filesystem::remove(out_file);
    INFO(text);
    REQUIRE_MESSAGE(WIFEXITED(status), "signal " << WTERMSIG(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK_FALSE(f.server.find("thing-1", "job-1", 1).has_value());
    CHECK(proxy.log() == std::vector<std::string>{"CONNECT 127.0.0.1:" + std::to_string(f.server.port())});
    CHECK(contains(text, "proxy: http://proxy-user:***@127.0.0.1:" + std::to_string(proxy.port())));
    CHECK_FALSE(contains(text, proxy_password));
    CHECK_FALSE(contains(text, expected_auth));
}

TEST_CASE("proxy: the connect deadline bounds a CONNECT that is never answered") {
    tls_fake f;
    // A listening socket nobody accepts from: the TCP connect completes (backlog), CONNECT is
    // written, no answer ever comes.
    asio::io_context ctx;
    tcp::acceptor silent(ctx, {asio::ip::make_address("127.0.0.1"), 0});
    auto cfg = config_for(f);
    cfg.proxy.url =
        "http://proxy-user:" + proxy_password + "@127.0.0.1:" + std::to_string(silent.local_endpoint().port());
    cfg.timeouts.connect = std::chrono::milliseconds(200);
    iotjobs::diagnostics diag;
    const error_code ec = run_delete(cfg, 1, diag);
    CHECK(ec == boost::beast::error::timeout);
    CHECK(diag.timeout_phase() == iotjobs::timeout_phase::connect);
    CHECK(contains(diag.message(), "the proxy http://proxy-user:***@127.0.0.1:"));
    CHECK(contains(diag.message(), "did not answer CONNECT in time"));
    CHECK_FALSE(contains(diag.message(), proxy_password));
}

TEST_CASE("proxy: an http:// endpoint tunnels through HTTP_PROXY (CONNECT as well); HTTPS_PROXY is not used for it") {
    fake::server s;
    s.start();
    s.add_execution(fake::make_execution("thing-1", "job-1", 1, fake::execution_status::succeeded));
    s.add_execution(fake::make_execution("thing-1", "job-1", 2, fake::execution_status::succeeded));
    connect_proxy proxy;
    iotjobs::client_config cfg;
    cfg.region = "us-east-1";
    cfg.endpoint_url = s.base_url();
    cfg.static_credentials = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
    cfg.retry.max_attempts = 1;
    std::map<std::string, std::string> vars{{"HTTPS_PROXY", "http://127.0.0.1:1"}};
    cfg.environment = [&vars](const char* n) -> const char* {
        auto it = vars.find(n);
        return it == vars.end() ? nullptr : it->second.c_str();
    };
    iotjobs::diagnostics diag;
    CHECK(!run_delete(cfg, 1, diag));  // HTTPS_PROXY (a dead port) is for https endpoints only
    CHECK(proxy.log().empty());
    vars["http_proxy"] = proxy.url();
    CHECK_MESSAGE(!run_delete(cfg, 2, diag), diag.message());
    CHECK(proxy.log() == std::vector<std::string>{"CONNECT 127.0.0.1:" + std::to_string(s.port())});
    CHECK(s.execution_count() == 0);
}

TEST_CASE("cli: --region us-east-1-fips signs for us-east-1 (--debug says so)") {
    fake::server s;
    s.start();
    s.add_execution(fake::make_execution("thing-1", "job-1", 1, fake::execution_status::succeeded));
    iotjobs::cli::environment env{{"AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"},
                                  {"AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"},
                                  {"AWS_ENDPOINT_URL_IOT", s.base_url()}};
    std::ostringstream out, err;
    iotjobs::cli::run_options ro;
    ro.handle_sigint = false;
    const std::vector<std::string> args{
        "delete-job-execution", "--thing-name", "thing-1", "--job-id", "job-1", "--execution-number", "1", "--region",
        "us-east-1-fips",       "--debug"};
    CHECK(iotjobs::cli::run_cli(args, env, out, err, ro) == 0);
    CHECK(s.execution_count() == 0);
    CHECK(contains(err.str(),
                   "region: us-east-1-fips is a FIPS pseudo-region: signing for us-east-1, the configured endpoint"));
    CHECK(contains(err.str(), "/us-east-1/iot/aws4_request"));
    CHECK_FALSE(contains(err.str(), "us-east-1-fips/iot"));
}
