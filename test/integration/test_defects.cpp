// Issue 11, item 6: defects read in the code, each reproduced here against the in-process fake:
// client::cancel() before the first run, a throwing bulk source, the client handle moved or
// destroyed mid-run, attempts counted but never sent, stop reasons as types.
#include "fake/server.hpp"
#include "fake_setup.hpp"

#include <iotjobs/bulk_delete.hpp>
#include <iotjobs/client.hpp>
#include <iotjobs/delete_job_execution.hpp>
#include <iotjobs/list_job_executions.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <optional>
#include <stdexcept>

namespace asio = boost::asio;
namespace fake = iotjobs::fake;
using iotjobs::bulk_outcome_kind;
using iotjobs::error_code;

using iotjobs::test::seed;
using iotjobs::test::set_fault;

namespace {

iotjobs::client_config config_for(const fake::server& s) {
    iotjobs::client_config cfg;
    cfg.region = "us-east-1";
    cfg.endpoint_url = s.base_url();
    cfg.static_credentials = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
    cfg.retry.max_attempts = 1;
    return cfg;
}

std::string key(const iotjobs::delete_job_execution_request& r) {
    return r.thing_name + "/" + r.job_id + "/" + std::to_string(r.execution_number);
}

// A source that yields `good` valid items and then throws from async_next (a user's source
// with a bug, or a sync_source whose produce() throws).
// With `after_completing`, it throws right after completing its last item (and then reports the
// end of the input if asked again).
class throwing_source final : public iotjobs::bulk_source {
public:
    explicit throwing_source(int good, bool after_completing = false) : good_(good), after_(after_completing) {}
    void async_next(asio::any_completion_handler<void(error_code, pull)> handler) override {
        if (next_ == good_ && !after_) throw std::runtime_error("the source exploded");
        pull p;
        if (next_ < good_) {
            p.item.emplace();
            p.item->request = {"thing-" + std::to_string(next_), "job-1", next_, {}, {}};
            p.item->line = static_cast<std::uint64_t>(next_ + 1);
            ++next_;
            ++pulled;
        }
        const bool throw_now = after_ && p.item && next_ == good_;
        auto ex = asio::get_associated_executor(handler);
        asio::dispatch(
            ex, [h = std::move(handler), p = std::move(p)]() mutable { std::move(h)(error_code{}, std::move(p)); });
        if (throw_now) throw std::runtime_error("the source exploded");
    }
    int pulled = 0;

private:
    int good_;
    bool after_;
    int next_ = 0;
};

}  // namespace

TEST_CASE("defect 1: client::cancel() before the io_context runs aborts every operation; nothing is sent") {
    for (bool single_threaded : {false, true}) {
        CAPTURE(single_threaded);
        fake::server s;
        s.start();
        seed(s, 40);
        asio::io_context ctx;
        auto cfg = config_for(s);
        cfg.single_threaded = single_threaded;
        iotjobs::client c(ctx.get_executor(), cfg);
        std::vector<error_code> results;
        for (int i = 0; i < 40; ++i) {
            iotjobs::delete_job_execution_request r{"thing-" + std::to_string(i), "job-1", i, {}, {}};
            iotjobs::delete_job_execution(c, std::move(r), [&](error_code ec) { results.push_back(ec); });
        }
        c.cancel();
        ctx.run_for(std::chrono::seconds(20));  // a bound, not an assertion: everything ends at once
        REQUIRE(results.size() == 40);
        for (auto& ec : results) CHECK(ec == asio::error::operation_aborted);
        CHECK(s.stats().requests_total == 0);
        CHECK(s.execution_count() == 40);
        CHECK(c.stats().requests == 0);
    }
}

TEST_CASE("defect 2: a bulk source that throws ends the run with an error; every pulled item has one outcome") {
    fake::server s;
    s.start();
    seed(s, 5);
    asio::io_context ctx;
    iotjobs::client c(ctx.get_executor(), config_for(s));
    bool after_completing = false;
    SUBCASE("before completing") {}
    SUBCASE("after completing its last item") { after_completing = true; }
    CAPTURE(after_completing);
    throwing_source src(5, after_completing);
    iotjobs::bulk_options opt;
    opt.max_in_flight = 2;
    std::map<std::string, int> outcomes;
    bool done = false;
    error_code result;
    iotjobs::bulk_summary summary;
    iotjobs::bulk_delete(
        c, src, opt, [&](const iotjobs::bulk_outcome& o) { ++outcomes[key(o.item.request)]; },
        [&](error_code ec, iotjobs::bulk_summary sm) {
            done = true;
            result = ec;
            summary = std::move(sm);
        });
    ctx.run_for(std::chrono::seconds(20));
    REQUIRE(done);
    CHECK(result);
    CHECK(summary.stopped_early);
    CHECK(summary.stop_reason.find("the source exploded") != std::string::npos);
    CHECK(summary.stop_kind == iotjobs::bulk_stop_reason::source_failed);
    CHECK(src.pulled == 5);
    CHECK(outcomes.size() == 5);
    for (auto& [k, n] : outcomes) CHECK_MESSAGE(n == 1, k);
    CHECK(summary.items == 5);
}

