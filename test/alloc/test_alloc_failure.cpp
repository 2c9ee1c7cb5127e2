// An allocation-failure sweep, in the spirit of Beast's test::fail_count: the k-th operator new
// made on the client's thread after the calls are issued (or while they are issued) throws
// std::bad_alloc (and, in one case, the four after it too), for every k until a round runs
// without reaching it. A round is five calls at
// once on a new client (pool of two: some wait for admission): deletes over plain HTTP and over
// TLS, and describes (their answer parsed into a result). Whatever k hits, nothing is lost: each
// call either throws from its initiating function or has its handler called exactly once;
// io_context::run() may throw (a handler's exception leaves it, as Asio documents) and is run
// again; and afterwards the client is whole: nothing counted as in flight or waiting, and five
// more calls all succeed (a call admitted and never started would hold a slot forever). The
// replaced operator new/delete pair is this binary's only (malloc and free, so that ASan sees
// matching pairs). Asio's own blocks (coroutine frames, handler memory) come from aligned_alloc,
// and OpenSSL's from malloc, not operator new: those failures are not swept.
#include "../integration/fake_setup.hpp"
#include "fake/server.hpp"

#include <iotjobs/client.hpp>
#include <iotjobs/delete_job_execution.hpp>
#include <iotjobs/describe_job_execution.hpp>

#include <boost/asio/io_context.hpp>

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <new>
#include <string>
#include <vector>

#include <unistd.h>

namespace {

// Operator news left before the one that fails (on this thread); 0: none fails. Then
// `burst_size` - 1 more fail after it.
thread_local long news_before_failure = 0;
thread_local long burst_size = 1;
thread_local long failing_after = 0;
thread_local bool failed_one = false;

void* allocate(std::size_t n) {
    if (failing_after > 0) {
        --failing_after;
        throw std::bad_alloc();
    }
    if (news_before_failure > 0 && --news_before_failure == 0) {
        failed_one = true;
        failing_after = burst_size - 1;
        throw std::bad_alloc();
    }
    if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
    throw std::bad_alloc();
}

}  // namespace

