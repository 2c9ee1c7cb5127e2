// lib/http/pool_core.hpp: the connection pool's bookkeeping with a mock clock and a mock timer
// (no sockets, no sleeps): acquire/release, capacity, waiters served in order, waiter deadlines,
// idle expiry, step deadlines, close with waiters, running out of file descriptors.
#include "http/pool_core.hpp"

#include <boost/asio/error.hpp>
#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

using namespace iotjobs;
using namespace iotjobs::detail;
using namespace std::chrono_literals;

namespace {

struct mock_conn : deadline_entry {
    explicit mock_conn(int i) : deadline_entry(kind::step), id(i) {}
    int id;
    int deadlines_hit = 0;
    void on_deadline() { ++deadlines_hit; }
};

using core = pool_core<mock_conn>;

// Records what the core asks of the pool's timer.
struct mock_timer final : pool_timer {
    bool armed = false;
    pool_time at{};
    int arms = 0;
    int cancels = 0;
    void arm(pool_time t) override {
        armed = true;
        at = t;
        ++arms;
    }
    void cancel() override {
        armed = false;
        ++cancels;
    }
};

// Records its completion (and, through `log`, the order in which waiters complete).
struct test_waiter final : core::waiter {
    test_waiter(std::string n, std::vector<std::string>* l = nullptr) : name(std::move(n)), log(l) {}
    std::string name;
    std::vector<std::string>* log;
    int completions = 0;
    error_code ec;
    std::unique_ptr<mock_conn> conn;
    void complete(error_code e, std::unique_ptr<mock_conn> c) override {
        ++completions;
        ec = e;
        conn = std::move(c);
        if (log) log->push_back(name);
    }
};

core::params params_of(std::size_t max_size, std::chrono::seconds idle_timeout = 50s) {
    core::params p;
    p.max_size = max_size;
    p.idle_timeout = idle_timeout;
    p.descriptor_retry = 500ms;
    return p;
}

// A pool core, a mock clock (`now`) and the mock timer, fired as the clock passes its arming.
struct fixture {
    explicit fixture(core::params p = params_of(4)) : pool(p, timer) {}
    static core::params params(std::size_t max_size, std::chrono::seconds idle_timeout = 50s) {
        return params_of(max_size, idle_timeout);
    }
    void advance(pool_clock::duration d) {
        now += d;
        while (timer.armed && timer.at <= now) {
            timer.armed = false;
            pool.on_timer(now);
        }
    }
    // acquire() that must yield `expect`; returns the connection it gave, if any.
    std::unique_ptr<mock_conn> take(core::acquired expect) {
        std::unique_ptr<mock_conn> c;
        REQUIRE(pool.acquire(now, c) == expect);
        return c;
    }
    mock_timer timer;
    core pool;
    pool_time now = pool_time{} + 1000h;
};

}  // namespace

TEST_CASE("pool core: acquire opens, release keeps the connection idle, the next acquire reuses it") {
    fixture f;
    CHECK(!f.take(core::acquired::open));
    CHECK(f.pool.stats().open == 1);
    CHECK(f.pool.stats().leased == 1);
    f.pool.release(f.now, std::make_unique<mock_conn>(7));
    CHECK(f.pool.stats().idle == 1);
    CHECK(f.pool.stats().leased == 0);
    auto c = f.take(core::acquired::idle);
    REQUIRE(c);
    CHECK(c->id == 7);
    f.pool.release(f.now, nullptr);  // dropped
    const auto s = f.pool.stats();
    CHECK(s.open == 0);
    CHECK(s.leased == 0);
    CHECK(s.idle == 0);
    CHECK_FALSE(f.timer.armed);
}

TEST_CASE("pool core: the most recently used idle connection is taken first") {
    fixture f;
    f.take(core::acquired::open);
    f.take(core::acquired::open);
    f.pool.release(f.now, std::make_unique<mock_conn>(1));
    f.advance(1s);
    f.pool.release(f.now, std::make_unique<mock_conn>(2));
    CHECK(f.take(core::acquired::idle)->id == 2);
    CHECK(f.take(core::acquired::idle)->id == 1);
}

TEST_CASE("pool core: capacity: max_size slots, then callers wait; max_size 0 counts as 1") {
    SUBCASE("max_size 3") {
        fixture f(fixture::params(3));
        for (int i = 0; i < 3; ++i) f.take(core::acquired::open);
        f.take(core::acquired::wait);
        CHECK(f.pool.stats().open == 3);
        CHECK(f.pool.stats().capacity == 3);
    }
    SUBCASE("max_size 0") {
        fixture f(fixture::params(0));
        f.take(core::acquired::open);
        f.take(core::acquired::wait);
    }
}