TEST_CASE("defect 3: the client handle destroyed (or moved) mid-run: the bulk run completes") {
    fake::server s;
    s.start();
    seed(s, 30);
    asio::io_context ctx;
    auto c = std::make_unique<iotjobs::client>(ctx.get_executor(), config_for(s));
    std::optional<iotjobs::client> moved;
    std::vector<iotjobs::delete_job_execution_request> items;
    for (int i = 0; i < 30; ++i) items.push_back({"thing-" + std::to_string(i), "job-1", i, {}, {}});
    auto src = iotjobs::make_vector_source(std::move(items));
    iotjobs::bulk_options opt;
    opt.max_in_flight = 2;
    int outcomes = 0, deleted = 0;
    bool done = false;
    error_code result;
    SUBCASE("moved into another variable, the moved-from one destroyed") {
        iotjobs::bulk_delete(
            *c, *src, opt,
            [&](const iotjobs::bulk_outcome& o) {
                ++outcomes;
                deleted += o.kind == bulk_outcome_kind::deleted;
                if (outcomes == 3) {
                    moved.emplace(std::move(*c));
                    c.reset();
                }
            },
            [&](error_code ec, iotjobs::bulk_summary) {
                done = true;
                result = ec;
            });
    }
    SUBCASE("every handle destroyed") {
        iotjobs::bulk_delete(
            *c, *src, opt,
            [&](const iotjobs::bulk_outcome& o) {
                ++outcomes;
                deleted += o.kind == bulk_outcome_kind::deleted;
                if (outcomes == 3) c.reset();
            },
            [&](error_code ec, iotjobs::bulk_summary) {
                done = true;
                result = ec;
            });
    }
    ctx.run_for(std::chrono::seconds(20));
    REQUIRE(done);
    CHECK(!result);
    CHECK(outcomes == 30);
    CHECK(deleted == 30);
    CHECK(s.execution_count() == 0);
}

TEST_CASE("defect 3: a list source (purge) and a pager outlive the client handle") {
    fake::server s;
    s.start();
    seed(s, 30, "job-7");
    asio::io_context ctx;
    auto c = std::make_unique<iotjobs::client>(ctx.get_executor(), config_for(s));
    SUBCASE("list source") {
        iotjobs::list_source_params p;
        p.job_id = "job-7";
        p.page_size = 5;
        auto src = iotjobs::make_list_source(*c, p);
        iotjobs::bulk_options opt;
        opt.max_in_flight = 2;
        int outcomes = 0;
        bool done = false;
        error_code result;
        iotjobs::bulk_delete(
            *c, *src, opt,
            [&](const iotjobs::bulk_outcome&) {
                if (++outcomes == 1) c.reset();
            },
            [&](error_code ec, iotjobs::bulk_summary) {
                done = true;
                result = ec;
            });
        ctx.run_for(std::chrono::seconds(20));
        REQUIRE(done);
        CHECK(!result);
        CHECK(outcomes == 30);
        CHECK(s.execution_count() == 0);
    }
    SUBCASE("pager") {
        iotjobs::job_executions_pager pager(*c, iotjobs::list_job_executions_for_job_request{"job-7", {}, 4, {}});
        c.reset();
        std::size_t seen = 0;
        error_code last;
        asio::co_spawn(
            ctx,
            [&]() -> asio::awaitable<void> {
                while (!pager.done()) {
                    auto [ec, page] = co_await pager.async_next(asio::as_tuple(asio::deferred));
                    last = ec;
                    if (ec) break;
                    seen += page.executions.size();
                }
            },
            asio::detached);
        ctx.run_for(std::chrono::seconds(20));
        CHECK(!last);
        CHECK(seen == 30);
    }
}

