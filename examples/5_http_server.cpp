// Example 5: an HTTP server that deletes job executions on request: the embedding use case.
//
//   example_5_http_server [PORT] [DEADLINE_MS]
//
// Listens on 127.0.0.1:PORT (0 or absent: any free port; the first line printed is the URL) and
// answers
//   DELETE /executions/{thingName}/{jobId}/{executionNumber}[?force=true]
//     204 deleted | 404 not found | 409 refused (state) | 504 deadline | 502 other failure,
//     with a JSON body {"error": ..., "message": ...} on failure
//   GET /stats   the client's counters as JSON
// One iotjobs::client serves every connection. Each delete runs against two other events:
// a per-request deadline (DEADLINE_MS, default 5000) and the HTTP client going away; whichever
// comes first cancels the delete (Asio's awaitable operators cancel the losers). One line per
// request on stdout. SIGINT/SIGTERM stop the server. Region, endpoint, credentials and CA bundle
// come from the AWS environment variables.
#include <iotjobs/client.hpp>
#include <iotjobs/delete_job_execution.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <charconv>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <sys/socket.h>

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;
using namespace std::chrono_literals;

namespace {

std::chrono::milliseconds deadline = 5000ms;

struct response_text {
    http::status status;
    std::string body;  // JSON, or empty
};

void append_escaped(std::string& out, std::string_view text) {  // enough for messages
    for (char c : text) {
        if (c == '"' || c == '\\') out += '\\';
        if (static_cast<unsigned char>(c) >= 0x20) out += c;
    }
}

std::string json_error(std::string_view error, std::string_view message) {
    std::string s = "{\"error\":\"";
    append_escaped(s, error);
    s += "\",\"message\":\"";
    append_escaped(s, message);
    return s + "\"}";
}

// Completes when the HTTP client closes its end (EOF or error): waits for the socket to become
// readable and peeks. Data instead of EOF (a pipelined request) is left for the next read, and the
// watch then simply waits to be cancelled.
asio::awaitable<void> client_gone(tcp::socket& socket) {
    co_await socket.async_wait(tcp::socket::wait_read, asio::use_awaitable);
    char byte;
    const ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) co_return;
    asio::steady_timer forever(socket.get_executor(), asio::steady_timer::time_point::max());
    co_await forever.async_wait(asio::use_awaitable);
}

asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
    asio::steady_timer t(co_await asio::this_coro::executor, d);
    co_await t.async_wait(asio::use_awaitable);
}

//[example_server_delete
// The delete, bounded by the deadline and by the HTTP client's presence; nullopt when the HTTP
// client went away (nobody to answer).
asio::awaitable<std::optional<response_text>> handle_delete(iotjobs::client& client, tcp::socket& socket,
                                                            iotjobs::delete_job_execution_request req) {
    iotjobs::diagnostics diag;
    auto deleted = [&]() -> asio::awaitable<iotjobs::error_code> {
        // as_tuple: errors as values, so that a failed delete is a result, not an exception.
        auto [ec] = co_await iotjobs::delete_job_execution(client, req, diag, asio::as_tuple(asio::use_awaitable));
        co_return ec;
    };
    auto first = co_await (deleted() || sleep_for(deadline) || client_gone(socket));
    if (first.index() == 1)
        co_return response_text{http::status::gateway_timeout, json_error("Timeout", "deadline passed")};
    if (first.index() == 2) co_return std::nullopt;
    const iotjobs::error_code ec = std::get<0>(first);
    if (!ec) co_return response_text{http::status::no_content, {}};
    const std::string error = diag.aws_error_name().empty() ? ec.message() : std::string(diag.aws_error_name());
    if (ec == iotjobs::service_errc::resource_not_found)
        co_return response_text{http::status::not_found, json_error(error, diag.message())};
    if (ec == iotjobs::service_errc::invalid_state_transition || ec == iotjobs::service_errc::invalid_request)
        co_return response_text{http::status::conflict, json_error(error, diag.message())};
    if (iotjobs::is_validation_error(ec))
        co_return response_text{http::status::bad_request, json_error(error, diag.message())};
    co_return response_text{http::status::bad_gateway, json_error(error, diag.message())};
}
//]

