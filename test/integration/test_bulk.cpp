// The bulk engine against the in-process fake endpoint: one outcome per item, the kinds,
// early stop on fatal errors, cancellation, list-based sources (purge), fixed rate.
#include "fake/server.hpp"

#include <iotjobs/bulk_delete.hpp>
#include <iotjobs/client.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <doctest/doctest.h>

#include <map>
#include <set>
#include <sstream>

namespace asio = boost::asio;
namespace fake = iotjobs::fake;
using iotjobs::bulk_outcome_kind;
using iotjobs::error_code;

namespace {

iotjobs::client_config config_for(const fake::server& s) {
    iotjobs::client_config cfg;
    cfg.region = "us-east-1";
    cfg.endpoint_url = s.base_url();
    cfg.static_credentials = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
    cfg.retry.max_attempts = 1;
    return cfg;
}

struct run_result {
    error_code ec;
    iotjobs::bulk_summary summary;
    std::vector<iotjobs::bulk_outcome> outcomes;
};

run_result run(asio::io_context& ctx, iotjobs::client& c, iotjobs::bulk_source& src, iotjobs::bulk_options opt,
               asio::cancellation_slot slot = {}) {
    run_result r;
    bool done = false;
    auto handler = [&](error_code ec, iotjobs::bulk_summary s) {
        r.ec = ec;
        r.summary = std::move(s);
        done = true;
    };
    iotjobs::bulk_delete(
        c, src, opt, [&](const iotjobs::bulk_outcome& o) { r.outcomes.push_back(o); },
        asio::bind_cancellation_slot(slot, handler));
    ctx.restart();
    ctx.run();
    REQUIRE(done);
    return r;
}

// n SUCCEEDED executions thing-<i>/job-1/i on the fake, and the requests that delete them.
std::vector<iotjobs::delete_job_execution_request> seed_succeeded(fake::server& s, int n) {
    std::vector<iotjobs::delete_job_execution_request> items;
    for (int i = 0; i < n; ++i) {
        s.add_execution(
            fake::make_execution("thing-" + std::to_string(i), "job-1", i, fake::execution_status::succeeded));
        items.push_back({"thing-" + std::to_string(i), "job-1", i, {}, {}});
    }
    return items;
}

std::string key(const iotjobs::delete_job_execution_request& r) {
    return r.thing_name + "/" + r.job_id + "/" + std::to_string(r.execution_number);
}

}  // namespace

TEST_CASE("every item gets exactly one outcome, of the right kind") {
    fake::server s;
    s.start();
    std::vector<iotjobs::delete_job_execution_request> items;
    for (int i = 0; i < 300; ++i) {
        auto st = i % 3 == 0 ? fake::execution_status::in_progress : fake::execution_status::succeeded;
        if (i % 10 != 7) s.add_execution(fake::make_execution("thing-" + std::to_string(i), "job-1", i, st));
        items.push_back({"thing-" + std::to_string(i), "job-1", i, {}, {}});
    }
    items.push_back({"bad thing", "job-1", 1, {}, {}});
    asio::io_context ctx;
    iotjobs::client c(ctx.get_executor(), config_for(s));
    auto src = iotjobs::make_vector_source(items);
    iotjobs::bulk_options opt;
    opt.max_in_flight = 8;
    auto r = run(ctx, c, *src, opt);
    CHECK(!r.ec);
    CHECK(r.outcomes.size() == items.size());
    std::set<std::string> seen;
    std::map<bulk_outcome_kind, int> kinds;
    for (auto& o : r.outcomes) {
        CHECK(seen.insert(key(o.item.request)).second);
        ++kinds[o.kind];
        int i = static_cast<int>(o.item.request.execution_number);
        if (o.item.request.thing_name == "bad thing") {
            CHECK(o.kind == bulk_outcome_kind::invalid_input);
            CHECK(o.message.find("thingName") != std::string::npos);
        } else if (i % 10 == 7) {
            CHECK(o.kind == bulk_outcome_kind::not_found);
        } else if (i % 3 == 0) {
            CHECK(o.kind == bulk_outcome_kind::refused);
            CHECK(o.aws_error_name == "InvalidStateTransitionException");
        } else {
            CHECK(o.kind == bulk_outcome_kind::deleted);
        }
    }
    CHECK(r.summary.items == items.size());
    CHECK(r.summary.deleted == static_cast<std::uint64_t>(kinds[bulk_outcome_kind::deleted]));
    CHECK(r.summary.refused == static_cast<std::uint64_t>(kinds[bulk_outcome_kind::refused]));
    CHECK(r.summary.not_found == 30);
    CHECK(!r.summary.stopped_early);
    CHECK(c.stats().connects <= 8);

    SUBCASE("default force deletes the IN_PROGRESS ones") {
        auto src2 = iotjobs::make_vector_source(items);
        opt.default_force = true;
        auto r2 = run(ctx, c, *src2, opt);
        CHECK(r2.summary.deleted == r.summary.refused);
        CHECK(s.execution_count() == 0);
    }
}

