// The transport's response parsing (lib/http/response_sink.hpp) of the answer nginx gives in the
// peer comparison (200, five fields, body "{}"), keeping the fields the client keeps:
//
//   BM_response_simple        fed whole, as a TLS record usually brings it: parse_simple_response
//   BM_response_basic_parser  the first byte fed alone, then the rest: Beast's basic_parser (what
//                             every response went through before parse_simple_response)
#include <benchmark/benchmark.h>

#include "http/response_sink.hpp"

#include <string>
#include <vector>

namespace {

using namespace iotjobs::detail;

const std::string nginx_ok =
    "HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: Mon, 07 Dec 2026 14:34:54 GMT\r\nContent-Type: application/json\r\n"
    "Content-Length: 2\r\nConnection: keep-alive\r\n\r\n{}";

const std::vector<std::string> client_fields{"x-amzn-requestid", "x-amzn-errortype", "x-amz-request-id", "date"};

void parse_response(benchmark::State& state, std::size_t first_piece) {
    for (auto _ : state) {
        response_sink parser(&client_fields);
        std::size_t begin = 0;
        iotjobs::error_code ec = parser.feed(nginx_ok.data(), begin, first_piece);
        if (!ec && !parser.is_done()) ec = parser.feed(nginx_ok.data(), begin, nginx_ok.size());
        if (ec || !parser.is_done() || parser.took_simple() != (first_piece == nginx_ok.size())) {
            state.SkipWithError("unexpected parse");
            break;
        }
        benchmark::DoNotOptimize(parser.headers.data());
        benchmark::DoNotOptimize(parser.body.data());
    }
}

void BM_response_simple(benchmark::State& state) { parse_response(state, nginx_ok.size()); }
BENCHMARK(BM_response_simple);

void BM_response_basic_parser(benchmark::State& state) { parse_response(state, 1); }
BENCHMARK(BM_response_basic_parser);

}  // namespace
