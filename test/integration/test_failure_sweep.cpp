// A failure sweep over the I/O steps of one DeleteJobExecution, in the spirit of Beast's
// test::fail_count: a relay between the client and the fake endpoint cuts the first connection
// after exactly k bytes in one direction, with k at the start of each I/O step (each read the relay
// made while the exchange ran cleanly: the TLS flights, the request, the response) and inside it
// (partial reads). The connect step fails with nothing listening.
//
// For each cut the client must recover: with retries the call succeeds, or, when the cut came
// after the service had processed the delete, it ends ResourceNotFoundException with
// earlier_attempt_may_have_succeeded() set; the execution is gone either way. Without retries it
// ends with a transport error (never a service error), and the client's next call succeeds. The
// one exception: over TLS, OpenSSL may write its TLS 1.3 session tickets after the response, and
// a cut in them leaves a call that already has its whole answer (see cut_after_answer).
#include "fake/server.hpp"
#include "run_delete.hpp"
#include "tcp_relay.hpp"

#include <iotjobs/client.hpp>
#include <iotjobs/delete_job_execution.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <doctest/doctest.h>

#include <filesystem>
#include <limits>
#include <set>
#include <string>
#include <unistd.h>
#include <vector>

namespace asio = boost::asio;
namespace fake = iotjobs::fake;
using tcp = asio::ip::tcp;
using iotjobs::error_code;