TEST_CASE("pool core: waiters are served in arrival order, with a connection or a slot to open one") {
    fixture f(fixture::params(1));
    f.take(core::acquired::open);
    std::vector<std::string> order;
    test_waiter a("a", &order), b("b", &order), c("c", &order);
    for (test_waiter* w : {&a, &b, &c}) {
        f.take(core::acquired::wait);
        f.pool.enqueue(f.now, *w, pool_time::max());
    }
    CHECK(f.pool.stats().waiting == 3);
    CHECK_FALSE(f.timer.armed);  // no deadline: nothing to watch

    f.pool.release(f.now, std::make_unique<mock_conn>(1));  // kept alive: to the first waiter
    REQUIRE(a.completions == 1);
    CHECK(!a.ec);
    REQUIRE(a.conn);
    CHECK(a.conn->id == 1);
    CHECK(f.pool.stats().idle == 0);

    f.pool.release(f.now, std::move(a.conn));
    REQUIRE(b.completions == 1);
    CHECK(b.conn->id == 1);

    f.pool.release(f.now, nullptr);  // dropped: c gets the slot, to open a connection
    REQUIRE(c.completions == 1);
    CHECK(!c.ec);
    CHECK(!c.conn);
    CHECK(f.pool.stats().open == 1);
    CHECK(f.pool.stats().leased == 1);
    CHECK(order == std::vector<std::string>{"a", "b", "c"});

    // A newcomer while someone waits goes behind it, even if a slot frees meanwhile.
    test_waiter d("d", &order);
    f.take(core::acquired::wait);
    f.pool.enqueue(f.now, d, pool_time::max());
    f.pool.release(f.now, nullptr);
    CHECK(d.completions == 1);
    CHECK(f.pool.stats().waiting == 0);
}

TEST_CASE("pool core: a waiter's deadline: pool_acquire_timeout at the deadline, not before") {
    fixture f(fixture::params(1));
    f.take(core::acquired::open);
    test_waiter w("w"), later("later");
    f.pool.enqueue(f.now, w, f.now + 5s);
    REQUIRE(f.timer.armed);
    CHECK(f.timer.at == f.now + 5s);
    f.pool.enqueue(f.now, later, f.now + 8s);
    CHECK(f.timer.at == f.now + 5s);  // armed at the earliest only

    f.advance(4s);
    CHECK(w.completions == 0);
    f.advance(1s);
    REQUIRE(w.completions == 1);
    CHECK(w.ec == client_errc::pool_acquire_timeout);
    CHECK(f.pool.stats().waiting == 1);
    REQUIRE(f.timer.armed);  // re-armed for the other waiter
    CHECK(f.timer.at == f.now + 3s);

    // The holder's release goes to the waiter still in line; nothing is left to watch.
    f.pool.release(f.now, std::make_unique<mock_conn>(1));
    CHECK(later.completions == 1);
    CHECK(!later.ec);
    CHECK_FALSE(f.timer.armed);
    f.advance(10s);
    CHECK(w.completions == 1);
    CHECK(later.completions == 1);
}

TEST_CASE("pool core: a burst of waiter timeouts: each fails once, in line order, one timer arming") {
    fixture f(fixture::params(1));
    f.take(core::acquired::open);
    std::vector<std::string> order;
    std::vector<std::unique_ptr<test_waiter>> line;
    for (int i = 0; i < 1000; ++i) {
        line.push_back(std::make_unique<test_waiter>(std::to_string(i), &order));
        f.pool.enqueue(f.now, *line.back(), f.now + 5s + std::chrono::microseconds(i));
    }
    CHECK(f.timer.arms == 1);
    f.advance(6s);
    REQUIRE(order.size() == 1000);
    for (int i = 0; i < 1000; ++i) {
        CHECK(order[i] == std::to_string(i));
        CHECK(line[i]->completions == 1);
        CHECK(line[i]->ec == client_errc::pool_acquire_timeout);
    }
    CHECK(f.timer.arms == 1);
    CHECK_FALSE(f.timer.armed);
    CHECK(f.pool.stats().waiting == 0);
}

