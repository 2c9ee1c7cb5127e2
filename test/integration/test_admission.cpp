// Calls beyond the pool's connections wait for admission (lib/client_impl.hpp) as small nodes, not
// as suspended coroutine chains: they start in the order they were issued, and a call that waits
// is cancelled (by its own slot, client::cancel(), client::shutdown()) or times out (the acquire
// timeout, the operation deadline) as one waiting in the pool's line for a connection would.
#include "fake/server.hpp"
#include "fake_setup.hpp"
#include "run_delete.hpp"

#include <iotjobs/client.hpp>
#include <iotjobs/delete_job_execution.hpp>
#include <iotjobs/describe_job_execution.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace fake = iotjobs::fake;
using iotjobs::error_code;

using iotjobs::test::config_for;
using iotjobs::test::seed;
using iotjobs::test::set_fault;
using iotjobs::test::start_holding_first;

namespace {

iotjobs::delete_job_execution_request item(int i) { return {"thing-" + std::to_string(i), "job-1", i, {}, {}}; }

// Polls every 5 ms until `ready()`, then runs `then()` once.
struct poller {
    asio::steady_timer t;
    std::function<bool()> ready;
    std::function<void()> then;
    void start() {
        if (ready()) return then();
        t.expires_after(std::chrono::milliseconds(5));
        t.async_wait([this](error_code) { start(); });
    }
};

// One call on a connection the fake holds (stall), the others waiting for admission.
struct held_pool {
    fake::server srv;
    asio::io_context ctx;
    std::optional<iotjobs::client> c;
    explicit held_pool(iotjobs::client_config (*tweak)(iotjobs::client_config) = nullptr) {
        start_holding_first(srv, 10);
        auto cfg = config_for(srv, 1);
        if (tweak) cfg = tweak(cfg);
        c.emplace(ctx.get_executor(), cfg);
    }
    // True once the first request is held by the fake and `n` calls wait.
    bool holding(std::uint64_t n) const {
        return c->stats().waiting == n && srv.stats().count("DeleteJobExecution", "ok") == 1;
    }
};

}  // namespace

TEST_CASE("admission: calls beyond the pool start in the order they were issued") {
    fake::server s;
    s.start();
    seed(s, 40);
    for (const bool single : {false, true}) {
        CAPTURE(single);
        asio::io_context ctx;
        auto cfg = config_for(s, 1);  // one connection: the calls complete in the order they start
        cfg.single_threaded = single;
        iotjobs::client c(ctx.get_executor(), cfg);
        std::vector<int> order;
        const int base = single ? 20 : 0;
        for (int i = base; i < base + 20; ++i)
            iotjobs::delete_job_execution(c, item(i), [&, i](error_code ec) {
                CHECK(!ec);
                order.push_back(i);
            });
        CHECK(c.stats().waiting == 19);  // all but the one admitted
        ctx.run();
        std::vector<int> issued;
        for (int i = base; i < base + 20; ++i) issued.push_back(i);
        CHECK(order == issued);
        CHECK(c.stats().waiting == 0);
    }
}

static iotjobs::client_config single_threaded(iotjobs::client_config cfg) {
    cfg.single_threaded = true;
    return cfg;
}

TEST_CASE("admission: a waiting call cancelled by its own slot completes at once, the others wait on") {
    bool single = false;  // client_config::single_threaded: the calls run on op runners
    SUBCASE("operation strands") {}
    SUBCASE("single_threaded: op runners") { single = true; }
    held_pool p(single ? &single_threaded : nullptr);
    std::vector<error_code> results(3);
    std::vector<int> completed;
    asio::cancellation_signal sig;
    for (int i = 0; i < 3; ++i) {
        auto h = [&, i](error_code ec) {
            results[static_cast<std::size_t>(i)] = ec;
            completed.push_back(i);
        };
        if (i == 1)
            iotjobs::delete_job_execution(*p.c, item(i), asio::bind_cancellation_slot(sig.slot(), h));
        else
            iotjobs::delete_job_execution(*p.c, item(i), h);
    }
    poller first{asio::steady_timer(p.ctx), [&] { return p.holding(2); },
                 [&] { sig.emit(asio::cancellation_type::terminal); }};
    poller then{asio::steady_timer(p.ctx), [&] { return !completed.empty(); },
                [&] {
                    CHECK(p.c->stats().waiting == 1);
                    p.c->cancel();
                }};
    first.start();
    then.start();
    p.ctx.run_for(std::chrono::seconds(20));
    REQUIRE(completed.size() == 3);
    CHECK(completed[0] == 1);
    CHECK(results[1] == asio::error::operation_aborted);
    CHECK(results[0] == asio::error::operation_aborted);
    CHECK(results[2] == asio::error::operation_aborted);
    CHECK(p.srv.stats().count("DeleteJobExecution", "ok") == 1);  // nothing but the first was sent
}

