// Example 1: delete one job execution with co_await.
//
//   example_1_delete_one THING JOB NUMBER [--force]
//
// Region, endpoint, credentials and CA bundle come from the usual AWS environment variables
// (AWS_REGION, AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_CA_BUNDLE).
// Prints "deleted" or the error with its diagnostics; exits 0 on success, 1 on failure.
#include <iotjobs/client.hpp>
#include <iotjobs/delete_job_execution.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include <charconv>
#include <cstring>
#include <iostream>

namespace asio = boost::asio;

//[example_delete_one
asio::awaitable<int> delete_one(iotjobs::client& client, iotjobs::delete_job_execution_request req) {
    iotjobs::diagnostics diag;
    try {
        co_await iotjobs::delete_job_execution(client, req, diag, asio::use_awaitable);
        std::cout << "deleted " << req.thing_name << "/" << req.job_id << "/" << req.execution_number << "\n";
        co_return 0;
    } catch (const boost::system::system_error& e) {
        std::cout << "failed: " << e.code().message() << " (" << diag.aws_error_name() << ": " << diag.message()
                  << ", HTTP " << diag.http_status() << ", request id " << diag.request_id() << ", attempts "
                  << diag.attempts() << ")\n";
        co_return 1;
    }
}
//]

int main(int argc, char** argv) {
    if (argc < 4) {
        std::cerr << "usage: " << argv[0] << " THING JOB NUMBER [--force]\n";
        return 2;
    }
    iotjobs::delete_job_execution_request req;
    req.thing_name = argv[1];
    req.job_id = argv[2];
    auto [p, ec] = std::from_chars(argv[3], argv[3] + std::strlen(argv[3]), req.execution_number);
    if (ec != std::errc{} || *p != '\0') {
        std::cerr << "NUMBER must be a 64-bit integer\n";
        return 2;
    }
    if (argc > 4 && std::strcmp(argv[4], "--force") == 0) req.force = true;

    asio::io_context ctx;
    try {
        //[example_client
        // Region, endpoint and credentials from the AWS environment variables and profile.
        iotjobs::client client(ctx.get_executor(), iotjobs::config_from_environment());
        int rc = 1;
        asio::co_spawn(ctx, delete_one(client, req), [&](std::exception_ptr, int r) { rc = r; });
        ctx.run();
        //]
        return rc;
    } catch (const boost::system::system_error& e) {
        std::cerr << "configuration error: " << e.what() << "\n";
        return 1;
    }
}