TEST_CASE("a fatal auth error stops the run early; the rest is not attempted") {
    fake::server s;
    s.start();
    std::vector<iotjobs::delete_job_execution_request> items;
    for (int i = 0; i < 500; ++i) {
        s.add_execution(
            fake::make_execution("thing-" + std::to_string(i), "job-1", i, fake::execution_status::succeeded));
        items.push_back({"thing-" + std::to_string(i), "job-1", i, {}, {}});
    }
    asio::io_context ctx;
    auto cfg = config_for(s);
    cfg.static_credentials.secret_access_key = "wrong";
    iotjobs::client c(ctx.get_executor(), cfg);
    auto src = iotjobs::make_vector_source(items);
    iotjobs::bulk_options opt;
    opt.max_in_flight = 4;
    auto r = run(ctx, c, *src, opt);
    CHECK(r.ec == iotjobs::service_errc::invalid_signature);
    CHECK(r.summary.stopped_early);
    CHECK(r.summary.stop_reason.find("InvalidSignatureException") != std::string::npos);
    CHECK(r.outcomes.size() == 500);  // every item still has its outcome
    CHECK(r.summary.failed <= 8);     // only those already in flight were sent
    CHECK(r.summary.not_attempted >= 490);
    CHECK(s.stats().requests_total <= 8);
    CHECK(s.execution_count() == 500);
}

TEST_CASE("cancellation: stop taking new items, finish those in flight") {
    fake::server s;
    std::string err;
    auto slow = fake::parse_fault("latency=always,ms=20", err);
    REQUIRE(slow);
    s.start();
    s.set_faults({*slow});
    auto items = seed_succeeded(s, 2000);
    asio::io_context ctx;
    iotjobs::client c(ctx.get_executor(), config_for(s));
    auto src = iotjobs::make_vector_source(items);
    iotjobs::bulk_options opt;
    opt.max_in_flight = 4;
    asio::cancellation_signal sig;
    asio::steady_timer t(ctx, std::chrono::milliseconds(300));
    t.async_wait([&](error_code) { sig.emit(asio::cancellation_type::partial); });
    auto r = run(ctx, c, *src, opt, sig.slot());
    CHECK(r.ec == asio::error::operation_aborted);
    CHECK(r.outcomes.size() == 2000);
    CHECK(r.summary.deleted > 0);
    CHECK(r.summary.not_attempted > 0);
    CHECK(r.summary.failed == 0);  // nothing in flight was aborted
    CHECK(r.summary.deleted + r.summary.not_attempted == 2000);
    CHECK(s.execution_count() == 2000 - r.summary.deleted);
}

TEST_CASE("purge: the executions of a job, filtered by status, across pages") {
    fake::server s;
    s.start();
    for (int i = 0; i < 620; ++i) {
        auto st = i % 4 == 0 ? fake::execution_status::in_progress : fake::execution_status::succeeded;
        s.add_execution(fake::make_execution("thing:" + std::to_string(i), "job-7", i, st));
        s.add_execution(
            fake::make_execution("thing:" + std::to_string(i), "job-8", i, fake::execution_status::succeeded));
    }
    asio::io_context ctx;
    iotjobs::client c(ctx.get_executor(), config_for(s));
    iotjobs::list_source_params p;
    p.job_id = "job-7";
    p.statuses = {iotjobs::job_execution_status::succeeded};
    p.page_size = 100;
    auto src = iotjobs::make_list_source(c, p);
    auto r = run(ctx, c, *src, {});
    CHECK(!r.ec);
    CHECK(r.summary.deleted == 465);
    CHECK(r.outcomes.size() == 465);
    std::set<std::string> seen;
    for (auto& o : r.outcomes) CHECK(seen.insert(key(o.item.request)).second);
    CHECK(s.execution_count() == 620 + 155);  // job-8 untouched, IN_PROGRESS ones of job-7 kept

    SUBCASE("by thing, every status, with force") {
        iotjobs::list_source_params q;
        q.thing_name = "thing:4";
        auto src2 = iotjobs::make_list_source(c, q);
        iotjobs::bulk_options opt;
        opt.default_force = true;
        auto r2 = run(ctx, c, *src2, opt);
        CHECK(r2.summary.deleted == 2);  // job-7 IN_PROGRESS (forced) and job-8
        CHECK(!s.find("thing:4", "job-7", 4));
        CHECK(!s.find("thing:4", "job-8", 4));
    }
}

