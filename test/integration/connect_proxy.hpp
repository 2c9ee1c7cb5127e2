// A CONNECT proxy for tests, on 127.0.0.1 with threads: logs "CONNECT host:port" per tunnel,
// can demand Basic credentials (407 without the right ones) or refuse every tunnel with a status.
// Every tunnel goes to 127.0.0.1:port whatever the host (names need no DNS: the client never
// resolves a proxied host).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace iotjobs::test {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

inline const std::string proxy_user = "proxy-user";
inline const std::string proxy_password = "S3cr3t-proxy-pw";  // needs no percent-encoding

class connect_proxy {
public:
    explicit connect_proxy(std::string basic_auth = {}, unsigned refuse = 0)
        : auth_(std::move(basic_auth)), refuse_(refuse), acceptor_(ctx_, {asio::ip::make_address("127.0.0.1"), 0}) {
        thread_ = std::thread([this] { accept_loop(); });
    }
    ~connect_proxy() {
        stop_ = true;
        error_code ec;
        tcp::socket s(ctx_);
        s.connect(acceptor_.local_endpoint(), ec);
        thread_.join();
        {
            std::lock_guard lk(mutex_);
            for (auto& sock : sockets_) sock->shutdown(tcp::socket::shutdown_both, ec);
        }
        for (auto& t : workers_) t.join();
    }
    unsigned short port() const { return acceptor_.local_endpoint().port(); }
    std::string url(bool with_credentials = false) const {
        return "http://" + (with_credentials ? proxy_user + ":" + proxy_password + "@" : std::string()) +
               "127.0.0.1:" + std::to_string(port());
    }
    std::vector<std::string> log() const {
        std::lock_guard lk(mutex_);
        return log_;
    }

private:
    void accept_loop() {
        for (;;) {
            auto down = std::make_shared<tcp::socket>(ctx_);
            error_code ec;
            acceptor_.accept(*down, ec);
            if (stop_ || ec) return;
            std::lock_guard lk(mutex_);
            sockets_.push_back(down);
            workers_.emplace_back([this, down] { serve(down); });
        }
    }

    void serve(std::shared_ptr<tcp::socket> down) {
        std::string head;
        char c;
        error_code ec;
        while (head.find("\r\n\r\n") == std::string::npos && head.size() < 8192) {
            if (down->read_some(asio::buffer(&c, 1), ec) != 1 || ec) return;
            head += c;
        }
        const std::string line = head.substr(0, head.find("\r\n"));
        {
            std::lock_guard lk(mutex_);
            log_.push_back(line.substr(0, line.rfind(' ')));
        }
        auto answer = [&](const std::string& status) {
            asio::write(*down, asio::buffer("HTTP/1.1 " + status + "\r\nContent-Length: 0\r\n\r\n"), ec);
            down->shutdown(tcp::socket::shutdown_both, ec);
        };
        if (refuse_) return answer(std::to_string(refuse_) + " Refused By Test Proxy");
        if (!auth_.empty() && head.find("\r\nProxy-Authorization: Basic " + auth_ + "\r\n") == std::string::npos)
            return answer("407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"test\"");
        const auto colon = line.rfind(':');
        const auto port = static_cast<unsigned short>(std::stoi(line.substr(colon + 1)));
        auto up = std::make_shared<tcp::socket>(ctx_);
        up->connect({asio::ip::make_address("127.0.0.1"), port}, ec);
        if (ec) return answer("502 Bad Gateway");
        {
            std::lock_guard lk(mutex_);
            sockets_.push_back(up);
        }
        asio::write(*down, asio::buffer(std::string("HTTP/1.1 200 Connection established\r\n\r\n")), ec);
        std::thread back([down, up] { pump(*up, *down); });
        pump(*down, *up);
        back.join();
    }

    static void pump(tcp::socket& from, tcp::socket& to) {
        char buf[8192];
        for (;;) {
            error_code ec;
            const std::size_t n = from.read_some(asio::buffer(buf), ec);
            if (ec) break;
            asio::write(to, asio::buffer(buf, n), ec);
            if (ec) break;
        }
        error_code ignored;
        to.shutdown(tcp::socket::shutdown_send, ignored);
    }

    std::string auth_;
    unsigned refuse_;
    asio::io_context ctx_;
    tcp::acceptor acceptor_;
    std::thread thread_;
    mutable std::mutex mutex_;
    std::vector<std::shared_ptr<tcp::socket>> sockets_;
    std::vector<std::thread> workers_;
    std::vector<std::string> log_;
    std::atomic<bool> stop_{false};
};

}  // namespace iotjobs::test
