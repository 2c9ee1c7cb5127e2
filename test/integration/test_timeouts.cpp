// Issue 11: which phase timed out travels in the diagnostics as a field (connect, TLS handshake,
// response), and the CLI's words come from that field. Loopback peers only:
//  - a listener whose accept queue is full (SYNs dropped): the TCP connect times out;
//  - a peer that accepts and never says a word: over https the TLS handshake times out, over
//    http the response does.
#include "cli/cli.hpp"

#include <iotjobs/client.hpp>
#include <iotjobs/delete_job_execution.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/error.hpp>

#include <doctest/doctest.h>

#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include <memory>
#include <vector>

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using iotjobs::error_code;

namespace {

// Accepts every connection and keeps it open without reading or writing.
class silent_peer {
public:
    explicit silent_peer(asio::io_context& ctx) : acceptor_(ctx, {asio::ip::make_address("127.0.0.1"), 0}) { accept(); }
    unsigned short port() const { return acceptor_.local_endpoint().port(); }
    std::size_t accepted() const { return held_.size(); }
    void close() {
        error_code ec;
        acceptor_.close(ec);
        for (auto& s : held_) s->close(ec);
    }

private:
    void accept() {
        acceptor_.async_accept([this](error_code ec, tcp::socket s) {
            if (ec) return;
            held_.push_back(std::make_unique<tcp::socket>(std::move(s)));
            accept();
        });
    }
    tcp::acceptor acceptor_;
    std::vector<std::unique_ptr<tcp::socket>> held_;
};

// A listening socket (backlog 0) that never accepts, its queue filled by our own connections:
// the kernel then drops further SYNs and a connect to it hangs until its timeout.
class full_backlog {
public:
    full_backlog() {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ok_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(fd_, 0) == 0;
        socklen_t len = sizeof a;
        ok_ = ok_ && ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0;
        port_ = ntohs(a.sin_port);
        // Fill the accept queue (backlog 0 holds one; a few more for kernels that allow more).
        // Raw non-blocking connects: a blocking one would wait for the dropped SYN's retries.
        for (int i = 0; ok_ && i < 8; ++i) {
            const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
            if (fd < 0) break;
            (void)::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);  // EINPROGRESS
            fillers_.push_back(fd);
        }
    }
    ~full_backlog() {
        for (int fd : fillers_) ::close(fd);
        if (fd_ >= 0) ::close(fd_);
    }
    bool ok() const { return ok_; }
    unsigned short port() const { return port_; }

private:
    int fd_ = -1;
    bool ok_ = false;
    unsigned short port_ = 0;
    std::vector<int> fillers_;
};

iotjobs::client_config config_for(const std::string& url) {
    iotjobs::client_config cfg;
    cfg.region = "us-east-1";
    cfg.endpoint_url = url;
    cfg.static_credentials = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
    cfg.retry.max_attempts = 1;
    cfg.timeouts.connect = std::chrono::milliseconds(300);
    cfg.timeouts.tls_handshake = std::chrono::milliseconds(300);
    cfg.timeouts.attempt = std::chrono::milliseconds(300);
    return cfg;
}

struct call_result {
    error_code ec;
    iotjobs::diagnostics diag;
    std::string cli_message;
};

call_result delete_once(asio::io_context& ctx, const std::string& url) {
    iotjobs::client c(ctx.get_executor(), config_for(url));
    call_result r;
    bool done = false;
    iotjobs::delete_job_execution_request req{"thing-1", "job-1", 1, {}, {}};
    iotjobs::delete_job_execution(c, std::move(req), r.diag, [&](error_code ec) {
        r.ec = ec;
        done = true;
        ctx.stop();  // the silent peer's accept would keep run_for() busy to its bound
    });
    ctx.run_for(std::chrono::seconds(20));
    REQUIRE(done);
    const std::string target = url + "/things/thing-1/jobs/job-1/executionNumber/1";
    r.cli_message =
        iotjobs::cli::describe_outcome(iotjobs::cli::make_outcome(r.ec, r.diag), "DeleteJobExecution", target, 1)
            .message;
    return r;
}

}  // namespace

TEST_CASE("timeouts: a TLS handshake the peer never answers") {
    asio::io_context ctx;
    silent_peer peer(ctx);
    const std::string url = "https://127.0.0.1:" + std::to_string(peer.port());
    auto r = delete_once(ctx, url);
    CHECK(r.ec == boost::beast::error::timeout);
    CHECK(peer.accepted() == 1);
    CHECK(r.diag.timeout_phase() == iotjobs::timeout_phase::tls_handshake);
    CHECK(r.cli_message.starts_with("TLS handshake timeout on endpoint URL: \"" + url));
}

TEST_CASE("timeouts: a request the peer never answers") {
    asio::io_context ctx;
    silent_peer peer(ctx);
    const std::string url = "http://127.0.0.1:" + std::to_string(peer.port());
    auto r = delete_once(ctx, url);
    CHECK(r.ec == boost::beast::error::timeout);
    CHECK(r.diag.timeout_phase() == iotjobs::timeout_phase::response);
    CHECK(r.cli_message.starts_with("Read timeout on endpoint URL: \"" + url));
}

TEST_CASE("timeouts: a TCP connect to a listener whose accept queue is full") {
    full_backlog peer;
    REQUIRE(peer.ok());
    asio::io_context ctx;
    const std::string url = "http://127.0.0.1:" + std::to_string(peer.port());
    auto r = delete_once(ctx, url);
    CHECK(r.ec == boost::beast::error::timeout);
    CHECK(r.diag.timeout_phase() == iotjobs::timeout_phase::connect);
    CHECK(r.cli_message.starts_with("Connect timeout on endpoint URL: \"" + url));
}
