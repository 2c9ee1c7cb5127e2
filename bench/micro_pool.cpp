// The connection pool's bookkeeping per request (lib/http/pool_core.hpp), without I/O or a lock:
//
//   BM_pool_core_request     what one pooled request costs the core: acquire an idle connection,
//                            watch and unwatch its step deadline (the timer armed once for the
//                            whole run: a later deadline needs no arming), release it idle
//   BM_pool_core_wait_serve  a call waits in line (enqueue with an acquire deadline) and is served
//                            by a release: the slow path, the connection handed from one call to
//                            the next
#include <benchmark/benchmark.h>

#include "http/pool_core.hpp"

#include <chrono>
#include <memory>

namespace {

using namespace iotjobs;
using namespace iotjobs::detail;

struct bench_conn : deadline_entry {
    bench_conn() : deadline_entry(kind::step) {}
    void on_deadline() {}
};

using core = pool_core<bench_conn>;

struct null_timer final : pool_timer {
    void arm(pool_time) override {}
    void cancel() override {}
};

struct bench_waiter final : core::waiter {
    std::unique_ptr<bench_conn> conn;
    void complete(error_code, std::unique_ptr<bench_conn> c) override { conn = std::move(c); }
};

core::params params_of(std::size_t max_size) {
    core::params p;
    p.max_size = max_size;
    p.idle_timeout = std::chrono::seconds(50);
    return p;
}

void BM_pool_core_request(benchmark::State& state) {
    null_timer timer;
    core pool(params_of(16), timer);
    pool_time now = pool_time{} + std::chrono::hours(1);
    bench_conn guard;  // keeps the deadline list non-empty, as other connections' steps would
    pool.watch(guard, now + std::chrono::hours(1));
    std::unique_ptr<bench_conn> c;
    pool.acquire(now, c);
    pool.release(now, std::make_unique<bench_conn>());
    for (auto _ : state) {
        now += std::chrono::microseconds(100);
        pool.acquire(now, c);
        pool.watch(*c, now + std::chrono::seconds(10));
        benchmark::DoNotOptimize(pool.unwatch(*c));
        pool.release(now, std::move(c));
    }
    pool.unwatch(guard);
}
BENCHMARK(BM_pool_core_request);

void BM_pool_core_wait_serve(benchmark::State& state) {
    null_timer timer;
    core pool(params_of(1), timer);
    pool_time now = pool_time{} + std::chrono::hours(1);
    std::unique_ptr<bench_conn> c;
    pool.acquire(now, c);
    c = std::make_unique<bench_conn>();
    bench_waiter w;
    for (auto _ : state) {
        now += std::chrono::microseconds(100);
        std::unique_ptr<bench_conn> none;
        benchmark::DoNotOptimize(pool.acquire(now, none));
        pool.enqueue(now, w, now + std::chrono::seconds(10));
        pool.release(now, std::move(c));
        c = std::move(w.conn);
    }
    pool.release(now, std::move(c));
}
BENCHMARK(BM_pool_core_wait_serve);

}  // namespace
