// The credentials layer without network: command splitting, ISO 8601, the JSON answers, and the
// cache (refresh windows, single flight, failed refreshes) driven by a mock provider and clock.
#include "credentials/cache.hpp"
#include "credentials/http_fetch.hpp"
#include "credentials/parse.hpp"
#include "credentials/provider.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <doctest/doctest.h>

#include <memory>

using namespace iotjobs;
using namespace iotjobs::detail;
namespace asio = boost::asio;
using namespace std::chrono_literals;
using sys_clock = std::chrono::system_clock;

namespace {

std::vector<std::string> split_ok(std::string_view s) {
    std::string err;
    auto r = shell_split(s, err);
    REQUIRE(r);
    return *r;
}

}  // namespace

TEST_CASE("credentials: shell_split follows shlex.split (POSIX mode)") {
    using v = std::vector<std::string>;
    CHECK(split_ok("aws-vault exec prod --json") == v{"aws-vault", "exec", "prod", "--json"});
    CHECK(split_ok("  a\t b  ") == v{"a", "b"});
    CHECK(split_ok("'/opt/my tools/get creds' --x") == v{"/opt/my tools/get creds", "--x"});
    CHECK(split_ok(R"("a \"quoted\" word" b)") == v{R"(a "quoted" word)", "b"});
    CHECK(split_ok(R"("keep \n and \\" x)") == v{R"(keep \n and \)", "x"});
    CHECK(split_ok(R"(a\ b c)") == v{"a b", "c"});
    CHECK(split_ok(R"('it'"'"'s')") == v{"it's"});
    CHECK(split_ok("''") == v{""});
    CHECK(split_ok("").empty());
    std::string err;
    CHECK_FALSE(shell_split("'open", err));
    CHECK(err == "No closing quotation");
    CHECK_FALSE(shell_split("\"open", err));
    CHECK_FALSE(shell_split("trailing\\", err));
    CHECK(err == "No escaped character");
    // Backslash-newline is a line continuation: it joins, and never makes an empty argument
    // (it made one: "a \\\n b" gave {"a", "", "b"}; a property of the shell_split fuzz target).
    CHECK(split_ok("a \\\n b") == v{"a", "b"});
    CHECK(split_ok("cmd\\\nline") == v{"cmdline"});
    CHECK(split_ok("\\\n").empty());
}

TEST_CASE("credentials: parse_iso8601") {
    using namespace std::chrono;
    const auto base = sys_days(year(2026) / 12 / 7) + 5h + 6min + 7s;
    CHECK(parse_iso8601("2026-12-07T05:06:07Z") == base);
    CHECK(parse_iso8601("2026-12-07t05:06:07z") == base);
    CHECK(parse_iso8601("2026-12-07T05:06:07.250Z") == base + 250ms);
    CHECK(parse_iso8601("2026-12-07T07:06:07+02:00") == base);
    CHECK(parse_iso8601("2026-12-07T04:06:07-0100") == base);
    CHECK_FALSE(parse_iso8601("2026-12-07T05:06:07"));  // no zone
    CHECK_FALSE(parse_iso8601("2026-13-07T05:06:07Z"));
    CHECK_FALSE(parse_iso8601("2026-02-30T05:06:07Z"));
    CHECK_FALSE(parse_iso8601("2026-12-07T05:06:07Zjunk"));
    CHECK_FALSE(parse_iso8601("tomorrow"));
    // Years system_clock's nanoseconds cannot hold (or whose difference from now overflows them)
    // are refused, not converted with an int64 overflow.
    CHECK_FALSE(parse_iso8601("9999-12-31T23:59:59Z"));
    CHECK_FALSE(parse_iso8601("1000-01-01T00:00:00Z"));
    CHECK_FALSE(parse_iso8601("2200-01-01T00:00:00Z"));
    CHECK_FALSE(parse_iso8601("1900-01-01T00:30:00+01:00"));
    CHECK(parse_iso8601("2199-12-31T23:59:59.999Z") == sys_days(year(2200) / 1 / 1) - 1ms);
    CHECK(parse_iso8601("1900-01-01T00:00:00Z") == sys_days(year(1900) / 1 / 1));
}

TEST_CASE("credentials: parse_fetch_url") {
    http_fetch_request r;
    bool https = false;
    std::string why;
    REQUIRE(parse_fetch_url("http://[fd00:ec2::23]:8080?x=1", r, https, why));
    CHECK(r.host == "fd00:ec2::23");
    CHECK(r.port == "8080");
    CHECK(r.target == "/?x=1");
    CHECK_FALSE(https);
    REQUIRE(parse_fetch_url("https://sts.us-east-1.amazonaws.com", r, https, why));
    CHECK(r.port == "443");
    CHECK(r.target == "/");
    // Ports outside 1-65535 and spaces or control characters (CR LF would reach the request) are refused.
    for (const char* bad : {"http://h:0/", "http://h:65536/", "http://h:99999999999999999999/", "http://h/a b",
                            "http://h/\r\nX-Injected: 1", "http://h\t/", "https://u@h/", "ftp://h/"}) {
        http_fetch_request b;
        CHECK_FALSE(parse_fetch_url(bad, b, https, why));
        CHECK_FALSE(why.empty());
    }
}

TEST_CASE("credentials: STS XML and SSO answers") {
    using namespace std::chrono;
    resolved_credentials r;
    std::string why;
    const std::string ok =
        "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>AK</AccessKeyId>"
        "<SecretAccessKey>S&amp;K</SecretAccessKey><SessionToken>ST</SessionToken>"
        "<Expiration>2026-12-07T06:57:19Z</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>";
    REQUIRE(parse_sts_credentials_xml(ok, r, why));
    CHECK(r.value.access_key_id == "AK");
    CHECK(r.value.secret_access_key == "S&K");
    CHECK(r.expiration == sys_days(year(2026) / 12 / 7) + 6h + 57min + 19s);
    // An empty key is no credentials (it was accepted before).
    resolved_credentials e;
    CHECK_FALSE(
        parse_sts_credentials_xml("<Credentials><AccessKeyId></AccessKeyId><SecretAccessKey>S</SecretAccessKey>"
                                  "<SessionToken>T</SessionToken><Expiration>2026-12-07T06:57:19Z</Expiration>"
                                  "</Credentials>",
                                  e, why));
    CHECK(e.value.secret_access_key.empty());
    CHECK(sts_error_summary("<Error><Code>AccessDenied</Code><Message>no &lt;way&gt;</Message></Error>") ==
          " AccessDenied: no <way>");

    std::string token;
    std::optional<sys_clock::time_point> expires;
    REQUIRE(parse_sso_token_cache(R"({"accessToken":"tok","expiresAt":"2026-12-07T13:00:00Z"})", token, expires));
    CHECK(token == "tok");
    CHECK(expires == sys_days(year(2026) / 12 / 7) + 13h);
    REQUIRE(parse_sso_token_cache(R"({"accessToken":"tok","expiresAt":"2026-12-07T13:00:00UTC"})", token, expires));
    CHECK_FALSE(expires);
    CHECK_FALSE(parse_sso_token_cache(R"({"accessToken":"tok","expiresAt":1})", token, expires));

    resolved_credentials s;
    REQUIRE(parse_role_credentials_json(
        R"({"roleCredentials":{"accessKeyId":"AK","secretAccessKey":"SK","sessionToken":"ST","expiration":1765112400000}})",
        s));
    CHECK(s.expiration == sys_clock::time_point(1765112400s));
    REQUIRE(parse_role_credentials_json(
        R"({"roleCredentials":{"accessKeyId":"AK","secretAccessKey":"SK","expiration":1.5e12}})", s));
    CHECK(s.expiration == sys_clock::time_point(1500000000s));
    // Expirations beyond what system_clock holds were converted with an overflow (a double such as
    // 1e300 with undefined behaviour); now they are a bad answer.
    for (const char* exp :
         {"1e300", "-1e300", "18446744073709551615", "9223372036854775807", "-9223372036854775808", "7258118400000"}) {
        resolved_credentials b;
        CHECK_FALSE(parse_role_credentials_json(
            std::string(R"({"roleCredentials":{"accessKeyId":"AK","secretAccessKey":"SK","expiration":)") + exp + "}}",
            b));
        CHECK_FALSE(b.expiration);
    }
}

TEST_CASE("credentials: parse_credentials_json") {
    resolved_credentials r;
    std::string why;
    REQUIRE_FALSE(parse_credentials_json(
        R"({"Version":1,"AccessKeyId":"AK","SecretAccessKey":"SK","SessionToken":"ST","Expiration":"2030-01-01T00:00:00Z"})",
        "SessionToken", true, r, why));
    CHECK(r.value.access_key_id == "AK");
    CHECK(r.value.secret_access_key == "SK");
    CHECK(r.value.session_token == "ST");
    CHECK(r.expiration);
    REQUIRE_FALSE(
        parse_credentials_json(R"({"AccessKeyId":"AK","SecretAccessKey":"SK","Token":"T"})", "Token", false, r, why));
    CHECK(r.value.session_token == "T");
    CHECK_FALSE(r.expiration);

    CHECK(parse_credentials_json("not json", "Token", false, r, why) == client_errc::credentials_error);
    CHECK(why == "the answer is not a JSON object");
    CHECK(parse_credentials_json(R"({"AccessKeyId":"AK","SecretAccessKey":"SECRETVALUE"})", "SessionToken", true, r,
                                 why) == client_errc::credentials_error);
    CHECK(why.find("Version") != std::string::npos);
    CHECK(parse_credentials_json(R"({"Version":2,"AccessKeyId":"AK","SecretAccessKey":"SECRETVALUE"})", "SessionToken",
                                 true, r, why) == client_errc::credentials_error);
    CHECK(parse_credentials_json(R"({"Version":1,"AccessKeyId":"AK"})", "SessionToken", true, r, why) ==
          client_errc::credentials_error);
    CHECK(why == "the JSON has no SecretAccessKey");
    CHECK(parse_credentials_json(R"({"AccessKeyId":"AK","SecretAccessKey":"SECRETVALUE","Expiration":"soon"})", "Token",
                                 false, r, why) == client_errc::credentials_error);
    CHECK(why.find("SECRETVALUE") == std::string::npos);
}

namespace {

// A provider answering from a script: each fetch waits for the gate (when closed), then returns
// credentials "AK<n>" expiring `lifetime` after the mock clock's now, or fails.
struct mock_source {
    sys_clock::time_point now = sys_clock::time_point(std::chrono::hours(24 * 365 * 50));
    sys_clock::duration lifetime = std::chrono::hours(1);
    bool fail = false;
    bool hold = false;  // fetches wait until release()
    int calls = 0;
    std::unique_ptr<asio::steady_timer> gate;
    void release() {
        hold = false;
        if (gate) gate->cancel();
    }
};

class mock_provider final : public credentials_provider {
public:
    explicit mock_provider(mock_source& s) : s_(s) {}
    const char* name() const noexcept override { return "mock"; }
    asio::awaitable<error_code> async_get(resolved_credentials& out, std::string& why) override {
        ++s_.calls;
        while (s_.hold) {
            error_code ec;
            co_await s_.gate->async_wait(asio::redirect_error(asio::use_awaitable, ec));
        }
        if (s_.fail) {
            why = "mock failure";
            co_return make_error_code(client_errc::credentials_error);
        }
        out.value = {"AK" + std::to_string(s_.calls), "SK", "ST"};
        out.expiration = s_.now + s_.lifetime;
        out.source = "mock";
        co_return error_code{};
    }

private:
    mock_source& s_;
};

struct cache_fixture {
    asio::io_context ctx;
    mock_source src;
    std::shared_ptr<credentials_cache> cache;
    std::vector<std::pair<log_level, std::string>> logged;  // the cache's log lines
    cache_fixture() {
        src.gate = std::make_unique<asio::steady_timer>(ctx, asio::steady_timer::time_point::max());
        credentials_chain chain;
        chain.add(std::make_unique<mock_provider>(src));
        credentials_cache_params p;
        p.now = [this] { return src.now; };
        p.advisory_jitter = sys_clock::duration::zero();  // deterministic windows
        p.seed = 1;
        p.log = [this](log_level l, std::string_view m) { logged.emplace_back(l, std::string(m)); };
        cache = std::make_shared<credentials_cache>(ctx.get_executor(), std::move(chain), p);
    }
    struct result {
        bool done = false;
        error_code ec;
        std::string why;
        std::shared_ptr<const credentials_snapshot> snap;
    };
    // What a client attempt does: the fast path, else the wait.
    std::shared_ptr<result> start_get() {
        auto r = std::make_shared<result>();
        if ((r->snap = cache->try_current())) {
            r->done = true;
            return r;
        }
        asio::co_spawn(ctx, cache->async_get(r->snap, r->why), [r](std::exception_ptr ep, error_code ec) {
            REQUIRE_FALSE(ep);
            r->ec = ec;
            r->done = true;
        });
        return r;
    }
    result get() {
        auto r = start_get();
        ctx.restart();
        ctx.run_for(std::chrono::seconds(5));  // returns as soon as nothing is left to do
        REQUIRE(r->done);
        return *r;
    }
};

}  // namespace

TEST_CASE("credentials cache: concurrent callers share one fetch") {
    cache_fixture f;
    f.src.hold = true;
    std::vector<std::shared_ptr<cache_fixture::result>> rs;
    for (int i = 0; i < 50; ++i) rs.push_back(f.start_get());
    f.ctx.poll();
    CHECK(f.src.calls == 1);
    for (auto& r : rs) CHECK_FALSE(r->done);
    f.src.release();
    f.ctx.restart();
    f.ctx.run_for(std::chrono::seconds(5));
    for (auto& r : rs) {
        REQUIRE(r->done);
        CHECK_FALSE(r->ec);
        REQUIRE(r->snap);
        CHECK(r->snap->value.access_key_id == "AK1");
    }
    CHECK(f.cache->fetches() == 1);
    // Fresh: served from the cache without a fetch.
    auto again = f.get();
    CHECK(again.snap == rs[0]->snap);
    CHECK(f.src.calls == 1);
}

TEST_CASE("credentials cache: advisory window refreshes in the background, mandatory waits") {
    cache_fixture f;  // lifetime 1 h: advisory from 15 min before expiry, mandatory from 5 min
    auto first = f.get();
    REQUIRE(first.snap);
    CHECK(first.snap->refresh_at == *first.snap->expiration - 15min);
    CHECK(first.snap->must_refresh_at == *first.snap->expiration - 5min);

    f.src.now += 44min;  // 16 min left: nothing to do
    CHECK(f.cache->try_current() == first.snap);
    CHECK(f.src.calls == 1);

    f.src.now += 2min;  // 14 min left: the current set, and one refresh in the background
    f.src.hold = true;
    CHECK(f.cache->try_current() == first.snap);
    CHECK(f.cache->try_current() == first.snap);
    f.ctx.restart();
    f.ctx.poll();
    CHECK(f.src.calls == 2);
    f.src.release();
    f.ctx.restart();
    f.ctx.run_for(std::chrono::seconds(5));
    auto second = f.cache->try_current();
    REQUIRE(second);
    CHECK(second->value.access_key_id == "AK2");

    f.src.now += 57min;  // 4 min left of AK2: callers wait for the refresh
    auto third = f.get();
    CHECK(f.src.calls == 3);
    CHECK(third.snap->value.access_key_id == "AK3");
}

TEST_CASE("credentials cache: a failed refresh keeps a valid set, then retries; an expired set fails") {
    cache_fixture f;
    auto first = f.get();
    REQUIRE(f.logged.size() == 1);
    CHECK(f.logged[0].first == log_level::info);
    CHECK(f.logged[0].second == "credentials: fetched from mock");
    f.src.fail = true;
    f.src.now += 56min;  // 4 min left: mandatory refresh, which fails
    auto r = f.get();
    CHECK_FALSE(r.ec);
    CHECK(r.snap == first.snap);
    CHECK(f.src.calls == 2);
    REQUIRE(f.logged.size() == 2);
    CHECK(f.logged[1].first == log_level::warn);  // the current set stays in use
    CHECK(f.logged[1].second.find("refresh failed") != std::string::npos);
    // Right after: no new fetch (retry delay: a quarter of what is left, at most 30 s).
    r = f.get();
    CHECK(r.snap == first.snap);
    CHECK(f.src.calls == 2);
    f.src.now += 31s;
    r = f.get();
    CHECK(f.src.calls == 3);
    CHECK(r.snap == first.snap);

    f.src.now += 5min;  // expired: the failure is the caller's error
    r = f.get();
    CHECK(r.ec == client_errc::credentials_error);
    INFO(r.why);
    CHECK(r.why.find("mock failure") != std::string::npos);
    CHECK(f.src.calls == 4);
    REQUIRE(f.logged.size() == 4);
    CHECK(f.logged[3].first == log_level::error);  // no usable set: the caller fails
    f.src.fail = false;                            // the source is back: the next call resolves again
    r = f.get();
    CHECK_FALSE(r.ec);
    CHECK(r.snap->value.access_key_id == "AK5");
    REQUIRE(f.logged.size() == 5);
    CHECK(f.logged[4].first == log_level::info);
    CHECK(f.logged[4].second == "credentials: refreshed from mock");
}

TEST_CASE("credentials cache: short-lived credentials refresh about once per lifetime") {
    cache_fixture f;
    f.src.lifetime = 4s;
    auto r = f.get();
    CHECK(r.snap->refresh_at == *r.snap->expiration - 1s);          // a quarter of the lifetime
    CHECK(r.snap->must_refresh_at == *r.snap->expiration - 500ms);  // an eighth
    // 1000 calls spread over 20 s of mock time: one fetch per ~3 s, not one per call.
    for (int i = 0; i < 1000; ++i) {
        f.src.now += 20ms;
        auto x = f.get();
        REQUIRE_FALSE(x.ec);
        CHECK(f.src.now < *x.snap->expiration);
    }
    CHECK(f.src.calls >= 6);
    CHECK(f.src.calls <= 9);
}

TEST_CASE("credentials cache: a cancelled waiter leaves at once; the fetch goes on for the others") {
    cache_fixture f;
    f.src.hold = true;
    auto other = f.start_get();
    asio::cancellation_signal sig;
    bool done = false;
    error_code result;
    std::shared_ptr<const credentials_snapshot> snap;
    std::string why;
    asio::co_spawn(f.ctx, f.cache->async_get(snap, why),
                   asio::bind_cancellation_slot(sig.slot(), [&](std::exception_ptr ep, error_code ec) {
                       REQUIRE_FALSE(ep);
                       result = ec;
                       done = true;
                   }));
    f.ctx.poll();
    CHECK(f.src.calls == 1);
    CHECK_FALSE(done);
    sig.emit(asio::cancellation_type::terminal);
    f.ctx.restart();
    f.ctx.poll();
    REQUIRE(done);
    CHECK(result == asio::error::operation_aborted);
    CHECK_FALSE(snap);
    CHECK_FALSE(other->done);
    f.src.release();
    f.ctx.restart();
    f.ctx.run_for(std::chrono::seconds(5));
    REQUIRE(other->done);
    CHECK_FALSE(other->ec);
    CHECK(other->snap->value.access_key_id == "AK1");
    CHECK(f.cache->fetches() == 1);
}