TEST_CASE("admission: a waiting read operation cancelled completes with operation_aborted and no result") {
    held_pool p;
    asio::cancellation_signal sig;
    error_code del_ec, got_ec;
    bool got = false;
    iotjobs::delete_job_execution(*p.c, item(0), [&](error_code ec) { del_ec = ec; });
    iotjobs::describe_job_execution(
        *p.c, {"thing-3", "job-1", 3},
        asio::bind_cancellation_slot(sig.slot(), [&](error_code ec, iotjobs::job_execution e) {
            got_ec = ec;
            got = true;
            CHECK(e.job_id.empty());
        }));
    poller first{asio::steady_timer(p.ctx), [&] { return p.holding(1); },
                 [&] { sig.emit(asio::cancellation_type::terminal); }};
    poller then{asio::steady_timer(p.ctx), [&] { return got; }, [&] { p.c->cancel(); }};
    first.start();
    then.start();
    p.ctx.run_for(std::chrono::seconds(20));
    CHECK(got);
    CHECK(got_ec == asio::error::operation_aborted);
    CHECK(del_ec == asio::error::operation_aborted);
}

TEST_CASE("admission: a waiting call's acquire timeout: pool_acquire_timeout, as in the pool's line") {
    held_pool p([](iotjobs::client_config cfg) {
        cfg.pool.acquire_timeout = std::chrono::milliseconds(100);
        return cfg;
    });
    error_code first, second;
    iotjobs::diagnostics diag;
    int done = 0;
    iotjobs::delete_job_execution(*p.c, item(0), [&](error_code ec) {
        first = ec;
        ++done;
    });
    iotjobs::delete_job_execution(*p.c, item(1), diag, [&](error_code ec) {
        second = ec;
        ++done;
        p.c->cancel();  // the held call
    });
    p.ctx.run_for(std::chrono::seconds(20));
    CHECK(done == 2);
    CHECK(second == iotjobs::client_errc::pool_acquire_timeout);
    CHECK(diag.timeout_phase() == iotjobs::timeout_phase::pool_wait);
    CHECK(diag.attempts() == 1);
    CHECK(first == asio::error::operation_aborted);
    // Only the first call's request reached the fake (the stall counts it as ok, then as no_response).
    CHECK(p.srv.stats().count("DeleteJobExecution", "ok") == 1);
    CHECK(p.srv.stats().requests_total == 2);
    CHECK(p.c->stats().waiting == 0);
}

TEST_CASE("admission: the operation deadline passing while a call waits: deadline_exceeded, waiting for a connection") {
    held_pool p([](iotjobs::client_config cfg) {
        cfg.timeouts.operation = std::chrono::milliseconds(300);
        return cfg;
    });
    // Issued before the io_context runs: the first call's coroutine (and its deadline) starts after
    // the other two were queued, so theirs pass first, while the first call holds the connection.
    std::vector<error_code> results(3);
    std::vector<iotjobs::diagnostics> diag(3);
    int done = 0;
    for (int i = 0; i < 3; ++i)
        iotjobs::delete_job_execution(*p.c, item(i), diag[static_cast<std::size_t>(i)], [&, i](error_code ec) {
            results[static_cast<std::size_t>(i)] = ec;
            ++done;
        });
    p.ctx.run_for(std::chrono::seconds(20));
    CHECK(done == 3);
    for (const error_code& ec : results) CHECK(ec == iotjobs::client_errc::deadline_exceeded);
    CHECK(diag[0].message() == "the operation deadline passed during attempt 1");
    for (int i = 1; i < 3; ++i) {
        CHECK(diag[static_cast<std::size_t>(i)].message() ==
              "the operation deadline passed while waiting for a connection");
        CHECK(diag[static_cast<std::size_t>(i)].timeout_phase() == iotjobs::timeout_phase::pool_wait);
        CHECK(diag[static_cast<std::size_t>(i)].attempts() == 1);
    }
    CHECK(p.srv.stats().count("DeleteJobExecution", "ok") == 1);
    CHECK(p.srv.stats().requests_total == 2);
}

