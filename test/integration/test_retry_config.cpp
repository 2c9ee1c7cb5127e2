// Retry settings from the environment (AWS_MAX_ATTEMPTS, AWS_RETRY_MODE) and the debug log of
// the attempt loop (what --debug shows): each attempt, why it was retried, and never a secret.
#include "fake/server.hpp"

#include <iotjobs/client.hpp>
#include <iotjobs/delete_job_execution.hpp>

#include <boost/asio/io_context.hpp>

#include <boost/system/system_error.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

namespace asio = boost::asio;
namespace fake = iotjobs::fake;
using iotjobs::error_code;
using iotjobs::service_errc;
using namespace std::chrono_literals;

namespace {

constexpr std::string_view secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const iotjobs::credentials test_creds{"AKIDEXAMPLE", std::string(secret), ""};

// Sets (or unsets, with nullopt) one environment variable for the guard's lifetime.
class env_guard {
public:
    env_guard(const char* name, std::optional<std::string> value) : name_(name) {
        if (const char* old = std::getenv(name)) old_ = old;
        if (value)
            ::setenv(name, value->c_str(), 1);
        else
            ::unsetenv(name);
    }
    ~env_guard() {
        if (old_)
            ::setenv(name_, old_->c_str(), 1);
        else
            ::unsetenv(name_);
    }
    env_guard(const env_guard&) = delete;
    env_guard& operator=(const env_guard&) = delete;

private:
    const char* name_;
    std::optional<std::string> old_;
};

// A base configuration that leaves nothing for the environment to fill but the retry settings.
iotjobs::client_config base_for(const fake::server& s) {
    iotjobs::client_config cfg;
    cfg.region = "us-east-1";
    cfg.endpoint_url = s.base_url();
    cfg.static_credentials = test_creds;
    cfg.retry.base_delay = 5ms;
    return cfg;
}

fake::execution exec(std::string thing, std::int64_t n) {
    fake::execution e;
    e.thing_name = std::move(thing);
    e.job_id = "job-1";
    e.execution_number = n;
    e.status = fake::execution_status::succeeded;
    return e;
}

fake::fault_rule fault(std::string_view spec) {
    std::string err;
    auto r = fake::parse_fault(spec, err);
    REQUIRE_MESSAGE(r.has_value(), err);
    return *r;
}

error_code run_delete(asio::io_context& ctx, iotjobs::client& c, iotjobs::delete_job_execution_request r,
                      iotjobs::diagnostics& diag) {
    error_code result = make_error_code(iotjobs::client_errc::bad_response);
    bool done = false;
    iotjobs::delete_job_execution(c, std::move(r), diag, [&](error_code ec) {
        result = ec;
        done = true;
    });
    ctx.restart();
    ctx.run_for(30s);
    REQUIRE(done);
    return result;
}

bool is_invalid_configuration(const boost::system::system_error& e) {
    return e.code().value() == static_cast<int>(iotjobs::client_errc::invalid_configuration) &&
           std::string_view(e.code().category().name()) == iotjobs::client_category().name();
}

}  // namespace

TEST_CASE("retry settings: AWS_MAX_ATTEMPTS and AWS_RETRY_MODE through config_from_environment") {
    fake::server s;
    s.start();
    env_guard ca("AWS_CA_BUNDLE", std::nullopt);

    SUBCASE("unset: standard mode, 3 attempts") {
        env_guard a("AWS_MAX_ATTEMPTS", std::nullopt);
        env_guard m("AWS_RETRY_MODE", std::nullopt);
        auto cfg = iotjobs::config_from_environment(base_for(s));
        CHECK(cfg.retry.max_attempts == 3);
        CHECK(cfg.retry.mode == iotjobs::retry_mode::standard);
    }
    SUBCASE("set") {
        env_guard a("AWS_MAX_ATTEMPTS", "5");
        {
            env_guard m("AWS_RETRY_MODE", "adaptive");
            auto cfg = iotjobs::config_from_environment(base_for(s));
            CHECK(cfg.retry.max_attempts == 5);
            CHECK(cfg.retry.mode == iotjobs::retry_mode::adaptive);
        }
        {
            env_guard m("AWS_RETRY_MODE", "standard");
            CHECK(iotjobs::config_from_environment(base_for(s)).retry.mode == iotjobs::retry_mode::standard);
        }
        {
            env_guard m("AWS_RETRY_MODE", "legacy");
            CHECK(iotjobs::config_from_environment(base_for(s)).retry.mode == iotjobs::retry_mode::legacy);
        }
    }
    SUBCASE("invalid values are configuration errors naming the variable") {
        env_guard m("AWS_RETRY_MODE", std::nullopt);
        for (const char* bad : {"0", "abc", "-1", "3x", " 3"}) {
            CAPTURE(bad);
            env_guard a("AWS_MAX_ATTEMPTS", bad);
            try {
                (void)iotjobs::config_from_environment(base_for(s));
                CHECK(false);
            } catch (const boost::system::system_error& e) {
                CHECK(is_invalid_configuration(e));
                CHECK(std::string(e.what()).find("AWS_MAX_ATTEMPTS") != std::string::npos);
            }
        }
        env_guard a("AWS_MAX_ATTEMPTS", std::nullopt);
        env_guard m2("AWS_RETRY_MODE", "fast");
        try {
            (void)iotjobs::config_from_environment(base_for(s));
            CHECK(false);
        } catch (const boost::system::system_error& e) {
            CHECK(is_invalid_configuration(e));
            CHECK(std::string(e.what()).find("AWS_RETRY_MODE") != std::string::npos);
        }
    }
    SUBCASE("the client makes as many attempts as AWS_MAX_ATTEMPTS says") {
        env_guard m("AWS_RETRY_MODE", std::nullopt);
        s.add_execution(exec("thing-1", 1));
        s.set_faults({fault("unavailable=always")});
        asio::io_context ctx;
        iotjobs::diagnostics diag;
        for (unsigned n : {1u, 2u, 4u}) {
            CAPTURE(n);
            env_guard a("AWS_MAX_ATTEMPTS", std::to_string(n));
            iotjobs::client c(ctx.get_executor(), iotjobs::config_from_environment(base_for(s)));
            auto before = s.stats().count("DeleteJobExecution", "ServiceUnavailableException");
            iotjobs::delete_job_execution_request r{"thing-1", "job-1", 1, {}, {}};
            CHECK(run_delete(ctx, c, r, diag) == service_errc::service_unavailable);
            CHECK(diag.attempts() == n);
            CHECK(s.stats().count("DeleteJobExecution", "ServiceUnavailableException") == before + n);
        }
    }
    SUBCASE("AWS_RETRY_MODE=adaptive: the client retries throttling and succeeds") {
        env_guard a("AWS_MAX_ATTEMPTS", std::nullopt);
        env_guard m("AWS_RETRY_MODE", "adaptive");
        s.add_execution(exec("thing-1", 1));
        s.set_faults({fault("throttle=first:1")});
        asio::io_context ctx;
        iotjobs::client c(ctx.get_executor(), iotjobs::config_from_environment(base_for(s)));
        CHECK(c.config().retry.mode == iotjobs::retry_mode::adaptive);
        iotjobs::diagnostics diag;
        iotjobs::delete_job_execution_request r{"thing-1", "job-1", 1, {}, {}};
        CHECK(!run_delete(ctx, c, r, diag));
        CHECK(diag.attempts() == 2);
        CHECK(c.stats().throttled == 1);
    }
    // The guards restored the caller's environment.
}

