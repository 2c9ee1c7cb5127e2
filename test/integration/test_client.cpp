// The client against the in-process fake endpoint: TLS verification, keep-alive pooling,
// concurrency, service errors with diagnostics, auth failures, cancellation, shutdown.
#include "fake/server.hpp"
#include "fake_setup.hpp"
#include "run_delete.hpp"

#include <iotjobs/client.hpp>
#include <iotjobs/delete_job_execution.hpp>
#include <iotjobs/list_job_executions.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <boost/system/system_error.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <set>
#include <unistd.h>
#include <fstream>
#include <functional>
#include <future>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace fake = iotjobs::fake;
using iotjobs::error_code;

namespace {

const iotjobs::credentials test_creds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};

// The client constructor throws boost::system::system_error carrying an iotjobs::client_errc.
bool is_client_errc(const boost::system::system_error& e, iotjobs::client_errc expected) {
    return e.code().value() == static_cast<int>(expected) &&
           std::string_view(e.code().category().name()) == iotjobs::client_category().name();
}

std::string temp_path(const std::string& name) {
    auto dir = std::filesystem::temp_directory_path() / ("iotjobs-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    return (dir / name).string();
}

iotjobs::client_config config_for(const fake::server& s, const std::string& ca = {}) {
    iotjobs::client_config cfg;
    cfg.region = "us-east-1";
    cfg.endpoint_url = s.base_url();
    cfg.static_credentials = test_creds;
    cfg.ca_bundle = ca;
    cfg.retry.max_attempts = 1;
    return cfg;
}

using iotjobs::test::run_delete;
using iotjobs::test::seed;
using iotjobs::test::set_fault;
using iotjobs::test::start_holding_first;

}  // namespace

TEST_CASE("TLS: verified against the server's CA, keep-alive reuse, concurrent coroutines") {
    fake::server_options o;
    o.tls = true;
    fake::server s(o);
    s.start();
    std::string ca = temp_path("ca.pem");
    s.write_ca_file(ca);
    std::vector<fake::execution> seed;
    for (int i = 0; i < 200; ++i)
        seed.push_back(
            fake::make_execution("thing-" + std::to_string(i), "job-1", i, fake::execution_status::succeeded));
    s.add_executions(seed);

    asio::io_context ctx;
    auto cfg = config_for(s, ca);
    cfg.pool.max_size = 8;
    iotjobs::client c(ctx.get_executor(), cfg);
    int ok = 0;
    for (int w = 0; w < 16; ++w) {
        asio::co_spawn(
            ctx,
            [&, w]() -> asio::awaitable<void> {
                for (int i = w; i < 200; i += 16) {
                    // Named, not braced inside co_await: GCC 12 destroys braced temporaries in a
                    // co_await expression twice (see README, "Known compiler issues").
                    iotjobs::delete_job_execution_request r{"thing-" + std::to_string(i), "job-1", i, {}, {}};
                    auto [ec] = co_await iotjobs::delete_job_execution(c, r, asio::as_tuple(asio::deferred));
                    if (!ec) ++ok;
                }
            },
            asio::detached);
    }
    ctx.run();
    CHECK(ok == 200);
    CHECK(s.execution_count() == 0);
    auto st = c.stats();
    CHECK(st.connects == 8);  // the pool's size, not the number of requests
    CHECK(st.tls_handshakes + st.tls_resumed == 8);
    CHECK(st.reuses == 200 - 8);
    CHECK(st.leased == 0);
    CHECK(s.stats().connections_accepted == 8);
}

TEST_CASE("TLS: the system trust store (or a wrong CA) rejects the fake's certificate") {
    fake::server_options o;
    o.tls = true;
    fake::server s(o);
    s.start();
    s.add_execution(fake::make_execution("thing-1", "job-1", 1, fake::execution_status::succeeded));
    asio::io_context ctx;
    // A CA bundle that does not contain the fake's CA: the system bundle.
    auto cfg = config_for(s, "/etc/ssl/certs/ca-certificates.crt");
    iotjobs::client c(ctx.get_executor(), cfg);
    iotjobs::diagnostics diag;
    auto ec = run_delete(ctx, c, {"thing-1", "job-1", 1, {}, {}}, diag);
    CHECK(ec);
    CHECK(ec.category() != iotjobs::service_category());
    CHECK(s.find("thing-1", "job-1", 1).has_value());  // nothing was deleted
}