TEST_CASE("admission: retries inside admitted calls do not wait behind the queued calls (no deadlock)") {
    fake::server s;
    s.start();
    seed(s, 60);
    set_fault(s, "unavailable=first:6");  // 503s: the first calls retry while the rest wait
    asio::io_context ctx;
    auto cfg = config_for(s, 2);
    cfg.retry.max_attempts = 8;  // more than the 503s: every call succeeds in the end
    cfg.retry.base_delay = std::chrono::milliseconds(1);
    iotjobs::client c(ctx.get_executor(), cfg);
    int ok = 0, failed = 0;
    error_code first_failure;
    for (int i = 0; i < 60; ++i)
        iotjobs::delete_job_execution(c, item(i), [&](error_code ec) {
            if (ec && failed == 0) first_failure = ec;
            ++(ec ? failed : ok);
        });
    ctx.run_for(std::chrono::seconds(30));
    CHECK(ok == 60);
    CHECK_MESSAGE(failed == 0, first_failure.message());
    CHECK(c.stats().retries == 6);
    CHECK(c.stats().waiting == 0);
}

TEST_CASE("admission: thousands of calls on a multi-threaded io_context, client::cancel() midway") {
    fake::server s;
    s.start();
    seed(s, 2000);
    set_fault(s, "latency=always,ms=1");
    asio::io_context ctx;
    iotjobs::client c(ctx.get_executor(), config_for(s, 4));
    std::vector<std::atomic<int>> completions(2000);
    std::atomic<int> done{0}, ok{0}, aborted{0};
    for (int i = 0; i < 2000; ++i)
        iotjobs::delete_job_execution(c, item(i), [&, i](error_code ec) {
            ++completions[static_cast<std::size_t>(i)];
            if (!ec)
                ++ok;
            else if (ec == asio::error::operation_aborted)
                ++aborted;
            ++done;
        });
    CHECK(c.stats().waiting == 1996);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) threads.emplace_back([&] { ctx.run(); });
    while (done.load() < 100) std::this_thread::yield();
    c.cancel();
    for (auto& t : threads) t.join();
    CHECK(done.load() == 2000);
    for (const auto& n : completions) CHECK(n.load() == 1);
    CHECK(ok.load() + aborted.load() == 2000);
    CHECK(aborted.load() > 0);
    CHECK(c.stats().waiting == 0);
    CHECK(c.stats().leased == 0);
}

TEST_CASE("op runners (single_threaded): calls issued by handlers, a throwing handler, a cancelled hand-over") {
    fake::server s;
    s.start();
    seed(s, 60);
    asio::io_context ctx;
    auto cfg = single_threaded(config_for(s, 2));
    iotjobs::client c(ctx.get_executor(), cfg);

    // A chain: each call's handler issues the next one (handed over to the runner that ran it).
    std::vector<int> order;
    std::function<void(int)> issue = [&](int i) {
        iotjobs::delete_job_execution(c, item(i), [&, i](error_code ec) {
            CHECK(!ec);
            order.push_back(i);
            if (i < 29) issue(i + 1);
        });
    };
    issue(0);
    ctx.run();
    REQUIRE(order.size() == 30);
    for (int i = 0; i < 30; ++i) CHECK(order[static_cast<std::size_t>(i)] == i);

    // A handler that issues a call, then throws: the exception leaves run() (the io_context
    // keeps it until the runner's step ends, as dispatch() does: the call it issued has been
    // sent by then, on the same runner); that call still runs to its result, once.
    int later_done = 0;
    error_code later_ec = make_error_code(iotjobs::client_errc::bad_response);
    const std::uint64_t requests_before = c.stats().requests;
    iotjobs::delete_job_execution(c, item(30), [&](error_code ec) {
        CHECK(!ec);
        iotjobs::delete_job_execution(c, item(31), [&](error_code ec2) {
            later_ec = ec2;
            ++later_done;
        });
        throw std::runtime_error("handler failed");
    });
    ctx.restart();
    CHECK_THROWS_AS(ctx.run(), std::runtime_error);
    CHECK(c.stats().requests - requests_before == 2);
    CHECK(later_done == 0);
    ctx.restart();
    ctx.run();
    CHECK(later_done == 1);
    CHECK(!later_ec);

    // A call issued by a handler and cancelled at once (before its runner starts it): aborted,
    // never sent.
    asio::cancellation_signal sig;
    error_code cancelled_ec;
    int cancelled_done = 0;
    iotjobs::diagnostics cancelled_diag;
    const std::uint64_t sent_before = c.stats().requests;
    iotjobs::delete_job_execution(c, item(32), [&](error_code ec) {
        CHECK(!ec);
        iotjobs::delete_job_execution(c, item(33), cancelled_diag,
                                      asio::bind_cancellation_slot(sig.slot(), [&](error_code ec2) {
                                          cancelled_ec = ec2;
                                          ++cancelled_done;
                                      }));
        sig.emit(asio::cancellation_type::terminal);
    });
    ctx.restart();
    ctx.run();
    CHECK(cancelled_done == 1);
    CHECK(cancelled_ec == asio::error::operation_aborted);
    CHECK(cancelled_diag.attempts() == 0);         // no attempt started
    CHECK(c.stats().requests == sent_before + 1);  // item 32's only
    CHECK(c.stats().waiting == 0);
    CHECK(c.stats().leased == 0);
}