TEST_CASE("retry diagnostics: the debug log shows each attempt and why it was retried, never a secret") {
    fake::server_options o;
    const std::string temp_secret = "tEmPsEcReT/0123456789abcdefABCDEF0123456789";
    const std::string token = "SeSsIoNtOkEn+0123456789/abcdefghijklmnopqrstuvwxyz==";
    o.credentials["AKIDTEMPEXAMPLE"] = {temp_secret, token};
    fake::server s(o);
    s.start();
    s.add_execution(exec("thing-1", 1));
    s.add_execution(exec("thing-2", 2));
    asio::io_context ctx;

    std::mutex m;
    std::vector<std::string> lines;
    iotjobs::client_config cfg;
    cfg.region = "us-east-1";
    cfg.endpoint_url = s.base_url();
    cfg.retry.base_delay = 5ms;
    cfg.level = iotjobs::log_level::debug;
    cfg.log = [&](iotjobs::log_level, std::string_view msg) {
        std::lock_guard lk(m);
        lines.emplace_back(msg);
    };
    auto count = [&](std::string_view needle) {
        std::size_t n = 0;
        for (const auto& l : lines)
            if (l.find(needle) != std::string::npos) ++n;
        return n;
    };
    auto no_secrets = [&](std::string_view secret_value, std::string_view token_value) {
        for (const auto& l : lines) {
            CAPTURE(l);
            CHECK(l.find(secret_value) == std::string::npos);
            CHECK(l.find("Signature=") == std::string::npos);
            CHECK(l.find("AWS4-HMAC-SHA256 Credential") == std::string::npos);  // an Authorization value
            if (!token_value.empty()) CHECK(l.find(token_value) == std::string::npos);
        }
    };

    SUBCASE("long-term credentials, throttled twice then success") {
        cfg.static_credentials = test_creds;
        iotjobs::client c(ctx.get_executor(), cfg);
        s.set_faults({fault("throttle=first:2")});
        iotjobs::diagnostics diag;
        iotjobs::delete_job_execution_request r{"thing-1", "job-1", 1, {}, {}};
        REQUIRE(!run_delete(ctx, c, r, diag));
        CHECK(diag.attempts() == 3);
        CHECK(count("attempt 1: HTTP 400 ThrottlingException") == 1);
        CHECK(count("attempt 2: HTTP 400 ThrottlingException") == 1);
        CHECK(count("attempt 3: HTTP 200") == 1);
        CHECK(count("retrying (throttling: ") == 2);
        CHECK(count(" ms") >= 2);
        CHECK(count("CanonicalRequest:") == 3);  // each attempt is signed afresh
        no_secrets(secret, {});
    }
    SUBCASE("session credentials, a 503 and a reset") {
        cfg.static_credentials = {"AKIDTEMPEXAMPLE", temp_secret, token};
        iotjobs::client c(ctx.get_executor(), cfg);
        s.set_faults({fault("unavailable=first:1"), fault("reset-before=every:2")});
        iotjobs::diagnostics diag;
        iotjobs::delete_job_execution_request r{"thing-2", "job-1", 2, {}, {}};
        CHECK(!run_delete(ctx, c, r, diag));
        CHECK(diag.attempts() == 3);
        CHECK(count("attempt 1: HTTP 503 ServiceUnavailableException") == 1);
        CHECK(count("attempt 2: transport error") == 1);
        CHECK(count("retrying (transient: ") == 2);
        no_secrets(temp_secret, token);
    }
}