namespace {

using iotjobs::test::direction;
using iotjobs::test::relay_options;
using iotjobs::test::tcp_relay;

relay_options cut(direction d, std::size_t after) {
    relay_options o;
    o.cut = d;
    o.cut_after = after;
    return o;
}

// The fake endpoint over TLS (or plain HTTP), with its CA written where the client can read it.
struct endpoint {
    explicit endpoint(bool tls)
        : server([&] {
              fake::server_options o;
              o.tls = tls;
              return o;
          }()) {
        server.start();
        if (tls) {
            auto dir = std::filesystem::temp_directory_path() / ("iotjobs-sweep-" + std::to_string(::getpid()));
            std::filesystem::create_directories(dir);
            ca = (dir / "ca.pem").string();
            server.write_ca_file(ca);
        }
    }
    fake::server server;
    std::string ca;  // empty without TLS
};

iotjobs::client_config config_for(const endpoint& e, unsigned short port, unsigned max_attempts) {
    iotjobs::client_config cfg;
    cfg.region = "us-east-1";
    cfg.endpoint_url = (e.ca.empty() ? "http://127.0.0.1:" : "https://127.0.0.1:") + std::to_string(port);
    cfg.ca_bundle = e.ca;
    cfg.static_credentials = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
    cfg.retry.max_attempts = max_attempts;
    cfg.retry.base_delay = std::chrono::milliseconds(1);
    return cfg;
}

error_code run_delete(asio::io_context& ctx, iotjobs::client& c, const std::string& thing, iotjobs::diagnostics& diag) {
    return iotjobs::test::run_delete(ctx, c, {thing, "job-1", 1, {}, {}}, diag);
}

std::string add_execution(endpoint& e, int round) {
    std::string thing = "thing-" + std::to_string(round);
    e.server.add_execution(fake::make_execution(thing, "job-1", 1, fake::execution_status::succeeded));
    return thing;
}

// Where to cut in direction d: at the start of every read of a clean exchange (the step fails
// before it begins), one byte into it, halfway and one byte before its end (partial reads), all
// before the exchange's last byte in that direction.
struct cuts {
    std::set<std::size_t> points;
    // Where the exchange's last read began: over TLS the server's last read may hold only the
    // TLS 1.3 session tickets, which OpenSSL sometimes writes after the response; a cut in them
    // leaves a call that already has its whole answer.
    std::size_t last_read_start = 0;
};

// A cut that came after everything the call needed: the call succeeded on its first attempt on
// the first connection. Only a cut in the server's last read over TLS may do that (see cuts).
bool cut_after_answer(const endpoint& e, direction d, const cuts& c, std::size_t k, const error_code& ec,
                      const iotjobs::diagnostics& diag) {
    if (ec || diag.attempts() != 1) return false;
    CHECK_MESSAGE((!e.ca.empty() && d == direction::to_client && k >= c.last_read_start),
                  "a cut at byte " << k << " did not disturb the call");
    return true;
}

cuts cut_points(endpoint& e, direction d) {
    tcp_relay clean(e.server.port(), cut(d, std::numeric_limits<std::size_t>::max()));
    asio::io_context ctx;
    iotjobs::client c(ctx.get_executor(), config_for(e, clean.port(), 1));
    iotjobs::diagnostics diag;
    REQUIRE(!run_delete(ctx, c, add_execution(e, 0), diag));
    // The call is complete: every byte of the exchange has been through the relay.
    const auto ends = clean.read_ends(d);
    REQUIRE(!ends.empty());
    cuts out;
    std::size_t start = 0;
    for (std::size_t end : ends) {
        for (std::size_t k : {start, start + 1, start + (end - start) / 2, end - 1})
            if (k < ends.back()) out.points.insert(k);
        out.last_read_start = start;
        start = end;
    }
    return out;
}

// One cut at `k` bytes in direction d, with retries: the call recovers.
void check_recovers(endpoint& e, direction d, const cuts& at, std::size_t k, int round) {
    CAPTURE(k);
    const std::string thing = add_execution(e, round);
    tcp_relay relay(e.server.port(), cut(d, k));
    asio::io_context ctx;
    iotjobs::client c(ctx.get_executor(), config_for(e, relay.port(), 3));
    iotjobs::diagnostics diag;
    const error_code ec = run_delete(ctx, c, thing, diag);
    if (cut_after_answer(e, d, at, k, ec, diag)) {
        CHECK_FALSE(e.server.find(thing, "job-1", 1));
        return;
    }
    if (ec) {
        CHECK_MESSAGE(ec == iotjobs::service_errc::resource_not_found, ec.message());
        CHECK(diag.earlier_attempt_may_have_succeeded());
    }
    CHECK(diag.attempts() >= 2);
    CHECK(relay.connections() >= 2);
    CHECK_FALSE(e.server.find(thing, "job-1", 1));
}

// One cut at `k` bytes in direction d, without retries: a transport error, and a usable client.
void check_fails_cleanly(endpoint& e, direction d, const cuts& at, std::size_t k, int round) {
    CAPTURE(k);
    tcp_relay relay(e.server.port(), cut(d, k));
    asio::io_context ctx;
    iotjobs::client c(ctx.get_executor(), config_for(e, relay.port(), 1));
    iotjobs::diagnostics diag;
    const error_code ec = run_delete(ctx, c, add_execution(e, round), diag);
    if (cut_after_answer(e, d, at, k, ec, diag)) return;
    CHECK(ec);
    CHECK(ec.category() != iotjobs::service_category());
    CHECK(diag.attempts() == 1);
    CHECK(c.stats().leased == 0);
    CHECK(!run_delete(ctx, c, add_execution(e, round + 1), diag));  // on a new, whole connection
}

void sweep(bool tls) {
    endpoint e(tls);
    int round = 1;
    for (direction d : {direction::to_client, direction::to_server}) {
        CAPTURE(d == direction::to_client ? "server to client" : "client to server");
        const cuts at = cut_points(e, d);
        const auto& points = at.points;
        REQUIRE(points.size() >= 4);  // at least the start, a partial read, the middle and the last byte
        MESSAGE(points.size() << " cut points");
        for (std::size_t k : points) check_recovers(e, d, at, k, round++);
        for (std::size_t k : {*points.begin(), *points.rbegin()}) {
            check_fails_cleanly(e, d, at, k, round);
            round += 2;
        }
    }
}

}  // namespace

TEST_CASE("failure sweep: every I/O step of one delete over TLS fails in turn, and the client recovers") {
    sweep(true);
}

TEST_CASE("failure sweep: every I/O step of one delete over plain HTTP fails in turn, and the client recovers") {
    sweep(false);
}

TEST_CASE("failure sweep: connect fails (nothing listens): a transport error after every attempt") {
    unsigned short port = 0;
    {
        asio::io_context probe;
        tcp::acceptor a(probe, {asio::ip::make_address("127.0.0.1"), 0});
        port = a.local_endpoint().port();
    }  // closed: connecting to it is refused
    endpoint e(true);
    asio::io_context ctx;
    auto cfg = config_for(e, port, 3);
    iotjobs::client c(ctx.get_executor(), cfg);
    iotjobs::diagnostics diag;
    const error_code ec = run_delete(ctx, c, "thing-1", diag);
    CHECK(ec);
    CHECK(ec.category() != iotjobs::service_category());
    CHECK(diag.attempts() == 3);
    CHECK(c.stats().leased == 0);
}