TEST_CASE("TLS: a missing CA bundle file is a configuration error naming the file") {
    asio::io_context ctx;
    iotjobs::client_config cfg;
    cfg.region = "us-east-1";
    cfg.endpoint_url = "https://127.0.0.1:1";
    cfg.ca_bundle = "/nonexistent/ca.pem";
    try {
        iotjobs::client c(ctx.get_executor(), cfg);
        CHECK(false);
    } catch (const boost::system::system_error& e) {
        CHECK(is_client_errc(e, iotjobs::client_errc::tls_setup_failed));
        CHECK(std::string(e.what()).find("/nonexistent/ca.pem") != std::string::npos);
    }
}

TEST_CASE("service errors reach the caller with diagnostics") {
    fake::server s;
    s.start();
    s.add_execution(fake::make_execution("thing:1", "job-1", 1, fake::execution_status::in_progress));
    s.add_execution(fake::make_execution("thing-2", "job-1", 2, fake::execution_status::failed, "ns-1"));
    asio::io_context ctx;
    iotjobs::client c(ctx.get_executor(), config_for(s));
    iotjobs::diagnostics diag;

    SUBCASE("IN_PROGRESS without force: InvalidStateTransitionException, then force deletes it") {
        auto ec = run_delete(ctx, c, {"thing:1", "job-1", 1, {}, {}}, diag);
        CHECK(ec == iotjobs::service_errc::invalid_state_transition);
        CHECK(diag.aws_error_name() == "InvalidStateTransitionException");
        CHECK(diag.http_status() == 409);
        CHECK(!diag.request_id().empty());
        CHECK(!diag.message().empty());
        ec = run_delete(ctx, c, {"thing:1", "job-1", 1, true, {}}, diag);
        CHECK(!ec);
        CHECK(!s.find("thing:1", "job-1", 1));
    }
    SUBCASE("missing: ResourceNotFoundException") {
        auto ec = run_delete(ctx, c, {"thing-9", "job-1", 9, {}, {}}, diag);
        CHECK(ec == iotjobs::service_errc::resource_not_found);
        CHECK(diag.http_status() == 404);
        CHECK(!diag.earlier_attempt_may_have_succeeded());
    }
    SUBCASE("namespaceId must match") {
        auto ec = run_delete(ctx, c, {"thing-2", "job-1", 2, {}, {}}, diag);
        CHECK(ec == iotjobs::service_errc::resource_not_found);
        ec = run_delete(ctx, c, {"thing-2", "job-1", 2, {}, std::string("ns-1")}, diag);
        CHECK(!ec);
    }
    SUBCASE("validation errors are found before any request") {
        auto before = s.stats().requests_total;
        auto ec = run_delete(ctx, c, {"thing-2", std::string(65, 'j'), 2, {}, {}}, diag);
        CHECK(ec == iotjobs::client_errc::invalid_job_id);
        CHECK(diag.message().find("jobId") != std::string_view::npos);
        ec = run_delete(ctx, c, {"thing-2", "job-1", 2, {}, std::string("bad ns")}, diag);
        CHECK(ec == iotjobs::client_errc::invalid_namespace_id);
        CHECK(diag.attempts() == 0);
        CHECK(s.stats().requests_total == before);
    }
}

TEST_CASE("auth failures: unknown key, wrong secret, session tokens") {
    fake::server_options o;
    o.credentials["AKIDTEMP"] = {"temp-secret", "the-token"};
    fake::server s(o);
    s.start();
    s.add_execution(fake::make_execution("thing-1", "job-1", 1, fake::execution_status::succeeded));
    asio::io_context ctx;
    iotjobs::diagnostics diag;

    auto cfg = config_for(s);
    cfg.static_credentials = {"AKIDUNKNOWN", "whatever", ""};
    iotjobs::client unknown(ctx.get_executor(), cfg);
    CHECK(run_delete(ctx, unknown, {"thing-1", "job-1", 1, {}, {}}, diag) ==
          iotjobs::service_errc::unrecognized_client);
    CHECK(diag.http_status() == 403);
    CHECK(iotjobs::is_fatal_for_client(make_error_code(iotjobs::service_errc::unrecognized_client)));

    cfg.static_credentials = {"AKIDEXAMPLE", "not-the-secret", ""};
    iotjobs::client wrong(ctx.get_executor(), cfg);
    CHECK(run_delete(ctx, wrong, {"thing-1", "job-1", 1, {}, {}}, diag) == iotjobs::service_errc::invalid_signature);
    CHECK(diag.aws_error_name() == "InvalidSignatureException");

    cfg.static_credentials = {"AKIDTEMP", "temp-secret", "not-the-token"};
    iotjobs::client bad_token(ctx.get_executor(), cfg);
    CHECK(run_delete(ctx, bad_token, {"thing-1", "job-1", 1, {}, {}}, diag) ==
          iotjobs::service_errc::unrecognized_client);

    cfg.static_credentials = {"AKIDTEMP", "temp-secret", "the-token"};
    iotjobs::client good_token(ctx.get_executor(), cfg);
    CHECK(!run_delete(ctx, good_token, {"thing-1", "job-1", 1, {}, {}}, diag));
}