void* operator new(std::size_t n) { return allocate(n); }
void* operator new[](std::size_t n) { return allocate(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    try {
        return allocate(n);
    } catch (...) {
        return nullptr;
    }
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace asio = boost::asio;
namespace fake = iotjobs::fake;
using iotjobs::error_code;

namespace {

constexpr std::size_t pool_size = 2;
constexpr int calls_per_round = 5;  // more than the admission limit (pool_size): some wait
constexpr long max_rounds = 400;

struct round_result {
    int threw = 0;             // initiating functions that threw
    int completed = 0;         // handlers called
    int succeeded = 0;         // ... with success
    int called_twice = 0;      // handlers called more than once
    int escaped = 0;           // exceptions out of run()
    bool finished = false;     // run() ran out of work within 20 s
    bool failure_hit = false;  // the k-th operator new was reached
};

// Runs `ctx` until it has no work left, again after each exception a handler let escape; false if
// it still had work after 20 s.
bool run_through(asio::io_context& ctx, int& escaped) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    for (;;) {
        try {
            ctx.restart();
            ctx.run_until(deadline);
            return ctx.stopped();
        } catch (const std::bad_alloc&) {
            ++escaped;
        }
    }
}

enum class operation { delete_execution, describe_execution };

// One round: `calls_per_round` calls of `op` on fresh items issued at once, the k-th operator new
// from the first initiation on failing (k = 0: none).
round_result run_round(iotjobs::client& c, asio::io_context& ctx, int& next_item, long k, operation op) {
    round_result r;
    std::vector<int> calls(calls_per_round, 0);
    failed_one = false;
    news_before_failure = k;
    for (int i = 0; i < calls_per_round; ++i) {
        const int item = next_item++;
        const auto done = [&calls, &r, i](error_code ec) {
            ++calls[static_cast<std::size_t>(i)];
            if (!ec) ++r.succeeded;
        };
        try {
            if (op == operation::delete_execution)
                iotjobs::delete_job_execution(c, {"thing-" + std::to_string(item), "job-1", item, {}, {}}, done);
            else
                iotjobs::describe_job_execution(c, {"thing-" + std::to_string(item), "job-1", item},
                                                [done](error_code ec, const iotjobs::job_execution&) { done(ec); });
        } catch (const std::bad_alloc&) {
            ++r.threw;
            calls[static_cast<std::size_t>(i)] = -1;  // its handler must never run
        }
    }
    r.finished = run_through(ctx, r.escaped);
    news_before_failure = 0;
    failing_after = 0;
    r.failure_hit = failed_one;
    for (int n : calls) {
        if (n == -1) continue;  // (a handler run after a throw would make it 0 here: counted as lost)
        if (n >= 1) ++r.completed;
        if (n > 1) ++r.called_twice;
    }
    return r;
}

// The sweep of `op` on `s` (`ca`: its CA file when it speaks TLS), single_threaded clients only: with a
// strand per call, Boost 1.81's strand_executor_service::create_implementation() crashes when the
// shared_ptr control block of a new strand cannot be allocated (the strand's destructor then locks
// its service's mutex through a member never set). Asio's, not ours to catch.
void sweep(fake::server& s, const std::string& ca, operation op = operation::delete_execution, long burst = 1) {
    burst_size = burst;
    iotjobs::test::seed(s, 2 * max_rounds * calls_per_round + 10);
    int next_item = 0;
    // IOTJOBS_ALLOC_K=k starts the sweep at k (to debug one failure: gdb, catch throw).
    const char* from = std::getenv("IOTJOBS_ALLOC_K");
    long k = from ? std::atol(from) : 1;
    for (; k <= max_rounds; ++k) {
        CAPTURE(k);
        // A new client each round: its connections are made within the round too.
        asio::io_context ctx;
        auto cfg = iotjobs::test::config_for(s, pool_size);
        cfg.single_threaded = true;
        cfg.ca_bundle = ca;
        iotjobs::client c(ctx.get_executor(), cfg);
        const round_result r = run_round(c, ctx, next_item, k, op);
        REQUIRE(r.finished);
        CHECK(r.called_twice == 0);
        CHECK(r.threw + r.completed == calls_per_round);
        // The client is whole: nothing left running or waiting, and every admission slot free
        // (more calls than the limit, all succeed).
        const round_result after = run_round(c, ctx, next_item, 0, op);
        REQUIRE(after.finished);
        CHECK(after.succeeded == calls_per_round);
        const iotjobs::client_stats st = c.stats();
        CHECK(st.waiting == 0);
        CHECK(st.leased == 0);
        CHECK(c.metrics().in_flight == 0);
        c.cancel();                 // walks the registry of calls: nothing dangling in it
        if (!r.failure_hit) break;  // k beyond every operator new of a round: swept
    }
    burst_size = 1;
    MESSAGE("swept " << k - 1 << " allocation failures (" << burst << " in a row)");
    CHECK(k <= max_rounds);
    if (!from) CHECK(k > 10);
}

}  // namespace

TEST_CASE("allocation failure: wherever an operator new fails, every call ends once and the client stays whole") {
    fake::server s;
    s.start();
    sweep(s, "");
}

TEST_CASE("allocation failure: the same over TLS") {
    fake::server_options o;
    o.tls = true;
    fake::server s(o);
    s.start();
    const std::string ca =
        (std::filesystem::temp_directory_path() / ("iotjobs-alloc-ca-" + std::to_string(::getpid()) + ".pem")).string();
    s.write_ca_file(ca);
    sweep(s, ca);
    std::filesystem::remove(ca);
}

TEST_CASE("allocation failure: the same for a read whose answer becomes a result (DescribeJobExecution)") {
    fake::server s;
    s.start();
    sweep(s, "", operation::describe_execution);
}

TEST_CASE("allocation failure: five in a row (a queued call that cannot start ends too)") {
    fake::server s;
    s.start();
    sweep(s, "", operation::delete_execution, 5);
}
