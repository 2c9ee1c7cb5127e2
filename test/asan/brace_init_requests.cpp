// Issue 11 item 5: the call shapes the README documents, with the request brace-initialised inside
// the co_await expression, compiled by the project's compiler (GCC 12) and run under
// AddressSanitizer (this target is always built with -fsanitize=address, see test/CMakeLists.txt).
// GCC 12 destroys an aggregate-initialised temporary whose members have non-trivial destructors
// twice when it is created inside a co_await expression (a by-value, const& or && parameter alike;
// a temporary built by a constructor is destroyed once); ASan's allocator reports the bad free of
// the request's strings even though the library itself is not instrumented.
//
// Every operation with a request struct is called this way against the in-process fake endpoint,
// and the fake's state is checked afterwards.
#include "fake/server.hpp"

#include <iotjobs/client.hpp>
#include <iotjobs/delete_job_execution.hpp>
#include <iotjobs/describe_job_execution.hpp>
#include <iotjobs/list_job_executions.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <doctest/doctest.h>

#include <exception>
#include <optional>
#include <string>

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
        for (int i = 1; i <= 8; ++i) {
            iotjobs::fake::execution e;
            e.thing_name = "thing";
            e.job_id = "job";
            e.execution_number = i;
            e.status = iotjobs::fake::execution_status::in_progress;
            server.add_execution(e);
        }
        iotjobs::client_config cfg;
        cfg.region = "us-east-1";
        cfg.endpoint_url = server.base_url();
        cfg.static_credentials = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
        return iotjobs::client(ctx.get_executor(), cfg);
    }

    // Runs a coroutine to completion; rethrows what it threw.
    void run(asio::awaitable<void> a) {
        std::exception_ptr failure;
        asio::co_spawn(ctx, std::move(a), [&](std::exception_ptr e) { failure = e; });
        ctx.run();
        if (failure) std::rethrow_exception(failure);
    }
};

}  // namespace

TEST_CASE("delete_job_execution: the README's brace-initialised request inside co_await") {
    fixture f;
    f.run([&]() -> asio::awaitable<void> {
        // The README shows this region (scripts/readme_snippets).
        //[readme_brace_init
        // The default token (deferred) throws boost::system::system_error on failure.
        co_await iotjobs::delete_job_execution(f.client, {"thing", "job", 7, true, std::nullopt});
        // With diagnostics and as_tuple: the error as a value.
        iotjobs::diagnostics diag;
        auto [ec] = co_await iotjobs::delete_job_execution(f.client, {"thing", "job", 6, true, std::nullopt}, diag,
                                                           asio::as_tuple(asio::deferred));
        //]
        CHECK(!ec);
        CHECK(diag.http_status() == 200);
        co_await iotjobs::delete_job_execution(f.client, {"thing", "job", 5, true, {}}, asio::use_awaitable);
        // A longer string than any small-string buffer, so the double free is of heap memory.
        auto [ec2] = co_await iotjobs::delete_job_execution(
            f.client, {std::string(120, 't'), "job", 1, true, std::string(100, 'n')}, asio::as_tuple(asio::deferred));
        CHECK(ec2 == iotjobs::service_errc::resource_not_found);
    }());
    CHECK(!f.server.find("thing", "job", 7).has_value());
    CHECK(!f.server.find("thing", "job", 6).has_value());
    CHECK(!f.server.find("thing", "job", 5).has_value());
    CHECK(f.server.find("thing", "job", 4).has_value());
}

TEST_CASE("describe and cancel: brace-initialised requests inside co_await") {
    fixture f;
    f.run([&]() -> asio::awaitable<void> {
        iotjobs::diagnostics diag;
        auto e = co_await iotjobs::describe_job_execution(f.client, {"thing", "job", 3}, diag);
        CHECK(e.execution_number == 3);
        CHECK(e.status == iotjobs::job_execution_status::in_progress);
        // (A braced std::map initializer inside co_await does not compile on GCC 12: "array used as
        // initializer". That shape fails loudly, so it needs no test here.)
        co_await iotjobs::cancel_job_execution(f.client, {"thing", "job", true, std::nullopt, {}}, diag);
        auto after = co_await iotjobs::describe_job_execution(f.client, {std::string("thing"), "job", std::nullopt},
                                                              diag, asio::use_awaitable);
        CHECK(after.status == iotjobs::job_execution_status::canceled);
    }());
}

TEST_CASE("list: brace-initialised requests inside co_await") {
    fixture f;
    f.run([&]() -> asio::awaitable<void> {
        auto page = co_await iotjobs::list_job_executions_for_job(f.client, {"job", std::nullopt, 250, std::nullopt});
        CHECK(page.executions.size() == 8);
        iotjobs::diagnostics diag;
        auto page2 = co_await iotjobs::list_job_executions_for_thing(
            f.client, {"thing", iotjobs::job_execution_status::in_progress, std::nullopt, 250, std::nullopt, "job"},
            diag);
        CHECK(page2.executions.size() == 8);
    }());
}