TEST_CASE("no credentials: client_errc::no_credentials and nothing sent") {
    fake::server s;
    s.start();
    asio::io_context ctx;
    auto cfg = config_for(s);
    cfg.static_credentials = {};
    // The chain reads this environment only, not the host's: no keys, no container or web
    // identity variables, instance metadata off, and a HOME without ~/.aws.
    cfg.environment = [](const char* name) -> const char* {
        if (std::string_view(name) == "AWS_EC2_METADATA_DISABLED") return "true";
        if (std::string_view(name) == "HOME") return "/nonexistent-iotjobs-home";
        return nullptr;
    };
    iotjobs::client c(ctx.get_executor(), cfg);
    iotjobs::diagnostics diag;
    CHECK(run_delete(ctx, c, {"thing-1", "job-1", 1, {}, {}}, diag) == iotjobs::client_errc::no_credentials);
    CHECK(s.stats().requests_total == 0);
}

TEST_CASE("no region: the client cannot be built") {
    asio::io_context ctx;
    iotjobs::client_config cfg;
    cfg.endpoint_url = "http://127.0.0.1:1";
    CHECK_THROWS_AS(iotjobs::client(ctx.get_executor(), cfg), boost::system::system_error);
    cfg.region = "us-east-1";
    cfg.endpoint_url = "ftp://127.0.0.1:1";
    try {
        iotjobs::client c(ctx.get_executor(), cfg);
        CHECK(false);
    } catch (const boost::system::system_error& e) {
        CHECK(is_client_errc(e, iotjobs::client_errc::invalid_endpoint));
    }
}

TEST_CASE("per-operation cancellation: operation_aborted, the client stays usable") {
    for (const bool single : {false, true}) {  // single_threaded: the call runs on an op runner
        CAPTURE(single);
        fake::server s;
        start_holding_first(s, 2, "job-1", 1);

        asio::io_context ctx;
        auto cfg = config_for(s);
        cfg.single_threaded = single;
        iotjobs::client c(ctx.get_executor(), cfg);
        asio::cancellation_signal sig;
        error_code result;
        bool done = false;
        iotjobs::delete_job_execution(c, {"thing-1", "job-1", 1, {}, {}},
                                      asio::bind_cancellation_slot(sig.slot(), [&](error_code ec) {
                                          result = ec;
                                          done = true;
                                      }));
        asio::steady_timer t(ctx, std::chrono::milliseconds(200));
        t.async_wait([&](error_code) { sig.emit(asio::cancellation_type::terminal); });
        ctx.run_for(std::chrono::seconds(10));
        CHECK(done);
        CHECK(result == asio::error::operation_aborted);

        iotjobs::diagnostics diag;
        CHECK(!run_delete(ctx, c, {"thing-2", "job-1", 2, {}, {}}, diag));
        CHECK(c.stats().leased == 0);
    }
}

