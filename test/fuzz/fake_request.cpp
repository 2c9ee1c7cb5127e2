// Fuzz target: the fake endpoint's request handling without sockets (lib/fake/service.cpp): the
// requests of one connection parsed as lib/fake/server.cpp parses them (Beast's request_parser,
// same limits), then service::admit (routing, SigV4 verification, throttling, faults) and
// service::respond (the operations, the admin paths), and the delays the network layer would wait
// for (server.cpp wait_ms: milliseconds -> microseconds).
//
// Input: byte 0 = flags, bit i set: request i is signed here (with the fake's default key and the
// service's clock) before admit, so the operations behind the signature check are reached too;
// then up to 8 requests, back to back, as on a kept-alive connection. One fresh service per input,
// seeded with three executions.
#include "fake/server.hpp"
#include "fake/service.hpp"
#include "fuzz_input.hpp"
#include "sigv4/sigv4.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

namespace {

namespace http = boost::beast::http;
using namespace iotjobs;

// What server.cpp wait_ms hands to its timer.
void as_timer_delay(double ms) { (void)fake::fault_delay(ms); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view in = fuzz::as_text(data, size);
    const unsigned sign_mask = fuzz::next_byte(in);

    fake::server_options opts;
    fake::detail::service svc(opts);
    svc.add({fake::make_execution("thing-1", "job-1", 1, fake::execution_status::succeeded),
             fake::make_execution("thing-1", "job-1", 2, fake::execution_status::queued),
             fake::make_execution("thing_2", "job_2", 7, fake::execution_status::in_progress, "ns-1")});

    fake::detail::plan plan;
    std::string out;
    std::vector<sigv4::header> headers;
    for (int i = 0; i < 8 && !in.empty(); ++i) {
        http::request_parser<http::string_body> parser;
        parser.header_limit(16 * 1024);
        parser.body_limit(1024 * 1024);
        parser.eager(true);
        boost::beast::error_code ec;
        while (!in.empty() && !parser.is_done()) {
            const std::size_t used = parser.put(boost::asio::const_buffer(in.data(), in.size()), ec);
            in.remove_prefix(used);
            if (ec || used == 0) break;
        }
        if (ec == http::error::need_more || (!ec && !parser.is_done())) {
            ec = {};
            parser.put_eof(ec);  // the client closed
        }
        if (ec || !parser.is_done()) return 0;  // server.cpp answers 400 and closes

        auto& req = parser.get();
        headers.clear();
        bool has_host = false;
        for (auto& f : req) {
            if (sign_mask & (1u << i)) {
                const auto n = f.name_string();
                if (boost::beast::iequals(n, "authorization") || boost::beast::iequals(n, "x-amz-date")) continue;
            }
            has_host = has_host || f.name() == http::field::host;
            headers.push_back(sigv4::header{f.name_string(), f.value()});
        }
        sigv4::signing_result sig;
        if (sign_mask & (1u << i)) {
            if (!has_host) headers.push_back({"host", "localhost"});
            const std::string_view target = req.target();
            const auto q = target.find('?');
            sigv4::signing_input si;
            si.request = sigv4::request_view{req.method_string(),
                                             target.substr(0, q),
                                             q == std::string_view::npos ? std::string_view{} : target.substr(q + 1),
                                             headers,
                                             req.body(),
                                             {}};
            si.credentials = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", {}};
            si.region = "us-east-1";
            si.service = "iot";
            si.time = svc.now();
            sig = sigv4::sign_headers(si);
            for (const auto& a : sig.added_headers) headers.push_back({a.name, a.value});
        }
        fake::detail::request_in rin{req.method_string(), req.target(), headers, req.body(), req.keep_alive()};
        svc.admit(rin, plan);
        as_timer_delay(plan.latency_ms);
        if (plan.reset_before) {
            svc.count_no_response(plan);
            return 0;
        }
        out.clear();
        svc.respond(rin, plan, out);
        if (plan.reset_after) {
            svc.count_no_response(plan);
            return 0;
        }
        if (plan.stall) {
            if (plan.stall_ms <= 0) return 0;
            as_timer_delay(plan.stall_ms);
        }
        if (!req.keep_alive() || plan.close) return 0;
    }
    (void)svc.stats_json();
    return 0;
}
