// Compile-and-run completion-token matrix over every operation (delete, cancel, describe, list
// for a job, list for a thing, bulk delete), each with and without diagnostics: callback,
// use_awaitable, deferred (the default), as_tuple(deferred), redirect_error(use_awaitable),
// use_future, and a deferred operation launched later. Each form runs a real call on the
// in-process fake endpoint and is checked to have done what it says (the execution deleted or
// canceled, the execution or page read), and each operation also delivers its failure through
// every form (a validation error; for bulk, an invalid item).
#include "fake/server.hpp"

#include <iotjobs/bulk_delete.hpp>
#include <iotjobs/client.hpp>
#include <iotjobs/delete_job_execution.hpp>
#include <iotjobs/describe_job_execution.hpp>
#include <iotjobs/list_job_executions.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/system/system_error.hpp>

#include <doctest/doctest.h>

#include <deque>
#include <memory>
#include <optional>
#include <thread>
#include <tuple>

namespace asio = boost::asio;
namespace fake = iotjobs::fake;
using iotjobs::error_code;

namespace {

constexpr int executions = 40;  // per operation: more than the forms below use

struct fixture {
    fake::server server;
    asio::io_context ctx;
    iotjobs::client client;
    std::deque<std::unique_ptr<iotjobs::bulk_source>> sources;  // bulk runs' sources, kept alive

    fixture() : server(fake::server_options{}), client(make_client()) {}