TEST_CASE("pool core: an abandoned (cancelled) waiter completes once with its error and leaves the line") {
    fixture f(fixture::params(1));
    f.take(core::acquired::open);
    test_waiter a("a"), b("b");
    f.pool.enqueue(f.now, a, f.now + 5s);
    f.pool.enqueue(f.now, b, pool_time::max());
    f.pool.abandon(a, boost::asio::error::operation_aborted);
    CHECK(a.completions == 1);
    CHECK(a.ec == boost::asio::error::operation_aborted);
    CHECK_FALSE(f.timer.armed);                                // its deadline was the only one
    f.pool.abandon(a, boost::asio::error::operation_aborted);  // again: nothing happens
    CHECK(a.completions == 1);
    f.pool.release(f.now, std::make_unique<mock_conn>(1));
    CHECK(b.completions == 1);
    CHECK(b.conn);
    f.pool.abandon(b, boost::asio::error::operation_aborted);  // served already
    CHECK(b.completions == 1);
    CHECK(!b.ec);
}

TEST_CASE("pool core: idle expiry: a connection idle longer than idle_timeout is closed, not reused") {
    fixture f(fixture::params(2, 50s));
    f.take(core::acquired::open);
    f.pool.release(f.now, std::make_unique<mock_conn>(1));
    SUBCASE("taken at the limit: reused") {
        f.advance(50s);
        CHECK(f.take(core::acquired::idle)->id == 1);
    }
    SUBCASE("taken after it: closed, and the caller opens a new one") {
        f.advance(51s);
        CHECK(!f.take(core::acquired::open));
        CHECK(f.pool.stats().open == 1);
        CHECK(f.pool.stats().idle == 0);
    }
    SUBCASE("the oldest idle connections are closed when another one goes idle") {
        auto first = f.take(core::acquired::idle);
        f.take(core::acquired::open);
        f.pool.release(f.now, std::move(first));
        f.advance(51s);
        f.pool.release(f.now, std::make_unique<mock_conn>(2));
        CHECK(f.pool.stats().idle == 1);
        CHECK(f.pool.stats().open == 1);
        CHECK(f.take(core::acquired::idle)->id == 2);
    }
    SUBCASE("idle_timeout zero: never") {
        fixture g(fixture::params(1, 0s));
        g.take(core::acquired::open);
        g.pool.release(g.now, std::make_unique<mock_conn>(3));
        g.advance(1000h);
        CHECK(g.take(core::acquired::idle)->id == 3);
    }
}

TEST_CASE("pool core: a step's deadline fires once; a step that ends in time costs no timer operation") {
    fixture f;
    mock_conn a(1), b(2);
    f.pool.watch(a, f.now + 30s);
    CHECK(f.timer.arms == 1);
    f.pool.watch(b, f.now + 40s);
    CHECK(f.timer.arms == 1);  // a later deadline: the armed timer covers it
    CHECK(f.pool.unwatch(b));  // in time
    CHECK(f.timer.cancels == 0);
    f.advance(30s);
    CHECK(a.deadlines_hit == 1);
    CHECK(b.deadlines_hit == 0);
    f.advance(30s);
    CHECK(a.deadlines_hit == 1);  // fired steps are not fired again
    CHECK_FALSE(f.pool.unwatch(a));
    CHECK_FALSE(f.timer.armed);

    f.pool.watch(a, f.now + 10s);  // a new step on the same connection
    CHECK(f.pool.unwatch(a));
    CHECK(f.timer.cancels == 1);  // the list emptied: the timer does not keep the executor busy
}

TEST_CASE("pool core: close with waiters: each fails with pool_closed in order; later calls are refused") {
    fixture f(fixture::params(2));
    f.take(core::acquired::open);
    f.take(core::acquired::open);
    std::unique_ptr<mock_conn> held = std::make_unique<mock_conn>(1);
    f.pool.release(f.now, std::make_unique<mock_conn>(2));
    f.take(core::acquired::idle);  // both leased again
    std::vector<std::string> order;
    test_waiter a("a", &order), b("b", &order);
    f.pool.enqueue(f.now, a, f.now + 5s);
    f.pool.enqueue(f.now, b, pool_time::max());

    f.pool.close();
    CHECK(a.ec == client_errc::pool_closed);
    CHECK(b.ec == client_errc::pool_closed);
    CHECK(order == std::vector<std::string>{"a", "b"});
    CHECK(f.pool.stats().waiting == 0);
    CHECK_FALSE(f.timer.armed);
    CHECK(f.pool.closed());

    f.take(core::acquired::closed);
    f.pool.release(f.now, std::move(held));  // a connection in use when the pool closed: closed too
    f.pool.release(f.now, nullptr);
    const auto s = f.pool.stats();
    CHECK(s.open == 0);
    CHECK(s.leased == 0);
    CHECK(s.idle == 0);
    f.advance(10s);
    CHECK(a.completions == 1);
}