TEST_CASE("completion is never inline in the function that started the call, with or without single_threaded") {
    for (const bool single : {false, true}) {
        CAPTURE(single);
        fake::server s;
        start_holding_first(s, 10);
        asio::io_context ctx;
        auto cfg = config_for(s, 1);
        cfg.single_threaded = single;
        iotjobs::client c(ctx.get_executor(), cfg);
        bool inside = false;  // true while a function that may start a call runs
        int inline_completions = 0;
        int completed = 0;
        const auto handler = [&](error_code) {
            if (inside) ++inline_completions;
            ++completed;
        };
        // A queued call (the first holds the only connection) cancelled through its slot: its body
        // ends at once, not inside emit().
        iotjobs::delete_job_execution(c, item(0), handler);
        asio::cancellation_signal sig;
        iotjobs::delete_job_execution(c, item(1), asio::bind_cancellation_slot(sig.slot(), handler));
        poller p{asio::steady_timer(ctx),
                 [&] { return c.stats().waiting == 1 && s.stats().count("DeleteJobExecution", "ok") == 1; },
                 [&] {
                     inside = true;
                     sig.emit(asio::cancellation_type::terminal);
                     inside = false;
                     // After shutdown() the queued and the later calls end without suspending: not
                     // inside shutdown() or the initiating function either.
                     iotjobs::delete_job_execution(c, item(2), handler);  // queued behind item 0
                     inside = true;
                     c.shutdown();
                     iotjobs::delete_job_execution(c, item(3), handler);
                     inside = false;
                 }};
        p.start();
        ctx.run_for(std::chrono::seconds(20));
        CHECK(completed == 4);
        CHECK(inline_completions == 0);
    }
}

TEST_CASE("op runners (single_threaded): calls a handler issues start in the order it issued them") {
    fake::server s;
    s.start();
    seed(s, 10);
    asio::io_context ctx;
    auto cfg = single_threaded(config_for(s, 4));
    cfg.level = iotjobs::log_level::debug;
    std::vector<std::string> signed_order;  // the debug record of a signing is written as the request is sent
    cfg.structured_log = [&](const iotjobs::log_record& r) {
        if (r.message.starts_with("CanonicalRequest:")) signed_order.emplace_back(r.thing_name);
    };
    iotjobs::client c(ctx.get_executor(), cfg);
    int done = 0;
    iotjobs::delete_job_execution(c, item(0), [&](error_code ec) {
        CHECK(!ec);
        for (int i = 1; i <= 3; ++i)
            iotjobs::delete_job_execution(c, item(i), [&](error_code ec2) {
                CHECK(!ec2);
                ++done;
            });
    });
    ctx.run();
    CHECK(done == 3);
    CHECK(signed_order == std::vector<std::string>{"thing-0", "thing-1", "thing-2", "thing-3"});
}