TEST_CASE("client::shutdown: the call in flight is aborted, calls waiting and later calls get pool_closed") {
    for (const bool single : {false, true}) {  // single_threaded: the calls run on op runners
        CAPTURE(single);
        fake::server s;
        start_holding_first(s, 4, "job-1", 1);

        asio::io_context ctx;
        auto cfg = config_for(s);
        cfg.pool.max_size = 1;  // one call on the connection, two waiting for it
        cfg.single_threaded = single;
        iotjobs::client c(ctx.get_executor(), cfg);
        std::vector<error_code> results(3);
        std::vector<int> completions(3, 0);
        for (int i = 0; i < 3; ++i)
            iotjobs::delete_job_execution(c, {"thing-" + std::to_string(i + 1), "job-1", i + 1, {}, {}},
                                          [&, i](error_code ec) {
                                              results[i] = ec;
                                              ++completions[i];
                                          });
        // Shut down once the first request is held by the server and the other two calls wait.
        asio::steady_timer t(ctx);
        std::function<void()> poll = [&] {
            if (c.stats().waiting == 2 && s.stats().count("DeleteJobExecution", "ok") == 1) {
                c.shutdown();
                return;
            }
            t.expires_after(std::chrono::milliseconds(5));
            t.async_wait([&](error_code) { poll(); });
        };
        poll();
        ctx.run_for(std::chrono::seconds(10));
        CHECK(completions == std::vector<int>{1, 1, 1});
        CHECK(results[0] == asio::error::operation_aborted);
        CHECK(results[1] == iotjobs::client_errc::pool_closed);
        CHECK(results[2] == iotjobs::client_errc::pool_closed);

        iotjobs::diagnostics diag;
        CHECK(run_delete(ctx, c, {"thing-4", "job-1", 4, {}, {}}, diag) == iotjobs::client_errc::pool_closed);
        c.shutdown();  // again: nothing changes
        // Only the first call's request reached the server (the stall fault processes it, then holds
        // the answer: counted once as ok and once as no_response).
        CHECK(s.stats().count("DeleteJobExecution", "ok") == 1);
        CHECK(s.stats().count("DeleteJobExecution", "no_response") == 1);
        CHECK(s.stats().requests_total == 2);
        CHECK(s.stats().connections_accepted == 1);
        CHECK(s.execution_count() == 3);
        const auto st = c.stats();
        CHECK(st.leased == 0);
        CHECK(st.idle == 0);
        CHECK(st.waiting == 0);
    }
}

TEST_CASE("a client shared by coroutines on a multi-threaded io_context") {
    fake::server s;
    s.start();
    std::vector<fake::execution> seed;
    for (int i = 0; i < 300; ++i)
        seed.push_back(fake::make_execution("t-" + std::to_string(i), "job-1", i, fake::execution_status::succeeded));
    s.add_executions(seed);
    asio::io_context ctx(2);
    auto cfg = config_for(s);
    cfg.pool.max_size = 4;
    iotjobs::client c(ctx.get_executor(), cfg);
    std::atomic<int> ok{0};
    for (int w = 0; w < 12; ++w) {
        asio::co_spawn(
            ctx,
            [&, w]() -> asio::awaitable<void> {
                for (int i = w; i < 300; i += 12) {
                    iotjobs::delete_job_execution_request r{"t-" + std::to_string(i), "job-1", i, {}, {}};
                    auto [ec] = co_await iotjobs::delete_job_execution(c, r, asio::as_tuple(asio::deferred));
                    if (!ec) ++ok;
                }
            },
            asio::detached);
    }
    std::thread t1([&] { ctx.run(); });
    std::thread t2([&] { ctx.run(); });
    t1.join();
    t2.join();
    CHECK(ok == 300);
    CHECK(c.stats().connects <= 4);
    CHECK(s.execution_count() == 0);
}

TEST_CASE("TLS session resumption for new connections; idle connections closed by cancel()") {
    fake::server_options o;
    o.tls = true;
    fake::server s(o);
    s.start();
    std::string ca = temp_path("ca-resume.pem");
    s.write_ca_file(ca);
    for (int i = 0; i < 3; ++i)
        s.add_execution(
            fake::make_execution("thing-" + std::to_string(i), "job-1", i, fake::execution_status::succeeded));
    asio::io_context ctx;
    iotjobs::client c(ctx.get_executor(), config_for(s, ca));
    iotjobs::diagnostics diag;
    CHECK(!run_delete(ctx, c, {"thing-0", "job-1", 0, {}, {}}, diag));
    CHECK(c.stats().idle == 1);
    c.cancel();  // closes idle connections
    CHECK(c.stats().idle == 0);
    CHECK(!run_delete(ctx, c, {"thing-1", "job-1", 1, {}, {}}, diag));
    auto st = c.stats();
    CHECK(st.connects == 2);
    CHECK(st.tls_handshakes == 1);
    CHECK(st.tls_resumed == 1);
}

TEST_CASE("pager: every execution of a job across pages") {
    fake::server s;
    s.start();
    std::vector<fake::execution> seed;
    for (int i = 0; i < 120; ++i)
        seed.push_back(
            fake::make_execution("thing-" + std::to_string(i), "job-p", i, fake::execution_status::succeeded));
    s.add_executions(seed);
    asio::io_context ctx(1);
    auto cfg = config_for(s);
    cfg.single_threaded = true;
    iotjobs::client c(ctx.get_executor(), cfg);
    std::set<std::string> seen;
    std::size_t pages = 0;
    asio::co_spawn(
        ctx,
        [&]() -> asio::awaitable<void> {
            iotjobs::list_job_executions_for_job_request first;
            first.job_id = "job-p";
            first.max_results = 50;
            iotjobs::job_executions_pager pager(c, first);
            while (!pager.done()) {
                auto page = co_await pager.async_next(asio::use_awaitable);
                for (auto& e : page.executions) seen.insert(e.thing_arn);
            }
            pages = pager.pages();
        },
        asio::detached);
    ctx.run();
    CHECK(seen.size() == 120);
    CHECK(pages == 3);
}

