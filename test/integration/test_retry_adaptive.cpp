// Adaptive retry mode against a fake endpoint with a rate limit the client does not know.
// Only loose, machine-independent properties are asserted here; bench/adaptive_rate.cpp
// measures the achieved rate and the throttled fraction.
#include "fake/server.hpp"

#include <iotjobs/client.hpp>
#include <iotjobs/delete_job_execution.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <map>
#include <string>

namespace asio = boost::asio;
namespace fake = iotjobs::fake;
using iotjobs::error_code;
using namespace std::chrono_literals;

namespace {

struct run_result {
    std::uint64_t calls = 0, ok = 0, throttled_calls = 0, other = 0;
    std::map<std::string, int> other_errors;
    std::chrono::milliseconds wall{0};
};

// `workers` coroutines delete executions as fast as the client lets them for `length`.
run_result hammer(fake::server& s, iotjobs::retry_mode mode, int workers, std::chrono::milliseconds length,
                  iotjobs::client_stats& cs) {
    asio::io_context ctx;
    iotjobs::client_config cfg;
    cfg.region = "us-east-1";
    cfg.endpoint_url = s.base_url();
    cfg.static_credentials = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
    cfg.retry.mode = mode;
    cfg.pool.max_size = static_cast<std::size_t>(workers);
    iotjobs::client c(ctx.get_executor(), cfg);
    run_result r;
    int next = 0;
    const auto stop_at = std::chrono::steady_clock::now() + length;
    for (int w = 0; w < workers; ++w) {
        asio::co_spawn(
            ctx,
            [&]() -> asio::awaitable<void> {
                while (std::chrono::steady_clock::now() < stop_at) {
                    int i = ++next;
                    iotjobs::delete_job_execution_request req{
                        "thing-" + std::to_string(i), "job-" + std::to_string(i % 10), i, {}, {}};
                    auto [ec] = co_await iotjobs::delete_job_execution(c, req, asio::as_tuple(asio::deferred));
                    ++r.calls;
                    if (!ec)
                        ++r.ok;
                    else if (iotjobs::is_throttling(ec))
                        ++r.throttled_calls;
                    else {
                        ++r.other;
                        ++r.other_errors[ec.message()];
                    }
                }
            },
            asio::detached);
    }
    ctx.run_for(length + 60s);
    r.wall = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - stop_at) + length;
    cs = c.stats();
    return r;
}

}  // namespace

TEST_CASE("adaptive mode: 16 coroutines against a 20/s limit settle with few throttled requests") {
    fake::server s;
    s.start();
    fake::generate_options g;
    g.count = 5000;
    g.jobs = 10;
    s.generate(g);
    s.set_rate_limits({fake::rate_limit{fake::operation::delete_job_execution, 20.0, 0.0}});

    iotjobs::client_stats cs;
    auto r = hammer(s, iotjobs::retry_mode::adaptive, 16, 3s, cs);
    auto st = s.stats();
    const auto sent = st.count("DeleteJobExecution", "ok") + st.count("DeleteJobExecution", "ThrottlingException");
    INFO("calls " << r.calls << ", ok " << r.ok << ", gave up throttled " << r.throttled_calls << ", sent " << sent
                  << ", throttled " << st.throttled << ", wall " << r.wall.count() << " ms");

    // Every call ended: deleted, or throttled on every attempt; nothing else went wrong.
    CHECK(r.other == 0);
    CHECK(r.calls == r.ok + r.throttled_calls);
    CHECK(r.ok > 0);
    CHECK(st.count("DeleteJobExecution", "ok") == r.ok);
    CHECK(st.executions_deleted == r.ok);
    // What the server throttled, the client saw.
    CHECK(cs.throttled == st.throttled);
    CHECK(cs.requests == sent);
    // The limiter keeps the throttled share small (loose bound: this is not a benchmark).
    REQUIRE(sent > 0);
    CHECK(static_cast<double>(st.throttled) / static_cast<double>(sent) < 0.5);
    CHECK(r.throttled_calls * 4 < r.calls);
    // Past the first wave (the calls in flight when the server's burst ran out), the limiter
    // keeps the client under the limit: few further throttles.
    CHECK(st.throttled <= 2 * 16);
    CHECK(cs.leased == 0);
    // Calls that reserved a send slot while the rate was at its floor (0.5/s) do not sleep on
    // it after the rate recovered: without that, 16 reservations would hold the run ~30 s.
    CHECK(r.wall < 3s + 20s);
}
