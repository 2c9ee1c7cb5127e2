// Compile-and-run completion-token matrix for delete_job_execution: callback, use_awaitable,
// deferred (the default), as_tuple(deferred), use_future; with and without diagnostics.
// Each form deletes a real execution on the in-process fake endpoint and is checked to have
// done so, and each form also delivers a validation error.
#include "fake/server.hpp"

#include <iotjobs/client.hpp>
#include <iotjobs/delete_job_execution.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <doctest/doctest.h>

#include <thread>

namespace asio = boost::asio;
using iotjobs::error_code;

namespace {

struct fixture {
    iotjobs::fake::server server;
    asio::io_context ctx;
    iotjobs::client client;

    fixture() : server(iotjobs::fake::server_options{}), client(make_client()) {}

    iotjobs::client make_client() {
        server.start();
        for (int i = 1; i <= 20; ++i) {
            iotjobs::fake::execution e;
            e.thing_name = "thing-" + std::to_string(i);
            e.job_id = "job-1";
            e.execution_number = i;
            e.status = iotjobs::fake::execution_status::succeeded;
            server.add_execution(e);
        }
        iotjobs::client_config cfg;
        cfg.region = "us-east-1";
        cfg.endpoint_url = server.base_url();
        cfg.static_credentials = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
        return iotjobs::client(ctx.get_executor(), cfg);
    }

    static iotjobs::delete_job_execution_request req(int i) {
        return {"thing-" + std::to_string(i), "job-1", i, std::nullopt, std::nullopt};
    }
    static iotjobs::delete_job_execution_request bad() { return {"bad thing", "job-1", 1, {}, {}}; }
    bool gone(int i) const { return !server.find("thing-" + std::to_string(i), "job-1", i).has_value(); }
};

}  // namespace

TEST_CASE("callback") {
    fixture f;
    error_code result = make_error_code(iotjobs::client_errc::bad_response);
    bool called = false;
    iotjobs::delete_job_execution(f.client, f.req(1), [&](error_code ec) {
        called = true;
        result = ec;
    });
    f.ctx.run();
    CHECK(called);
    CHECK(!result);
    CHECK(f.gone(1));

    iotjobs::diagnostics diag;
    f.ctx.restart();
    iotjobs::delete_job_execution(f.client, f.bad(), diag, [&](error_code ec) { result = ec; });
    CHECK(result != iotjobs::client_errc::invalid_thing_name);  // never completes inline
    f.ctx.run();
    CHECK(result == iotjobs::client_errc::invalid_thing_name);
    CHECK(diag.message().find("thingName") != std::string_view::npos);
}

TEST_CASE("use_awaitable, deferred (default) and as_tuple(deferred) in a coroutine") {
    fixture f;
    bool done = false;
    asio::co_spawn(
        f.ctx,
        [&]() -> asio::awaitable<void> {
            // The design card's spelling: default token (deferred).
            co_await iotjobs::delete_job_execution(f.client, f.req(2));
            co_await iotjobs::delete_job_execution(f.client, f.req(3), asio::use_awaitable);
            iotjobs::diagnostics diag;
            auto [ec] = co_await iotjobs::delete_job_execution(f.client, f.req(4), diag, asio::as_tuple(asio::deferred));
            CHECK(!ec);
            CHECK(diag.http_status() == 200);
            CHECK(diag.attempts() == 1);
            auto [ec2] = co_await iotjobs::delete_job_execution(f.client, f.req(4), diag, asio::as_tuple(asio::deferred));
            CHECK(ec2 == iotjobs::service_errc::resource_not_found);
            CHECK(diag.aws_error_name() == "ResourceNotFoundException");
            CHECK(diag.http_status() == 404);
            try {
                co_await iotjobs::delete_job_execution(f.client, f.bad(), asio::use_awaitable);
                CHECK(false);
            } catch (const boost::system::system_error& e) {
                CHECK(e.code() == iotjobs::client_errc::invalid_thing_name);
            }
            auto [ec3] = co_await iotjobs::delete_job_execution(f.client, f.bad(), asio::as_tuple(asio::deferred));
            CHECK(ec3 == iotjobs::client_errc::invalid_thing_name);
            done = true;
        },
        [](std::exception_ptr ep) {
            if (ep) std::rethrow_exception(ep);
        });
    f.ctx.run();
    CHECK(done);
    CHECK(f.gone(2));
    CHECK(f.gone(3));
    CHECK(f.gone(4));
}

TEST_CASE("use_future with the io_context on another thread") {
    fixture f;
    auto guard = asio::make_work_guard(f.ctx);
    std::thread t([&] { f.ctx.run(); });
    auto fut = iotjobs::delete_job_execution(f.client, f.req(5), asio::use_future);
    CHECK_NOTHROW(fut.get());
    CHECK(f.gone(5));
    auto bad = iotjobs::delete_job_execution(f.client, f.bad(), asio::use_future);
    CHECK_THROWS_AS(bad.get(), boost::system::system_error);
    guard.reset();
    t.join();
}

TEST_CASE("deferred operation launched later with a callback") {
    fixture f;
    auto op = iotjobs::delete_job_execution(f.client, f.req(6), asio::deferred);
    CHECK(!f.gone(6));  // nothing happens until it is launched
    error_code result = make_error_code(iotjobs::client_errc::bad_response);
    std::move(op)([&](error_code ec) { result = ec; });
    f.ctx.run();
    CHECK(!result);
    CHECK(f.gone(6));
}