TEST_CASE("defect 5: an attempt the deadline stops is neither counted nor reported as made") {
    fake::server s;
    s.start();
    seed(s, 1);
    asio::io_context ctx;
    auto cfg = config_for(s);
    cfg.timeouts.operation = std::chrono::nanoseconds(1);  // past before the first attempt can start
    iotjobs::client c(ctx.get_executor(), cfg);
    iotjobs::diagnostics diag;
    error_code result;
    bool done = false;
    iotjobs::delete_job_execution(c, {"thing-0", "job-1", 0, {}, {}}, diag, [&](error_code ec) {
        result = ec;
        done = true;
    });
    ctx.run_for(std::chrono::seconds(20));
    REQUIRE(done);
    CHECK(result == iotjobs::client_errc::deadline_exceeded);
    CHECK(s.stats().requests_total == 0);
    CHECK(diag.attempts() == 0);
    CHECK(c.stats().requests == 0);
    CHECK(c.stats().requests == s.stats().requests_total);
}

TEST_CASE(
    "defect 5: a deadline met while waiting for the adaptive rate limiter: no attempt counted that was not sent") {
    fake::server s;
    s.start();
    seed(s, 6);
    set_fault(s, "throttle=first:1");
    asio::io_context ctx;
    auto cfg = config_for(s);
    cfg.retry.mode = iotjobs::retry_mode::adaptive;
    cfg.timeouts.operation = std::chrono::milliseconds(300);
    iotjobs::client c(ctx.get_executor(), cfg);
    error_code last;
    iotjobs::diagnostics diag;
    for (int i = 0; i < 6 && last != iotjobs::client_errc::deadline_exceeded; ++i) {
        bool done = false;
        iotjobs::delete_job_execution(c, {"thing-" + std::to_string(i), "job-1", i, {}, {}}, diag, [&](error_code ec) {
            last = ec;
            done = true;
        });
        ctx.restart();
        ctx.run_for(std::chrono::seconds(20));
        REQUIRE(done);
        CHECK(c.stats().requests == s.stats().requests_total);
    }
    CHECK(last == iotjobs::client_errc::deadline_exceeded);
    CHECK(diag.attempts() == 0);
    CHECK(diag.timeout_phase() == iotjobs::timeout_phase::rate_wait);
}

TEST_CASE("defect 7: why a run stopped is a type, with the failing call's outcome and diagnostics") {
    fake::server s;
    s.start();
    seed(s, 10);
    asio::io_context ctx;
    std::vector<iotjobs::delete_job_execution_request> items;
    for (int i = 0; i < 10; ++i) items.push_back({"thing-" + std::to_string(i), "job-1", i, {}, {}});
    auto src = iotjobs::make_vector_source(std::move(items));
    iotjobs::bulk_options opt;
    opt.max_in_flight = 1;
    iotjobs::bulk_summary summary;
    error_code result;
    bool done = false;
    auto finish = [&](error_code ec, iotjobs::bulk_summary sm) {
        done = true;
        result = ec;
        summary = std::move(sm);
    };
    SUBCASE("a fatal error: the call that stopped the run") {
        auto cfg = config_for(s);
        cfg.static_credentials = {"AKIDUNKNOWN", "whatever", ""};
        iotjobs::client c(ctx.get_executor(), cfg);
        iotjobs::bulk_delete(c, *src, opt, nullptr, finish);
        ctx.run_for(std::chrono::seconds(20));
        REQUIRE(done);
        CHECK(summary.stop_kind == iotjobs::bulk_stop_reason::fatal_error);
        REQUIRE(summary.stop_outcome);
        CHECK(summary.stop_outcome->item.request.thing_name == "thing-0");
        CHECK(summary.stop_outcome->ec == result);
        CHECK(summary.stop_diagnostics.http_status() == 403);
        CHECK(!summary.stop_diagnostics.aws_error_name().empty());
        CHECK(summary.stop_diagnostics.aws_error_name() == summary.stop_outcome->aws_error_name);
    }
    SUBCASE("the outcome handler threw") {
        iotjobs::client c(ctx.get_executor(), config_for(s));
        iotjobs::bulk_delete(
            c, *src, opt, [](const iotjobs::bulk_outcome&) { throw std::runtime_error("disk full"); }, finish);
        ctx.run_for(std::chrono::seconds(20));
        REQUIRE(done);
        CHECK(summary.stop_kind == iotjobs::bulk_stop_reason::outcome_handler_threw);
        CHECK(summary.stop_detail == "disk full");
        CHECK(!summary.stop_outcome);
    }
    SUBCASE("a run that ends normally") {
        iotjobs::client c(ctx.get_executor(), config_for(s));
        iotjobs::bulk_delete(c, *src, opt, nullptr, finish);
        ctx.run_for(std::chrono::seconds(20));
        REQUIRE(done);
        CHECK(!result);
        CHECK(summary.stop_kind == iotjobs::bulk_stop_reason::none);
        CHECK(!summary.stopped_early);
    }
}