TEST_CASE("adaptive mode: a rate-limiter wait that would pass the operation deadline ends the call") {
    fake::server s;
    s.start();
    seed(s, 5);
    set_fault(s, "throttle=first:1");
    asio::io_context ctx;
    auto cfg = config_for(s);  // max_attempts 1
    cfg.retry.mode = iotjobs::retry_mode::adaptive;
    cfg.timeouts.operation = std::chrono::milliseconds(300);
    iotjobs::client c(ctx.get_executor(), cfg);
    iotjobs::diagnostics diag;
    // One throttle after one response: the limiter turns on at ~1.4 requests/s (bucket <= 1.4).
    CHECK(run_delete(ctx, c, {"thing-0", "job-1", 0, {}, {}}, diag) == iotjobs::service_errc::throttling);
    // Within a few calls the bucket is empty and the next slot is further away than 300 ms.
    iotjobs::error_code last;
    int sent_before = static_cast<int>(s.stats().requests_total);
    for (int i = 1; i < 5 && last != iotjobs::client_errc::deadline_exceeded; ++i)
        last = run_delete(ctx, c, {"thing-" + std::to_string(i), "job-1", i, {}, {}}, diag);
    CHECK(last == iotjobs::client_errc::deadline_exceeded);
    CHECK(diag.message().find("rate limiter") != std::string_view::npos);
    CHECK(static_cast<int>(s.stats().requests_total) - sent_before <= 3);
}

TEST_CASE("completion: on the handler's associated executor, else the client's") {
    fake::server s;
    s.start();
    std::vector<fake::execution> seed;
    for (int i = 1; i <= 3; ++i)
        seed.push_back(
            fake::make_execution("thing-" + std::to_string(i), "job-1", i, fake::execution_status::succeeded));
    s.add_executions(seed);
    asio::io_context client_ctx;  // the client's executor (run on this thread)
    asio::io_context other_ctx;   // a handler's own executor (run on another thread)
    auto other_work = asio::make_work_guard(other_ctx);
    std::thread other_thread([&] { other_ctx.run(); });
    const auto other_id = other_thread.get_id();
    iotjobs::client c(client_ctx.get_executor(), config_for(s));
    const auto main_id = std::this_thread::get_id();

    // A plain callback has no executor of its own: the client's.
    std::thread::id plain_on{};
    error_code plain_ec = iotjobs::client_errc::bad_response;
    iotjobs::delete_job_execution(c, iotjobs::delete_job_execution_request{"thing-1", "job-1", 1}, [&](error_code ec) {
        plain_ec = ec;
        plain_on = std::this_thread::get_id();
    });
    // Bound to another io_context: completes there, on its thread.
    std::thread::id bound_on{};
    bool bound_in_ctx = false;
    error_code bound_ec = iotjobs::client_errc::bad_response;
    std::promise<void> bound_done;
    iotjobs::delete_job_execution(c, iotjobs::delete_job_execution_request{"thing-2", "job-1", 2},
                                  asio::bind_executor(other_ctx, [&](error_code ec) {
                                      bound_ec = ec;
                                      bound_on = std::this_thread::get_id();
                                      bound_in_ctx = other_ctx.get_executor().running_in_this_thread();
                                      bound_done.set_value();
                                  }));
    // A strand of the client's context: on the strand.
    auto strand = asio::make_strand(client_ctx);
    bool on_strand = false;
    iotjobs::delete_job_execution(
        c, iotjobs::delete_job_execution_request{"thing-3", "job-1", 3},
        asio::bind_executor(strand, [&](error_code) { on_strand = strand.running_in_this_thread(); }));
    client_ctx.run();
    bound_done.get_future().wait();
    other_work.reset();
    other_thread.join();
    CHECK(!plain_ec);
    CHECK(plain_on == main_id);
    CHECK(!bound_ec);
    CHECK(bound_in_ctx);
    CHECK(bound_on == other_id);
    CHECK(on_strand);
}
