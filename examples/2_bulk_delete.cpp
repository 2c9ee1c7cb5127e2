// Example 2: delete many executions with the bulk engine, one outcome per item.
//
//   example_2_bulk_delete JOB FIRST LAST
//
// Deletes thing-<i> / JOB / executionNumber i for i in [FIRST, LAST] (the layout of
// `iotjobs-fake-iot --generate`), 16 at a time, paced by the adaptive rate limiter. Region,
// endpoint, credentials and CA bundle come from the AWS environment variables.
#include <iotjobs/bulk_delete.hpp>
#include <iotjobs/client.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/system/system_error.hpp>

#include <cstdlib>
#include <iostream>

namespace asio = boost::asio;

int main(int argc, char** argv) {
    if (argc != 4) {
        std::cerr << "usage: " << argv[0] << " JOB FIRST LAST\n";
        return 2;
    }
    std::string job = argv[1];
    std::int64_t next = std::atoll(argv[2]);
    const std::int64_t last = std::atoll(argv[3]);

    asio::io_context ctx;
    try {
        iotjobs::client client(ctx.get_executor(), iotjobs::config_from_environment());

        //[example_bulk_delete
        // A generator source: items are produced as the engine asks for them (memory stays flat).
        auto source = iotjobs::make_generator_source([&]() -> std::optional<iotjobs::delete_job_execution_request> {
            if (next > last) return std::nullopt;
            std::int64_t i = next++;
            return iotjobs::delete_job_execution_request{"thing-" + std::to_string(i), job, i, {}, {}};
        });
        iotjobs::bulk_options options;
        options.max_in_flight = 16;
        int exit_code = 1;
        iotjobs::bulk_delete(
            client, *source, options,
            [](const iotjobs::bulk_outcome& o) {
                if (o.kind != iotjobs::bulk_outcome_kind::deleted)
                    std::cout << o.item.request.thing_name << ": " << iotjobs::to_string(o.kind) << " "
                              << o.aws_error_name << " " << o.message << "\n";
            },
            [&](iotjobs::error_code ec, iotjobs::bulk_summary s) {
                std::cout << "deleted " << s.deleted << ", not found " << s.not_found << ", refused " << s.refused
                          << ", failed " << s.failed << " in " << s.seconds << " s"
                          << (ec ? " (stopped: " + s.stop_reason + ")" : std::string()) << "\n";
                exit_code = (!ec && s.failed == 0) ? 0 : 1;
            });
        ctx.run();
        //]
        return exit_code;
    } catch (const boost::system::system_error& e) {
        std::cerr << "configuration error: " << e.what() << "\n";
        return 1;
    }
}
