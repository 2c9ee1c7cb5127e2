// Shutdown with thousands of calls in flight or queued for a connection: destroying the client
// handle, client::cancel() and io_context::stop() (then restart, or destroy) complete every call
// exactly once (operation_aborted or its result) or, when the io_context is destroyed, destroy
// its handler without calling it; nothing is left behind (handlers, the client's implementation,
// sockets). Run under ASan too: LeakSanitizer then checks the process at exit.
#include "fake/server.hpp"

#include <iotjobs/client.hpp>
#include <iotjobs/delete_job_execution.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>

#include <doctest/doctest.h>

#include <dirent.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace asio = boost::asio;
namespace fake = iotjobs::fake;
using iotjobs::error_code;

namespace {

constexpr int calls = 3000;

// Open file descriptors of this process.
int open_fds() {
    int n = 0;
    if (DIR* d = ::opendir("/proc/self/fd")) {
        while (::readdir(d)) ++n;
        ::closedir(d);
    }
    return n;
}

// Per-call completion counts, the errors seen, and how many handlers have been destroyed (each
// handler owns a token whose deleter counts: every copy gone means the handler was freed).
struct tally {
    std::vector<int> completions = std::vector<int>(calls, 0);
    int ok = 0, aborted = 0, other = 0;
    error_code first_other;
    std::shared_ptr<std::atomic<int>> released = std::make_shared<std::atomic<int>>(0);

    std::shared_ptr<void> token() {
        auto r = released;
        return std::shared_ptr<void>(new char, [r](void* p) {
            delete static_cast<char*>(p);
            ++*r;
        });
    }
    int completed() const {
        int n = 0;
        for (int c : completions) n += c;
        return n;
    }
    bool each_exactly_once() const {
        for (int c : completions)
            if (c != 1) return false;
        return true;
    }
    bool none_twice() const {
        for (int c : completions)
            if (c > 1) return false;
        return true;
    }
};

struct fixture {
    fake::server srv;
    int fds_before = 0;
    tally t;
    asio::io_context ctx;
    std::weak_ptr<iotjobs::detail::client_impl> impl;
    bool single = false;  // client_config::single_threaded: the calls run on op runners
    fixture() : srv(options()) {
        srv.start();
        std::vector<fake::execution> seed;
        for (int i = 0; i < calls; ++i)
            seed.push_back(
                fake::make_execution("thing-" + std::to_string(i), "job-1", i, fake::execution_status::succeeded));
        srv.add_executions(seed);
        fds_before = open_fds();
    }
    static fake::server_options options() {
        fake::server_options o;
        std::string err;
        auto lat = fake::parse_fault("latency=always,ms=2", err);
        REQUIRE(lat);
        o.faults = {*lat};
        return o;
    }
    iotjobs::client_config config() const {
        iotjobs::client_config cfg;
        cfg.region = "us-east-1";
        cfg.endpoint_url = srv.base_url();
        cfg.static_credentials = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
        cfg.retry.max_attempts = 1;
        cfg.pool.max_size = 4;  // most calls wait in line for a connection
        cfg.single_threaded = single;
        return cfg;
    }
};

void issue_all(iotjobs::client& c, tally& t) {
    for (int i = 0; i < calls; ++i) {
        iotjobs::delete_job_execution(c, {"thing-" + std::to_string(i), "job-1", i},
                                      [&t, i, tok = t.token()](error_code ec) {
                                          ++t.completions[static_cast<std::size_t>(i)];
                                          if (!ec)
                                              ++t.ok;
                                          else if (ec == asio::error::operation_aborted)
                                              ++t.aborted;
                                          else if (t.other++ == 0)
                                              t.first_other = ec;
                                      });
    }
}

// Runs ctx until `n` calls have completed (some in flight, most still queued).
void run_until(asio::io_context& ctx, const tally& t, int n) {
    while (t.completed() < n && ctx.run_one() > 0) {}
    REQUIRE(t.completed() >= n);
    REQUIRE(t.completed() < calls);
}

// Issues every call on `c` and runs ctx until a few have completed; returns c's implementation.
std::weak_ptr<iotjobs::detail::client_impl> start_calls(asio::io_context& ctx, iotjobs::client& c, tally& t) {
    issue_all(c, t);
    run_until(ctx, t, 50);
    return iotjobs::detail::access::impl(c);
}

// Every call completed exactly once, with success or operation_aborted, and its handler is gone.
void check_each_completed_once(const tally& t) {
    CHECK(t.each_exactly_once());
    CHECK_MESSAGE(t.other == 0, t.first_other.message());
    CHECK(t.ok + t.aborted == calls);
    CHECK(*t.released == calls);
}

// The client's implementation is gone and, once the fake endpoint is stopped, so is every socket.
void check_nothing_left(fixture& f, const std::weak_ptr<iotjobs::detail::client_impl>& impl) {
    CHECK(impl.expired());
    f.srv.stop();
    CHECK(open_fds() <= f.fds_before);
}

}  // namespace

TEST_CASE_FIXTURE(fixture, "shutdown: the client handle destroyed with thousands of calls in flight and queued") {
    SUBCASE("operation strands") {}
    SUBCASE("single_threaded: op runners") { single = true; }
    {
        iotjobs::client c(ctx.get_executor(), config());
        impl = start_calls(ctx, c, t);
    }  // the calls share the implementation: they go on to their results
    ctx.restart();
    ctx.run();
    check_each_completed_once(t);
    check_nothing_left(*this, impl);
}

TEST_CASE_FIXTURE(fixture, "shutdown: client::cancel() with thousands of calls in flight and queued") {
    SUBCASE("operation strands") {}
    SUBCASE("single_threaded: op runners") { single = true; }
    {
        iotjobs::client c(ctx.get_executor(), config());
        impl = start_calls(ctx, c, t);
        c.cancel();
        ctx.restart();
        ctx.run();
        check_each_completed_once(t);
        CHECK(t.aborted > calls / 2);  // the queued ones at least
        auto st = c.stats();
        CHECK(st.leased == 0);
        CHECK(st.waiting == 0);
        // Still usable.
        error_code later = make_error_code(iotjobs::client_errc::bad_response);
        iotjobs::delete_job_execution(c, {"thing-2999", "job-1", 2999}, [&](error_code ec) { later = ec; });
        ctx.restart();
        ctx.run();
        CHECK((!later || later == iotjobs::service_errc::resource_not_found));
    }
    ctx.restart();
    ctx.run();
    check_nothing_left(*this, impl);
}

TEST_CASE_FIXTURE(fixture, "shutdown: io_context::stop() with thousands of calls in flight and queued") {
    // (Its own subcases run inside each of these: sibling subcases would exclude them.)
    const auto run = [&] {
        // A context of its own, to destroy it.
        auto own = std::make_unique<asio::io_context>();
        std::optional<iotjobs::client> c(std::in_place, own->get_executor(), config());
        impl = start_calls(*own, *c, t);
        own->stop();
        CHECK(t.none_twice());

        SUBCASE("then restarted: every call completes exactly once") {
            own->restart();
            own->run();
            check_each_completed_once(t);
            c.reset();
            own->restart();
            own->run();
        }
        SUBCASE("then destroyed: the unfinished calls' handlers are destroyed, never called") {
            const int before = t.completed();
            c.reset();
            own.reset();
            CHECK(t.completed() == before);
            CHECK(t.none_twice());
            CHECK(*t.released == calls);
        }
        own.reset();
        check_nothing_left(*this, impl);
    };
    SUBCASE("operation strands") { run(); }
    SUBCASE("single_threaded: op runners") {
        single = true;
        run();
    }
}