TEST_CASE("dry run deletes nothing and predicts each outcome (DescribeJobExecution)") {
    fake::server s;
    s.start();
    s.add_execution(fake::make_execution("thing-1", "job-1", 1, fake::execution_status::succeeded));
    s.add_execution(fake::make_execution("thing-3", "job-1", 3, fake::execution_status::queued));
    asio::io_context ctx;
    iotjobs::client c(ctx.get_executor(), config_for(s));
    auto src = iotjobs::make_vector_source({{"thing-1", "job-1", 1, {}, {}},
                                            {"bad/thing", "job-1", 2, {}, {}},
                                            {"thing-3", "job-1", 3, {}, {}},
                                            {"thing-4", "job-1", 4, {}, {}}});
    iotjobs::bulk_options opt;
    opt.dry_run = true;
    auto r = run(ctx, c, *src, opt);
    CHECK(r.summary.not_attempted == 3);
    CHECK(r.summary.invalid_input == 1);
    CHECK(s.stats().count("DeleteJobExecution", "ok") == 0);
    CHECK(s.stats().requests_total == 3);  // one DescribeJobExecution per valid item, nothing else
    CHECK(s.execution_count() == 2);
    std::map<std::int64_t, iotjobs::bulk_outcome> by_number;
    for (const auto& o : r.outcomes) by_number[o.item.request.execution_number] = o;
    CHECK(by_number[1].predicted == iotjobs::bulk_outcome_kind::deleted);
    CHECK(by_number[1].item.status == iotjobs::job_execution_status::succeeded);
    CHECK(by_number[3].predicted == iotjobs::bulk_outcome_kind::refused);
    CHECK(by_number[3].item.status == iotjobs::job_execution_status::queued);
    CHECK(by_number[4].predicted == iotjobs::bulk_outcome_kind::not_found);
    CHECK_FALSE(by_number[2].predicted.has_value());
}

TEST_CASE("a stream source with invalid lines: reported with line numbers, the run goes on") {
    fake::server s;
    s.start();
    s.add_execution(fake::make_execution("thing-1", "job-1", 1, fake::execution_status::succeeded));
    s.add_execution(fake::make_execution("thing-2", "job-1", 2, fake::execution_status::succeeded));
    std::istringstream in(
        "thingName,jobId,executionNumber\nthing-1,job-1,1\nthing-x,job-1,notanumber\nthing-2,job-1,2\n");
    asio::io_context ctx;
    iotjobs::client c(ctx.get_executor(), config_for(s));
    auto src = iotjobs::make_stream_source(in);
    auto r = run(ctx, c, *src, {});
    CHECK(r.summary.deleted == 2);
    CHECK(r.summary.invalid_input == 1);
    bool found = false;
    for (auto& o : r.outcomes)
        if (o.kind == bulk_outcome_kind::invalid_input) {
            CHECK(o.item.line == 3);
            found = true;
        }
    CHECK(found);
}

TEST_CASE("throttling alone never fails an item: at a low limit every item is deleted") {
    // 16 in flight against 20/s with a 5-token burst, one attempt per call: without the
    // engine's re-issue, every throttled attempt would fail its item.
    fake::server s;
    s.start();
    s.set_rate_limits({fake::rate_limit{fake::operation::delete_job_execution, 20.0, 5.0}});
    auto items = seed_succeeded(s, 60);
    asio::io_context ctx;
    iotjobs::client c(ctx.get_executor(), config_for(s));
    auto src = iotjobs::make_vector_source(items);
    iotjobs::bulk_options opt;
    opt.max_in_flight = 16;
    auto r = run(ctx, c, *src, opt);
    CHECK(!r.ec);
    CHECK(s.stats().throttled > 0);
    CHECK(r.summary.items == items.size());
    CHECK(r.summary.deleted == items.size());
    CHECK(r.summary.failed == 0);
    CHECK(s.execution_count() == 0);
    unsigned attempts = 0, most = 0;
    for (auto& o : r.outcomes) {
        attempts += o.attempts;
        most = std::max(most, o.attempts);
    }
    CHECK(most > 1);  // an item throttled at least once, then deleted: its outcome counts every attempt
    CHECK(attempts == c.stats().requests);
}

TEST_CASE("a call re-issued after throttling keeps what its earlier calls may have done") {
    // Attempt 1 is processed but its answer lost (reset-after), attempt 2 throttled: the call gives
    // up throttled (2 attempts) and the engine sends it again; that call's 404 is the earlier
    // attempt's doing, and the outcome must say so.
    fake::server s;
    s.start();
    std::string err;
    auto lost = fake::parse_fault("reset-after=first:1,op=DeleteJobExecution", err);
    auto throttled = fake::parse_fault("throttle=every:2,op=DeleteJobExecution", err);
    REQUIRE(lost);
    REQUIRE(throttled);
    s.set_faults({*lost, *throttled});
    auto items = seed_succeeded(s, 1);
    asio::io_context ctx;
    auto cfg = config_for(s);
    cfg.retry.max_attempts = 2;
    cfg.retry.base_delay = std::chrono::milliseconds(1);
    iotjobs::client c(ctx.get_executor(), cfg);
    auto src = iotjobs::make_vector_source(items);
    auto r = run(ctx, c, *src, iotjobs::bulk_options{});
    REQUIRE(r.outcomes.size() == 1);
    const auto& o = r.outcomes.front();
    CHECK(o.kind == bulk_outcome_kind::not_found);
    CHECK(o.attempts == 3);
    CHECK(o.earlier_attempt_may_have_succeeded);
    CHECK(r.summary.possibly_deleted_earlier == 1);
    CHECK(s.execution_count() == 0);
}
