// Credential providers against loopback fakes this file starts (never a metadata address or an
// AWS host): credential_process, container (FULL_URI on 127.0.0.1), IMDSv2 (endpoint override on
// 127.0.0.1); each followed by a DeleteJobExecution that the in-process fake endpoint accepts only
// when signed with exactly the credentials the provider handed out. Then the chain's message
// with nothing configured, and a bulk run across many short-lived credential sets.
#include "credentials/provider.hpp"
#include "connect_proxy.hpp"
#include "fake/server.hpp"
#include "sigv4/sigv4.hpp"

#include <iotjobs/bulk_delete.hpp>
#include <iotjobs/client.hpp>
#include <iotjobs/delete_job_execution.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <doctest/doctest.h>
#include <openssl/evp.h>

#include <atomic>
#include <condition_variable>
#include <optional>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>
#include <unistd.h>

namespace asio = boost::asio;
namespace fake = iotjobs::fake;
namespace fs = std::filesystem;
using iotjobs::client_errc;
using iotjobs::error_code;
using namespace std::chrono_literals;

namespace {

bool has(std::string_view text, std::string_view part) { return text.find(part) != std::string::npos; }

// A minimal HTTP/1.1 server on 127.0.0.1 (one request per connection, Connection: close), on its
// own thread, answering through `handler`. Plays the container endpoint and IMDS.
struct http_stub {
    struct request {
        std::string method, target, body;
        std::map<std::string, std::string> headers;  // lower-case names
        std::string header(const std::string& n) const {
            auto it = headers.find(n);
            return it == headers.end() ? std::string() : it->second;
        }
    };
    struct response {
        unsigned status = 200;
        std::string body;
    };
    using handler_fn = std::function<response(const request&)>;

    explicit http_stub(handler_fn h) : handler(std::move(h)), acceptor(ctx, {asio::ip::make_address("127.0.0.1"), 0}) {
        port = acceptor.local_endpoint().port();
        thread = std::thread([this] { serve(); });
    }
    ~http_stub() {
        stopping = true;
        error_code ec;
        asio::ip::tcp::socket s(ctx);
        s.connect({asio::ip::make_address("127.0.0.1"), port}, ec);  // wakes accept()
        thread.join();
    }
    std::string url(const std::string& path = "") const { return "http://127.0.0.1:" + std::to_string(port) + path; }
    std::vector<request> requests() const {
        std::lock_guard lk(mutex);
        return seen;
    }

