// Example 4: a bulk delete from a file (CSV with a header row, or JSON Lines), with a progress
// callback and a summary.
//
//   example_4_bulk_from_file FILE
//
// The file's items are streamed (memory does not grow with its size); every item gets exactly
// one outcome, delivered to the callback as it happens. Region, endpoint, credentials and CA
// bundle come from the AWS environment variables.
#include <iotjobs/bulk_delete.hpp>
#include <iotjobs/client.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/system/system_error.hpp>

#include <fstream>
#include <iostream>

namespace asio = boost::asio;

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: " << argv[0] << " FILE\n";
        return 2;
    }
    std::ifstream in(argv[1], std::ios::binary);
    if (!in) {
        std::cerr << argv[1] << ": cannot be read\n";
        return 2;
    }
    asio::io_context ctx;
    try {
        auto cfg = iotjobs::config_from_environment();
        cfg.single_threaded = true;  // only this thread runs ctx
        iotjobs::client client(ctx.get_executor(), std::move(cfg));

        //[example_bulk_from_file
        auto source = iotjobs::make_stream_source(in);  // CSV or JSON Lines, detected
        iotjobs::bulk_options options;
        options.max_in_flight = 32;
        options.default_force = true;  // items that do not say: delete IN_PROGRESS/QUEUED ones too
        std::uint64_t done = 0;
        int exit_code = 1;
        iotjobs::bulk_delete(
            client, *source, options,
            // The progress callback: once per item, on the client's executor, never concurrently.
            [&](const iotjobs::bulk_outcome& o) {
                if (++done % 100 == 0) std::cout << "progress: " << done << " done\n";
                if (o.kind != iotjobs::bulk_outcome_kind::deleted)
                    std::cout << "line " << o.item.line << ": " << iotjobs::to_string(o.kind) << " " << o.aws_error_name
                              << " " << o.message << "\n";
            },
            [&](iotjobs::error_code ec, iotjobs::bulk_summary s) {
                std::cout << "items " << s.items << ": deleted " << s.deleted << ", not found " << s.not_found
                          << ", refused " << s.refused << ", failed " << s.failed << ", invalid " << s.invalid_input
                          << "\n";
                exit_code = (!ec && s.deleted + s.not_found == s.items) ? 0 : 1;
            });
        ctx.run();
        //]
        return exit_code;
    } catch (const boost::system::system_error& e) {
        std::cerr << "configuration error: " << e.what() << "\n";
        return 1;
    }
}
