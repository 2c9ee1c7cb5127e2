// A consumer of the installed (or add_subdirectory'd) library, built by test_packaging.sh with
// nothing but what the package provides: deletes executions FIRST..LAST of a job on the fake
// endpoint (thing-<i> / JOB / i, the layout of `iotjobs-fake-iot --generate`), all but the last
// with plain callbacks, all in flight at once, and the last one with co_await. Region, endpoint,
// CA bundle and keys come from the environment. Prints "deleted N" and exits 0 when every call
// succeeded.
#include <iotjobs/client.hpp>
#include <iotjobs/delete_job_execution.hpp>
#include <iotjobs/version.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

namespace asio = boost::asio;

int main(int argc, char** argv) {
    if (argc != 4) {
        std::cerr << "usage: consumer JOB FIRST LAST\n";
        return 2;
    }
    const std::string job = argv[1];
    const std::int64_t first = std::atoll(argv[2]);
    const std::int64_t n = std::atoll(argv[3]);
    if (std::strcmp(iotjobs::version_string, IOTJOBS_VERSION_STRING) != 0) return 3;

    asio::io_context ctx;
    iotjobs::client client(ctx.get_executor(), iotjobs::config_from_environment());
    std::int64_t deleted = 0;
    int failures = 0;
    for (std::int64_t i = first; i < n; ++i) {
        iotjobs::delete_job_execution_request req{"thing-" + std::to_string(i), job, i, {}, {}};
        iotjobs::delete_job_execution(client, req, [&, i](iotjobs::error_code ec) {
            if (ec) {
                if (++failures <= 5) std::cerr << "execution " << i << ": " << ec.message() << "\n";
            } else {
                ++deleted;
            }
        });
    }
    asio::co_spawn(
        ctx,
        [&]() -> asio::awaitable<void> {
            iotjobs::delete_job_execution_request req{"thing-" + std::to_string(n), job, n, {}, {}};
            co_await iotjobs::delete_job_execution(client, req, asio::use_awaitable);
            ++deleted;
        },
        [&](std::exception_ptr e) {
            if (!e) return;
            ++failures;
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& x) {
                std::cerr << "execution " << n << ": " << x.what() << "\n";
            }
        });
    ctx.run();
    std::cout << "deleted " << deleted << "\n";
    return failures == 0 && deleted == n - first + 1 ? 0 : 1;
}
