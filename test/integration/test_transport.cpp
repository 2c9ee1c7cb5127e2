// The transport against hand-scripted servers: responses split into one-byte writes, chunked and
// connection-delimited bodies, bytes after a response, oversized headers, a server that closes a
// kept-alive connection, and TLS whose records arrive a few bytes at a time through a relay.
#include "fake/server.hpp"
#include "run_delete.hpp"
#include "http/connection_pool.hpp"
#include "tcp_relay.hpp"

#include <iotjobs/client.hpp>
#include <iotjobs/delete_job_execution.hpp>
#include <iotjobs/describe_job_execution.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace asio = boost::asio;
namespace fake = iotjobs::fake;
using tcp = asio::ip::tcp;
using iotjobs::error_code;

namespace {

const iotjobs::credentials test_creds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};

// A plain HTTP server on 127.0.0.1 whose answers come from `script(connection, request, socket)`:
// it reads each request head (the client's DELETE/GET carry no body) and lets the script write
// whatever bytes it likes. The script returns false to close the connection.
class scripted_server {
public:
    using script = std::function<bool(int connection, int request, tcp::socket&)>;

    explicit scripted_server(script s)
        : script_(std::move(s)), acceptor_(ctx_, {asio::ip::make_address("127.0.0.1"), 0}) {
        thread_ = std::thread([this] { run(); });
    }
    ~scripted_server() {
        stop_ = true;
        error_code ec;
        // Wake the blocking accept with a connection of our own.
        tcp::socket s(ctx_);
        s.connect(acceptor_.local_endpoint(), ec);
        thread_.join();
        for (auto& t : workers_) t.join();
    }

    std::string url() const { return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()); }
    unsigned short port() const { return acceptor_.local_endpoint().port(); }
    int connections() const { return connections_.load(); }
    int requests() const { return requests_.load(); }

private:
    void run() {
        for (int index = 0;; ++index) {
            tcp::socket sock(ctx_);
            error_code ec;
            acceptor_.accept(sock, ec);
            if (stop_ || ec) return;
            connections_.fetch_add(1);
            workers_.emplace_back([this, index, s = std::move(sock)]() mutable { serve(index, s); });
        }
    }

    void serve(int conn, tcp::socket& sock) {
        sock.set_option(tcp::no_delay(true));
        asio::streambuf buf;
        for (int req = 0;; ++req) {
            error_code ec;
            std::size_t n = asio::read_until(sock, buf, "\r\n\r\n", ec);
            if (ec) return;
            buf.consume(n);
            requests_.fetch_add(1);
            if (!script_(conn, req, sock)) return;
        }
    }

    script script_;
    asio::io_context ctx_;
    tcp::acceptor acceptor_;
    std::thread thread_;
    std::vector<std::thread> workers_;
    std::atomic<bool> stop_{false};
    std::atomic<int> connections_{0};
    std::atomic<int> requests_{0};
};

void write_all(tcp::socket& s, std::string_view bytes) {
    error_code ec;
    asio::write(s, asio::buffer(bytes), ec);
}

// One byte per write, each sent as its own segment (TCP_NODELAY): the client's reads end at
// arbitrary points of the response. (Every split point of such responses is checked without a
// socket by the fuzz target test/fuzz/http_response.cpp, whose corpus the suite replays.)
void write_bytewise(tcp::socket& s, std::string_view bytes) {
    for (char ch : bytes) {
        error_code ec;
        asio::write(s, asio::buffer(&ch, 1), ec);
        if (ec) return;
    }
}

// A one-shot signal from the test to a server thread (or back): open() once, wait() until then.
class gate {
public:
    void open() {
        std::lock_guard lock(m_);
        open_ = true;
        cv_.notify_all();
    }
    void wait() {
        std::unique_lock lock(m_);
        cv_.wait(lock, [&] { return open_; });
    }

private:
    std::mutex m_;
    std::condition_variable cv_;
    bool open_ = false;
};

// Opens a gate when it goes out of scope: declared after the server whose script waits on the
// gate, so that the server's threads can finish before it joins them, whatever the test did.
struct open_on_exit {
    gate& g;
    ~open_on_exit() { g.open(); }
};

iotjobs::client_config config_for(const std::string& url) {
    iotjobs::client_config cfg;
    cfg.region = "us-east-1";
    cfg.endpoint_url = url;
    cfg.static_credentials = test_creds;
    cfg.retry.max_attempts = 1;
    cfg.timeouts.attempt = std::chrono::seconds(10);
    return cfg;
}