    void serve() {
        for (;;) {
            asio::ip::tcp::socket s(ctx);
            error_code ec;
            acceptor.accept(s, ec);
            if (stopping) return;
            if (ec) continue;
            asio::streambuf buf;
            asio::read_until(s, buf, "\r\n\r\n", ec);
            if (ec) continue;
            std::istream in(&buf);
            request r;
            std::string line;
            std::getline(in, line);
            std::istringstream rl(line);
            rl >> r.method >> r.target;
            while (std::getline(in, line) && line != "\r") {
                auto colon = line.find(':');
                if (colon == std::string::npos) continue;
                std::string name = line.substr(0, colon);
                for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                std::string value = line.substr(colon + 1);
                while (!value.empty() && (value.front() == ' ')) value.erase(0, 1);
                while (!value.empty() && (value.back() == '\r' || value.back() == ' ')) value.pop_back();
                r.headers[name] = value;
            }
            if (auto n = r.header("content-length"); !n.empty()) {
                const std::size_t len = std::stoul(n);
                std::string have((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
                if (have.size() < len) {
                    std::string rest(len - have.size(), '\0');
                    asio::read(s, asio::buffer(rest), ec);
                    have += rest;
                }
                r.body = have.substr(0, len);
            }
            response resp = handler(r);
            {
                std::lock_guard lk(mutex);
                seen.push_back(r);
            }
            std::string out = "HTTP/1.1 " + std::to_string(resp.status) +
                              " X\r\nContent-Length: " + std::to_string(resp.body.size()) +
                              "\r\nConnection: close\r\n\r\n" + resp.body;
            asio::write(s, asio::buffer(out), ec);
            s.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
        }
    }

    handler_fn handler;
    asio::io_context ctx;
    asio::ip::tcp::acceptor acceptor;
    std::uint16_t port = 0;
    std::thread thread;
    std::atomic<bool> stopping{false};
    mutable std::mutex mutex;
    std::vector<request> seen;
};

std::string iso(std::chrono::system_clock::time_point t) {
    auto secs = std::chrono::floor<std::chrono::seconds>(t);
    auto days = std::chrono::floor<std::chrono::days>(secs);
    std::chrono::year_month_day ymd(days);
    std::chrono::hh_mm_ss hms(secs - days);
    char b[32];
    std::snprintf(b, sizeof b, "%04d-%02u-%02uT%02ld:%02ld:%02ldZ", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<long>(hms.hours().count()), static_cast<long>(hms.minutes().count()),
                  static_cast<long>(hms.seconds().count()));
    return b;
}

struct test_env {
    std::map<std::string, std::string> vars{
        {"AWS_EC2_METADATA_DISABLED", "true"},  // only the IMDS test turns it off
        {"AWS_CONFIG_FILE", "/nonexistent/iotjobs-test/config"},
        {"AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/iotjobs-test/credentials"},
    };
    std::function<const char*(const char*)> lookup() const {
        return [this](const char* n) -> const char* {
            auto it = vars.find(n);
            return it == vars.end() ? nullptr : it->second.c_str();
        };
    }
};

struct temp_dir {
    fs::path path;
    temp_dir() {
        static int n = 0;
        path = fs::temp_directory_path() / ("iotjobs-cred-" + std::to_string(::getpid()) + "-" + std::to_string(++n));
        fs::create_directories(path);
    }
    ~temp_dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    std::string write(const std::string& name, const std::string& text) const {
        std::ofstream(path / name) << text;
        return (path / name).string();
    }
};

// Runs one provider to completion.
error_code provider_get(iotjobs::detail::credentials_provider& p, iotjobs::detail::resolved_credentials& out,
                        std::string& why) {
    asio::io_context ctx;
    error_code result = make_error_code(client_errc::bad_response);
    bool done = false;
    asio::co_spawn(ctx, p.async_get(out, why), [&](std::exception_ptr ep, error_code ec) {
        REQUIRE_FALSE(ep);
        result = ec;
        done = true;
    });
    ctx.run();
    REQUIRE(done);
    return result;
}

// A fake endpoint that knows only `creds`, with one execution to delete.
struct endpoint {
    fake::server server;
    explicit endpoint(fake::credentials_map creds) : server(make_options(std::move(creds))) {
        server.start();
        server.add_execution(fake::make_execution("thing-1", "job-1", 1, fake::execution_status::succeeded));
    }
    static fake::server_options make_options(fake::credentials_map creds) {
        fake::server_options o;
        o.credentials = std::move(creds);
        return o;
    }
};

// A client on `env` (no static credentials: the default chain) deletes thing-1/job-1/1.
error_code delete_with(const endpoint& e, const test_env& env, iotjobs::diagnostics& diag) {
    asio::io_context ctx;
    iotjobs::client_config cfg;
    cfg.region = "us-east-1";
    cfg.endpoint_url = e.server.base_url();
    cfg.retry.max_attempts = 1;
    cfg.environment = env.lookup();
    iotjobs::client c(ctx.get_executor(), cfg);
    error_code result = make_error_code(client_errc::bad_response);
    iotjobs::delete_job_execution(c, {"thing-1", "job-1", 1, true, std::nullopt}, diag,
                                  [&](error_code ec) { result = ec; });
    ctx.run();
    return result;
}

void check_deleted_with(const endpoint& e, error_code ec, const iotjobs::diagnostics& diag) {
    INFO(diag.message());
    CHECK_FALSE(ec);
    CHECK_FALSE(e.server.find("thing-1", "job-1", 1));
    CHECK(e.server.stats().signature_failures == 0);
}

}  // namespace

TEST_CASE("credential_process: split as shlex does, Version 1 JSON, then a call signed with it") {
    temp_dir d;
    const auto exp = iso(std::chrono::system_clock::now() + 1h);
    const std::string script =
        d.write("creds.sh",
                "#!/bin/sh\n"
                "[ \"$1\" = 'two words' ] || { echo \"bad argument: $1\" >&2; exit 3; }\n"
                "echo '{\"Version\": 1, \"AccessKeyId\": \"ASIAPROCESS\", \"SecretAccessKey\": \"process-secret\", "
                "\"SessionToken\": \"process-token\", \"Expiration\": \"" +
                    exp + "\"}'\n");
    test_env env;
    env.vars["AWS_CONFIG_FILE"] =
        d.write("config", "[default]\ncredential_process = /bin/sh '" + script + "' \"two words\"\n");
    endpoint e({{"ASIAPROCESS", {"process-secret", "process-token"}}});
    iotjobs::diagnostics diag;
    check_deleted_with(e, delete_with(e, env, diag), diag);

    auto p = iotjobs::detail::make_process_provider({}, env.lookup());
    iotjobs::detail::resolved_credentials r;
    std::string why;
    REQUIRE_FALSE(provider_get(*p, r, why));
    CHECK(r.value.session_token == "process-token");
    REQUIRE(r.expiration);
    CHECK(r.source == "credential_process (profile default)");
}

TEST_CASE("credential_process failures: exit status with stderr, invalid JSON, bad Version, expired, not found") {
    temp_dir d;
    test_env env;
    auto run = [&](const std::string& body, std::string& why) {
        const std::string script = d.write("p.sh", "#!/bin/sh\n" + body);
        env.vars["AWS_CONFIG_FILE"] = d.write("config", "[profile dev]\ncredential_process = /bin/sh " + script + "\n");
        auto p = iotjobs::detail::make_process_provider("dev", env.lookup());
        iotjobs::detail::resolved_credentials r;
        why.clear();
        return provider_get(*p, r, why);
    };
    std::string why;
    CHECK(run("echo 'token expired: run sso login' >&2\nexit 7\n", why) == client_errc::credentials_error);
    CHECK(has(why, "credential_process of profile dev"));
    CHECK(has(why, "exited with status 7: token expired: run sso login"));

    CHECK(run("echo '{\"Version\": 1, \"AccessKeyId\": \"AK\", \"SecretAccessKey\": \"LEAKME\"'\n", why) ==
          client_errc::credentials_error);
    CHECK(has(why, "invalid output: the answer is not a JSON object"));
    CHECK_FALSE(has(why, "LEAKME"));

    CHECK(run("echo '{\"Version\": 2, \"AccessKeyId\": \"AK\", \"SecretAccessKey\": \"LEAKME\"}'\n", why) ==
          client_errc::credentials_error);
    CHECK(has(why, "Version"));

    CHECK(run("echo '{\"Version\": 1, \"AccessKeyId\": \"AK\", \"SecretAccessKey\": \"S\", "
              "\"Expiration\": \"2001-01-01T00:00:00Z\"}'\n",
              why) == client_errc::credentials_error);
    CHECK(has(why, "expired"));

    env.vars["AWS_CONFIG_FILE"] =
        d.write("config", "[profile dev]\ncredential_process = /nonexistent/bin/get-creds --x\n");
    auto p = iotjobs::detail::make_process_provider("dev", env.lookup());
    iotjobs::detail::resolved_credentials r;
    CHECK(provider_get(*p, r, why) == client_errc::credentials_error);
    CHECK(has(why, "cannot run /nonexistent/bin/get-creds"));

    env.vars["AWS_CONFIG_FILE"] = d.write("config", "[profile dev]\ncredential_process = get-creds 'unterminated\n");
    p = iotjobs::detail::make_process_provider("dev", env.lookup());
    CHECK(provider_get(*p, r, why) == client_errc::credentials_error);
    CHECK(has(why, "No closing quotation"));

    // Through the client: the call fails with the provider's reason.
    env.vars["AWS_CONFIG_FILE"] =
        d.write("config", "[default]\ncredential_process = /bin/sh -c 'echo nope >&2; exit 1'\n");
    endpoint e({{"AKIDUNUSED", {"x", ""}}});
    iotjobs::diagnostics diag;
    CHECK(delete_with(e, env, diag) == client_errc::credentials_error);
    CHECK(has(diag.message(), "credential_process"));
    CHECK(has(diag.message(), "nope"));
    CHECK(e.server.find("thing-1", "job-1", 1));
}

TEST_CASE("container credentials: FULL_URI on loopback, the token as a value and from a file") {
    std::atomic<int> fetches{0};
    std::string expected_token = "container-token-1";
    std::mutex m;
    http_stub stub([&](const http_stub::request& r) -> http_stub::response {
        std::lock_guard lk(m);
        if (r.method != "GET" || r.target != "/v2/credentials/abc") return {404, "{}"};
        if (r.header("authorization") != expected_token) return {401, R"({"message":"bad token"})"};
        ++fetches;
        return {200,
                R"({"AccessKeyId":"ASIACONTAINER","SecretAccessKey":"container-secret","Token":"container-session",)"
                R"("Expiration":")" +
                    iso(std::chrono::system_clock::now() + 1h) + R"("})"};
    });
    test_env env;
    env.vars["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = stub.url("/v2/credentials/abc");
    env.vars["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "container-token-1";
    {
        endpoint e({{"ASIACONTAINER", {"container-secret", "container-session"}}});
        iotjobs::diagnostics diag;
        check_deleted_with(e, delete_with(e, env, diag), diag);
        CHECK(fetches == 1);
        auto reqs = stub.requests();
        REQUIRE(reqs.size() == 1);
        CHECK(reqs[0].header("accept") == "application/json");
    }
    // The file wins over the variable, and is re-read on every fetch.
    temp_dir d;
    env.vars["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] = d.write("token", "container-token-2");
    {
        std::lock_guard lk(m);
        expected_token = "container-token-2";
    }
    {
        endpoint e({{"ASIACONTAINER", {"container-secret", "container-session"}}});
        iotjobs::diagnostics diag;
        check_deleted_with(e, delete_with(e, env, diag), diag);
        CHECK(fetches == 2);
    }
    auto p = iotjobs::detail::make_container_provider(env.lookup());
    iotjobs::detail::resolved_credentials r;
    std::string why;
    d.write("token", "wrong-token");
    CHECK(provider_get(*p, r, why) == client_errc::credentials_error);
    CHECK(has(why, "answered HTTP 401"));
    CHECK_FALSE(has(why, "wrong-token"));
    d.write("token", "line1\nline2");
    CHECK(provider_get(*p, r, why) == client_errc::credentials_error);
    CHECK(has(why, "CR or LF"));
    d.write("token", "container-token-2");
    REQUIRE_FALSE(provider_get(*p, r, why));
    CHECK(r.source == "container (AWS_CONTAINER_CREDENTIALS_FULL_URI)");
}

TEST_CASE("container credentials: hosts other than loopback and the container addresses are refused over http") {
    test_env env;
    // Refused before any connection: nothing is sent to these addresses.
    for (const char* url : {"http://192.0.2.10/creds", "http://example.com/creds", "http://169.254.169.254/creds"}) {
        env.vars["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = url;
        auto p = iotjobs::detail::make_container_provider(env.lookup());
        iotjobs::detail::resolved_credentials r;
        std::string why;
        CHECK(provider_get(*p, r, why) == client_errc::credentials_error);
        CHECK(has(why, "only allowed to loopback"));
    }
    // https to any host is allowed, and verified: the fake endpoint's TLS, not trusted, then trusted.
    fake::server_options o;
    o.tls = true;
    fake::server tls_host(o);
    tls_host.start();
    temp_dir d;
    const std::string ca = (d.path / "ca.pem").string();
    tls_host.write_ca_file(ca);
    {
        env.vars["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = tls_host.base_url() + "/creds";
        auto p = iotjobs::detail::make_container_provider(env.lookup());
        iotjobs::detail::resolved_credentials r;
        std::string why;
        CHECK(provider_get(*p, r, why) == client_errc::credentials_error);
        CHECK(has(why, "certificate verify failed"));
        env.vars["AWS_CA_BUNDLE"] = ca;
        CHECK(provider_get(*p, r, why) == client_errc::credentials_error);
        CHECK(has(why, "answered HTTP 4"));  // the fake IoT endpoint has no such route: TLS carried it
        env.vars.erase("AWS_CA_BUNDLE");
    }
    env.vars["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "ftp://127.0.0.1/creds";
    auto p = iotjobs::detail::make_container_provider(env.lookup());
    iotjobs::detail::resolved_credentials r;
    std::string why;
    CHECK(provider_get(*p, r, why) == client_errc::credentials_error);
    CHECK(has(why, "not a usable URL"));
}

namespace {

// IMDSv2 on loopback: tokens "imds-token-N" valid until invalidated, a role, short-lived credentials.
struct imds_fake {
    std::mutex m;
    int tokens_issued = 0;
    int valid_from = 1;  // tokens numbered below this answer 401 (expired)
    int credential_fetches = 0;
    http_stub stub{[this](const http_stub::request& r) { return handle(r); }};

    http_stub::response handle(const http_stub::request& r) {
        std::lock_guard lk(m);
        if (r.method == "PUT" && r.target == "/latest/api/token") {
            if (r.header("x-aws-ec2-metadata-token-ttl-seconds") != "21600") return {400, ""};
            return {200, "imds-token-" + std::to_string(++tokens_issued)};
        }
        const std::string t = r.header("x-aws-ec2-metadata-token");
        const std::string prefix = "imds-token-";
        if (t.rfind(prefix, 0) != 0 || std::stoi(t.substr(prefix.size())) < valid_from) return {401, ""};
        if (r.method == "GET" && r.target == "/latest/meta-data/iam/security-credentials/") return {200, "test-role"};
        if (r.method == "GET" && r.target == "/latest/meta-data/iam/security-credentials/test-role") {
            ++credential_fetches;
            return {200,
                    R"({"Code":"Success","Type":"AWS-HMAC","AccessKeyId":"ASIAIMDS","SecretAccessKey":"imds-secret",)"
                    R"("Token":"imds-session","Expiration":")" +
                        iso(std::chrono::system_clock::now() + 6h) + R"("})"};
        }
        return {404, ""};
    }
};

}  // namespace

TEST_CASE("IMDSv2: token with TTL, role, credentials; an expired token is replaced") {
    imds_fake imds;
    test_env env;
    env.vars.erase("AWS_EC2_METADATA_DISABLED");
    env.vars["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = imds.stub.url();
    {
        endpoint e({{"ASIAIMDS", {"imds-secret", "imds-session"}}});
        iotjobs::diagnostics diag;
        check_deleted_with(e, delete_with(e, env, diag), diag);
    }
    CHECK(imds.tokens_issued == 1);
    CHECK(imds.credential_fetches == 1);

    auto p = iotjobs::detail::make_imds_provider(env.lookup());
    iotjobs::detail::resolved_credentials r;
    std::string why;
    REQUIRE_FALSE(provider_get(*p, r, why));
    CHECK(imds.tokens_issued == 2);
    REQUIRE_FALSE(provider_get(*p, r, why));  // the token is reused
    CHECK(imds.tokens_issued == 2);
    {
        std::lock_guard lk(imds.m);
        imds.valid_from = 3;  // the service expired token 2
    }
    REQUIRE_FALSE(provider_get(*p, r, why));  // 401 -> a new token, once
    CHECK(imds.tokens_issued == 3);
    CHECK(r.value.access_key_id == "ASIAIMDS");
    CHECK(r.value.session_token == "imds-session");
    CHECK(r.source == "imds (role test-role)");
    CHECK(imds.credential_fetches == 4);

    // The same endpoint from the profile's ec2_metadata_service_endpoint.
    temp_dir d;
    env.vars.erase("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    env.vars["AWS_CONFIG_FILE"] = d.write("config", "[default]\nec2_metadata_service_endpoint = " + imds.stub.url() +
                                                        "\nmetadata_service_num_attempts = 2\n");
    p = iotjobs::detail::make_imds_provider(env.lookup());
    REQUIRE_FALSE(provider_get(*p, r, why));
    CHECK(imds.credential_fetches == 5);
    env.vars["AWS_CONFIG_FILE"] = d.write("config", "[default]\nec2_metadata_service_endpoint_mode = IPv5\n");
    CHECK(provider_get(*p, r, why) == client_errc::credentials_error);
    CHECK(has(why, "ec2_metadata_service_endpoint_mode (profile default"));
}

TEST_CASE("IMDS disabled: AWS_EC2_METADATA_DISABLED=true sends nothing; the chain names every provider") {
    imds_fake imds;
    test_env env;  // AWS_EC2_METADATA_DISABLED=true
    env.vars["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = imds.stub.url();
    endpoint e({{"AKIDUNUSED", {"x", ""}}});
    iotjobs::diagnostics diag;
    CHECK(delete_with(e, env, diag) == client_errc::no_credentials);
    const std::string m(diag.message());
    INFO(m);
    CHECK(has(m, "Unable to locate credentials"));
    CHECK(has(m, "environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set"));
    CHECK(has(m, "assume-role: profile default"));
    CHECK(has(m, "web-identity: AWS_WEB_IDENTITY_TOKEN_FILE is not set"));
    CHECK(has(m, "sso: profile default"));
    CHECK(has(m, "shared-config-files: profile default"));
    CHECK(has(m, "credential_process: profile default"));
    CHECK(
        has(m, "container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and AWS_CONTAINER_CREDENTIALS_FULL_URI are not set"));
    CHECK(has(m, "imds: disabled by AWS_EC2_METADATA_DISABLED"));
    CHECK(imds.stub.requests().empty());
    CHECK(e.server.find("thing-1", "job-1", 1));
}

TEST_CASE(
    "refresh: 20,000 deletes, 1,000 in flight, across short-lived credential sets; one fetch per set, none per call") {
    // The container fake hands out set n (of 64 the endpoint knows) expiring 4 s after the fetch.
    constexpr int sets = 64;
    fake::credentials_map known;
    for (int i = 1; i <= sets; ++i)
        known["ASIAREFRESH" + std::to_string(i)] = {"secret-" + std::to_string(i), "session-" + std::to_string(i)};
    std::atomic<int> fetches{0};
    http_stub stub([&](const http_stub::request&) -> http_stub::response {
        const int n = ++fetches;
        if (n > sets) return {500, ""};
        const auto i = std::to_string(n);
        return {200, R"({"AccessKeyId":"ASIAREFRESH)" + i + R"(","SecretAccessKey":"secret-)" + i +
                         R"(","Token":"session-)" + i + R"(","Expiration":")" +
                         iso(std::chrono::system_clock::now() + 4s) + R"("})"};
    });
    test_env env;
    env.vars["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = stub.url("/creds");

    fake::server_options o;
    o.credentials = known;
    o.threads = 2;
    // Slow answers spread the run over several lifetimes of the credentials.
    std::string err;
    auto lat = fake::parse_fault("latency=always,ms=600", err);
    REQUIRE(lat);
    o.faults = {*lat};
    fake::server s(o);
    s.start();
    constexpr int items = 20000;
    fake::generate_options g;
    g.count = items;
    s.generate(g);
    std::vector<iotjobs::delete_job_execution_request> reqs;
    for (int i = 1; i <= items; ++i)
        reqs.push_back({"thing-" + std::to_string(i), "job-" + std::to_string(i % 100), i, true, std::nullopt});

    asio::io_context ctx;
    iotjobs::client_config cfg;
    cfg.region = "us-east-1";
    cfg.endpoint_url = s.base_url();
    cfg.retry.max_attempts = 1;  // a call signed with expired credentials would show as a failure
    cfg.pool.max_size = 1000;
    cfg.single_threaded = true;
    cfg.environment = env.lookup();
    iotjobs::client c(ctx.get_executor(), cfg);
    auto src = iotjobs::make_vector_source(std::move(reqs));
    iotjobs::bulk_options opt;
    opt.max_in_flight = 1000;
    std::uint64_t failures = 0;
    std::string first_failure;
    iotjobs::bulk_summary summary;
    bool done = false;
    const auto start = std::chrono::steady_clock::now();
    iotjobs::bulk_delete(
        c, *src, opt,
        [&](const iotjobs::bulk_outcome& out) {
            if (out.kind != iotjobs::bulk_outcome_kind::deleted && failures++ == 0)
                first_failure = out.ec.message() + ": " + out.message;
        },
        [&](error_code, iotjobs::bulk_summary sum) {
            summary = std::move(sum);
            done = true;
        });
    ctx.run();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    REQUIRE(done);
    INFO("first failure: " << first_failure << "; fetches " << fetches.load() << " in " << seconds << " s");
    MESSAGE("refresh run: " << items << " deletes in " << seconds << " s, " << fetches.load() << " credential fetches");
    CHECK(failures == 0);
    CHECK(summary.deleted == items);
    CHECK(s.stats().signature_failures == 0);
    CHECK(s.execution_count() == 0);
    // Sets live 3-4 s (whole seconds in Expiration) and are refetched a quarter of their life
    // before expiry: about one fetch per 2.5-3 s of run. Generous bounds, no timing assertion.
    CHECK(fetches >= 1 + static_cast<int>(seconds / 4));
    CHECK(fetches <= 3 + static_cast<int>(seconds));
    CHECK(fetches * 20 < items);
}

TEST_CASE("a credentials refresh that fails mid-run fails only the calls that waited for it; the run goes on") {
    // The container endpoint: set 1 (living 1-2 s), then three failed answers (the provider's three
    // attempts, 1 s apart: one failed refresh lasting 2 s, past set 1's expiry), then set 2.
    fake::credentials_map known;
    known["ASIAMIDRUN1"] = {"secret-1", "session-1"};
    known["ASIAMIDRUN2"] = {"secret-2", "session-2"};
    std::atomic<int> fetches{0};
    http_stub stub([&](const http_stub::request&) -> http_stub::response {
        const int n = ++fetches;
        if (n >= 2 && n <= 4) return {500, ""};
        const std::string i = n == 1 ? "1" : "2";
        return {200, R"({"AccessKeyId":"ASIAMIDRUN)" + i + R"(","SecretAccessKey":"secret-)" + i +
                         R"(","Token":"session-)" + i + R"(","Expiration":")" +
                         iso(std::chrono::system_clock::now() + (n == 1 ? 2s : 3600s)) + R"("})"};
    });
    test_env env;
    env.vars["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = stub.url("/creds");
    fake::server_options o;
    o.credentials = known;
    std::string err;
    auto lat = fake::parse_fault("latency=always,ms=100", err);  // spreads the run over about 5 s
    REQUIRE(lat);
    o.faults = {*lat};
    fake::server s(o);
    s.start();
    constexpr int items = 1000;
    std::vector<iotjobs::delete_job_execution_request> reqs;
    for (int i = 1; i <= items; ++i) {
        s.add_execution(
            fake::make_execution("thing-" + std::to_string(i), "job-1", i, fake::execution_status::succeeded));
        reqs.push_back({"thing-" + std::to_string(i), "job-1", i});
    }
    asio::io_context ctx;
    iotjobs::client_config cfg;
    cfg.region = "us-east-1";
    cfg.endpoint_url = s.base_url();
    cfg.retry.max_attempts = 1;
    cfg.environment = env.lookup();
    iotjobs::client c(ctx.get_executor(), cfg);
    auto src = iotjobs::make_vector_source(std::move(reqs));
    iotjobs::bulk_options opt;
    opt.max_in_flight = 20;
    opt.rate_limit = 1e6;  // no adaptive pacing: the run's length is the fake's latency
    std::vector<iotjobs::bulk_outcome> outcomes;
    iotjobs::bulk_summary summary;
    bool done = false;
    iotjobs::bulk_delete(
        c, *src, opt, [&](const iotjobs::bulk_outcome& out) { outcomes.push_back(out); },
        [&](error_code, iotjobs::bulk_summary sum) {
            summary = std::move(sum);
            done = true;
        });
    ctx.run();
    REQUIRE(done);
    INFO("stop: " << summary.stop_reason << "; fetches " << fetches.load());
    CHECK_FALSE(summary.stopped_early);
    CHECK(summary.items == items);
    CHECK(summary.not_attempted == 0);
    CHECK(summary.failed > 0);  // the calls that waited for the failed refresh
    CHECK(summary.deleted + summary.failed == items);
    std::set<std::int64_t> seen;
    for (const auto& out : outcomes) {
        CHECK(seen.insert(out.item.request.execution_number).second);
        const bool present =
            s.find(out.item.request.thing_name, "job-1", out.item.request.execution_number).has_value();
        if (out.kind == iotjobs::bulk_outcome_kind::failed) {
            CHECK(out.ec == client_errc::credentials_error);
            CHECK(has(out.message, "container endpoint"));
            CHECK(present);
        } else {
            CHECK(out.kind == iotjobs::bulk_outcome_kind::deleted);
            CHECK_FALSE(present);
        }
    }
    CHECK(s.stats().signature_failures == 0);
}

TEST_CASE("a call waiting for credentials honours its cancellation; the fetch still serves the next call") {
    std::mutex m;
    std::condition_variable cv;
    bool release = false;
    http_stub stub([&](const http_stub::request&) -> http_stub::response {
        std::unique_lock lk(m);
        cv.wait(lk, [&] { return release; });  // the container endpoint hangs until released
        return {200, R"({"AccessKeyId":"ASIASLOW","SecretAccessKey":"slow-secret","Token":"slow-session",)"
                     R"("Expiration":")" +
                         iso(std::chrono::system_clock::now() + 1h) + R"("})"};
    });
    test_env env;
    env.vars["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = stub.url("/creds");
    endpoint e({{"ASIASLOW", {"slow-secret", "slow-session"}}});
    asio::io_context ctx;
    iotjobs::client_config cfg;
    cfg.region = "us-east-1";
    cfg.endpoint_url = e.server.base_url();
    cfg.retry.max_attempts = 1;
    cfg.environment = env.lookup();
    iotjobs::client c(ctx.get_executor(), cfg);

    asio::cancellation_signal sig;
    std::optional<error_code> first;
    iotjobs::delete_job_execution(c, {"thing-1", "job-1", 1, true, std::nullopt},
                                  asio::bind_cancellation_slot(sig.slot(), [&](error_code ec) { first = ec; }));
    ctx.run_for(200ms);  // the call is now waiting for the fetch
    CHECK_FALSE(first);
    sig.emit(asio::cancellation_type::terminal);
    for (int i = 0; i < 100 && !first; ++i) ctx.run_for(100ms);  // at once, bounded generously
    REQUIRE(first);
    CHECK(*first == asio::error::operation_aborted);
    CHECK(e.server.find("thing-1", "job-1", 1));  // nothing was sent

    {
        std::lock_guard lk(m);
        release = true;
    }
    cv.notify_all();
    std::optional<error_code> second;
    iotjobs::delete_job_execution(c, {"thing-1", "job-1", 1, true, std::nullopt}, [&](error_code ec) { second = ec; });
    ctx.restart();
    ctx.run();
    REQUIRE(second);
    CHECK_FALSE(*second);
    CHECK_FALSE(e.server.find("thing-1", "job-1", 1));
    CHECK(stub.requests().size() == 1);  // one fetch served both calls
}

namespace {

// STS on loopback: checks the SigV4 signature ("sts") of every AssumeRole against the keys it
// knows, answers with the credentials registered for the role, or an XML error.
struct sts_fake {
    std::mutex m;
    std::map<std::string, iotjobs::credentials> keys;   // access key id -> the set (secret, token)
    std::map<std::string, iotjobs::credentials> roles;  // role ARN -> credentials it hands out
    std::vector<std::string> calls;                     // "AKID -> RoleArn [ExternalId] [RoleSessionName]"
    std::string failure;                                // first problem seen
    std::string web_token = "eyJ.web.identity.token";   // the only web identity token accepted
    http_stub stub{[this](const http_stub::request& r) { return handle(r); }};

    static std::string form_value(const std::string& body, const std::string& key) {
        const std::string k = key + "=";
        std::size_t pos = 0;
        while (pos < body.size()) {
            auto end = body.find('&', pos);
            if (end == std::string::npos) end = body.size();
            if (body.compare(pos, k.size(), k) == 0) {
                std::string v = body.substr(pos + k.size(), end - pos - k.size()), out;
                for (std::size_t i = 0; i < v.size(); ++i)
                    if (v[i] == '%' && i + 2 < v.size() + 0) {
                        out += static_cast<char>(std::stoi(v.substr(i + 1, 2), nullptr, 16));
                        i += 2;
                    } else {
                        out += v[i];
                    }
                return out;
            }
            pos = end + 1;
        }
        return {};
    }

    http_stub::response handle(const http_stub::request& r) {
        std::lock_guard lk(m);
        auto error = [](unsigned status, const std::string& code, const std::string& msg) -> http_stub::response {
            return {
                status,
                "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>" +
                    code + "</Code><Message>" + msg + "</Message></Error><RequestId>r-1</RequestId></ErrorResponse>"};
        };
        if (form_value(r.body, "Action") == "AssumeRoleWithWebIdentity") {
            if (!r.header("authorization").empty())
                return error(400, "InvalidRequest", "web identity calls are not signed");
            const std::string role = form_value(r.body, "RoleArn");
            calls.push_back("web -> " + role + " [" + form_value(r.body, "RoleSessionName") + "]");
            if (form_value(r.body, "WebIdentityToken") != web_token)
                return error(400, "InvalidIdentityToken",
                             "Couldn't retrieve verification key from your identity provider");
            auto it = roles.find(role);
            if (it == roles.end())
                return error(403, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity");
            const auto& c = it->second;
            return {200,
                    "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>" +
                        c.access_key_id + "</AccessKeyId><SecretAccessKey>" + c.secret_access_key +
                        "</SecretAccessKey><SessionToken>" + c.session_token + "</SessionToken><Expiration>" +
                        iso(std::chrono::system_clock::now() + 1h) +
                        "</Expiration></Credentials></AssumeRoleWithWebIdentityResult></"
                        "AssumeRoleWithWebIdentityResponse>"};
        }
        iotjobs::sigv4::parsed_authorization auth;
        const std::string authz = r.header("authorization");
        if (r.method != "POST" || !iotjobs::sigv4::parse_authorization(authz, auth) || auth.service != "sts")
            return error(400, "InvalidRequest", "not a signed STS request");
        auto key = keys.find(std::string(auth.access_key_id));
        if (key == keys.end())
            return error(403, "InvalidClientTokenId", "The security token included in the request is invalid.");
        // Re-sign what was received with the key we know: the same Authorization or a refusal.
        std::vector<iotjobs::sigv4::header> hs;
        for (const auto& [n, v] : r.headers)
            if (n == "host" || n == "content-type" || n == "x-amz-date" || n == "x-amz-security-token")
                hs.push_back({n, v});
        iotjobs::sigv4::signing_input in;
        in.request.method = "POST";
        in.request.path = r.target;
        in.request.headers = hs;
        in.request.payload = r.body;
        in.credentials = {key->second.access_key_id, key->second.secret_access_key, key->second.session_token};
        in.region = auth.region;
        in.service = "sts";
        std::tm tm{};
        const std::string d = r.header("x-amz-date");
        strptime(d.c_str(), "%Y%m%dT%H%M%SZ", &tm);
        in.time =
            std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::from_time_t(timegm(&tm)));
        if (iotjobs::sigv4::sign_headers(in).authorization != authz ||
            r.header("x-amz-security-token") != key->second.session_token)
            return error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match");
        if (form_value(r.body, "Action") != "AssumeRole" || form_value(r.body, "Version") != "2011-06-15")
            return error(400, "InvalidAction", "unexpected action");
        const std::string role = form_value(r.body, "RoleArn");
        calls.push_back(std::string(auth.access_key_id) + " -> " + role + " [" + form_value(r.body, "ExternalId") +
                        "] [" + form_value(r.body, "RoleSessionName") + "]");
        auto it = roles.find(role);
        if (it == roles.end())
            return error(403, "AccessDenied", "User is not authorized to perform: sts:AssumeRole on " + role);
        const auto& c = it->second;
        return {200,
                "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult>"
                "<AssumedRoleUser><AssumedRoleId>AROA:s</AssumedRoleId><Arn>" +
                    role +
                    "</Arn></AssumedRoleUser>"
                    "<Credentials><AccessKeyId>" +
                    c.access_key_id + "</AccessKeyId><SecretAccessKey>" + c.secret_access_key +
                    "</SecretAccessKey><SessionToken>" + c.session_token + "</SessionToken><Expiration>" +
                    iso(std::chrono::system_clock::now() + 1h) +
                    "</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>"};
    }
};

}  // namespace

TEST_CASE("assume-role: source_profile keys, then a chained role, signed for sts; the call signs with the role's set") {
    sts_fake sts;
    sts.keys["AKIDBASE"] = {"AKIDBASE", "base/secret+key", ""};
    sts.keys["ASIAFIRST"] = {"ASIAFIRST", "first-secret", "first-token"};
    sts.roles["arn:aws:iam::123456789012:role/First"] = {"ASIAFIRST", "first-secret", "first-token"};
    sts.roles["arn:aws:iam::123456789012:role/Second"] = {"ASIASECOND", "second-secret", "second-token"};
    temp_dir d;
    test_env env;
    env.vars["AWS_ENDPOINT_URL_STS"] = sts.stub.url();
    env.vars["AWS_CONFIG_FILE"] =
        d.write("config",
                "[profile base]\nregion = eu-west-1\n"
                "[profile first]\nrole_arn = arn:aws:iam::123456789012:role/First\nsource_profile = base\n"
                "external_id = ext-42\nrole_session_name = ops session\n"
                "[profile second]\nrole_arn = arn:aws:iam::123456789012:role/Second\nsource_profile = first\n"
                "[profile loop-a]\nrole_arn = arn:aws:iam::123456789012:role/A\nsource_profile = loop-b\n"
                "[profile loop-b]\nrole_arn = arn:aws:iam::123456789012:role/B\nsource_profile = loop-a\n"
                "[profile denied]\nrole_arn = arn:aws:iam::123456789012:role/Nope\nsource_profile = base\n");
    env.vars["AWS_SHARED_CREDENTIALS_FILE"] =
        d.write("credentials", "[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = base/secret+key\n");

    env.vars["AWS_PROFILE"] = "first";
    {
        endpoint e({{"ASIAFIRST", {"first-secret", "first-token"}}});
        iotjobs::diagnostics diag;
        check_deleted_with(e, delete_with(e, env, diag), diag);
    }
    {
        std::lock_guard lk(sts.m);
        REQUIRE(sts.calls.size() == 1);
        CHECK(sts.calls[0] == "AKIDBASE -> arn:aws:iam::123456789012:role/First [ext-42] [ops session]");
    }
    env.vars["AWS_PROFILE"] = "second";
    {
        endpoint e({{"ASIASECOND", {"second-secret", "second-token"}}});
        iotjobs::diagnostics diag;
        check_deleted_with(e, delete_with(e, env, diag), diag);
    }
    {
        std::lock_guard lk(sts.m);
        REQUIRE(sts.calls.size() == 3);
        CHECK(sts.calls[1].starts_with("AKIDBASE -> arn:aws:iam::123456789012:role/First"));
        CHECK(sts.calls[2].starts_with("ASIAFIRST -> arn:aws:iam::123456789012:role/Second []"));
    }

    iotjobs::detail::resolved_credentials r;
    std::string why;
    auto p = iotjobs::detail::make_assume_role_provider("loop-a", env.lookup());
    CHECK(provider_get(*p, r, why) == client_errc::credentials_error);
    CHECK(has(why, "cycle"));
    p = iotjobs::detail::make_assume_role_provider("denied", env.lookup());
    CHECK(provider_get(*p, r, why) == client_errc::credentials_error);
    CHECK(has(why, "HTTP 403 AccessDenied: User is not authorized"));
    CHECK_FALSE(has(why, "base/secret"));
    p = iotjobs::detail::make_assume_role_provider("base", env.lookup());
    CHECK(provider_get(*p, r, why) == client_errc::no_credentials);  // not an assume-role profile

    // A source profile whose keys come from its credential_process.
    const std::string script = d.write("src.sh",
                                       "#!/bin/sh\necho '{\"Version\": 1, \"AccessKeyId\": \"AKIDBASE\", "
                                       "\"SecretAccessKey\": \"base/secret+key\"}'\n");
    env.vars["AWS_CONFIG_FILE"] =
        d.write("config2",
                "[profile procsrc]\ncredential_process = /bin/sh " + script +
                    "\n"
                    "[profile viaproc]\nrole_arn = arn:aws:iam::123456789012:role/First\nsource_profile = procsrc\n");
    p = iotjobs::detail::make_assume_role_provider("viaproc", env.lookup());
    REQUIRE_FALSE(provider_get(*p, r, why));
    CHECK(r.value.access_key_id == "ASIAFIRST");
    std::lock_guard lk(sts.m);
    CHECK(sts.failure.empty());
}

TEST_CASE("assume-role over https: the STS endpoint's certificate is verified (AWS_CA_BUNDLE)") {
    // The fake IoT endpoint over TLS stands in for an https STS host: it refuses the unknown key
    // with an HTTP 403, which shows that the TLS session (verified against its CA) carried the request.
    fake::server_options o;
    o.tls = true;
    fake::server tls_host(o);
    tls_host.start();
    temp_dir d;
    const std::string ca = (d.path / "ca.pem").string();
    tls_host.write_ca_file(ca);
    test_env env;
    env.vars["AWS_ENDPOINT_URL_STS"] = tls_host.base_url();
    env.vars["AWS_CONFIG_FILE"] =
        d.write("config",
                "[profile base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = base-secret\n"
                "[profile r]\nrole_arn = arn:aws:iam::123456789012:role/R\nsource_profile = base\n");
    iotjobs::detail::resolved_credentials r;
    std::string why;
    auto p = iotjobs::detail::make_assume_role_provider("r", env.lookup());
    CHECK(provider_get(*p, r, why) == client_errc::credentials_error);  // not trusted: the system store
    INFO(why);
    CHECK(has(why, "certificate verify failed"));
    env.vars["AWS_CA_BUNDLE"] = ca;
    p = iotjobs::detail::make_assume_role_provider("r", env.lookup());
    CHECK(provider_get(*p, r, why) == client_errc::credentials_error);
    CHECK(has(why, ": HTTP 403"));
    CHECK(tls_host.stats().tls_handshakes >= 1);
}

TEST_CASE("web identity: token file and role from the environment, else from the profile; unsigned STS call") {
    sts_fake sts;
    sts.roles["arn:aws:iam::123456789012:role/Pod"] = {"ASIAWEB", "web-secret", "web-session"};
    temp_dir d;
    test_env env;
    env.vars["AWS_ENDPOINT_URL_STS"] = sts.stub.url();
    env.vars["AWS_WEB_IDENTITY_TOKEN_FILE"] = d.write("token", "eyJ.web.identity.token\n");
    env.vars["AWS_ROLE_ARN"] = "arn:aws:iam::123456789012:role/Pod";
    env.vars["AWS_ROLE_SESSION_NAME"] = "pod-1";
    {
        endpoint e({{"ASIAWEB", {"web-secret", "web-session"}}});
        iotjobs::diagnostics diag;
        check_deleted_with(e, delete_with(e, env, diag), diag);
    }
    {
        std::lock_guard lk(sts.m);
        REQUIRE(sts.calls.size() == 1);
        CHECK(sts.calls[0] == "web -> arn:aws:iam::123456789012:role/Pod [pod-1]");
    }
    // The profile's keys, with the variables gone.
    env.vars.erase("AWS_WEB_IDENTITY_TOKEN_FILE");
    env.vars.erase("AWS_ROLE_ARN");
    env.vars.erase("AWS_ROLE_SESSION_NAME");
    env.vars["AWS_CONFIG_FILE"] =
        d.write("config", "[default]\nweb_identity_token_file = " + (d.path / "token").string() +
                              "\nrole_arn = arn:aws:iam::123456789012:role/Pod\n");
    {
        endpoint e({{"ASIAWEB", {"web-secret", "web-session"}}});
        iotjobs::diagnostics diag;
        check_deleted_with(e, delete_with(e, env, diag), diag);
    }
    // A rejected token: the service's error, never the token.
    d.write("token", "eyJ.stale.token");
    auto p = iotjobs::detail::make_web_identity_provider({}, env.lookup());
    iotjobs::detail::resolved_credentials r;
    std::string why;
    CHECK(provider_get(*p, r, why) == client_errc::credentials_error);
    CHECK(has(why, "HTTP 400 InvalidIdentityToken"));
    CHECK_FALSE(has(why, "stale"));
}

TEST_CASE("web identity through HTTP_PROXY: the STS call tunnels through the proxy; loopback STS goes direct") {
    sts_fake sts;
    sts.roles["arn:aws:iam::123456789012:role/Pod"] = {"ASIAWEB", "web-secret", "web-session"};
    iotjobs::test::connect_proxy proxy;
    temp_dir d;
    test_env env;
    // A name the machine cannot resolve: only the proxy (which maps every tunnel to loopback) can.
    env.vars["AWS_ENDPOINT_URL_STS"] = "http://sts.proxy-test.invalid:" + std::to_string(sts.stub.port);
    env.vars["AWS_WEB_IDENTITY_TOKEN_FILE"] = d.write("token", "eyJ.web.identity.token\n");
    env.vars["AWS_ROLE_ARN"] = "arn:aws:iam::123456789012:role/Pod";
    env.vars["HTTP_PROXY"] = proxy.url(true);
    env.vars["NO_PROXY"] = "127.0.0.1";  // the IoT endpoint (the fake) directly
    {
        endpoint e({{"ASIAWEB", {"web-secret", "web-session"}}});
        iotjobs::diagnostics diag;
        check_deleted_with(e, delete_with(e, env, diag), diag);
    }
    CHECK(proxy.log() == std::vector<std::string>{"CONNECT sts.proxy-test.invalid:" + std::to_string(sts.stub.port)});
    // A loopback STS endpoint is never proxied for the providers (the SDKs' rule), even when
    // NO_PROXY does not list it.
    env.vars.erase("NO_PROXY");
    env.vars["AWS_ENDPOINT_URL_STS"] = sts.stub.url();
    auto p = iotjobs::detail::make_web_identity_provider({}, env.lookup());
    iotjobs::detail::resolved_credentials r;
    std::string why;
    CHECK(!provider_get(*p, r, why));
    CHECK(proxy.log().size() == 1);
    {
        std::lock_guard lk(sts.m);
        CHECK(sts.calls.size() == 2);
    }
    // A proxy that refuses the tunnel: the provider's message names the proxy (password masked)
    // and its status.
    iotjobs::test::connect_proxy refusing({}, 403);
    env.vars["HTTP_PROXY"] = refusing.url(true);
    env.vars["AWS_ENDPOINT_URL_STS"] = "http://sts.proxy-test.invalid:" + std::to_string(sts.stub.port);
    p = iotjobs::detail::make_web_identity_provider({}, env.lookup());
    CHECK(provider_get(*p, r, why) == client_errc::credentials_error);
    CHECK(has(why, "the proxy http://proxy-user:***@127.0.0.1:" + std::to_string(refusing.port()) +
                       " refused CONNECT sts.proxy-test.invalid:" + std::to_string(sts.stub.port) + ": HTTP 403"));
    CHECK_FALSE(has(why, iotjobs::test::proxy_password));
}

namespace {

std::string sha1_hex(const std::string& s) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest(s.data(), s.size(), md, &n, EVP_sha1(), nullptr);
    std::string out;
    char b[3];
    for (unsigned i = 0; i < n; ++i) {
        std::snprintf(b, sizeof b, "%02x", md[i]);
        out += b;
    }
    return out;
}

}  // namespace

TEST_CASE("SSO: sso-session and legacy profiles, the token of the aws sso login cache, GetRoleCredentials") {
    std::atomic<int> calls{0};
    http_stub portal([&](const http_stub::request& r) -> http_stub::response {
        ++calls;
        if (r.method != "GET" || r.target != "/federation/credentials?account_id=123456789012&role_name=ReadOnly")
            return {404, R"({"message":"unexpected request"})"};
        if (r.header("x-amz-sso_bearer_token") != "sso-access-token-value")
            return {401, R"({"message":"Session token not found or invalid"})"};
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            (std::chrono::system_clock::now() + 1h).time_since_epoch())
                            .count();
        return {200, R"({"roleCredentials":{"accessKeyId":"ASIASSO","secretAccessKey":"sso-secret",)"
                     R"("sessionToken":"sso-session-token","expiration":)" +
                         std::to_string(ms) + "}}"};
    });
    temp_dir d;
    test_env env;
    env.vars["HOME"] = d.path.string();
    env.vars["AWS_ENDPOINT_URL_SSO"] = portal.url();
    env.vars["AWS_CONFIG_FILE"] =
        d.write("config",
                "[profile sso]\nsso_session = my-sso\nsso_account_id = 123456789012\nsso_role_name = ReadOnly\n"
                "[sso-session my-sso]\nsso_start_url = https://example.awsapps.com/start\nsso_region = us-east-1\n"
                "[profile legacy]\nsso_start_url = https://legacy.awsapps.com/start\nsso_region = eu-west-1\n"
                "sso_account_id = 123456789012\nsso_role_name = ReadOnly\n"
                "[profile partial]\nsso_account_id = 123456789012\n");
    fs::create_directories(d.path / ".aws/sso/cache");
    const auto future = iso(std::chrono::system_clock::now() + 1h);
    const std::string token_json =
        R"({"accessToken":"sso-access-token-value","expiresAt":")" + future + R"(","region":"us-east-1"})";
    d.write(".aws/sso/cache/" + sha1_hex("my-sso") + ".json", token_json);

    env.vars["AWS_PROFILE"] = "sso";
    {
        endpoint e({{"ASIASSO", {"sso-secret", "sso-session-token"}}});
        iotjobs::diagnostics diag;
        check_deleted_with(e, delete_with(e, env, diag), diag);
    }
    CHECK(calls == 1);

    iotjobs::detail::resolved_credentials r;
    std::string why;
    // Legacy profile: the cache file is named after the start URL; none yet.
    auto p = iotjobs::detail::make_sso_provider("legacy", env.lookup());
    CHECK(provider_get(*p, r, why) == client_errc::credentials_error);
    CHECK(has(why, "run aws sso login"));
    d.write(".aws/sso/cache/" + sha1_hex("https://legacy.awsapps.com/start") + ".json", token_json);
    REQUIRE_FALSE(provider_get(*p, r, why));
    CHECK(r.value.access_key_id == "ASIASSO");
    CHECK(r.source == "sso (profile legacy, role ReadOnly)");
    // An expired token: log in again (the token never appears in the message).
    d.write(".aws/sso/cache/" + sha1_hex("my-sso") + ".json",
            R"({"accessToken":"sso-access-token-value","expiresAt":"2001-01-01T00:00:00Z"})");
    p = iotjobs::detail::make_sso_provider("sso", env.lookup());
    CHECK(provider_get(*p, r, why) == client_errc::credentials_error);
    CHECK(has(why, "aws sso login"));
    CHECK_FALSE(has(why, "sso-access-token-value"));
    // A token the portal refuses.
    d.write(".aws/sso/cache/" + sha1_hex("my-sso") + ".json",
            R"({"accessToken":"revoked-token","expiresAt":")" + future + R"("})");
    CHECK(provider_get(*p, r, why) == client_errc::credentials_error);
    CHECK(has(why, "HTTP 401"));
    CHECK_FALSE(has(why, "revoked-token"));
    p = iotjobs::detail::make_sso_provider("partial", env.lookup());
    CHECK(provider_get(*p, r, why) == client_errc::credentials_error);
    CHECK(has(why, "missing required configuration: sso_role_name, sso_start_url, sso_region"));
}
