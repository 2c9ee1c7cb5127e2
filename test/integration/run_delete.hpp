// One delete run to completion on an io_context, for the integration tests.
#pragma once

#include <iotjobs/client.hpp>
#include <iotjobs/delete_job_execution.hpp>

#include <boost/asio/io_context.hpp>

#include <doctest/doctest.h>

#include <utility>

namespace iotjobs::test {

// Runs `r` on `c` (whose executor is ctx's) until ctx has no work left; the call's error code.
inline error_code run_delete(boost::asio::io_context& ctx, client& c, delete_job_execution_request r,
                             diagnostics& diag) {
    error_code result = make_error_code(client_errc::bad_response);
    bool done = false;
    delete_job_execution(c, std::move(r), diag, [&](error_code ec) {
        result = ec;
        done = true;
    });
    ctx.restart();
    ctx.run();
    REQUIRE(done);
    return result;
}

}  // namespace iotjobs::test