error_code run_delete(asio::io_context& ctx, iotjobs::client& c, int number, iotjobs::diagnostics& diag) {
    return iotjobs::test::run_delete(ctx, c, {"thing-1", "job-1", number, {}, {}}, diag);
}

// Concatenation by appending (GCC 12 -Warray-bounds misfires on string operator+ chains).
std::string cat(std::string_view a, std::string_view b) {
    std::string out;
    out.reserve(a.size() + b.size());
    out.append(a);
    out.append(b);
    return out;
}

constexpr std::string_view ok_head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nx-amzn-RequestId: r-1\r\n";

}  // namespace

TEST_CASE("transport: a response written one byte at a time") {
    scripted_server srv([](int, int, tcp::socket& s) {
        write_bytewise(s, cat(ok_head, "Content-Length: 2\r\n\r\n{}"));
        return true;
    });
    asio::io_context ctx;
    iotjobs::client c(ctx.get_executor(), config_for(srv.url()));
    iotjobs::diagnostics diag;
    CHECK(!run_delete(ctx, c, 1, diag));
    CHECK(diag.request_id() == "r-1");
    CHECK(!run_delete(ctx, c, 2, diag));
    CHECK(srv.connections() == 1);  // kept alive after a complete response
}

TEST_CASE("transport: chunked bodies, split across writes, keep the connection") {
    scripted_server srv([](int, int req, tcp::socket& s) {
        if (req == 0) {
            write_all(s, cat(ok_head, "Transfer-Encoding: chunked\r\n\r\n1\r\n{\r\n"));
            write_all(s, "1\r\n}\r\n0\r\n\r\n");
        } else {
            // A service error with a chunked body: the body must be read whole for its message.
            write_bytewise(s,
                           "HTTP/1.1 404 Not Found\r\nx-amzn-ErrorType: ResourceNotFoundException:http://internal\r\n"
                           "Transfer-Encoding: chunked\r\n\r\n"
                           "14\r\n{\"message\":\"no such \r\n"
                           "b\r\nexecution\"}\r\n0\r\n\r\n");
        }
        return true;
    });
    asio::io_context ctx;
    iotjobs::client c(ctx.get_executor(), config_for(srv.url()));
    iotjobs::diagnostics diag;
    CHECK(!run_delete(ctx, c, 1, diag));
    error_code ec = run_delete(ctx, c, 2, diag);
    CHECK(ec == iotjobs::service_errc::resource_not_found);
    CHECK(diag.message() == "no such execution");
    CHECK(srv.connections() == 1);
}

TEST_CASE("transport: a body delimited by the end of the connection; Connection: close") {
    scripted_server srv([](int conn, int, tcp::socket& s) {
        if (conn == 0) {
            write_all(s, cat(ok_head, "\r\n{"));  // no length: the body ends with the connection
            write_all(s, "}");
            return false;
        }
        write_all(s, cat(ok_head, "Content-Length: 2\r\nConnection: close\r\n\r\n{}"));
        return false;
    });
    asio::io_context ctx;
    iotjobs::client c(ctx.get_executor(), config_for(srv.url()));
    iotjobs::diagnostics diag;
    CHECK(!run_delete(ctx, c, 1, diag));  // connection 0: delimited by its end
    CHECK(!run_delete(ctx, c, 2, diag));  // connection 1: Connection: close
    CHECK(!run_delete(ctx, c, 3, diag));
    CHECK(srv.connections() == 3);  // neither kind of connection is reused
    CHECK(c.stats().idle == 0);
}

TEST_CASE("transport: bytes after a complete response: the answer counts, the connection is not reused") {
    scripted_server srv([](int, int, tcp::socket& s) {
        write_all(s, cat(ok_head, "Content-Length: 2\r\n\r\n{}HTTP/1.1 200 OK\r\n"));
        return true;
    });
    asio::io_context ctx;
    iotjobs::client c(ctx.get_executor(), config_for(srv.url()));
    iotjobs::diagnostics diag;
    CHECK(!run_delete(ctx, c, 1, diag));
    CHECK(!run_delete(ctx, c, 2, diag));
    CHECK(srv.connections() == 2);
}