    iotjobs::client make_client() {
        server.start();
        for (int i = 1; i <= executions; ++i) {
            const std::string thing = "thing-" + std::to_string(i);
            server.add_execution(fake::make_execution(thing, "job-del", i, fake::execution_status::succeeded));
            server.add_execution(fake::make_execution(thing, "job-can", i, fake::execution_status::queued));
            server.add_execution(fake::make_execution(thing, "job-read", i, fake::execution_status::queued));
        }
        iotjobs::client_config cfg;
        cfg.region = "us-east-1";
        cfg.endpoint_url = server.base_url();
        cfg.static_credentials = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
        return iotjobs::client(ctx.get_executor(), cfg);
    }
    std::optional<fake::execution> find(const std::string& job, int i) const {
        return server.find("thing-" + std::to_string(i), job, i);
    }
};

std::string thing(int i) { return "thing-" + std::to_string(i); }

// Each operation: start(f, i, [diag,] token) runs it on execution i (or on an invalid request
// when `bad`); check_ok / check_bad judge the completion's values (after the error code).
struct delete_op {
    static constexpr bool has_value = false;
    static iotjobs::delete_job_execution_request req(int i, bool bad) {
        return {bad ? "bad thing" : thing(i), "job-del", i, std::nullopt, std::nullopt};
    }
    template <class... A>
    static auto start(fixture& f, int i, bool bad, A&&... a) {
        return iotjobs::delete_job_execution(f.client, req(i, bad), std::forward<A>(a)...);
    }
    static void check_ok(fixture& f, int i) { CHECK_FALSE(f.find("job-del", i).has_value()); }
};

struct cancel_op {
    static constexpr bool has_value = false;
    template <class... A>
    static auto start(fixture& f, int i, bool bad, A&&... a) {
        return iotjobs::cancel_job_execution(f.client, {bad ? "bad thing" : thing(i), "job-can"},
                                             std::forward<A>(a)...);
    }
    static void check_ok(fixture& f, int i) {
        auto e = f.find("job-can", i);
        REQUIRE(e.has_value());
        CHECK(e->status == fake::execution_status::canceled);
    }
};

struct describe_op {
    static constexpr bool has_value = true;
    template <class... A>
    static auto start(fixture& f, int i, bool bad, A&&... a) {
        return iotjobs::describe_job_execution(f.client, {bad ? "bad thing" : thing(i), "job-read", i},
                                               std::forward<A>(a)...);
    }
    static void check_ok(fixture&, int i, const iotjobs::job_execution& e) {
        CHECK(e.execution_number == i);
        CHECK(e.job_id == "job-read");
    }
};

struct list_job_op {
    static constexpr bool has_value = true;
    template <class... A>
    static auto start(fixture& f, int, bool bad, A&&... a) {
        return iotjobs::list_job_executions_for_job(f.client, {bad ? "bad job" : "job-read", std::nullopt, 250},
                                                    std::forward<A>(a)...);
    }
    static void check_ok(fixture&, int, const iotjobs::list_job_executions_result& r) {
        CHECK(r.executions.size() == executions);
    }
};

struct list_thing_op {
    static constexpr bool has_value = true;
    template <class... A>
    static auto start(fixture& f, int i, bool bad, A&&... a) {
        return iotjobs::list_job_executions_for_thing(f.client, {bad ? "bad thing" : thing(i)}, std::forward<A>(a)...);
    }
    static void check_ok(fixture&, int, const iotjobs::list_job_executions_result& r) {
        CHECK(r.executions.size() == 3);  // job-del (unless deleted), job-can, job-read
    }
};

struct bulk_op {
    static constexpr bool has_value = true;
    template <class... A>
    static auto start(fixture& f, int i, bool bad, A&&... a) {
        std::vector<iotjobs::delete_job_execution_request> items{delete_op::req(i, bad)};
        f.sources.push_back(iotjobs::make_vector_source(std::move(items)));
        return iotjobs::bulk_delete(
            f.client, *f.sources.back(), {}, [](const iotjobs::bulk_outcome&) {}, std::forward<A>(a)...);
    }
    static void check_ok(fixture& f, int i, const iotjobs::bulk_summary& s) {
        CHECK(s.deleted == 1);
        CHECK_FALSE(f.find("job-del", i).has_value());
    }
};

// The error a bad request completes with, and what else its completion says.
template <class Op, class... V>
void check_bad(error_code ec, const iotjobs::diagnostics* d, const V&... v) {
    if constexpr (std::is_same_v<Op, bulk_op>) {
        CHECK(!ec);  // an invalid item is an outcome, not the run's error
        if constexpr (sizeof...(V) == 1) CHECK(std::get<0>(std::tie(v...)).invalid_input == 1);
        if (d) CHECK(d->message().empty());
    } else {
        CHECK((ec == iotjobs::client_errc::invalid_thing_name || ec == iotjobs::client_errc::invalid_job_id));
        if (d) CHECK_FALSE(d->message().empty());
    }
}

template <class Op, class... V>
void check_ok(fixture& f, int i, error_code ec, const V&... v) {
    CHECK(!ec);
    Op::check_ok(f, i, v...);
}

// Runs `body` as a coroutine on the fixture's io_context until it is done.
template <class Body>
void run_coro(fixture& f, Body body) {
    bool done = false;
    asio::co_spawn(
        f.ctx,
        [&]() -> asio::awaitable<void> {
            co_await body();
            done = true;
        },
        [](std::exception_ptr ep) {
            if (ep) std::rethrow_exception(ep);
        });
    f.ctx.restart();
    f.ctx.run();
    CHECK(done);
}

// co_awaits Op::start(f, i, bad, a...) and checks its outcome; `redirected` is where a
// redirect_error token put the error, `d` the diagnostics passed in `a` (both may be null).
template <class Op, class... A>
asio::awaitable<void> await_and_check(fixture& f, int i, bool bad, const error_code* redirected,
                                      const iotjobs::diagnostics* d, A&&... a) {
    auto judge = [&](const auto&... v) {
        const error_code ec = redirected ? *redirected : error_code{};
        if (bad)
            check_bad<Op>(ec, d, v...);
        else
            check_ok<Op>(f, i, ec, v...);
    };
    if constexpr (Op::has_value) {
        auto v = co_await Op::start(f, i, bad, std::forward<A>(a)...);
        judge(v);
    } else {
        co_await Op::start(f, i, bad, std::forward<A>(a)...);
        judge();
    }
}

// Op::start(f, i, false, a..., use_future), waited for and checked.
template <class Op, class... A>
void future_and_check(fixture& f, int i, A&&... a) {
    auto fut = Op::start(f, i, false, std::forward<A>(a)..., asio::use_future);
    if constexpr (Op::has_value) {
        auto v = fut.get();
        check_ok<Op>(f, i, {}, v);
    } else {
        fut.get();
        check_ok<Op>(f, i, {});
    }
}

}  // namespace

