// The library's write access to iotjobs::diagnostics (friend detail::access).
#pragma once

#include <iotjobs/diagnostics.hpp>

#include <string>

namespace iotjobs::detail {

struct access {
    static std::string& aws_error_name(diagnostics& d) { return d.aws_error_name_; }
    static std::string& message(diagnostics& d) { return d.message_; }
    static std::string& request_id(diagnostics& d) { return d.request_id_; }
    static unsigned& http_status(diagnostics& d) { return d.http_status_; }
    static unsigned& attempts(diagnostics& d) { return d.attempts_; }
    static std::chrono::milliseconds& retry_wait(diagnostics& d) { return d.retry_wait_; }
    static bool& earlier_attempt_may_have_succeeded(diagnostics& d) { return d.earlier_attempt_may_have_succeeded_; }
    static iotjobs::timeout_phase& timeout_phase(diagnostics& d) { return d.timeout_phase_; }
};

}  // namespace iotjobs::detail