TEST_CASE("transport: a server that closes mid-response, or sends garbage, fails the call without a crash") {
    SUBCASE("truncated body") {
        scripted_server srv([](int, int, tcp::socket& s) {
            write_all(s, cat(ok_head, "Content-Length: 10\r\n\r\n{}"));
            return false;
        });
        asio::io_context ctx;
        iotjobs::client c(ctx.get_executor(), config_for(srv.url()));
        iotjobs::diagnostics diag;
        error_code ec = run_delete(ctx, c, 1, diag);
        CHECK(ec);
        CHECK(ec.category() != iotjobs::service_category());
        CHECK(c.stats().idle == 0);
    }
    SUBCASE("not HTTP") {
        scripted_server srv([](int, int, tcp::socket& s) {
            write_all(s, "SSH-2.0-OpenSSH_9.2\r\n\r\n");
            return false;
        });
        asio::io_context ctx;
        iotjobs::client c(ctx.get_executor(), config_for(srv.url()));
        iotjobs::diagnostics diag;
        CHECK(run_delete(ctx, c, 1, diag));
    }
    SUBCASE("a header block over the parser's limit") {
        scripted_server srv([](int, int, tcp::socket& s) {
            std::string head(ok_head);
            for (int i = 0; i < 2000; ++i) head += "x-filler-" + std::to_string(i) + ": 0123456789abcdef\r\n";
            write_all(s, cat(head, "Content-Length: 2\r\n\r\n{}"));
            return false;
        });
        asio::io_context ctx;
        iotjobs::client c(ctx.get_executor(), config_for(srv.url()));
        iotjobs::diagnostics diag;
        CHECK(run_delete(ctx, c, 1, diag));
    }
}

TEST_CASE("transport: a kept-alive connection the server closed is replaced without spending an attempt") {
    gate closed;
    scripted_server srv([&](int, int, tcp::socket& s) {
        write_all(s, cat(ok_head, "Content-Length: 2\r\n\r\n{}"));
        s.close();  // after each answer, although it said nothing of the kind
        closed.open();
        return false;
    });
    asio::io_context ctx;
    iotjobs::client c(ctx.get_executor(), config_for(srv.url()));  // max_attempts = 1
    iotjobs::diagnostics diag;
    CHECK(!run_delete(ctx, c, 1, diag));
    closed.wait();  // the pooled connection is stale when it is reused
    CHECK(!run_delete(ctx, c, 2, diag));
    CHECK(diag.attempts() == 1);
    CHECK(srv.connections() == 2);
}

TEST_CASE("transport: two stale kept-alive connections in a row: the call fails, and no connection was opened for it") {
    std::atomic<int> answered{0};
    gate both_closed;
    scripted_server srv([&](int, int, tcp::socket& s) {
        write_all(s, cat(ok_head, "Content-Length: 2\r\n\r\n{}"));
        s.close();  // after its first answer, although it said nothing of the kind
        if (answered.fetch_add(1) + 1 == 2) both_closed.open();
        return false;
    });
    asio::io_context ctx;
    std::mutex m;
    std::vector<std::string> lines;
    auto cfg = config_for(srv.url());  // max_attempts = 1
    cfg.level = iotjobs::log_level::info;
    cfg.log = [&](iotjobs::log_level, std::string_view msg) {
        std::lock_guard lk(m);
        lines.emplace_back(msg);
    };
    iotjobs::client c(ctx.get_executor(), cfg);
    int done = 0;
    for (int i : {1, 2})  // at once: two connections, both kept in the pool
        iotjobs::delete_job_execution(c, iotjobs::delete_job_execution_request{"thing-1", "job-1", i},
                                      [&](error_code ec) {
                                          CHECK(!ec);
                                          ++done;
                                      });
    ctx.run();
    REQUIRE(done == 2);
    both_closed.wait();
    REQUIRE(c.stats().idle == 2);
    {
        std::lock_guard lk(m);
        lines.clear();
    }
    iotjobs::diagnostics diag;
    CHECK(run_delete(ctx, c, 3, diag));  // the first stale one is replaced by the other, stale too
    CHECK(diag.attempts() == 1);
    CHECK(srv.connections() == 2);
    std::lock_guard lk(m);
    for (const auto& l : lines) CHECK_MESSAGE(l.find("connection opened") == std::string::npos, l);
}

