// A TCP relay for tests, on 127.0.0.1 with threads: each accepted connection is joined to a new
// connection to 127.0.0.1:upstream and bytes are pumped both ways. Options shape what the client
// sees: at most `chunk` bytes per write (each its own segment: TLS records arrive a few bytes at a
// time), and a cut of the first connection after `cut_after` bytes in one direction (both sockets
// are shut down there; later connections pass whole). The relay records the sizes of the reads it
// made on the first connection.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <atomic>
#include <limits>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace iotjobs::test {

enum class direction { to_client, to_server };

struct relay_options {
    std::size_t chunk = std::numeric_limits<std::size_t>::max();  // bytes per write at most
    direction cut = direction::to_client;
    std::size_t cut_after = std::numeric_limits<std::size_t>::max();  // max: no cut
};

class tcp_relay {
public:
    tcp_relay(unsigned short upstream, relay_options o)
        : upstream_(upstream), o_(o), acceptor_(ctx_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
        thread_ = std::thread([this] { accept_loop(); });
    }
    ~tcp_relay() {
        stop_ = true;
        boost::system::error_code ec;
        tcp::socket wake(ctx_);
        wake.connect(acceptor_.local_endpoint(), ec);
        thread_.join();
        for (auto& t : pumps_) t.join();
    }
    tcp_relay(const tcp_relay&) = delete;
    tcp_relay& operator=(const tcp_relay&) = delete;

    unsigned short port() const { return acceptor_.local_endpoint().port(); }
    int connections() const { return connections_.load(); }
    // The byte count at the end of each read on the first connection in direction d, so far.
    std::vector<std::size_t> read_ends(direction d) {
        std::lock_guard lock(m_);
        return d == direction::to_client ? to_client_ : to_server_;
    }

private:
    using tcp = boost::asio::ip::tcp;

    void accept_loop() {
        for (int index = 0;; ++index) {
            auto down = std::make_shared<tcp::socket>(ctx_);
            boost::system::error_code ec;
            acceptor_.accept(*down, ec);
            if (stop_ || ec) return;
            connections_.fetch_add(1);
            auto up = std::make_shared<tcp::socket>(ctx_);
            up->connect({boost::asio::ip::make_address("127.0.0.1"), upstream_}, ec);
            if (ec) return;
            down->set_option(tcp::no_delay(true));
            up->set_option(tcp::no_delay(true));
            const bool first = index == 0;
            pumps_.emplace_back([=, this] { pump(*up, *down, *up, *down, first, direction::to_client); });
            pumps_.emplace_back([=, this] { pump(*down, *up, *up, *down, first, direction::to_server); });
        }
    }

    void pump(tcp::socket& from, tcp::socket& to, tcp::socket& up, tcp::socket& down, bool first, direction d) {
        const std::size_t limit = first && d == o_.cut ? o_.cut_after : std::numeric_limits<std::size_t>::max();
        std::size_t moved = 0;
        char buf[16384];
        boost::system::error_code ec;
        while (moved < limit && !ec) {
            std::size_t n = from.read_some(boost::asio::buffer(buf), ec);
            if (ec) break;
            n = std::min(n, limit - moved);
            moved += n;
            if (first) record(d, moved);  // before the peer can see these bytes
            for (std::size_t i = 0; i < n && !ec; i += o_.chunk)
                boost::asio::write(to, boost::asio::buffer(buf + i, std::min(o_.chunk, n - i)), ec);
        }
        if (moved >= limit) {
            // The cut: both peers see the connection end here, in both directions.
            up.shutdown(tcp::socket::shutdown_both, ec);
            down.shutdown(tcp::socket::shutdown_both, ec);
            return;
        }
        to.shutdown(tcp::socket::shutdown_send, ec);
    }

    void record(direction d, std::size_t total) {
        std::lock_guard lock(m_);
        (d == direction::to_client ? to_client_ : to_server_).push_back(total);
    }

    unsigned short upstream_;
    relay_options o_;
    boost::asio::io_context ctx_;
    tcp::acceptor acceptor_;
    std::thread thread_;
    std::vector<std::thread> pumps_;
    std::atomic<bool> stop_{false};
    std::atomic<int> connections_{0};
    std::mutex m_;
    std::vector<std::size_t> to_client_, to_server_;
};

}  // namespace iotjobs::test