TEST_CASE_TEMPLATE("token matrix", Op, delete_op, cancel_op, describe_op, list_job_op, list_thing_op, bulk_op) {
    fixture f;
    iotjobs::diagnostics diag;

    SUBCASE("callback, with and without diagnostics; never completes inline") {
        bool called = false;
        Op::start(f, 1, false, [&](error_code ec, const auto&... v) {
            called = true;
            check_ok<Op>(f, 1, ec, v...);
        });
        CHECK_FALSE(called);
        f.ctx.run();
        CHECK(called);
        called = false;
        Op::start(f, 2, true, diag, [&](error_code ec, const auto&... v) {
            called = true;
            check_bad<Op>(ec, &diag, v...);
        });
        CHECK_FALSE(called);
        f.ctx.restart();
        f.ctx.run();
        CHECK(called);
    }

    SUBCASE("use_awaitable (throws), deferred (the default), as_tuple, redirect_error") {
        run_coro(f, [&]() -> asio::awaitable<void> {
            // use_awaitable, without and with diagnostics.
            co_await await_and_check<Op>(f, 3, false, nullptr, nullptr, asio::use_awaitable);
            co_await await_and_check<Op>(f, 4, false, nullptr, &diag, diag, asio::use_awaitable);
            if constexpr (!std::is_same_v<Op, bulk_op>) {
                bool thrown = false;
                try {
                    co_await Op::start(f, 5, true, diag, asio::use_awaitable);
                } catch (const boost::system::system_error& e) {
                    thrown = true;
                    check_bad<Op>(e.code(), &diag);
                }
                CHECK(thrown);
            }
            // The default token.
            co_await await_and_check<Op>(f, 6, false, nullptr, nullptr);
            co_await await_and_check<Op>(f, 7, false, nullptr, &diag, diag);
            // as_tuple(deferred): the error as a value.
            std::apply([&](error_code ec, const auto&... v) { check_ok<Op>(f, 8, ec, v...); },
                       co_await Op::start(f, 8, false, diag, asio::as_tuple(asio::deferred)));
            std::apply([&](error_code ec, const auto&... v) { check_bad<Op>(ec, nullptr, v...); },
                       co_await Op::start(f, 9, true, asio::as_tuple(asio::deferred)));
            // redirect_error(use_awaitable, ec).
            error_code ec = make_error_code(iotjobs::client_errc::bad_response);
            co_await await_and_check<Op>(f, 10, false, &ec, nullptr, asio::redirect_error(asio::use_awaitable, ec));
            co_await await_and_check<Op>(f, 11, true, &ec, &diag, diag, asio::redirect_error(asio::use_awaitable, ec));
        });
    }

    SUBCASE("use_future with the io_context on another thread") {
        auto guard = asio::make_work_guard(f.ctx);
        std::thread t([&] { f.ctx.run(); });
        future_and_check<Op>(f, 12);
        future_and_check<Op>(f, 13, diag);
        if constexpr (!std::is_same_v<Op, bulk_op>) {
            auto bad = Op::start(f, 14, true, asio::use_future);
            CHECK_THROWS_AS(bad.get(), boost::system::system_error);
        }
        guard.reset();
        t.join();
    }

    SUBCASE("a deferred operation does nothing until it is launched") {
        auto op = Op::start(f, 15, false, diag, asio::deferred);
        f.ctx.run();  // nothing to run
        if constexpr (std::is_same_v<Op, delete_op> || std::is_same_v<Op, bulk_op>)
            CHECK(f.find("job-del", 15).has_value());
        bool called = false;
        std::move(op)([&](error_code ec, const auto&... v) {
            called = true;
            check_ok<Op>(f, 15, ec, v...);
        });
        f.ctx.restart();
        f.ctx.run();
        CHECK(called);
    }
}
