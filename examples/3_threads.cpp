// Example 3: the client from plain threads, without coroutines: completion callbacks and
// std::future.
//
//   example_3_threads JOB FIRST LAST
//
// Two threads run the io_context; the main thread deletes thing-<i> / JOB / i for i in
// [FIRST, LAST - 1] with callbacks (all in flight at once, a counter and a condition variable
// to wait for them), then execution LAST with asio::use_future and blocks on the future.
// Region, endpoint, credentials and CA bundle come from the AWS environment variables.
#include <iotjobs/client.hpp>
#include <iotjobs/delete_job_execution.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/system/system_error.hpp>

#include <condition_variable>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <thread>
#include <vector>

namespace asio = boost::asio;

int main(int argc, char** argv) {
    if (argc != 4) {
        std::cerr << "usage: " << argv[0] << " JOB FIRST LAST\n";
        return 2;
    }
    const std::string job = argv[1];
    const std::int64_t first = std::atoll(argv[2]), last = std::atoll(argv[3]);

    //[example_threads
    asio::io_context ctx;
    auto work = asio::make_work_guard(ctx);  // keep run() going while the main thread issues calls
    std::vector<std::thread> threads;
    for (int i = 0; i < 2; ++i) threads.emplace_back([&] { ctx.run(); });

    int rc = 0;
    try {
        // single_threaded stays false: two threads run this executor.
        iotjobs::client client(ctx.get_executor(), iotjobs::config_from_environment());

        // Callbacks run on one of the io_context's threads: share state under a mutex.
        std::mutex m;
        std::condition_variable cv;
        std::int64_t pending = last - first, deleted = 0;
        for (std::int64_t i = first; i < last; ++i) {
            iotjobs::delete_job_execution_request req{"thing-" + std::to_string(i), job, i, {}, {}};
            iotjobs::delete_job_execution(client, req, [&, i](iotjobs::error_code ec) {
                std::lock_guard lock(m);
                if (ec)
                    std::cout << "execution " << i << ": " << ec.message() << "\n";
                else
                    ++deleted;
                if (--pending == 0) cv.notify_one();
            });
        }
        {
            std::unique_lock lock(m);
            cv.wait(lock, [&] { return pending == 0; });
        }
        std::cout << "callbacks: deleted " << deleted << " of " << (last - first) << "\n";

        // use_future: a std::future<void> whose get() throws boost::system::system_error on failure.
        iotjobs::delete_job_execution_request req{"thing-" + std::to_string(last), job, last, {}, {}};
        std::future<void> f = iotjobs::delete_job_execution(client, req, asio::use_future);
        try {
            f.get();
            std::cout << "future: deleted " << last << "\n";
        } catch (const boost::system::system_error& e) {
            std::cout << "future: execution " << last << ": " << e.code().message() << "\n";
            rc = 1;
        }
        if (deleted != last - first) rc = 1;
    } catch (const boost::system::system_error& e) {
        std::cerr << "configuration error: " << e.what() << "\n";
        rc = 1;
    }
    work.reset();
    for (auto& t : threads) t.join();
    //]
    return rc;
}
