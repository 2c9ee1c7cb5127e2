// Example 6: bounding a call in time, and cancelling calls.
//
//   example_6_timeouts_and_cancellation THING JOB NUMBER
//
// Against an endpoint that is slow to answer (the test suite runs it against the fake endpoint
// with `--fault latency=always,ms=3000`), with the execution THING / JOB / NUMBER:
//   1. the client's operation timeout (timeouts.operation = 500 ms) ends the call with
//      client_errc::deadline_exceeded;
//   2. a cancellation_signal bound to the call's completion token, emitted after 200 ms, ends it
//      with operation_aborted;
//   3. client::cancel() ends every call in flight with operation_aborted;
// and the client stays usable after each. Prints one line per case; exits 0 when each case
// ended as described.
#include <iotjobs/client.hpp>
#include <iotjobs/delete_job_execution.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/system_error.hpp>

#include <chrono>
#include <cstdlib>
#include <iostream>

namespace asio = boost::asio;
using namespace std::chrono_literals;

int main(int argc, char** argv) {
    if (argc != 4) {
        std::cerr << "usage: " << argv[0] << " THING JOB NUMBER\n";
        return 2;
    }
    const iotjobs::delete_job_execution_request req{argv[1], argv[2], std::atoll(argv[3]), true, {}};
    asio::io_context ctx;
    int failures = 0;
    auto expect = [&](const char* what, iotjobs::error_code got, iotjobs::error_code want) {
        std::cout << what << ": " << got.message() << "\n";
        if (got != want) ++failures;
    };
    try {
        auto cfg = iotjobs::config_from_environment();
        cfg.single_threaded = true;

        //[example_timeout
        // 1. A deadline for the whole call (waits, connect, attempts, backoffs): deadline_exceeded.
        cfg.timeouts.operation = 500ms;
        iotjobs::client client(ctx.get_executor(), cfg);
        iotjobs::delete_job_execution(client, req, [&](iotjobs::error_code ec) {
            expect("operation timeout", ec, iotjobs::client_errc::deadline_exceeded);
        });
        ctx.run();
        ctx.restart();
        //]

        //[example_cancel_one
        // 2. One call cancelled through its completion token's cancellation slot.
        iotjobs::client patient(ctx.get_executor(), iotjobs::config_from_environment());
        asio::cancellation_signal signal;
        iotjobs::delete_job_execution(patient, req,
                                      asio::bind_cancellation_slot(signal.slot(), [&](iotjobs::error_code ec) {
                                          expect("cancelled by its slot", ec, asio::error::operation_aborted);
                                      }));
        asio::steady_timer timer(ctx, 200ms);
        timer.async_wait([&](iotjobs::error_code) { signal.emit(asio::cancellation_type::terminal); });
        ctx.run();
        ctx.restart();
        //]

        //[example_cancel_all
        // 3. client::cancel(): every call in flight on this client.
        int aborted = 0;
        for (int i = 0; i < 3; ++i)
            iotjobs::delete_job_execution(patient, req, [&](iotjobs::error_code ec) {
                if (ec == asio::error::operation_aborted) ++aborted;
            });
        timer.expires_after(200ms);
        timer.async_wait([&](iotjobs::error_code) { patient.cancel(); });
        ctx.run();
        ctx.restart();
        std::cout << "client::cancel(): " << aborted << " of 3 calls aborted\n";
        if (aborted != 3) ++failures;
        //]
    } catch (const boost::system::system_error& e) {
        std::cerr << "configuration error: " << e.what() << "\n";
        return 1;
    }
    return failures == 0 ? 0 : 1;
}
