// The client's logger: the level threshold and the two sinks of client_config, copyable (the
// credentials cache keeps a copy). on() is one comparison; nothing is built for a record below it.
#pragma once

#include <iotjobs/config.hpp>
#include <iotjobs/log.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace iotjobs::detail {

class logger {
public:
    logger() = default;
    logger(log_level level, std::function<void(log_level, std::string_view)> text,
           std::function<void(const log_record&)> record);
    explicit logger(const client_config& cfg) : logger(cfg.level, cfg.log, cfg.structured_log) {}

    bool on(log_level l) const noexcept { return l != log_level::off && l <= threshold_; }
    // Sends `r` to the sinks (the text sink gets format(r)). Call only when on(r.level).
    void emit(const log_record& r) const;
    // A record with only a component and a message.
    void emit(log_level l, std::string_view component, std::string_view message) const;

private:
    log_level threshold_ = log_level::off;  // off when no sink is set
    std::function<void(log_level, std::string_view)> text_;
    std::function<void(const log_record&)> record_;
};

// Who a request is about, decoded from its percent-encoded path and query (the labels after
// /things/, /jobs/, /executionNumber/; namespaceId= and executionNumber= in the query).
struct request_identity {
    std::string thing_name;
    std::string job_id;
    std::string namespace_id;
    std::optional<std::int64_t> execution_number;
};
request_identity identity_of(std::string_view path, std::string_view query);

// Copies the identity's fields into `r` (views into `id`).
inline void set_identity(log_record& r, const request_identity& id) {
    r.thing_name = id.thing_name;
    r.job_id = id.job_id;
    r.namespace_id = id.namespace_id;
    r.execution_number = id.execution_number;
}

}  // namespace iotjobs::detail