TEST_CASE("pool core: close_idle closes idle connections and keeps the pool open") {
    fixture f;
    f.take(core::acquired::open);
    f.pool.release(f.now, std::make_unique<mock_conn>(1));
    f.pool.close_idle();
    CHECK(f.pool.stats().idle == 0);
    CHECK(f.pool.stats().open == 0);
    CHECK(!f.take(core::acquired::open));
}

TEST_CASE("pool core: out of descriptors: capacity drops to what the pool holds; the probe raises it again") {
    fixture f(fixture::params(4));
    for (int i = 0; i < 4; ++i) f.take(core::acquired::open);
    // Two opens succeed, two fail with EMFILE: said once, capacity 2, nobody is failed.
    CHECK(f.pool.lower_capacity());
    CHECK_FALSE(f.pool.lower_capacity());
    auto s = f.pool.stats();
    CHECK(s.capacity == 2);
    CHECK(s.open == 2);
    CHECK(s.leased == 2);
    // The callers whose opens failed acquire again and wait for the two connections.
    std::vector<std::string> order;
    test_waiter a("a", &order), b("b", &order);
    f.take(core::acquired::wait);
    f.pool.enqueue(f.now, a, pool_time::max());
    f.take(core::acquired::wait);
    f.pool.enqueue(f.now, b, pool_time::max());
    f.pool.release(f.now, std::make_unique<mock_conn>(1));
    CHECK(a.conn);
    // A dropped connection frees a descriptor: its slot goes to the next waiter, to open one.
    f.pool.release(f.now, nullptr);
    REQUIRE(b.completions == 1);
    CHECK(!b.conn);
    CHECK(f.pool.stats().open == 2);

    // The probe: while calls wait, one more slot every descriptor_retry, to the first in line.
    test_waiter c("c", &order), d("d", &order), e("e", &order);
    f.take(core::acquired::wait);
    f.pool.enqueue(f.now, c, pool_time::max());
    f.take(core::acquired::wait);
    f.pool.enqueue(f.now, d, pool_time::max());
    f.advance(499ms);
    CHECK(c.completions == 0);
    f.advance(1ms);
    REQUIRE(c.completions == 1);
    CHECK(!c.conn);
    CHECK(d.completions == 0);
    CHECK(f.pool.stats().capacity == 3);
    f.advance(500ms);
    REQUIRE(d.completions == 1);
    CHECK(f.pool.stats().capacity == 4);
    CHECK(order == std::vector<std::string>{"a", "b", "c", "d"});
    CHECK_FALSE(f.timer.armed);  // back at max_size: no more probing

    // A newcomer at full capacity waits as usual; no probe runs.
    f.take(core::acquired::wait);
    f.pool.enqueue(f.now, e, pool_time::max());
    CHECK_FALSE(f.timer.armed);
}

TEST_CASE("pool core: out of descriptors: with nobody waiting, nothing is watched (no timer keeps running)") {
    fixture f(fixture::params(4));
    f.take(core::acquired::open);
    f.take(core::acquired::open);
    CHECK(f.pool.lower_capacity());
    CHECK_FALSE(f.timer.armed);
    f.pool.release(f.now, std::make_unique<mock_conn>(1));  // the caller got the idle one instead
    f.advance(10s);
    CHECK(f.pool.stats().capacity == 1);  // stays lowered until someone waits
    test_waiter w("w");
    f.take(core::acquired::idle);
    f.take(core::acquired::wait);
    f.pool.enqueue(f.now, w, pool_time::max());
    REQUIRE(f.timer.armed);
    f.advance(500ms);
    CHECK(w.completions == 1);
    CHECK(f.pool.stats().capacity == 2);
    CHECK_FALSE(f.timer.armed);
}

TEST_CASE("pool core: out of descriptors with no connection at all: the waiter gets a slot after the probe") {
    fixture f(fixture::params(2));
    f.take(core::acquired::open);
    CHECK(f.pool.lower_capacity());
    CHECK(f.pool.stats().capacity == 0);
    test_waiter w("w");
    f.take(core::acquired::wait);
    f.pool.enqueue(f.now, w, f.now + 60s);
    f.advance(500ms);
    REQUIRE(w.completions == 1);
    CHECK(!w.ec);
    CHECK(!w.conn);                           // the slot to open one
    CHECK(f.pool.lower_capacity() == false);  // still none: back in line, said only once
    test_waiter again("again");
    f.take(core::acquired::wait);
    f.pool.enqueue(f.now, again, f.now + 60s);
    f.advance(500ms);
    CHECK(again.completions == 1);
    CHECK(!again.ec);
    f.pool.release(f.now, std::make_unique<mock_conn>(1));  // this time it opened
    CHECK(f.pool.stats().idle == 1);
}