TEST_CASE("transport: a stalled response ends at the attempt deadline, and the watchdog lets run() return") {
    gate release;
    scripted_server srv([&](int, int req, tcp::socket& s) {
        if (req == 0) {
            write_all(s, cat(ok_head, "Content-Length: 2\r\n\r\n{}"));
            return true;
        }
        release.wait();  // stalls the second answer until the test is done with it
        return false;
    });
    open_on_exit release_at_end{release};
    asio::io_context ctx;
    auto cfg = config_for(srv.url());
    cfg.timeouts.attempt = std::chrono::milliseconds(300);
    iotjobs::client c(ctx.get_executor(), cfg);
    iotjobs::diagnostics diag;
    CHECK(!run_delete(ctx, c, 1, diag));  // run() returned: no timer keeps the context busy
    error_code ec = run_delete(ctx, c, 2, diag);
    CHECK(ec == boost::beast::error::timeout);
    CHECK(c.stats().idle == 0);
}

TEST_CASE("transport: TLS records arriving a few bytes at a time (handshake, requests, resumption)") {
    fake::server_options o;
    o.tls = true;
    fake::server s(o);
    s.start();
    auto dir = std::filesystem::temp_directory_path() / ("iotjobs-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const std::string ca = (dir / "ca-trickle.pem").string();
    s.write_ca_file(ca);
    for (int i = 0; i < 6; ++i)
        s.add_execution(fake::make_execution("thing-1", "job-1", i, fake::execution_status::succeeded));
    iotjobs::test::relay_options trickle;
    trickle.chunk = 7;
    iotjobs::test::tcp_relay relay(s.port(), trickle);

    asio::io_context ctx;
    auto cfg = config_for("https://localhost:" + std::to_string(relay.port()));
    cfg.ca_bundle = ca;
    iotjobs::client c(ctx.get_executor(), cfg);
    iotjobs::diagnostics diag;
    for (int i = 0; i < 3; ++i) CHECK(!run_delete(ctx, c, i, diag));
    c.cancel();  // closes the idle connection: the next one resumes the session
    for (int i = 3; i < 6; ++i) CHECK(!run_delete(ctx, c, i, diag));
    auto st = c.stats();
    CHECK(st.connects == 2);
    CHECK(st.tls_handshakes == 1);
    CHECK(st.tls_resumed == 1);
    CHECK(s.execution_count() == 0);
}

TEST_CASE("transport: the operation deadline bounds the wait for a pooled connection") {
    // The server holds the only connection's answer until the second exchange has ended: that
    // exchange, whose deadline is 200 ms away, must give up waiting in line at its deadline.
    gate second_ended;
    scripted_server srv([&](int, int, tcp::socket& s) {
        second_ended.wait();
        write_all(s, cat(ok_head, "Content-Length: 2\r\n\r\n{}"));
        return true;
    });
    open_on_exit release_at_end{second_ended};
    asio::io_context ctx;
    iotjobs::detail::transport_settings ts;
    std::string what;
    REQUIRE(!iotjobs::detail::parse_endpoint_url(srv.url(), ts.url, &what));
    ts.pool.max_size = 1;
    ts.pool.acquire_timeout = std::chrono::seconds(60);
    error_code ec;
    auto pool = iotjobs::detail::make_connection_pool(ctx.get_executor(), ts, ec, what);
    REQUIRE(pool);

    iotjobs::detail::http_request raw{"DELETE", "/things/t/jobs/j/executionNumber/1", {}, {}};
    const iotjobs::detail::http_request_writer req(raw);
    std::vector<std::string> order;
    error_code first_ec, second_ec;
    auto run = [&](std::string name, error_code& out, std::chrono::steady_clock::time_point deadline) {
        asio::co_spawn(
            ctx,
            [&, name, deadline]() -> asio::awaitable<void> {
                iotjobs::detail::http_response resp;
                iotjobs::detail::exchange_info info;
                out = co_await pool->exchange(req, resp, info, std::chrono::seconds(10), deadline);
                order.push_back(name);
                if (name == "second") second_ended.open();
            },
            asio::detached);
    };
    run("first", first_ec, std::chrono::steady_clock::time_point::max());
    run("second", second_ec, std::chrono::steady_clock::now() + std::chrono::milliseconds(200));
    ctx.run();
    REQUIRE(order.size() == 2);
    CHECK(order[0] == "second");
    CHECK(second_ec == iotjobs::client_errc::pool_acquire_timeout);
    CHECK(!first_ec);
}