// "/executions/THING/JOB/NUMBER[?force=true]" -> the request; false when the path is not one.
bool parse_target(std::string_view target, iotjobs::delete_job_execution_request& req) {
    constexpr std::string_view prefix = "/executions/";
    if (!target.starts_with(prefix)) return false;
    target.remove_prefix(prefix.size());
    if (const auto q = target.find('?'); q != target.npos) {
        req.force = target.substr(q + 1) == "force=true";
        target = target.substr(0, q);
    }
    const auto s1 = target.find('/');
    const auto s2 = s1 == target.npos ? target.npos : target.find('/', s1 + 1);
    if (s2 == target.npos) return false;
    req.thing_name = target.substr(0, s1);
    req.job_id = target.substr(s1 + 1, s2 - s1 - 1);
    const std::string_view n = target.substr(s2 + 1);
    const auto r = std::from_chars(n.data(), n.data() + n.size(), req.execution_number);
    return r.ec == std::errc{} && r.ptr == n.data() + n.size();
}

std::string stats_json(const iotjobs::client& client) {
    const auto s = client.stats();
    return "{\"requests\":" + std::to_string(s.requests) + ",\"retries\":" + std::to_string(s.retries) +
           ",\"connects\":" + std::to_string(s.connects) + ",\"reuses\":" + std::to_string(s.reuses) +
           ",\"leased\":" + std::to_string(s.leased) + "}";
}

asio::awaitable<void> serve(iotjobs::client& client, tcp::socket socket) {
    boost::beast::flat_buffer buffer;
    for (;;) {
        http::request<http::string_body> request;
        auto [ec, n] = co_await http::async_read(socket, buffer, request, asio::as_tuple(asio::use_awaitable));
        if (ec) co_return;  // the HTTP client closed the connection, or sent garbage
        const auto started = std::chrono::steady_clock::now();
        std::optional<response_text> r =
            response_text{http::status::not_found, json_error("NotFound", "no such route")};
        iotjobs::delete_job_execution_request req;
        if (request.method() == http::verb::delete_ && parse_target(request.target(), req))
            r = co_await handle_delete(client, socket, req);
        else if (request.method() == http::verb::get && request.target() == "/stats")
            r = response_text{http::status::ok, stats_json(client)};
        const auto ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
        std::cout << request.method_string() << " " << request.target() << " -> "
                  << (r ? std::to_string(static_cast<int>(r->status))
                        : std::string("cancelled: the HTTP client went away"))
                  << " (" << ms.count() << " ms)" << std::endl;
        if (!r) co_return;
        http::response<http::string_body> response{r->status, request.version()};
        response.keep_alive(request.keep_alive());
        if (!r->body.empty()) response.set(http::field::content_type, "application/json");
        response.body() = std::move(r->body);
        response.prepare_payload();
        auto [wec, wn] = co_await http::async_write(socket, response, asio::as_tuple(asio::use_awaitable));
        if (wec || !response.keep_alive()) co_return;
    }
}

asio::awaitable<void> listen(iotjobs::client& client, tcp::acceptor& acceptor) {
    for (;;) {
        auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
        if (ec == asio::error::operation_aborted) co_return;
        if (ec) continue;  // e.g. out of descriptors for a moment
        asio::co_spawn(acceptor.get_executor(), serve(client, std::move(socket)), asio::detached);
    }
}

}  // namespace

int main(int argc, char** argv) {
    const unsigned short port = argc > 1 ? static_cast<unsigned short>(std::atoi(argv[1])) : 0;
    if (argc > 2) deadline = std::chrono::milliseconds(std::atoll(argv[2]));
    asio::io_context ctx(1);
    try {
        auto cfg = iotjobs::config_from_environment();
        cfg.single_threaded = true;  // one thread runs ctx
        iotjobs::client client(ctx.get_executor(), std::move(cfg));
        tcp::acceptor acceptor(ctx, {asio::ip::make_address("127.0.0.1"), port});
        std::cout << "listening on http://127.0.0.1:" << acceptor.local_endpoint().port() << std::endl;
        asio::signal_set signals(ctx, SIGINT, SIGTERM);
        signals.async_wait([&](auto, int) {
            acceptor.close();
            client.cancel();
            ctx.stop();
        });
        asio::co_spawn(ctx, listen(client, acceptor), asio::detached);
        ctx.run();
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
